#include "tests/support/browser.h"

#include <cstring>
#include <filesystem>
#include <regex>

#include "framework/util/subprocess.h"
#include "tests/support/temp_dir.h"

namespace sinklab::test {

std::optional<std::string> chromium_binary() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"})
    if (auto p = find_on_path(name); !p.empty()) return p;
  return std::nullopt;
}

static std::string decode_entities(std::string s) {
  const std::pair<const char*, const char*> entities[] = {{"&quot;", "\""}, {"&lt;", "<"}, {"&gt;", ">"}, {"&#39;", "'"}, {"&amp;", "&"}};
  for (const auto& [from, to] : entities)
    for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += std::strlen(to)) s.replace(pos, std::strlen(from), to);
  return s;
}

std::optional<LoadedPage> load_in_chromium(const std::string& html_file, const std::string& fragment) {
  auto chromium = chromium_binary();
  if (!chromium) return std::nullopt;
  TempDir profile;  // a fresh profile: no state shared with other runs or users
  // --virtual-time-budget lets the page's load handlers run before the DOM is dumped.
  auto r = run_captured({*chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                         "--user-data-dir=" + profile.path(), "--virtual-time-budget=10000", "--dump-dom",
                         "file://" + std::filesystem::absolute(html_file).string() + fragment});
  LoadedPage page;
  page.dom = r.out;
  page.browser_log = r.err;
  std::smatch html_tag;
  if (std::regex_search(r.out, html_tag, std::regex("<html([^>]*)>"))) {
    const std::string attrs = html_tag[1];
    static const std::regex attr(R"re(([a-zA-Z-]+)="([^"]*)")re");
    for (auto it = std::sregex_iterator(attrs.begin(), attrs.end(), attr); it != std::sregex_iterator(); ++it)
      page.html_attributes[(*it)[1]] = decode_entities((*it)[2]);
  }
  return page;
}

}  // namespace sinklab::test
