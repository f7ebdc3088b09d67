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

namespace {

// Every stage of the config at `path`, run with the cache in `dir`: stage name -> its record.
std::map<std::string, StageRecord> run_stages(const test::TempDir& dir, const std::string& path) {
  auto cfg = load_config<RunConfig>(path, {"threads=1"});
  Runner runner(RunnerOptions{dir / "cache", {}, c10::Device(c10::DeviceType::CPU)});
  auto experiments = add_experiment_stages(cfg.value, runner);
  REQUIRE(experiments.front()->input_problems().empty());
  std::map<std::string, StageRecord> done;
  for (const auto& rec : runner.run()) done[rec.name] = rec;
  return done;
}

// -log p(token t | tokens < t) from transformers' logits of golden prompt `id`, [T - 1].
at::Tensor golden_nll(SafetensorsFile& golden, const std::string& id) {
  const at::Tensor ids = golden.tensor(id + ".input_ids");  // [T]
  const std::int64_t T = ids.size(0);
  const at::Tensor lp = at::log_softmax(golden.tensor(id + ".logits").to(at::kDouble), -1);  // [T, V]
  return -lp.narrow(0, 0, T - 1).gather(1, ids.narrow(0, 1, T - 1).unsqueeze(1)).squeeze(1);
}

}  // namespace

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
  const auto done = run_stages(dir, config_path);
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
  const at::Tensor want_nll = golden_nll(golden, "p3");
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

