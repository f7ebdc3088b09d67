// Interventions on tiny-phi3, held to transformers' outputs (../shared/golden/tiny-phi3) and to
// identities: the clean run's NLL, alpha_0 and largest activation are the golden logits',
// attention's and hidden states'; an identity ablation and a full or over-long streamed cache
// change nothing; dropping the first token scores one position fewer; the report compares every
// entry on the positions all of them score.
#include <ATen/ATen.h>

#include "tests/support/catch.h"
#include <filesystem>

#include "experiments/experiments.h"
#include "framework/io/atomic_file.h"
#include "framework/io/safetensors.h"
#include "framework/runner/report_stage.h"
#include "framework/runner/runner.h"
#include "framework/util/error.h"
#include "tests/support/shared_dir.h"
#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"

using namespace sinklab;
using Catch::Contains;

TEST_CASE("interventions on tiny-phi3: the clean run is transformers'; identities change nothing; the report "
          "compares like with like", "[experiments][interventions]") {
  auto shared = test::shared_dir();
  if (!shared) {
    SINKLAB_SKIP("../shared not found (set SINKLAB_SHARED to the folder with golden/ and models/)");
  }
  SafetensorsFile golden(*shared + "/golden/tiny-phi3/golden.safetensors");
  auto meta = nlohmann::json::parse(read_file(*shared + "/golden/tiny-phi3/golden.json"));
  test::TempDir dir;
  auto text = dir.write("p3.txt", meta["prompts"][3]["text"].get<std::string>());  // 29 tokens, <s> first
  auto config_path = dir.write(
      "iv.yaml", "name: iv\nmodel: {path: " + *shared + "/models/tiny-phi3}\nprompts: [{id: p3, file: " + text + "}]\n"
                 "interventions:\n  heads: [{layer: 2, head: 0}]\n  entries:\n"
                 "    identity: {ablate: [{site: resid_post, op: scale, value: 1}]}\n"
                 "    zero_tag: {ablate: [{site: resid_post, positions: [0], dims: [135]}]}\n"
                 "    no_bos: {first_token: drop}\n"
                 "    the_bos: {first_token: replace, replace_with: The}\n"
                 "    stream_full: {kv: {policy: full}}\n"
                 "    stream_wide: {kv: {policy: sinks, sink_tokens: 4, window: 100}}\n"
                 "    window4: {kv: {policy: window, window: 4}}\n");
  auto cfg = load_config<RunConfig>(config_path, {"threads=1"});
  Runner runner(RunnerOptions{dir / "cache", {}, c10::Device(c10::DeviceType::CPU)});
  auto experiments = add_experiment_stages(cfg.value, runner);
  REQUIRE(experiments.front()->input_problems().empty());
  std::map<std::string, StageRecord> done;
  for (const auto& rec : runner.run()) done[rec.name] = rec;
  REQUIRE(done.count("intervene.dense") == 1);
  Hdf5File out(done.at("intervene.dense").entry, Hdf5File::Mode::read);
  const std::string g = "prompts/p3/";
  const at::Tensor ids = golden.tensor("p3.input_ids");  // [29]
  const std::int64_t T = ids.size(0);
  CHECK(at::equal(out.read(g + "input_ids"), ids));
  auto diff = [](const at::Tensor& a, const at::Tensor& b) {
    return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
  };

  // Clean: NLL from the golden logits, alpha0 from the golden attention, the largest
  // activation from the golden hidden states (hidden.l+1 is resid_post l; the last is normed).
  const at::Tensor lp = at::log_softmax(golden.tensor("p3.logits").to(at::kDouble), -1);  // [T, V]
  const at::Tensor want_nll = -lp.narrow(0, 0, T - 1).gather(1, ids.narrow(0, 1, T - 1).unsqueeze(1)).squeeze(1);
  CHECK(diff(out.read(g + "clean/nll"), want_nll) < 1e-4);
  CHECK(at::equal(out.read(g + "clean/targets"), at::arange(1, T, at::kLong)));
  const at::Tensor alpha0 = out.read(g + "clean/alpha0");  // [L, H]
  for (int l = 0; l < 6; ++l) {
    const at::Tensor attn = golden.tensor("p3.attn." + std::to_string(l));  // [H, T, T]
    CHECK(diff(alpha0[l], attn.select(2, 0).mean(1)) < 1e-5);
  }
  const at::Tensor top = out.read(g + "clean/top_activation");  // [L, 3]
  for (int l = 0; l < 5; ++l) {
    const at::Tensor h = golden.tensor("p3.hidden." + std::to_string(l + 1)).to(at::kDouble);  // [T, D]
    const std::int64_t flat = h.abs().argmax().item<std::int64_t>();
    CHECK(top[l][0].item<double>() == double(flat / h.size(1)));
    CHECK(top[l][1].item<double>() == double(flat % h.size(1)));
    CHECK(std::abs(top[l][2].item<double>() - h.view({-1})[flat].item<double>()) < 1e-3);
  }

  // Identities.
  for (const char* d : {"nll", "alpha0", "top_activation", "abs_median"})
    CHECK(at::equal(out.read(g + "identity/" + d), out.read(g + "clean/" + d)));
  CHECK(diff(out.read(g + "stream_full/nll"), want_nll) < 1e-4);
  CHECK(diff(out.read(g + "stream_wide/nll"), want_nll) < 1e-4);
  CHECK_FALSE(out.has(g + "stream_full/alpha0"));  // a streamed run measures the NLL only
  // Dropping <s>: 27 NLLs, of text positions 2..28; replacing it keeps the positions.
  CHECK(at::equal(out.read(g + "no_bos/targets"), at::arange(2, T, at::kLong)));
  CHECK(at::equal(out.read(g + "the_bos/targets"), at::arange(1, T, at::kLong)));
  CHECK_FALSE(at::equal(out.read(g + "the_bos/nll"), out.read(g + "clean/nll")));
  // The tag dimension zeroed at position 0 in every block: the stream's largest entry moves off it.
  const at::Tensor zeroed = out.read(g + "zero_tag/top_activation");
  for (int l = 0; l < 6; ++l)
    CHECK_FALSE((zeroed[l][0].item<double>() == 0 && zeroed[l][1].item<double>() == 135));
  // A 4-token window loses context: its NLL differs from the full cache's after position 4.
  CHECK(diff(out.read(g + "window4/nll").narrow(0, 0, 3), want_nll.narrow(0, 0, 3)) < 1e-4);
  CHECK(diff(out.read(g + "window4/nll").narrow(0, 4, T - 5), want_nll.narrow(0, 4, T - 5)) > 1e-3);

  // The report: perplexity over the positions every entry scores (2..28), figures per variant.
  const StageRecord& report = done.at("checkpoint.report");
  auto summary = ReportStage::read_summary(Hdf5File(report.entry, Hdf5File::Mode::read))["interventions"];
  auto p3 = summary["variants"]["dense"]["prompts"]["p3"];
  const double want_ppl = std::exp(want_nll.narrow(0, 1, T - 2).mean().item<double>());
  CHECK(std::abs(p3["clean"]["perplexity"].get<double>() - want_ppl) < 1e-3 * want_ppl);
  CHECK(p3["clean"]["scored_tokens"] == T - 2);
  CHECK(p3["identity"]["perplexity"] == p3["clean"]["perplexity"]);
  CHECK(p3["stream_wide"]["kv"]["sink_tokens"] == 4);
  const double share = (alpha0 > 0.3).to(at::kDouble).mean().item<double>();
  CHECK(p3["clean"]["sink_rate"].get<double>() == Approx(share));
  CHECK(p3["clean"]["heads"]["L2H0"]["alpha0"].get<double>() == Approx(alpha0[2][0].item<double>()));
  for (const char* f : {"interventions_dense.png", "interventions_dense.svg", "kv_policies_dense.png"})
    CHECK(std::filesystem::exists(report.artifacts + "/" + f));
}

