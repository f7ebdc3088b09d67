// Catch, tag, release on tiny-phi3, checked against the golden attention and hidden states
// transformers computed (../shared/golden/tiny-phi3): the hook stage keeps exactly those values,
// the metrics stage finds the first-token sinks the golden attention shows and the <s> outlier
// in dimension 135, and the PCA colouring is the projection it claims to be.
#include <ATen/ATen.h>

#include "tests/support/catch.h"
#include <filesystem>

#include "experiments/checkpoint/experiment.h"
#include "experiments/experiments.h"
#include "framework/analysis/sinks.h"
#include "framework/hooks/hook_sites.h"
#include "framework/io/atomic_file.h"
#include "framework/io/safetensors.h"
#include "framework/runner/report_stage.h"
#include "framework/runner/runner.h"
#include "tests/support/shared_dir.h"
#include "tests/support/temp_dir.h"
#include "tests/support/skip.h"

using namespace sinklab;

namespace {

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

}  // namespace

TEST_CASE("catch-tag-release stages on tiny-phi3 agree with transformers' attention and hidden states",
          "[experiments][catch_tag_release]") {
  auto shared = test::shared_dir();
  if (!shared) {
    SINKLAB_SKIP("../shared not found (set SINKLAB_SHARED to the folder with golden/ and models/)");
  }
  SafetensorsFile golden(*shared + "/golden/tiny-phi3/golden.safetensors");
  auto meta = nlohmann::json::parse(read_file(*shared + "/golden/tiny-phi3/golden.json"));
  test::TempDir dir;
  // The golden MMLU prompt (p1) and Fig. 5 prompt (p0), verbatim.
  auto text0 = dir.write("p0.txt", meta["prompts"][0]["text"].get<std::string>());
  auto text1 = dir.write("p1.txt", meta["prompts"][1]["text"].get<std::string>());
  auto config_path = dir.write("ctr.yaml", "name: ctr\nmodel: {path: " + *shared + "/models/tiny-phi3}\n"
                                           "prompts:\n  - {id: fig5, file: " + text0 + "}\n  - {id: mmlu, file: " + text1 + "}\n"
                                           "probes:\n  - {site: pattern, layers: [0], heads: [1, 3]}\n"
                                           "pca:\n  - {site: result, layer: 0, head: 1, prompt: fig5}\n"
                                           "  - {site: normalized, layer: 4, prompt: mmlu, fit_prompt: fig5}\n"
                                           "metrics: {massive_abs: 20, massive_ratio: 20}\n"
                                           "eval: {perplexity: {path: " + text0 + ", window: 16, stride: 8}}\n");
  auto cfg = load_config<RunConfig>(config_path, {"threads=1"});
  Runner runner(RunnerOptions{dir / "cache", {}, c10::Device(c10::DeviceType::CPU)});
  auto experiments = add_experiment_stages(cfg.value, runner);
  REQUIRE(experiments.front()->input_problems().empty());
  std::map<std::string, std::string> entries;
  for (const auto& rec : runner.run()) entries[rec.name] = rec.entry;
  // hook.dense, metrics.dense and eval.dense ran on one loaded model.
  CHECK(entries.count("eval.dense") == 1);
  CHECK(dynamic_cast<const checkpoint::CheckpointExperiment&>(*experiments.front()).pool().loads() == 1);
  Hdf5File hook(entries.at("hook.dense"), Hdf5File::Mode::read);
  Hdf5File metrics(entries.at("metrics.dense"), Hdf5File::Mode::read);
  Hdf5File pca(entries.at("pca"), Hdf5File::Mode::read);

  {  // the hook stage stores the golden token ids and attention of the probed heads
    for (int i = 0; i < 2; ++i) {
      const std::string id = i == 0 ? "fig5" : "mmlu", p = "p" + std::to_string(i) + ".";
      CHECK(at::equal(hook.read("prompts/" + id + "/input_ids"), golden.tensor(p + "input_ids")));
      auto kept = hook.read("prompts/" + id + "/" + hook_name(0, "pattern"));  // [2 heads, T, T]
      REQUIRE(kept.size(0) == 2);
      auto want = golden.tensor(p + "attn.0");
      CHECK(max_abs_diff(kept[0], want[1]) < 1e-5);
      CHECK(max_abs_diff(kept[1], want[3]) < 1e-5);
      auto heads = std::get<std::vector<std::int64_t>>(*hook.attr("prompts/" + id + "/" + hook_name(0, "pattern"), "heads"));
      CHECK(heads == std::vector<std::int64_t>{1, 3});
    }
    // Only what was probed (plus what the PCA needs) is kept.
    CHECK_FALSE(hook.has("prompts/mmlu/" + hook_name(1, "pattern")));
    CHECK(hook.has("prompts/fig5/" + hook_name(0, "result")));
    CHECK(hook.read_strings("prompts/mmlu/tokens").front() == "<s>");
  }

  {  // the metrics stage finds the first-token sinks of layer 0 on the MMLU prompt
    auto alpha = metrics.read("prompts/mmlu/sink_scores");  // [L, H, T]
    auto golden_alpha = sink_scores(golden.tensor("p1.attn.0"));
    CHECK(max_abs_diff(alpha[0].select(1, 0), golden_alpha.select(1, 0)) < 1e-5);
    auto ours = alpha[0].select(1, 0).ge(0.25), theirs = golden_alpha.select(1, 0).ge(0.25);
    CHECK(at::equal(ours, theirs));
    CHECK(ours.sum().item<int>() >= 3);  // the README's "about 0.25-0.5 of their mass on <s>"
    for (int l = 1; l < 6; ++l)          // every layer, against the golden attention
      CHECK(max_abs_diff(alpha[l].select(1, 0), sink_scores(golden.tensor("p1.attn." + std::to_string(l))).select(1, 0)) < 1e-5);
  }

  {  // the <s> outlier in dimension 135 is the largest activation and a massive one
    auto top = metrics.read("prompts/mmlu/top_activation");  // [L, 3] (position, dim, value)
    for (int l = 1; l < 6; ++l) {
      CHECK(top[l][0].item<double>() == 0);
      CHECK(top[l][1].item<double>() == 135);
    }
    // resid_post of layer 2 is the golden hidden state entering layer 3.
    auto hidden = golden.tensor("p1.hidden.3");
    CHECK(top[2][2].item<double>() == Approx(hidden[0][135].item<double>()).margin(1e-3));
    auto massive = metrics.read("prompts/mmlu/massive_activations");  // [N, 4]
    REQUIRE(massive.size(0) > 0);
    CHECK(massive[0][1].item<double>() == 0);
    CHECK(massive[0][2].item<double>() == 135);
    auto scores = metrics.read("prompts/mmlu/outlier_scores");  // [L, D]
    CHECK(scores.select(1, 135).min().item<double>() > 5);
    CHECK(metrics.read("qk_effective_rank").sizes() == at::IntArrayRef({6, 8}));
  }

  {  // the PCA colouring is the sign-fixed projection of the hooked vectors
    const std::string g = "result_L0H1_fig5/dense/";
    auto x = hook.read("prompts/fig5/" + hook_name(0, "result")).select(1, 0).to(at::kDouble);  // [T, D]
    auto comps = pca.read(g + "components"), mean = pca.read(g + "mean");
    CHECK(at::allclose(pca.read(g + "projection"), at::matmul(x - mean, comps.t()), 1e-9, 1e-9));
    CHECK(at::allclose(mean, x.narrow(0, 1, x.size(0) - 1).mean(0), 1e-12, 1e-12));  // <s> left out
    for (int c = 0; c < 3; ++c) CHECK(comps[c][comps[c].abs().argmax().item<std::int64_t>()].item<double>() > 0);
    auto rgb = pca.read(g + "rgb").narrow(0, 1, x.size(0) - 1);
    CHECK(rgb.min().item<int>() == 0);
    CHECK(rgb.max().item<int>() == 255);
    // Fitted on one prompt, applied to another: the basis is the fig5 fit.
    auto release = pca.read("normalized_L4_mmlu/dense/projection");
    CHECK(release.size(0) == hook.read("prompts/mmlu/input_ids").size(0));
  }

  {  // the report draws every figure and writes the headline numbers; a rerun is fully cached
    auto again = runner.run();
    for (const auto& r : again) CHECK(r.cached);
    auto figures = again.back();
    for (const char* f : {"attention_mmlu_L0_H1", "attention_fig5_L0_H3", "pca_result_L0H1_fig5", "sinks_mmlu",
                          "magnitudes_mmlu", "pca_normalized_L4_mmlu"}) {
      CHECK(std::filesystem::exists(figures.artifacts + "/" + f + ".png"));
      CHECK(std::filesystem::exists(figures.artifacts + "/" + f + ".svg"));
    }
    CHECK(figures.name == "checkpoint.report");
    auto summary = ReportStage::read_summary(Hdf5File(figures.entry, Hdf5File::Mode::read))["catch_tag_release"];
    CHECK(summary["metrics"]["dense"]["prompts"]["mmlu"]["largest_activation"]["dimension"] == 135);
    CHECK(summary["metrics"]["dense"]["fraction_heads_first_token_sink"].get<double>() > 0);
  }
}