// Patching the clean run's resid_pre of block 0 at the one position where the prompts differ
// makes the corrupted run the clean run exactly (normalized 1); at the positions where they
// agree it changes nothing (0).
TEST_CASE("activation patching on tiny-phi3: the differing token's position restores the clean run exactly; "
          "token selectors and mean ablation", "[experiments][interventions]") {
  auto shared = test::shared_dir();
  if (!shared) {
    SINKLAB_SKIP("../shared not found (set SINKLAB_SHARED to the folder with golden/ and models/)");
  }
  test::TempDir dir;
  auto config_path = dir.write(
      "ioi.yaml", "name: ioi\nmodel: {path: " + *shared + "/models/tiny-phi3}\n"
                  "prompts:\n  - {id: clean, text: 'When Mary and John went to the store, John gave a drink to'}\n"
                  "  - {id: corrupt, text: 'When Mary and John went to the store, Mary gave a drink to'}\n"
                  "interventions:\n  prompts: [clean]\n"
                  "  entries:\n    commas: {ablate: [{site: resid_post, layers: [2], tokens: ['ore,', ' to']}]}\n"
                  "    mean_tag: {ablate: [{site: resid_post, positions: [0], dims: [135], op: mean}], reference: corrupt}\n"
                  "    nowhere: {ablate: [{site: resid_post, tokens: ['?']}]}\n"
                  "  patching:\n    - {name: ioi, clean: clean, corrupted: corrupt, site: resid_pre, answer: ' Mary', wrong: ' John'}\n"
                  "    - {name: heads, clean: clean, corrupted: corrupt, site: z, layers: [0, 5], answer: Mary, wrong: John}\n");
  const auto done = run_stages(dir, config_path);
  Hdf5File out(done.at("intervene.dense").entry, Hdf5File::Mode::read);
  const at::Tensor normalized = out.read("patching/ioi/normalized");  // [6 layers, 16 positions]
  REQUIRE(normalized.size(0) == 6);
  REQUIRE(normalized.size(1) == 16);
  CHECK(std::get<std::string>(*out.attr("patching/ioi", "answer_token")) == "Mary");
  CHECK(std::abs(normalized[0][10].item<double>() - 1.0) < 1e-9);
  for (std::int64_t p = 0; p < 16; ++p)
    if (p != 10) CHECK(normalized[0][p].item<double>() == 0.0);
  // Before position 10 nothing differs at any layer (causal attention): still 0.
  for (std::int64_t l = 0; l < 6; ++l) CHECK(normalized[l][3].item<double>() == 0.0);
  CHECK(out.read("patching/heads/normalized").sizes() == at::IntArrayRef({2, 8}));
  const double clean = std::get<double>(*out.attr("patching/ioi", "clean_logit_diff"));
  CHECK(clean != std::get<double>(*out.attr("patching/ioi", "corrupted_logit_diff")));
  // p(answer): block 0's input at the differing position is the clean run's; elsewhere the corrupted run's.
  const at::Tensor prob = out.read("patching/ioi/answer_prob");
  CHECK(std::abs(prob[0][10].item<double>() - std::get<double>(*out.attr("patching/ioi", "clean_answer_prob"))) < 1e-9);
  CHECK(prob[0][3].item<double>() == std::get<double>(*out.attr("patching/ioi", "corrupted_answer_prob")));
  CHECK(std::get<double>(*out.attr("patching/ioi", "clean_answer_prob")) !=
        std::get<double>(*out.attr("patching/ioi", "corrupted_answer_prob")));
  // Token selectors (the text each token adds) found "ore," (9) and both " to" (6, 15); "?" occurs nowhere: nothing edited.
  CHECK(std::get<std::vector<std::int64_t>>(*out.attr("prompts/clean/commas", "ablated_positions")) ==
        std::vector<std::int64_t>{6, 9, 15});
  CHECK(std::get<std::int64_t>(*out.attr("prompts/clean/nowhere", "ablations_applied")) == 0);
  CHECK(at::equal(out.read("prompts/clean/nowhere/nll"), out.read("prompts/clean/clean/nll")));
  CHECK_FALSE(at::equal(out.read("prompts/clean/commas/nll"), out.read("prompts/clean/clean/nll")));
  // Mean over the reference prompt's positions: the outlier at <s> (81 after every block) is
  // replaced by its average over 16 positions, so the largest value falls to a fraction of it.
  const at::Tensor top = out.read("prompts/clean/mean_tag/top_activation");
  const at::Tensor clean_top = out.read("prompts/clean/clean/top_activation");
  CHECK(clean_top[5][1].item<double>() == 135);
  CHECK(std::abs(top[5][2].item<double>()) < 0.5 * std::abs(clean_top[5][2].item<double>()));
  auto summary = ReportStage::read_summary(Hdf5File(done.at("checkpoint.report").entry, Hdf5File::Mode::read));
  auto ioi = summary["interventions"]["patching"]["ioi"]["dense"];
  CHECK(ioi["clean_logit_diff"].get<double>() == clean);
  CHECK(std::filesystem::exists(done.at("checkpoint.report").artifacts + "/patching_ioi.png"));
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
      auto problems = experiments_for(cfg.value).front()->input_problems();
      if (!problems.empty()) return problems.front();
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
             Contains("positions and tokens cannot be chosen in a streamed (kv) run"));
  CHECK_THAT(problem("    clean: {first_token: drop}\n"), Contains("not be 'clean'"));
  CHECK_THAT(problem("    a: {first_token: replace}\n"), Contains("replace_with") && Contains("give the text"));
  CHECK_THAT(problem("    a: {kv: {policy: stream}}\n"), Contains("policy") && Contains("full"));
  CHECK_THAT(problem("    a: {ablate: [{site: z, op: resample}]}\n"), Contains("op resample needs the prompt id"));
  CHECK_THAT(problem("    a: {ablate: [{site: z, op: mean}], reference: nope}\n"), Contains("no prompt 'nope'"));
  CHECK_THAT(problem("    a: {kv: {policy: full}, ablate: [{site: z, tokens: [x]}]}\n"), Contains("positions and tokens"));
  CHECK_THAT(problem("    a: {}\n  patching: [{name: g, clean: p, corrupted: p, site: resid_pre, layers: [9], answer: a, "
                     "wrong: b}]\n"), Contains("interventions.patching[0].layers: layer 9 does not exist"));
  CHECK_THAT(problem("    a: {first_token: insert}\n"), Contains("insert") && Contains("give the text"));
  CHECK_THAT(problem("    a: {insert: x}\n"), Contains("only read with first_token: insert"));
  CHECK_THAT(problem("    a: {ablate: [{site: z, massive_dims: true}]}\n"), Contains("not [..., d_model]"));
  CHECK_THAT(problem("    a: {kv: {policy: full}, ablate: [{site: resid_post, massive_dims: true}]}\n"),
             Contains("massive_dims are found in a one-pass clean run"));
  const std::string eval = "  eval: {task: jsonl, data: /nonexistent.jsonl";
  CHECK_THAT(problem("    a: {ablate: [{site: z, op: resample}], reference: p}\n" + eval + "}\n"),
             Contains("op resample") && Contains("use mean"));
  CHECK_THAT(problem("    a: {ablate: [{site: z, op: mean}]}\n" + eval + "}\n"), Contains("needs `reference`"));
  CHECK_THAT(problem("    a: {}\n" + eval + ", perplexity: {path: x}}\n"), Contains("drop eval.perplexity"));
  CHECK_THAT(problem("    a: {}\n" + eval + "}\n"), Contains("interventions.eval.data: '/nonexistent.jsonl' does not exist"));
  CHECK(problem("    a: {ablate: [{site: z, layers: [5], heads: [7]}]}\n") == "accepted");
}

