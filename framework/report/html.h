#pragma once
// Small pieces of HTML for report.html: escaping, embedded images, tables, and a page with a
// table of contents. Everything is inline (data: URIs, <style>, <script>), so the page needs
// no server and no network.
#include <string>
#include <utility>
#include <vector>

namespace sinklab::report {

std::string escape(const std::string& text);       // & < > " '
std::string base64(const std::string& bytes);
// <figure> with the PNG embedded as a data: URI and its file name as caption.
std::string png_figure(const std::string& png_path, const std::string& caption);
std::string png_figure_bytes(const std::string& png_bytes, const std::string& caption);  // the same, from memory
// A table; cells that parse as numbers are right-aligned. `id` makes it filterable.
std::string table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                  const std::string& id = "");
// A text box that filters the rows of the table with this id.
std::string table_filter(const std::string& table_id, const std::string& placeholder);
std::string format_number(double x);  // 4 significant digits, integers as integers

class Page {
 public:
  Page(std::string title, std::string subtitle) : title_(std::move(title)), subtitle_(std::move(subtitle)) {}
  void section(const std::string& id, const std::string& heading, const std::string& html);
  void head_script(const std::string& script) { extra_head_ += script; }  // e.g. a JSON data block
  std::string render() const;

 private:
  std::string title_, subtitle_, extra_head_;
  std::vector<std::pair<std::string, std::string>> toc_;  // id, heading
  std::string body_;
};

}  // namespace sinklab::report
