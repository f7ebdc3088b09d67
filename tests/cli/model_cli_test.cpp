// `sinklab model --help | families | info` and `sinklab generate --ids --logits K`.
#include "tests/support/catch.h"

#include <filesystem>
#include <regex>
#include <sstream>

#include "framework/model/families/registry.h"
#include "tests/cli/cli_support.h"
#include "tests/support/shared_dir.h"
#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"

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
  CHECK_THAT(info.out, Contains("block       pre-norm, scores x0.176777"));  // head_dim 32

  // A newer family from its config.json alone: what its block computes is spelled out, and it generates.
  sinklab::test::TempDir tmp;
  const std::string cfg = tmp.write("gemma2.json", R"({"model_type": "gemma2", "vocab_size": 8192, "hidden_size": 32,
      "intermediate_size": 48, "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8,
      "query_pre_attn_scalar": 16, "sliding_window": 4, "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0})");
  REQUIRE(sinklab::test::sinklab({"model", "random", cfg, tmp / "gemma2", "--tokenizer", dir}).exit_code == 0);
  auto g2 = sinklab::test::sinklab({"model", "info", tmp / "gemma2"});
  REQUIRE(g2.exit_code == 0);
  CHECK_THAT(g2.out, Contains("block       sandwich (before and after each sublayer), sliding layers 0,2, scores x0.25, "
                              "score cap 50, logit cap 30, embedding x sqrt(d_model)"));
  auto g2gen = sinklab::test::sinklab({"generate", tmp / "gemma2", "--prompt", "It is", "--max-new", "3", "--threads", "1",
                                       "--device", "cpu", "--ids"});
  INFO(g2gen.err);
  CHECK(g2gen.exit_code == 0);
  CHECK(lines_starting(g2gen.out, "generated ids  [").size() == 1);

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
  // Past the context (1024 positions): refused before any step (issue 21, case 7).
  auto too_long = sinklab::test::sinklab({"generate", dir, "--prompt", "x", "--max-new", "2000", "--device", "cpu"});
  CHECK(too_long.exit_code == 2);
  CHECK_THAT(too_long.err, Contains("takes at most 1024 (max_position_embeddings)"));
}

TEST_CASE("model random writes a checkpoint of a config's shapes; plan estimates it and run refuses an "
          "over-budget plan before creating anything", "[cli][model][plan]") {
  const auto shared = sinklab::test::shared_dir();
  if (!shared) SINKLAB_SKIP("../shared/models/tiny-phi3 not found (set SINKLAB_SHARED)");
  sinklab::test::TempDir dir;
  // Phi-3-medium's layout (GQA 4:1, fused maps) at a small width.
  auto config = dir.write("config.json", R"({"model_type": "phi3", "vocab_size": 8192, "hidden_size": 256,
      "intermediate_size": 512, "num_hidden_layers": 40, "num_attention_heads": 8, "num_key_value_heads": 2,
      "rms_norm_eps": 1e-5, "max_position_embeddings": 4096, "sliding_window": 2047})");
  const std::string tokenizer = *shared + "/models/tiny-phi3";
  auto made = sinklab::test::sinklab({"model", "random", config, dir / "m", "--layers", "2", "--tokenizer", tokenizer});
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  CHECK_THAT(made.out, Contains("GB of random bfloat16 weights"));
  auto info = sinklab::test::sinklab({"model", "info", dir / "m"});
  CHECK_THAT(info.out, Contains("layers      2  d_model 256  heads 8 (kv 2)"));
  auto again = sinklab::test::sinklab({"model", "random", config, dir / "m"});
  CHECK(again.exit_code == 2);
  CHECK_THAT(again.err, Contains("already holds a checkpoint"));
  auto bad = sinklab::test::sinklab({"model", "random", config, dir / "n", "--dtype", "int8"});
  CHECK(bad.exit_code == 2);
  CHECK_FALSE(fs::exists(dir / "n"));

  auto yaml = dir.write("scale.yaml", "name: scale\nmodel: {path: " + (dir / "m") + ", dtype: bfloat16}\n"
                        "calibration: {path: /usr/share/common-licenses, samples: 4, seq_len: 256, batch_size: 2}\n"
                        "prompts: [{id: gpl, file: /usr/share/common-licenses/GPL-3, max_tokens: 300}]\n"
                        "variants: {dense: {}, wanda: {prune: {method: wanda}}}\n"
                        "probes: [{site: pattern, layers: [0], heads: [1]}]\nmetrics: {layers: [0]}\n");
  // The same prompt without max_tokens: more tokens than the 4096 positions, refused before anything runs.
  auto unbounded = dir.write("unbounded.yaml", "name: unbounded\nmodel: {path: " + (dir / "m") + "}\n"
                             "prompts: [{id: gpl, file: /usr/share/common-licenses/GPL-3}]\n"
                             "probes: [{site: pattern, layers: [0], heads: [1]}]\n");
  auto too_long = sinklab::test::sinklab({"validate", unbounded});
  CHECK(too_long.exit_code == 2);
  CHECK_THAT(too_long.err, Contains("prompts[0] ('gpl') has") && Contains("takes 4096 (max_position_embeddings)") &&
                               Contains("set prompts[0].max_tokens to at most 4096"));
  auto plan = sinklab::test::sinklab({"plan", yaml, "--threads", "1"});
  INFO(plan.out << plan.err);
  REQUIRE(plan.exit_code == 0);
  for (const char* row : {"hook.dense", "metrics.dense", "prune.wanda", "hook.wanda", "calibrate"})
    CHECK_THAT(plan.out, Contains(row));
  CHECK_THAT(plan.out, Contains("GFLOP/s"));
  // A budget no stage fits: named with the keys that shrink it, exit 2, no run directory.
  auto refused = sinklab::test::sinklab({"run", yaml, "--threads", "1", "--results", dir / "results",
                                         "--memory-budget", "0.001"});
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Contains("memory budget is 0.0 GiB") && Contains("prune.wanda: about") &&
                              Contains("calibration.batch_size") && Contains("--ignore-memory-budget"));
  CHECK_FALSE(fs::exists(dir / "results/scale"));
  auto planned_over = sinklab::test::sinklab({"plan", yaml, "--threads", "1", "--memory-budget", "0.001"});
  CHECK(planned_over.exit_code == 2);
  // The calibration stream in a scratch file of the cache: it runs, and nothing of it remains.
  auto spilled = sinklab::test::sinklab({"run", yaml, "calibration.spill=always", "--threads", "1", "--results",
                                         dir / "results"});
  INFO(spilled.err);
  CHECK(spilled.exit_code == 0);
  CHECK_THAT(spilled.err, Contains("prune.wanda: the calibration stream is kept in a scratch file"));
  for (const auto& e : fs::recursive_directory_iterator(dir / "results/.cache"))
    CHECK_THAT(e.path().filename().string(), !Contains("scratch."));
}