// Few-shot scoring under interventions is eval.V's scoring with editors: no editor gives eval's
// numbers; dropping the BOS that add_bos put first gives eval's numbers without BOS; an
// inserted <s> is a prompt that begins with two; massive_dims picks the dims Sun et al.'s
// definition finds (tiny-phi3's tag, 135), the same as naming them.
TEST_CASE("interventions under few-shot scoring, inserted first tokens and massive dims equal their definitions",
          "[experiments][interventions]") {
  auto shared = test::shared_dir();
  if (!shared) {
    SINKLAB_SKIP("../shared not found (set SINKLAB_SHARED to the folder with golden/ and models/)");
  }
  auto meta = nlohmann::json::parse(read_file(*shared + "/golden/tiny-phi3/golden.json"));
  test::TempDir dir;
  const std::string prompt = meta["prompts"][3]["text"].get<std::string>();
  auto text = dir.write("p3.txt", prompt);
  auto twice = dir.write("p3_bos.txt", "<s>" + prompt);  // encoded with its own <s> first: two
  auto questions = dir.write("q.jsonl",
      R"({"question": "Which is a colour?", "choices": ["red", "four", "run", "under"], "answer": 0, "split": "dev"}
{"question": "Two plus two is", "choices": ["three", "four", "five", "six"], "answer": 1}
{"question": "The sky on a clear day is", "choices": ["green", "red", "blue", "black"], "answer": 2}
{"question": "Ice is made of", "choices": ["wood", "stone", "iron", "water"], "answer": 3}
)");
  const std::string eval = "{task: jsonl, data: " + questions + ", shots: [0, 1]";
  auto config_path = dir.write(
      "iv.yaml", "name: iv\nmodel: {path: " + *shared + "/models/tiny-phi3}\n"
                 "prompts: [{id: p3, file: " + text + "}, {id: p3_bos, file: " + twice + "}]\n"
                 "eval: " + eval + "}\n"
                 "interventions:\n  prompts: [p3, p3_bos]\n  massive: {abs: 20, ratio: 10}\n"
                 "  eval: " + eval + ", add_bos: true}\n  entries:\n"
                 "    identity_all: {ablate: [{site: resid_post, op: scale, value: 1}]}\n"
                 "    identity_at0: {ablate: [{site: resid_post, positions: [0], op: scale, value: 1}]}\n"
                 "    zero_massive: {ablate: [{site: resid_post, positions: [0], massive_dims: true}]}\n"
                 "    zero_135: {ablate: [{site: resid_post, positions: [0], dims: [135]}]}\n"
                 "    insert_bos: {first_token: insert, insert: \"<s>\"}\n"
                 "    no_bos: {first_token: drop}\n");
  const auto done = run_stages(dir, config_path);
  REQUIRE(done.count("intervene_eval.dense") == 1);
  Hdf5File iv(done.at("intervene.dense").entry, Hdf5File::Mode::read);
  Hdf5File ev(done.at("intervene_eval.dense").entry, Hdf5File::Mode::read);
  Hdf5File plain(done.at("eval.dense").entry, Hdf5File::Mode::read);
  auto diff = [](const at::Tensor& a, const at::Tensor& b) {
    return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
  };
  for (const char* k : {"k0", "k1"}) {
    INFO(k);
    const std::string ll = std::string(k) + "/loglikelihood";
    const at::Tensor clean = ev.read("clean/" + ll);  // [3, 4]
    CHECK(clean.size(0) == 3);
    CHECK(diff(clean, plain.read(ll)) > 1e-3);             // add_bos matters...
    CHECK(at::equal(ev.read("no_bos/" + ll), plain.read(ll)));  // ...and dropping it is eval without it
    CHECK(at::equal(ev.read("identity_all/" + ll), clean));   // prefix scoring with editors that change nothing
    CHECK(diff(ev.read("identity_at0/" + ll), clean) < 1e-4);  // one pass per choice (it picks a position)
    CHECK(at::equal(ev.read("zero_massive/" + ll), ev.read("zero_135/" + ll)));
    CHECK(diff(ev.read("zero_135/" + ll), clean) > 1e-3);
  }
  CHECK(std::get<std::string>(*ev.attr("/identity_at0", "scoring")) == "naive");
  CHECK(std::get<std::string>(*ev.attr("/identity_all", "scoring")) == "prefix");
  CHECK(at::equal(ev.read("massive_dims"), at::tensor({std::int64_t(135)})));

  // The prompt runs: massive_dims found 135, and ablating it is ablating 135.
  const std::string g = "prompts/p3/";
  CHECK(std::get<std::vector<std::int64_t>>(*iv.attr("/" + g + "zero_massive", "ablated_dims")) == std::vector<std::int64_t>{135});
  for (const char* d : {"nll", "alpha0", "top_activation", "massive_count"})
    CHECK(at::equal(iv.read(g + "zero_massive/" + d), iv.read(g + "zero_135/" + d)));
  CHECK(iv.read(g + "clean/massive_count").sum().item<std::int64_t>() > 0);
  // <s> inserted before <s>: the NLLs of a prompt that begins with two, all of its positions.
  const std::int64_t T = iv.read(g + "input_ids").size(0);
  CHECK(iv.read("prompts/p3_bos/input_ids").size(0) == T + 1);
  CHECK(at::equal(iv.read(g + "insert_bos/nll"), iv.read("prompts/p3_bos/clean/nll")));
  CHECK(at::equal(iv.read(g + "insert_bos/targets"), at::arange(0, T, at::kLong)));
  CHECK(iv.has(g + "insert_bos/alpha0_text"));
  auto summary = ReportStage::read_summary(Hdf5File(done.at("checkpoint.report").entry, Hdf5File::Mode::read))["interventions"];
  auto dense = summary["variants"]["dense"];
  CHECK(dense["eval"]["k"]["1"]["clean"]["accuracy"].get<double>() == Approx(std::get<double>(*ev.attr("/clean/k1", "acc_micro"))));
  CHECK(dense["eval"]["k"]["1"]["clean"]["questions"] == 3);
  CHECK(dense["prompts"]["p3"]["zero_massive"]["ablated_dims"].get<std::vector<std::int64_t>>() == std::vector<std::int64_t>{135});
  CHECK(dense["prompts"]["p3"]["insert_bos"].contains("sink_rate_text_start"));
}

