// `sinklab model --help | families | info` and `sinklab generate --ids --logits K`.
#include "tests/support/catch.h"

#include <filesystem>
#include <regex>
#include <sstream>

#include "framework/model/families/registry.h"
#include "tests/cli/cli_support.h"
#include "tests/support/shared_dir.h"
#include "tests/support/skip.h"

using Catch::Contains;
namespace fs = std::filesystem;

namespace {

// The lines of `text` that start with `prefix`.
std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
  return out;
}

std::vector<long> ids_in(const std::string& line) {  // "... [1, 2, 3]"
  std::vector<long> ids;
  std::istringstream in(line.substr(line.find('[') + 1));
  for (long id; in >> id;) {
    ids.push_back(id);
    in.ignore(1);  // ','
  }
  return ids;
}

}  // namespace

TEST_CASE("sinklab model --help and model families list the subcommands and every registered family", "[cli][model]") {
  auto help = sinklab::test::sinklab({"model", "--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Contains("info DIR") && Contains("families"));
  auto families = sinklab::test::sinklab({"model", "families"});
  REQUIRE(families.exit_code == 0);
  for (const sinklab::Family* f : sinklab::all_families())
    CHECK_THAT(families.out, Contains(f->model_type + "  (" + f->hf_class + ")"));
  CHECK_THAT(families.out, Contains("model.layers.{}.self_attn.qkv_proj = q + k + v") &&
                               Contains("transformer.h.{}.attn.c_attn = q + k + v") && Contains("Conv1D [in, out]") &&
                               Contains("LayerNorm (with bias)") && Contains("learned table") &&
                               Contains("q, k, v (always)") && Contains("linear maps  q, k, v, o, fc, proj"));
  CHECK(sinklab::test::sinklab({"model", "families", "--help"}).exit_code == 0);
  CHECK(sinklab::test::sinklab({"model", "families", "extra"}).exit_code == 2);
  CHECK(sinklab::test::sinklab({"model"}).exit_code == 2);
  auto typo = sinklab::test::sinklab({"model", "infos"});
  CHECK(typo.exit_code == 2);
  CHECK_THAT(typo.err, Contains("did you mean 'info'?"));
}

TEST_CASE("model info names the family; generate prints ids and each step's top logits", "[cli][model]") {
  const auto shared = sinklab::test::shared_dir();
  if (!shared) {
    SINKLAB_SKIP("../shared/models/tiny-phi3 not found (set SINKLAB_SHARED)");
  }
  const std::string dir = (fs::path(*shared) / "models/tiny-phi3").string();
  auto info = sinklab::test::sinklab({"model", "info", dir});
  REQUIRE(info.exit_code == 0);
  CHECK_THAT(info.out, Contains("family      phi3 (Phi3ForCausalLM): RMSNorm") && Contains("fused qkv_proj, gate_up_proj"));

  auto gen = sinklab::test::sinklab({"generate", dir, "--prompt", "It is a truth", "--max-new", "4", "--threads", "1",
                                     "--device", "cpu", "--ids", "--logits", "3"});
  INFO(gen.out << gen.err);
  REQUIRE(gen.exit_code == 0);
  CHECK(gen.out.rfind("It is a truth", 0) == 0);
  auto prompt = lines_starting(gen.out, "prompt ids     ["), generated = lines_starting(gen.out, "generated ids  [");
  REQUIRE(prompt.size() == 1);
  REQUIRE(generated.size() == 1);
  CHECK(ids_in(prompt[0]) == std::vector<long>{1, 660, 437, 362, 3191});  // as `sinklab tokenize` gives
  const auto ids = ids_in(generated[0]);
  auto steps = lines_starting(gen.out, "step ");
  REQUIRE(steps.size() == ids.size());
  REQUIRE(ids.size() <= 4);
  // Greedy: each step's best candidate is the token generated, and the logits come in falling order.
  const std::regex candidate(R"((\d+) "(?:[^"\\]|\\.)*" (-?[0-9.]+))");
  for (std::size_t i = 0; i < steps.size(); ++i) {
    INFO(steps[i]);
    const std::string top = steps[i].substr(steps[i].find("top 3: ") + 7);
    std::vector<std::pair<long, double>> found;
    for (auto it = std::sregex_iterator(top.begin(), top.end(), candidate); it != std::sregex_iterator(); ++it)
      found.emplace_back(std::stol((*it)[1]), std::stod((*it)[2]));
    REQUIRE(found.size() == 3);
    CHECK(found[0].first == ids[i]);
    CHECK(found[0].second >= found[1].second);
    CHECK(found[1].second >= found[2].second);
  }
  auto zero = sinklab::test::sinklab({"generate", dir, "--prompt", "x", "--logits", "0"});
  CHECK(zero.exit_code == 2);
  CHECK_THAT(zero.err, Contains("--logits 0"));
  auto too_many = sinklab::test::sinklab({"generate", dir, "--prompt", "x", "--logits", "9000", "--device", "cpu"});
  CHECK(too_many.exit_code == 2);
  CHECK_THAT(too_many.err, Contains("the vocabulary has only 8192 tokens"));
}
