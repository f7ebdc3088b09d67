#pragma once
// Loads a local HTML page in headless Chromium (Debian's `chromium`) and returns the attributes
// the page's script set on <html> after running (report.html's self-check: data-report-status,
// data-figures-loaded, ...). nullopt when no Chromium is installed; the caller skips then.
#include <map>
#include <optional>
#include <string>

namespace sinklab::test {

struct LoadedPage {
  std::map<std::string, std::string> html_attributes;  // "data-report-status" -> "ok", entities decoded
  std::string dom;                                      // the serialized DOM after scripts ran
  std::string browser_log;                              // Chromium's stderr (when the load failed)
};

std::optional<std::string> chromium_binary();
// `fragment` is appended to the file:// URL, e.g. "#selftest".
std::optional<LoadedPage> load_in_chromium(const std::string& html_file, const std::string& fragment = "");

}  // namespace sinklab::test
