// `sinklab` end to end: commands, outputs, caching and the bad-input exits.
#include "tests/support/catch.h"
#include <filesystem>

#include "framework/util/system.h"
#include "framework/util/threads.h"
#include "tests/cli/cli_support.h"
#include "tests/support/process.h"
#include "tests/support/shared_dir.h"
#include "tests/support/temp_dir.h"
#include "tests/support/skip.h"

using namespace sinklab;
using namespace sinklab::test;
using Catch::Contains;
namespace fs = std::filesystem;

TEST_CASE("version, help and usage errors", "[cli]") {
  auto v = sinklab::test::sinklab({"--version"});
  CHECK(v.exit_code == 0);
  CHECK_THAT(v.out, Contains("sinklab " SINKLAB_VERSION));
  CHECK(sinklab::test::sinklab({"--help"}).exit_code == 0);
  for (const char* cmd : {"run", "validate", "inspect"}) {
    auto h = sinklab::test::sinklab({cmd, "--help"});
    CHECK(h.exit_code == 0);
    CHECK_THAT(h.out, Contains(std::string("usage: sinklab ") + cmd));
  }
  CHECK(sinklab::test::sinklab({}).exit_code == 2);
  auto unknown = sinklab::test::sinklab({"rnu"});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Contains("did you mean 'run'?"));
  auto bad_option = sinklab::test::sinklab({"run", "x.yaml", "--frobnicate"});
  CHECK(bad_option.exit_code == 2);
  CHECK(sinklab::test::sinklab({"run"}).exit_code == 2);
}

TEST_CASE("a run writes its outputs, and a second run is served entirely from the cache", "[cli]") {
  TempDir dir;
  auto config = dir.write("tiny.yaml", tiny_config());
  auto first = sinklab::test::sinklab({"run", config, "--results", dir / "results", "-q"});
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  const std::string run_dir = printed_path(first);
  for (const char* f : {"run.h5", "provenance.json", "config.resolved.yaml", "summary.json", "run.log",
                        "figures/theorem41_error_vs_stag.png", "figures/theorem41_error_vs_stag.svg",
                        "figures/theorem41_layer1_attention.png", "figures/theorem41_layer1_attention.svg"})
    CHECK(fs::exists(fs::path(run_dir) / f));
  CHECK(fs::path(run_dir).parent_path() == fs::path(dir / "results/tiny"));
  CHECK(fs::exists(dir / "results/tiny/latest/run.h5"));

  auto prov = read_json(run_dir + "/provenance.json");
  CHECK(prov["stages"].size() == 4);  // sequences, sweep, example, report
  CHECK(count_cached(prov) == 0);
  for (const char* key : {"sinklab_version", "git", "command_line", "config", "time", "stages", "host", "device",
                          "libraries", "seeds", "input_files"})
    CHECK(prov.contains(key));
  CHECK(prov["config"]["files"][0]["sha256"].get<std::string>().size() == 64);
  CHECK(prov["seeds"]["seed"] == 1);

  auto second = sinklab::test::sinklab({"run", config, "--results", dir / "results"});
  REQUIRE(second.exit_code == 0);
  const std::string run2 = printed_path(second);
  CHECK(run2 != run_dir);
  auto prov2 = read_json(run2 + "/provenance.json");
  CHECK(count_cached(prov2) == 4);
  CHECK_THAT(second.err, Contains("theorem41.sweep: cached"));
  CHECK(prov2["config"]["hash"] == prov["config"]["hash"]);

  // A key no stage reads (the name is only a directory) does not invalidate anything...
  auto renamed = sinklab::test::sinklab({"run", config, "name=other", "--results", dir / "results", "-q"});
  REQUIRE(renamed.exit_code == 0);
  CHECK(count_cached(read_json(printed_path(renamed) + "/provenance.json")) == 4);
  // ...and a model parameter reruns only the stages that read it.
  auto changed = sinklab::test::sinklab({"run", config, "theorem41.model.b=0.5", "--results", dir / "results", "-q"});
  REQUIRE(changed.exit_code == 0);
  auto prov3 = read_json(printed_path(changed) + "/provenance.json");
  for (const auto& s : prov3["stages"]) CHECK(s["cached"].get<bool>() == (s["name"] == "theorem41.sequences"));

  auto forced = sinklab::test::sinklab({"run", config, "--results", dir / "results", "--force", "theorem41.sweep", "-q"});
  REQUIRE(forced.exit_code == 0);
  auto prov4 = read_json(printed_path(forced) + "/provenance.json");
  CHECK(count_cached(prov4) == 2);
}