// StreamingLLM's setting: a text longer than the context. tiny-phi3 with its context cut to 16
// positions (config.json alone; plain RoPE does not read it): the streamed entries read all 29
// tokens of the prompt - a full cache as transformers' one pass does - and the one-pass runs
// are skipped for it; without a streamed entry the prompt is refused, naming max_tokens.
TEST_CASE("prompts past the context are read by streamed entries only", "[experiments][interventions]") {
  auto shared = test::shared_dir();
  if (!shared) {
    SINKLAB_SKIP("../shared not found (set SINKLAB_SHARED to the folder with golden/ and models/)");
  }
  SafetensorsFile golden(*shared + "/golden/tiny-phi3/golden.safetensors");
  auto meta = nlohmann::json::parse(read_file(*shared + "/golden/tiny-phi3/golden.json"));
  test::TempDir dir;
  const std::string model = dir / "short-context";
  std::filesystem::create_directories(model);
  for (const auto& f : std::filesystem::directory_iterator(*shared + "/models/tiny-phi3"))
    if (f.path().filename() != "config.json") std::filesystem::create_symlink(f.path(), model + "/" + f.path().filename().string());
  auto config = nlohmann::json::parse(read_file(*shared + "/models/tiny-phi3/config.json"));
  config["max_position_embeddings"] = 16;
  config["original_max_position_embeddings"] = 16;
  write_file_atomic(model + "/config.json", config.dump(2));
  auto text = dir.write("p3.txt", meta["prompts"][3]["text"].get<std::string>());  // 29 tokens
  auto write_config = [&](const std::string& entries) {
    return dir.write("long.yaml", "name: long\nmodel: {path: " + model + "}\nprompts: [{id: p3, file: " + text + "}]\n"
                                  "interventions:\n  entries:\n" + entries);
  };
  const auto done = run_stages(dir, write_config("    zero_tag: {ablate: [{site: resid_post, dims: [135]}]}\n"
                                                 "    stream_full: {kv: {policy: full}}\n"
                                                 "    sinks: {kv: {policy: sinks, sink_tokens: 2, window: 6}}\n"));
  Hdf5File out(done.at("intervene.dense").entry, Hdf5File::Mode::read);
  const at::Tensor ids = golden.tensor("p3.input_ids");
  const std::int64_t T = ids.size(0);
  const at::Tensor want = golden_nll(golden, "p3");
  CHECK((out.read("prompts/p3/stream_full/nll") - want).abs().max().item<double>() < 1e-4);
  CHECK(out.read("prompts/p3/sinks/nll").size(0) == T - 1);
  CHECK_FALSE(out.has("prompts/p3/clean/nll"));
  CHECK_FALSE(out.has("prompts/p3/zero_tag/nll"));
  CHECK_THAT(std::get<std::string>(*out.attr("/prompts/p3", "one_pass_runs")), Contains("29 tokens, past the context of 16"));
  auto summary = ReportStage::read_summary(Hdf5File(done.at("checkpoint.report").entry, Hdf5File::Mode::read))["interventions"];
  auto p3 = summary["variants"]["dense"]["prompts"]["p3"];
  CHECK(p3.size() == 2);
  CHECK(p3["stream_full"]["scored_tokens"] == T - 1);

  auto cfg = load_config<RunConfig>(write_config("    zero_tag: {ablate: [{site: resid_post, dims: [135]}]}\n"), {});
  CHECK_THROWS_WITH(experiments_for(cfg.value).front()->input_problems(),
                    Contains("prompts[0] ('p3') has 29 tokens") && Contains("max_tokens"));
}
