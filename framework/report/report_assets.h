#pragma once
// report.html's script and style sheet (framework/report/assets/*), compiled in so a report is
// one file with no outside references. The build embeds the files; edit those, not this.
namespace sinklab::report {

extern const char* const kReportJs;
extern const char* const kReportCss;

}  // namespace sinklab::report