TEST_CASE("interventions the model or the section cannot run are refused before a run", "[experiments][interventions][bad-input]") {
  auto shared = test::shared_dir();
  if (!shared) {
    SINKLAB_SKIP("../shared not found (set SINKLAB_SHARED to the folder with golden/ and models/)");
  }
  test::TempDir dir;
  auto problem = [&](const std::string& entries) {
    auto path = dir.write("bad.yaml", "name: bad\nmodel: {path: " + *shared + "/models/tiny-phi3}\n"
                                      "prompts: [{id: p, text: hello there}]\ninterventions:\n  entries:\n" + entries);
    try {
      auto cfg = load_config<RunConfig>(path, {});
      experiments_for(cfg.value).front()->input_problems();
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK_THAT(problem("    a: {ablate: [{site: resid_post, layers: [6]}]}\n"),
             Contains("interventions.entries.a.ablate[0].layers: layer 6 does not exist") && Contains("0..5"));
  CHECK_THAT(problem("    a: {ablate: [{site: z, heads: [8]}]}\n"), Contains("head 8 does not exist"));
  CHECK_THAT(problem("    a: {ablate: [{site: pos_embed}]}\n"), Contains("has no site 'pos_embed'"));
  CHECK_THAT(problem("    a: {kv: {policy: sinks}, ablate: [{site: z, positions: [0]}]}\n"),
             Contains("positions cannot be chosen in a streamed (kv) run"));
  CHECK_THAT(problem("    clean: {first_token: drop}\n"), Contains("not be 'clean'"));
  CHECK_THAT(problem("    a: {first_token: replace}\n"), Contains("replace_with") && Contains("give the text"));
  CHECK_THAT(problem("    a: {kv: {policy: stream}}\n"), Contains("policy") && Contains("full"));
  CHECK(problem("    a: {ablate: [{site: z, layers: [5], heads: [7]}]}\n") == "accepted");
}
