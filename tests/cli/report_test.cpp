// `sinklab report`: report.html for runs and sweeps, loaded in headless Chromium where it is
// installed (scripts/setup.sh --tests installs it): the page must load without script errors,
// show every figure, and its attention view must show the weights run.h5 holds.
#include <ATen/ATen.h>
#include "tests/support/catch.h"
#include <filesystem>
#include <fmt/format.h>

#include "framework/io/atomic_file.h"
#include "framework/io/hdf5_store.h"
#include "tests/cli/cli_support.h"
#include "tests/support/browser.h"
#include "tests/support/process.h"
#include "tests/support/shared_dir.h"
#include "tests/support/temp_dir.h"
#include "tests/support/skip.h"

using namespace sinklab;
using namespace sinklab::test;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (std::size_t pos = 0; (pos = text.find(needle, pos)) != std::string::npos; pos += needle.size()) ++n;
  return n;
}

// Loads the page in Chromium and checks the page's own self-check; returns the <html> attributes
// (empty when no Chromium is installed: a WARN says the browser part was skipped).
std::map<std::string, std::string> check_in_browser(const std::string& html, int expected_figures, const std::string& fragment = "") {
  auto page = load_in_chromium(html, fragment);
  if (!page) {
    skipped("no chromium on PATH: " + html + " was checked as text only (scripts/setup.sh --tests installs chromium)");
    return {};
  }
  INFO(page->browser_log.substr(0, 2000));
  auto& a = page->html_attributes;
  CHECK(a["data-report-status"] == "ok");
  CHECK(a.count("data-report-errors") == 0);
  CHECK(a["data-figures-total"] == std::to_string(expected_figures));
  CHECK(a["data-figures-loaded"] == std::to_string(expected_figures));
  return a;
}

}  // namespace

TEST_CASE("a run writes report.html: figures embedded, metrics, provenance and config; it loads in a browser",
          "[cli][report]") {
  TempDir dir;
  auto config = dir.write("tiny.yaml", tiny_config());
  auto run = sinklab::test::sinklab({"run", config, "--results", dir / "results", "-q"});
  REQUIRE(run.exit_code == 0);
  const std::string run_dir = printed_path(run);
  const std::string html = read_file(run_dir + "/report.html");
  int pngs = 0;
  for (const auto& e : fs::directory_iterator(run_dir + "/figures")) pngs += e.path().extension() == ".png";
  CHECK(pngs == 3);
  CHECK(count_of(html, "src=\"data:image/png;base64,") == pngs);
  for (const char* part : {"id=\"overview\"", "id=\"metrics\"", "theorem41.error_mean", "id=\"provenance\"", "id=\"config\"",
                           "theorem41.sweep"})
    CHECK_THAT(html, Contains(part));
  CHECK_THAT(html, !Contains("src=\"http") && !Contains("href=\"http"));  // nothing from the network
  // The toy's attention is in the interactive view too: Theorem 4.1's layer-1 map (layer 0 there).
  CHECK_THAT(html, Contains("\"variant\":\"theorem41\""));
  auto attrs = check_in_browser(run_dir + "/report.html", pngs, "#selftest");
  if (!attrs.empty()) {
    Hdf5File h5(run_dir + "/run.h5", Hdf5File::Mode::read);
    const double w = h5.read("/theorem41.example/A1")[3][0].item<double>();
    CHECK(attrs["data-attention-maps"] == "1");
    CHECK_THAT(attrs["data-selftest"], Contains(fmt::format("-> key 0 \"x1=") ) && Contains(fmt::format("weight {:.4f}", w)));
  }

  // Again, elsewhere: -o; and bad input.
  auto again = sinklab::test::sinklab({"report", run_dir, "-o", dir / "copy.html"});
  CHECK(again.exit_code == 0);
  CHECK(fs::exists(dir / "copy.html"));
  auto not_a_run = sinklab::test::sinklab({"report", dir.path()});
  CHECK(not_a_run.exit_code == 2);
  CHECK_THAT(not_a_run.err, Contains("neither a run directory"));
  CHECK(sinklab::test::sinklab({"report", dir / "missing"}).exit_code == 2);
}

TEST_CASE("the report's attention view shows the hooked weights for every variant, prompt and head (tiny-phi3)",
          "[cli][report][shared]") {
  const auto shared = shared_dir();
  if (!shared) {
    SINKLAB_SKIP("../shared (tiny-phi3) is not there; set SINKLAB_SHARED");
  }
  TempDir dir;
  auto run = sinklab::test::sinklab({"run", std::string(source_dir()) + "/configs/examples/tiny-phi3-catch-tag-release.yaml",
                                     "--results", dir / "results", "--threads", "2", "-q"},
                                    {"SINKLAB_SHARED=" + *shared});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const std::string run_dir = printed_path(run);
  const std::string html = read_file(run_dir + "/report.html");
  CHECK_THAT(html, Contains("id=\"attention-data\"") && Contains("\"variant\":\"dense\""));

  // The weight of query 3 on key 0 in layer 0 head 1 of the CoT prompt, as run.h5 has it.
  Hdf5File h5(run_dir + "/run.h5", Hdf5File::Mode::read);
  const double w = h5.read("/hook.dense/prompts/cot/blocks.0.attn.hook_pattern")[0][3][0].item<double>();
  int figures = 0;
  for (const auto& e : fs::directory_iterator(run_dir + "/figures")) figures += e.path().extension() == ".png";
  auto attrs = check_in_browser(run_dir + "/report.html", figures, "#selftest");
  if (attrs.empty()) return;
  CHECK(attrs["data-attention-maps"] == "6");  // probes: L0H1 on 4 prompts, L3H4 on 2
  const std::string selftest = attrs["data-selftest"];
  CHECK_THAT(selftest, Contains(fmt::format("dense cot 0.1: query 3 \" A\" -> key 0 \"<s>\": weight {:.4f}", w)));
  CHECK(count_of(selftest, "weight ") == 6);  // the test hovered every map the selects offer
}