TEST_CASE("inspect shows provenance, stages and every tensor with its shape", "[cli]") {
  TempDir dir;
  auto config = dir.write("tiny.yaml", tiny_config());
  REQUIRE(sinklab::test::sinklab({"run", config, "--out", dir / "run", "--cache", dir / "cache", "-q"}).exit_code == 0);
  auto r = sinklab::test::sinklab({"inspect", dir / "run"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("provenance") && Contains("config    hash") && Contains("libtorch"));
  CHECK_THAT(r.out, Contains("theorem41.sweep") && Contains("computed"));
  CHECK_THAT(r.out, Contains("/theorem41.sequences/x") && Contains("float64") && Contains("[64, 16]"));
  CHECK_THAT(r.out, Contains("/theorem41.sweep/errors") && Contains("[4, 64]"));
  CHECK_THAT(r.out, Contains("theorem41_layer1_attention.png"));
  auto file = sinklab::test::sinklab({"inspect", dir / "run/run.h5"});
  REQUIRE(file.exit_code == 0);
  CHECK_THAT(file.out, Contains("/theorem41.example/A1") && Contains("[8, 8]") && Contains("stages"));
  CHECK(sinklab::test::sinklab({"inspect", dir / "missing"}).exit_code == 2);
  auto not_run = sinklab::test::sinklab({"inspect", dir.path()});
  CHECK(not_run.exit_code == 2);
  CHECK_THAT(not_run.err, Contains("not a sinklab run directory"));
}

TEST_CASE("validate prints the resolved config and its hash, or the error", "[cli]") {
  TempDir dir;
  auto config = dir.write("tiny.yaml", tiny_config());
  auto ok = sinklab::test::sinklab({"validate", config, "theorem41.model.d=3"});
  REQUIRE(ok.exit_code == 0);
  CHECK_THAT(ok.out, Contains("d: 3") && Contains("# config hash: ") && Contains("theorem41.sweep"));
  auto bad = sinklab::test::sinklab({"validate", config, "theorem41.model.d=0"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains("theorem41.model.d"));
}

TEST_CASE("bad input exits with 2, one clear message and no results", "[cli][bad-input]") {
  TempDir dir;
  auto results = dir / "results";
  auto expect_rejected = [&](const std::vector<std::string>& args, const std::string& message) {
    std::vector<std::string> full = args;
    full.insert(full.end(), {"--results", results});
    auto r = sinklab::test::sinklab(full);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("sinklab: error: ") && Contains(message));
    CHECK_FALSE(has_entries(results + "/tiny"));
  };
  expect_rejected({"run", dir.write("a.yaml", tiny_config() + "sede: 1\n")}, "did you mean 'seed'?");
  expect_rejected({"run", dir.write("b.yaml", "name: tiny\ntheorem41: {data: {count: x}}\n")}, "b.yaml:2:");
  expect_rejected({"run", dir.write("c.yaml", "name: tiny\n  bad indentation: [\n")}, "malformed YAML");
  expect_rejected({"run", dir.write("d.yaml", "name: tiny\ntheorem41: {data: {count: -3}}\n")}, "out of range");
  expect_rejected({"run", dir.write("e.yaml", "include: base.yaml\nname: tiny\n")}, "not found");
  expect_rejected({"run", dir.write("f.yaml", "name: tiny\ndevice: ${SINKLAB_UNSET_FOR_TEST}\ntheorem41: {}\n")},
                  "SINKLAB_UNSET_FOR_TEST is not set");
  expect_rejected({"run", dir / "no-such.yaml"}, "does not exist");
  auto good = dir.write("tiny.yaml", tiny_config());
  expect_rejected({"run", good, "--force", "theorem41.swep"}, "did you mean 'theorem41.sweep'?");
  expect_rejected({"run", good, "theorem41.data.cout=5"}, "did you mean 'count'?");
  if (!cuda_available()) expect_rejected({"run", good, "--device", "cuda"}, "no CUDA");

  auto file = dir.write("file.txt", "a file, not a directory");
  auto unwritable = sinklab::test::sinklab({"run", good, "--out", file + "/run", "--cache", dir / "cache"});
  CHECK(unwritable.exit_code == 2);
  CHECK_THAT(unwritable.err, Contains("file.txt") && Contains("--out"));
  dir.write("precious/notes.txt", "not a run");
  auto precious = sinklab::test::sinklab({"run", good, "--out", dir / "precious", "--cache", dir / "cache"});
  CHECK(precious.exit_code == 2);
  CHECK_THAT(precious.err, Contains("not a sinklab run; refusing to replace it"));
  CHECK(fs::exists(dir / "precious/notes.txt"));
  auto bad_cache = sinklab::test::sinklab({"run", good, "--results", results, "--cache", file + "/cache"});
  CHECK(bad_cache.exit_code == 2);
  CHECK_FALSE(has_entries(results + "/tiny"));
}

TEST_CASE("a corrupt cache entry is reported, not trusted, and recomputed", "[cli][bad-input]") {
  TempDir dir;
  auto config = dir.write("tiny.yaml", tiny_config());
  auto first = sinklab::test::sinklab({"run", config, "--results", dir / "results", "-q"});
  REQUIRE(first.exit_code == 0);
  auto prov = read_json(printed_path(first) + "/provenance.json");
  std::string entry;
  for (const auto& s : prov["stages"])
    if (s["name"] == "theorem41.sweep") entry = s["entry"];
  REQUIRE(fs::exists(entry));
  fs::resize_file(entry, fs::file_size(entry) - 100);
  auto second = sinklab::test::sinklab({"run", config, "--results", dir / "results"});
  REQUIRE(second.exit_code == 0);
  CHECK_THAT(second.err, Contains("is not valid") && Contains("recomputing"));
  auto prov2 = read_json(printed_path(second) + "/provenance.json");
  CHECK(count_cached(prov2) == 3);  // only the sweep is recomputed; the report's inputs have the same keys
}

TEST_CASE("a toy_learned run writes checkpoints, measures and figures; a rerun is fully cached", "[cli][toy_learned]") {
  TempDir dir;
  auto config = dir.write("toy.yaml", R"(name: toy
threads: 1
toy_learned:
  task: {min_length: 6, max_length: 12}
  seeds: [3]
  models:
    tiny2d: {model: {kind: toy-averaging-2d}, train: {steps: 40, checkpoint_every: 20, eval_sequences: 64}}
    tiny: {model: {kind: toy-averaging, d_model: 8, heads: 2}, train: {steps: 40, checkpoint_every: 20, eval_sequences: 64}}
  calibration_sequences: 32
  prune: {wanda: {method: wanda}, oats: {method: oats, iterations: 3}}
)");
  // Pruning needs linear maps: the 2-d toy has none, and says so.
  auto two_d = dir.write("toy2d.yaml", "name: toy2\ntoy_learned:\n  models: {a: {model: {kind: toy-averaging-2d}}}\n"
                                       "  prune: {wanda: {method: wanda}}\n");
  auto rejected = sinklab::test::sinklab({"run", two_d, "--results", dir / "results"});
  CHECK(rejected.exit_code == 2);
  CHECK_THAT(rejected.err, Contains("only toy-averaging models have linear maps to prune"));
  auto first = sinklab::test::sinklab({"run", config, "--results", dir / "results", "-q"});
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  const std::string run = printed_path(first);
  for (const char* f : {"artifacts/toy_learned.tiny2d.seed3.train/step-000000.safetensors",
                        "artifacts/toy_learned.tiny.seed3.train/step-000040.safetensors",
                        "figures/toy_learned_tiny_emergence.png", "figures/toy_learned_tiny2d_attention.svg",
                        "figures/toy_learned_tiny_spectra.png", "figures/toy_learned_tiny_sinks.png",
                        "figures/toy_learned_tiny2d_pca.svg", "figures/toy_learned_tiny_pruned_attention.png",
                        "artifacts/toy_learned.tiny.seed3.prune.oats/pruned.safetensors"})
    CHECK(fs::exists(fs::path(run) / f));
  auto summary = read_json(run + "/summary.json");
  CHECK(summary["toy_learned"]["tiny"][0]["seed"] == 3);
  CHECK(summary["toy_learned"]["tiny2d"][0].contains("release_kl"));
  CHECK(summary["toy_learned_pruning"]["tiny"][0]["wanda"]["sparsity"].get<double>() >= 0.5);
  CHECK(summary["toy_learned_pruning"]["tiny"][0]["oats"]["parameter_fraction"].get<double>() <= 0.5);
  auto again = sinklab::test::sinklab({"run", config, "--results", dir / "results", "-q"});
  REQUIRE(again.exit_code == 0);
  auto prov = read_json(printed_path(again) + "/provenance.json");
  CHECK(prov["stages"].size() == 7);  // 2 x (train, measure) + 2 prune of the wide toy + report
  CHECK(count_cached(prov) == 7);
  auto inspect = sinklab::test::sinklab({"inspect", run});
  CHECK_THAT(inspect.out, Contains("/toy_learned.tiny.seed3.measure/catch_mass") && Contains("[3, 2, 2]"));
}

TEST_CASE("model info, tokenize and generate on tiny-phi3", "[cli][model]") {
  const auto shared_root = sinklab::test::shared_dir();
  const fs::path shared = shared_root ? fs::path(*shared_root) : fs::path();
  if (!shared_root) {
    SINKLAB_SKIP("../shared/models/tiny-phi3 not found (set SINKLAB_SHARED)");
  }
  const std::string dir = (shared / "models/tiny-phi3").string();
  auto info = sinklab::test::sinklab({"model", "info", dir});
  REQUIRE(info.exit_code == 0);
  CHECK_THAT(info.out, Contains("(phi3)") && Contains("parameters  9309440") && Contains("model-00002-of-00002.safetensors"));
  auto tok = sinklab::test::sinklab({"tokenize", dir, "It is a truth"});
  REQUIRE(tok.exit_code == 0);
  CHECK_THAT(tok.out, Contains("ids    [1, 660, 437, 362, 3191]"));
  {  // a corpus in one process: ids per line, plain or JSON lines; a bad line stops it before any output
    TempDir files;
    auto plain = sinklab::test::sinklab({"tokenize", dir, "--file", files.write("in.txt", "It is a truth\n\nIt is\n")});
    REQUIRE(plain.exit_code == 0);
    CHECK(plain.out == "1 660 437 362 3191\n1\n1 660 437\n");
    auto jsonl = sinklab::test::sinklab({"tokenize", dir + "/tokenizer.json", "--no-special", "--jsonl", "--file",
                                         files.write("in.jsonl", "\"It is\\na truth\"\n{\"text\": \"It\"}\n")});
    REQUIRE(jsonl.exit_code == 0);
    CHECK(jsonl.out == "{\"ids\": [660, 437, 1587, 3191]}\n{\"ids\": [660]}\n");
    auto bad = sinklab::test::sinklab({"tokenize", dir, "--file", files.write("bad.txt", "It is\nok \xff\n")});
    CHECK(bad.exit_code == 2);
    CHECK(bad.out.empty());
    CHECK_THAT(bad.err, Contains("line 2") && Contains("not valid UTF-8"));
    CHECK(sinklab::test::sinklab({"tokenize", dir, "text", "--file", files / "in.txt"}).exit_code == 2);
  }
  auto gen = sinklab::test::sinklab({"generate", dir, "--prompt", "It is a truth", "--max-new", "8", "--threads", "1"});
  REQUIRE(gen.exit_code == 0);
  CHECK(gen.out.rfind("It is a truth", 0) == 0);
  CHECK(gen.out.size() > std::string("It is a truth\n").size());
  CHECK(sinklab::test::sinklab({"model", "info", "/nonexistent"}).exit_code == 2);
  CHECK(sinklab::test::sinklab({"generate", dir, "--prompt", "x", "--dtype", "float16"}).exit_code == 2);
}

TEST_CASE("the tiny-phi3 catch-tag-release example runs end to end; bad model inputs are rejected up front",
          "[cli][catch_tag_release]") {
  const auto shared_root = sinklab::test::shared_dir();
  if (!shared_root) {
    SINKLAB_SKIP("../shared/models/tiny-phi3 not found (set SINKLAB_SHARED)");
  }
  TempDir dir;
  const std::string example = example_config("tiny-phi3-catch-tag-release.yaml");
  const std::string model = tiny_phi3_override(*shared_root);
  auto run = sinklab::test::sinklab({"run", example, model, "--results", dir / "results", "-q", "--threads", "2"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const std::string out = dir / "results/tiny-phi3-catch-tag-release/latest";
  for (const char* f : {"attention_mmlu_L0_H1.png", "pca_result_L0H1_fig5.svg", "pca_normalized_L4_fig5.png",
                        "sinks_fig5.png", "result_fig5_L0_H1.png"})
    CHECK(fs::exists(out + "/figures/" + f));
  auto summary = read_json(out + "/summary.json");
  CHECK(summary["catch_tag_release"]["metrics"]["dense"]["prompts"]["fig5"]["massive_activations"]["largest"][0]["dimension"] == 135);

  // The paper configs validate without the checkpoint, and name it as missing.
  auto results = dir / "bad";
  for (const char* fig : {"fig2", "fig7", "fig8", "fig9", "fig10", "fig11"}) {
    const std::string config = std::string(source_dir()) + "/configs/paper/" + fig + ".yaml";
    auto v = sinklab::test::sinklab({"validate", config}, {"SINKLAB_MODELS=" + (dir / "no-models")});
    INFO(fig << ": " << v.err);
    CHECK(v.exit_code == 0);
    CHECK_THAT(v.out, Contains("# missing input: model.path") && Contains("Phi-3-medium-4k-instruct"));
    auto r = sinklab::test::sinklab({"run", config, "--results", results}, {"SINKLAB_MODELS=" + (dir / "no-models")});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("no checkpoint directory") && Contains("Phi-3-medium-4k-instruct") &&
                          Contains("SINKLAB_MODELS"));
  }
  CHECK_FALSE(has_entries(results + "/fig2-catch-tag-release"));

  auto expect_rejected = [&](const std::vector<std::string>& overrides, const std::string& message) {
    expect_rejected_run({"run", example, model, "--results", results}, overrides, message, results + "/tiny-phi3-catch-tag-release");
  };
  expect_rejected({"probes=[{site: pattern, layers: [6]}]"}, "probes[0].layers: layer 6 does not exist");
  expect_rejected({"probes=[{site: pattern, layers: [0], heads: [8]}]"}, "head 8 does not exist");
  expect_rejected({"probes=[{site: patern}]"}, "did you mean 'pattern'");
  expect_rejected({"pca=[{site: pattern, layer: 0, head: 1}]"}, "is an attention map");
  expect_rejected({"pca=[{site: result, layer: 0}]"}, "is per head: give `head`");
  expect_rejected({"pca=[{site: result, layer: 0, head: 1, prompt: fig6}]"}, "did you mean 'fig5'");
  expect_rejected({"prompts=[{id: a, file: no-such-prompt.txt}]", "pca=[]", "probes=[]"}, "no prompt file");
  expect_rejected({"model.path=" + (dir / "empty")}, "no checkpoint directory");
}

TEST_CASE("the tiny-phi3 pruning example writes pruned checkpoints and side-by-side figures; bad pruning configs "
          "are rejected", "[cli][pruning]") {
  const auto shared_root = sinklab::test::shared_dir();
  if (!shared_root) {
    SINKLAB_SKIP("../shared/models/tiny-phi3 not found (set SINKLAB_SHARED)");
  }
  TempDir dir;
  const std::string example = example_config("tiny-phi3-pruning.yaml");
  const std::string model = tiny_phi3_override(*shared_root);
  // Fewer calibration windows and OATS rounds than the example, to keep the suite quick.
  auto run = sinklab::test::sinklab({"run", example, model, "calibration.samples=8", "variants.oats.prune.iterations=4",
                                     "--results", dir / "results", "-q"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const std::string out = dir / "results/tiny-phi3-pruning/latest";
  for (const char* f : {"artifacts/prune.oats/model.safetensors.index.json",
                        "artifacts/prune.oats/model-00007-of-00007.safetensors", "artifacts/prune.oats/sinklab_lowrank.safetensors",
                        "artifacts/prune.wanda/sinklab_pruning.json", "artifacts/ablate.oats_no_qkv_lowrank/config.json",
                        "figures/attention_mmlu_L0_H1.png", "figures/sinks_mmlu.svg", "figures/pca_result_L0H1_fig5.png"})
    CHECK(fs::exists(out + "/" + f));
  auto summary = read_json(out + "/summary.json");
  for (const char* v : {"magnitude", "wanda", "sparsegpt"}) CHECK(summary["pruning"][v]["sparsity"].get<double>() >= 0.5);
  CHECK(summary["pruning"]["oats"]["parameter_fraction"].get<double>() <= 0.5);
  CHECK(summary["checkpoint"]["variants"].size() == 6);
  // `model info` reads the pruned checkpoint like any other.
  CHECK(sinklab::test::sinklab({"model", "info", out + "/artifacts/prune.wanda"}).exit_code == 0);

  auto results = dir / "bad";
  auto expect_rejected = [&](const std::vector<std::string>& overrides, const std::string& message) {
    expect_rejected_run({"run", example, model, "--results", results}, overrides, message, results + "/tiny-phi3-pruning");
  };
  expect_rejected({"variants.wanda.prune.method=wandda"}, "did you mean 'wanda'");
  expect_rejected({"variants.wanda.prune.pattern=1:4"}, "set sparsity: 0.75");
  expect_rejected({"variants.wanda.prune.pattern=3:2"}, "not 'unstructured' or N:M");
  expect_rejected({"variants.oats_no_qkv_lowrank.from=wanda"}, "must name a variant pruned with oats");
  expect_rejected({"calibration.path=" + (dir / "no-such-text")}, "calibration.path");
  expect_rejected({"variants.oats_no_qkv_lowrank.ablate_lowrank.layers=[6]"}, "layer 6 does not exist");
}

TEST_CASE("few-shot evaluation of dense and pruned tiny-phi3 on hamexam writes Fig. 3; bad eval inputs are rejected",
          "[cli][eval]") {
  const auto shared_root = sinklab::test::shared_dir();
  if (!shared_root || !fs::is_directory("/usr/share/hamexam/T")) {
    SINKLAB_SKIP("needs ../shared/models/tiny-phi3 and Debian's hamexam (scripts/setup.sh installs it)");
  }
  TempDir dir;
  const std::string example = example_config("tiny-phi3-hamexam.yaml");
  const std::string model = tiny_phi3_override(*shared_root);
  auto run = sinklab::test::sinklab({"run", example, model, "eval.limit=4", "eval.shots=[0, 2]", "eval.batch_size=3", "calibration.samples=4",
                                     "eval.perplexity={path: configs/prompts/sample.txt, window: 32, stride: 16}",
                                     "variants.oats.prune.iterations=2", "--results", dir / "results", "-q"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const std::string out = dir / "results/tiny-phi3-hamexam/latest";
  CHECK(fs::exists(out + "/figures/fewshot_accuracy.png"));
  auto eval = read_json(out + "/summary.json")["eval"]["variants"];
  for (const char* v : {"dense", "wanda", "sparsegpt", "oats"})
    for (const char* k : {"0", "2"}) {
      CHECK(eval[v]["k"][k]["questions"] == 12);  // 4 per pool, 3 pools
      CHECK(eval[v]["k"][k]["by_subject"].size() == 3);
    }
  // Perplexity of a prose paragraph per variant (tiny-phi3 is overconfident out of its training
  // text: tens of thousands, as transformers' logits give too; the value is checked in eval_test).
  const double dense_ppl = eval["dense"]["perplexity"].get<double>();
  CHECK(std::isfinite(dense_ppl));
  CHECK(dense_ppl > 1);
  CHECK(eval["wanda"]["perplexity"].get<double>() != dense_ppl);

  // Perplexity only: the question set and the pruned variants removed on the command line
  // (`key=null`); the summary names no few-shot task and draws no few-shot figure.
  auto ppl = sinklab::test::sinklab({"run", example, model, "eval.data=null", "variants=null", "calibration=null",
                                     "eval.perplexity={path: configs/prompts/sample.txt, window: 32, stride: 16}",
                                     "--results", dir / "ppl", "-q"});
  INFO(ppl.err);
  REQUIRE(ppl.exit_code == 0);
  auto ppl_summary = read_json(dir / "ppl/tiny-phi3-hamexam/latest/summary.json");
  CHECK_FALSE(ppl_summary["eval"].contains("task"));
  CHECK(ppl_summary["eval"]["variants"].size() == 1);
  CHECK(ppl_summary["eval"]["variants"]["dense"]["perplexity"].get<double>() == Approx(dense_ppl).epsilon(1e-9));
  CHECK_FALSE(fs::exists(dir / "ppl/tiny-phi3-hamexam/latest/figures/fewshot_accuracy.png"));
  auto results = dir / "bad";
  auto expect_rejected = [&](const std::vector<std::string>& overrides, const std::string& message) {
    expect_rejected_run({"run", example, model, "--results", results}, overrides, message, results + "/tiny-phi3-hamexam");
  };
  expect_rejected({"eval.data=" + (dir / "no-hamexam")}, "eval.data");
  expect_rejected({"eval.task=mmmlu"}, "did you mean 'mmlu'");
  expect_rejected({"eval.scoring=fast"}, "eval.scoring");
}

TEST_CASE("the tiny-phi3 interventions example runs every kind of entry and draws its figures", "[cli][interventions]") {
  const auto shared_root = sinklab::test::shared_dir();
  if (!shared_root) {
    SINKLAB_SKIP("needs ../shared/models/tiny-phi3");
  }
  TempDir dir;
  auto run = sinklab::test::sinklab({"run", example_config("tiny-phi3-interventions.yaml"), tiny_phi3_override(*shared_root),
                                     "interventions.prompts=[mmlu]", "interventions.eval.limit=2", "--results",
                                     dir / "results", "-q"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const std::string out = dir / "results/tiny-phi3-interventions/latest";
  for (const char* f : {"interventions_dense.png", "interventions_dense.svg", "kv_policies_dense.png"})
    CHECK(fs::exists(out + "/figures/" + f));
  auto mmlu = read_json(out + "/summary.json")["interventions"]["variants"]["dense"]["prompts"]["mmlu"];
  CHECK(mmlu.size() == 12);  // clean + 11 entries
  // Few-shot accuracy under every entry that is not streamed: 2 questions from each of 3 pools.
  auto eval = read_json(out + "/summary.json")["interventions"]["variants"]["dense"]["eval"]["k"]["3"];
  CHECK(eval.size() == 9);
  CHECK(eval["clean"]["questions"] == 6);
  CHECK(eval["zero_tag"]["scoring"] == "naive");
  CHECK(mmlu["zero_massive"]["ablated_dims"].get<std::vector<int>>() == std::vector<int>{135});
  // The sink head's own attention is what the forced head's is not: layer 3 head 4 looks only at <s>.
  CHECK(mmlu["force_first"]["heads"]["L3H4"]["alpha0"].get<double>() == Approx(1.0));
  CHECK(mmlu["kv_full"]["perplexity"].get<double>() == Approx(mmlu["clean"]["perplexity"].get<double>()).epsilon(1e-5));
  // Without <s> there is no sink and no tag: no head puts alpha0 > 0.3 on the first token.
  CHECK(mmlu["no_bos"]["sink_rate"] == 0.0);
  CHECK(mmlu["clean"]["max_activation"]["dimension"] == 135);
}
