#include "framework/report/html.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "framework/io/atomic_file.h"
#include "framework/report/report_assets.h"

namespace sinklab::report {

std::string escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(bytes.data()),
                          int(bytes.size()));
  out.resize(std::size_t(n));
  return out;
}

std::string png_figure(const std::string& png_path, const std::string& caption) {
  return png_figure_bytes(read_file(png_path), caption);
}

std::string png_figure_bytes(const std::string& png_bytes, const std::string& caption) {
  return fmt::format("<figure><img alt=\"{0}\" title=\"{0}\" src=\"data:image/png;base64,{1}\"><figcaption>{0}</figcaption></figure>\n",
                     escape(caption), base64(png_bytes));
}

static bool looks_numeric(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end && *end == 0;
}

std::string table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                  const std::string& id) {
  std::string h = id.empty() ? "<table>" : "<table id=\"" + escape(id) + "\">";
  if (std::any_of(header.begin(), header.end(), [](const std::string& c) { return !c.empty(); })) {
    h += "<thead><tr>";
    for (const auto& c : header) h += "<th>" + escape(c) + "</th>";
    h += "</tr></thead>";
  }
  h += "<tbody>\n";
  for (const auto& row : rows) {
    h += "<tr>";
    for (const auto& cell : row) {
      std::string cls = looks_numeric(cell) ? " class=\"num\"" : "";
      if (cell == "ok" || cell == "failed" || cell == "lost") cls = " class=\"state-" + cell + "\"";
      h += "<td" + cls + ">" + escape(cell) + "</td>";
    }
    h += "</tr>\n";
  }
  return h + "</tbody></table>\n";
}

std::string table_filter(const std::string& table_id, const std::string& placeholder) {
  return fmt::format("<input class=\"filter\" data-table=\"{}\" placeholder=\"{}\">\n", escape(table_id), escape(placeholder));
}

std::string format_number(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  if (x == std::round(x) && std::fabs(x) < 1e15) return fmt::format("{}", static_cast<long long>(x));
  return fmt::format("{:.4g}", x);
}

void Page::section(const std::string& id, const std::string& heading, const std::string& html) {
  toc_.push_back({id, heading});
  body_ += fmt::format("<section id=\"{}\"><h2>{}</h2>\n{}</section>\n", escape(id), escape(heading), html);
}

std::string Page::render() const {
  std::string nav;
  for (const auto& [id, heading] : toc_) nav += fmt::format("<a href=\"#{}\">{}</a>", escape(id), escape(heading));
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>{0}</title>\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<style>{2}</style>\n{3}"
      "<script>{4}</script>\n</head><body>\n<header><h1>{0}</h1><div class=\"meta\">{1}</div></header>\n"
      "<nav>{5}</nav>\n<main><div id=\"report-errors\"></div>\n{6}</main>\n</body></html>\n",
      escape(title_), subtitle_, kReportCss, extra_head_, kReportJs, nav, body_);
}

}  // namespace sinklab::report
