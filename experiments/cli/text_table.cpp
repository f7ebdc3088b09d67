#include "experiments/cli/text_table.h"

#include <fmt/format.h>

#include <algorithm>

namespace sinklab::cli {

std::string text_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                       const std::string& align, const std::string& indent) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& r : rows) width[c] = std::max(width[c], std::min<std::size_t>(r[c].size(), 80));
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text = indent;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const bool left = c < align.size() && align[c] == '<';
      const std::size_t w = c + 1 == cells.size() && left ? 0 : width[c];
      text += fmt::format(left ? "{:<{}}  " : "{:>{}}  ", cells[c], w);
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
  return out;
}

}  // namespace sinklab::cli