// Every option the report reads is part of its cache key: changing one draws the figures again
// (a report keyed on its upstream stages alone reused stale figures).
TEST_CASE("changing any figure option recomputes the report and changes its figures", "[experiments][catch_tag_release]") {
  auto shared = test::shared_dir();
  if (!shared) SINKLAB_SKIP("../shared not found (set SINKLAB_SHARED to the folder with golden/ and models/)");
  test::TempDir dir;
  auto config_path = dir.write("r.yaml", "name: r\nmodel: {path: " + *shared + "/models/tiny-phi3}\n"
                                         "prompts: [{id: s, text: \"It is a truth universally acknowledged, that a single "
                                         "man in possession of a good fortune, must be in want of a wife.\"}]\n"
                                         "probes: [{site: pattern, layers: [0], heads: [1]}, {site: resid_post, layers: [2]}]\n"
                                         "metrics: {weights: false}\n");
  auto run = [&](const std::vector<std::string>& overrides) {
    auto cfg = load_config<RunConfig>(config_path, overrides);
    Runner runner(RunnerOptions{dir / "cache", {}, c10::Device(c10::DeviceType::CPU)});
    auto experiments = add_experiment_stages(cfg.value, runner);
    return runner.run().back();  // the report
  };
  auto bytes = [](const StageRecord& report, const std::string& figure) { return read_file(report.artifacts + "/" + figure); };
  const auto base = run({});
  REQUIRE(base.name == "checkpoint.report");
  CHECK(run({}).cached);
  // Each figures option, with the figure it must change; a new option added to FigureSpec
  // without an entry here fails the count below.
  const std::map<std::string, std::pair<std::string, std::string>> changes{
      {"max_tokens", {"figures.max_tokens=8", "attention_s_L0_H1.png"}},
      {"activation_dims", {"figures.activation_dims=4", "resid_post_s_L2.png"}}};
  std::vector<std::string> keys;
  catch_tag_release::FigureSpec figures;
  auto collect = [&](const char* key, auto&&...) { keys.push_back(key); };
  figures.fields(collect);
  CHECK(keys.size() == changes.size());
  for (const auto& key : keys) {
    INFO("figures." << key);
    REQUIRE(changes.count(key));
    const auto& [override_, figure] = changes.at(key);
    auto changed = run({override_});
    CHECK_FALSE(changed.cached);
    CHECK(changed.key != base.key);
    CHECK(bytes(changed, figure) != bytes(base, figure));
  }
  // The report's metrics options too: the outlier threshold changes the summary, not the stages.
  auto outliers = run({"metrics.outlier_ratio=2"});
  CHECK_FALSE(outliers.cached);
  auto summary = [](const StageRecord& r) { return ReportStage::read_summary(Hdf5File(r.entry, Hdf5File::Mode::read)); };
  CHECK(summary(outliers)["catch_tag_release"]["metrics"] != summary(base)["catch_tag_release"]["metrics"]);
}
