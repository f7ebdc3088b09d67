// Pruning whole models: sequential vs one-shot calibration, exact accounting, and the saved
// HuggingFace checkpoint (same names, dtypes and fused layouts; loads back to the same model).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "tests/support/catch.h"
#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "framework/io/atomic_file.h"
#include "framework/io/checkpoint_dir.h"
#include "framework/io/safetensors.h"
#include "framework/model/family.h"
#include "framework/model/language_model.h"
#include "framework/prune/block_store.h"
#include "framework/prune/methods.h"
#include "framework/prune/prune_model.h"
#include "framework/prune/save_checkpoint.h"
#include "framework/prune/prune_toy.h"
#include "framework/model/toy_averaging.h"
#include "framework/util/error.h"
#include "tests/model/tiny_checkpoint.h"
#include "tests/support/shared_dir.h"
#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"

using namespace sinklab;
namespace fs = std::filesystem;

namespace {

const std::int64_t D = 32, I = 64, V = 50, L = 2, H = 4, HD = 8;

// A random phi3 checkpoint (fused qkv / gate_up) stored in bfloat16, as real ones are.
std::string write_phi3(const test::TempDir& dir) {
  at::manual_seed(3);
  auto r = [](std::vector<std::int64_t> s, double scale) { return (at::randn(s) * scale).to(at::kBFloat16); };
  std::vector<std::pair<std::string, at::Tensor>> w{{"model.embed_tokens.weight", r({V, D}, 1.0)},
                                                    {"model.norm.weight", (1 + at::zeros({D})).to(at::kBFloat16)},
                                                    {"lm_head.weight", r({V, D}, 0.2)}};
  for (std::int64_t l = 0; l < L; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    w.push_back({p + "input_layernorm.weight", (1 + at::zeros({D})).to(at::kBFloat16)});
    w.push_back({p + "post_attention_layernorm.weight", (1 + at::zeros({D})).to(at::kBFloat16)});
    w.push_back({p + "self_attn.qkv_proj.weight", r({3 * H * HD, D}, 0.3)});
    w.push_back({p + "self_attn.o_proj.weight", r({D, H * HD}, 0.2)});
    w.push_back({p + "mlp.gate_up_proj.weight", r({2 * I, D}, 0.2)});
    w.push_back({p + "mlp.down_proj.weight", r({D, I}, 0.2)});
  }
  std::string path = dir / "phi3";
  fs::create_directories(path);
  nlohmann::json cfg{{"model_type", "phi3"},  {"vocab_size", V},          {"hidden_size", D},
                     {"intermediate_size", I}, {"num_hidden_layers", L},   {"num_attention_heads", H},
                     {"num_key_value_heads", H}, {"rms_norm_eps", 1e-5},   {"rope_theta", 10000.0}};
  write_file_atomic(path + "/config.json", cfg.dump());
  write_file_atomic(path + "/tokenizer.json", "{}");  // copied along, not read here
  write_safetensors(path + "/model.safetensors", w);
  return path;
}

at::Tensor calibration_ids() {
  at::manual_seed(9);
  return at::randint(0, V, {6, 16}, at::kLong);
}

}  // namespace

TEST_CASE("sequential calibration sees the pruned earlier blocks, one-shot the dense ones", "[prune][model]") {
  test::TempDir dir;
  auto path = write_phi3(dir);
  PruneConfig cfg;
  cfg.method = "wanda";
  auto seq = load_language_model(path), one = load_language_model(path);
  auto r1 = prune_model(*seq, calibration_ids(), cfg, 4);
  cfg.sequential = false;
  auto r2 = prune_model(*one, calibration_ids(), cfg, 4);
  // Block 0 sees the embeddings either way; block 1's inputs differ, and so do its masks.
  auto a0 = seq->linear_layers(0), b0 = one->linear_layers(0), a1 = seq->linear_layers(1), b1 = one->linear_layers(1);
  for (std::size_t i = 0; i < a0.size(); ++i) CHECK(at::equal(a0[i].weight, b0[i].weight));
  bool differs = false;
  for (std::size_t i = 0; i < a1.size(); ++i) differs = differs || !at::equal(a1[i].weight.ne(0), b1[i].weight.ne(0));
  CHECK(differs);
  // Exact accounting: every map loses floor(0.5 * in) weights per row.
  REQUIRE(r1.matrices.size() == 2 * 7);
  for (const auto& m : r1.matrices) {
    INFO(m.name);
    CHECK(m.zeros >= m.rows * (m.cols / 2));  // bf16 rounding can only add zeros
    CHECK(m.parameters == m.rows * (m.cols - m.cols / 2));
    CHECK(m.relative_error > 0);
  }
  CHECK(r1.matrices[0].name == "model.layers.0.self_attn.q_proj");
  CHECK(r1.calibration_tokens == 6 * 16);
}

TEST_CASE("a pruned model saves as a checkpoint with the source's names, dtypes and fused layout", "[prune][model]") {
  test::TempDir dir;
  auto path = write_phi3(dir);
  auto model = load_language_model(path);  // float32 in memory
  PruneConfig cfg;
  cfg.method = "magnitude";  // needs no calibration
  auto report = prune_model(*model, at::zeros({0, 1}, at::kLong), cfg);
  save_hf_checkpoint(*model, path, dir / "pruned", {{"note", "test"}});
  CHECK(fs::exists(dir / "pruned/config.json"));
  CHECK(fs::exists(dir / "pruned/tokenizer.json"));
  CheckpointDir src(path), out(dir / "pruned");
  auto names = out.names(), source_names = src.names();
  CHECK(std::set<std::string>(names.begin(), names.end()) == std::set<std::string>(source_names.begin(), source_names.end()));
  for (const auto& n : names) CHECK(out.tensor(n).scalar_type() == at::kBFloat16);
  // Half of the fused qkv is zero, per matrix: q, k and v were each pruned on their own.
  auto qkv = out.tensor("model.layers.1.self_attn.qkv_proj.weight").to(at::kFloat);
  for (int part = 0; part < 3; ++part)
    CHECK(qkv.narrow(0, part * H * HD, H * HD).eq(0).sum().item<std::int64_t>() >= H * HD * D / 2);
  // It loads back into the same model.
  auto again = load_language_model(dir / "pruned");
  auto ids = calibration_ids();
  CHECK(at::allclose(again->forward(ids), model->forward(ids), 1e-2, 1e-2));
  CHECK(SafetensorsFile(dir / "pruned/model.safetensors").metadata().at("note") == "test");
}

TEST_CASE("gpt2's Conv1D c_attn is pruned as separate Q, K and V maps through write-through views", "[prune][model]") {
  test::TempDir dir;
  at::manual_seed(4);
  const std::int64_t d = 16, P = 32;
  std::vector<std::pair<std::string, at::Tensor>> t{{"transformer.wte.weight", at::randn({V, d})},
                                                    {"transformer.wpe.weight", at::randn({P, d})},
                                                    {"transformer.ln_f.weight", at::ones({d})},
                                                    {"transformer.ln_f.bias", at::zeros({d})}};
  for (std::int64_t l = 0; l < 1; ++l) {
    const std::string p = "transformer.h.0.";
    for (auto [n, s] : std::vector<std::pair<std::string, std::vector<std::int64_t>>>{
             {"ln_1.weight", {d}}, {"ln_1.bias", {d}}, {"attn.c_attn.weight", {d, 3 * d}}, {"attn.c_attn.bias", {3 * d}},
             {"attn.c_proj.weight", {d, d}}, {"attn.c_proj.bias", {d}}, {"ln_2.weight", {d}}, {"ln_2.bias", {d}},
             {"mlp.c_fc.weight", {d, 4 * d}}, {"mlp.c_fc.bias", {4 * d}}, {"mlp.c_proj.weight", {4 * d, d}},
             {"mlp.c_proj.bias", {d}}})
      t.push_back({p + n, n.find("ln_") == 0 && n.find("weight") != std::string::npos ? at::ones(s) : at::randn(s) * 0.3});
  }
  fs::create_directories(dir / "gpt2");
  write_file_atomic(dir / "gpt2/config.json", nlohmann::json{{"model_type", "gpt2"}, {"vocab_size", V}, {"n_embd", d},
                                                              {"n_layer", 1}, {"n_head", 4}, {"n_positions", P}}.dump());
  write_safetensors(dir / "gpt2/model.safetensors", t);
  auto model = load_language_model(dir / "gpt2");
  PruneConfig cfg;
  cfg.method = "sparsegpt";
  cfg.block_size = 8;
  auto report = prune_model(*model, at::randint(0, V, {4, 12}, at::kLong), cfg);
  CHECK(report.matrices.size() == 6);
  save_hf_checkpoint(*model, dir / "gpt2", dir / "pruned");
  auto c_attn = CheckpointDir(dir / "pruned").tensor("transformer.h.0.attn.c_attn.weight");  // [in, 3 out]
  for (int part = 0; part < 3; ++part) CHECK(c_attn.narrow(1, part * d, d).eq(0).sum().item<std::int64_t>() == d * d / 2);
}

TEST_CASE("the toy prunes layer by layer on the averaging task, in place", "[prune][toy]") {
  ToyModelSpec spec;
  spec.d_model = 16;
  spec.heads = 2;
  spec.mlp = true;
  auto seq = ToyModel::initialize(spec, 3);
  auto one = seq.clone();
  AveragingTask task;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  auto batch = sample_averaging_batch(task, 64, gen);
  PruneConfig cfg;
  cfg.method = "wanda";
  auto r1 = prune_toy(seq, batch, cfg);
  cfg.sequential = false;
  prune_toy(one, batch, cfg);
  REQUIRE(r1.matrices.size() == 2 * 6);  // q, k, v, o, up, down per layer
  auto a0 = seq.linear_layers(0), b0 = one.linear_layers(0), a1 = seq.linear_layers(1), b1 = one.linear_layers(1);
  for (std::size_t i = 0; i < a0.size(); ++i) CHECK(at::equal(a0[i].weight, b0[i].weight));
  bool differs = false;
  for (std::size_t i = 0; i < a1.size(); ++i) differs = differs || !at::equal(a1[i].weight.ne(0), b1[i].weight.ne(0));
  CHECK(differs);
  // The model's own parameters changed (the layers are views, not copies).
  for (const auto& [name, t] : seq.named_parameters())
    if (name.find("proj.weight") != std::string::npos) CHECK(t.eq(0).sum().item<std::int64_t>() >= t.numel() / 2);
  ToyModelSpec flat;
  flat.kind = "toy-averaging-2d";
  auto two_d = ToyModel::initialize(flat, 1);
  CHECK_THROWS_AS(two_d.linear_layers(0), InputError);
}

TEST_CASE("a prune killed after block 2 of tiny-phi3 resumes at block 3 and ends as an uninterrupted one",
          "[prune][model][resume]") {
  auto shared = test::shared_dir();
  if (!shared) SINKLAB_SKIP("../shared not found (set SINKLAB_SHARED to the folder with golden/ and models/)");
  const std::string path = *shared + "/models/tiny-phi3";
  at::manual_seed(5);
  const at::Tensor ids = at::randint(0, 8192, {4, 24}, at::kLong);
  for (bool sequential : {true, false}) {
    INFO("sequential " << sequential);
    PruneConfig cfg;
    cfg.method = "sparsegpt";
    cfg.sequential = sequential;
    auto whole = load_language_model(path);
    const PruneReport want = prune_model(*whole, ids, cfg, 2);

    test::TempDir dir;
    PrunedBlockStore store(dir / "resume");
    struct Killed {};
    auto killed = load_language_model(path);
    CHECK_THROWS_AS(prune_model(*killed, ids, cfg, 2, [](std::int64_t l) { if (l == 2) throw Killed{}; }, &store), Killed);
    for (std::int64_t l = 0; l < 6; ++l) CHECK(store.has(l) == (l <= 2));

    auto resumed = load_language_model(path);  // a new process: the dense checkpoint again
    std::vector<std::int64_t> done;
    const PruneReport got = prune_model(*resumed, ids, cfg, 2, [&](std::int64_t l) { done.push_back(l); }, &store);
    CHECK(got.restored_blocks == 3);
    CHECK(done == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5});
    REQUIRE(got.matrices.size() == want.matrices.size());
    for (std::size_t i = 0; i < want.matrices.size(); ++i) {
      INFO(want.matrices[i].name);
      CHECK(got.matrices[i].name == want.matrices[i].name);
      CHECK(got.matrices[i].zeros == want.matrices[i].zeros);
      CHECK(got.matrices[i].relative_error == want.matrices[i].relative_error);
    }
    // Blocks 3..5 were calibrated on the stream through the restored blocks: the saved blocks
    // are bit-identical to the uninterrupted run's (the store, not the model, holds them now).
    for (std::int64_t l = 0; l < 6; ++l) {
      SafetensorsFile saved(store.shard(l));
      for (const auto& [name, t] : whole->checkpoint_tensors(l)) CHECK(at::equal(saved.tensor(name), t));
    }
  }
}

TEST_CASE("a finished block that does not match the model is refused with the way out", "[prune][resume]") {
  test::TempDir dir;
  auto path = write_phi3(dir);
  auto model = load_language_model(path);
  PrunedBlockStore store(dir / "resume");
  auto block0 = model->checkpoint_tensors(0);
  write_safetensors(store.shard(0), {block0[0]}, {{"sinklab_records", "[]"}, {"sinklab_seconds", "1"}});
  CHECK_THROWS_WITH(store.restore(0, *model), Catch::Contains("holds 1 tensors, block 0 of the model has 6") &&
                                                  Catch::Contains("--force"));
  write_file_atomic(store.shard(1), "not safetensors");
  CHECK_THROWS_AS(store.restore(1, *model), InputError);
}

TEST_CASE("a saved block's edits give their memory back where the weights view the checkpoint file", "[prune][model]") {
  auto shared = test::shared_dir();
  if (!shared) SINKLAB_SKIP("../shared not found (set SINKLAB_SHARED to the folder with golden/ and models/)");
  const std::string path = *shared + "/models/tiny-phi3";  // bfloat16, maps of 128 to 768 KiB
  auto mapped = load_language_model(path, at::kBFloat16);  // the file's dtype: views of the mapping
  auto copied = load_language_model(path, at::kFloat);     // converted: the edited block's copy
  const auto dense = mapped->checkpoint_tensors(1);
  for (auto* m : {mapped.get(), copied.get()})
    for (auto& lin : m->linear_layers(1)) lin.weight.zero_();
  // qkv [768, 256], o [256, 256], gate_up [1536, 256], down [256, 768] in bf16; each of the 4
  // stored tensors may share at most one page at either end with a neighbour.
  const std::size_t edited = std::size_t(768 * 256 + 256 * 256 + 1536 * 256 + 256 * 768) * 2;
  CHECK(mapped->release_block_memory(1) >= edited - 8 * 4096);
  CHECK(copied->release_block_memory(1) >= 2 * edited);  // its float32 copy goes whole
  for (const auto& [name, t] : mapped->checkpoint_tensors(1)) {
    if (t.numel() * 2 < 3 * 4096) continue;  // too small to hold a whole page
    INFO(name);
    // Whole pages read as the file again; only edges that share a page with a neighbour keep zeros.
    auto want = std::find_if(dense.begin(), dense.end(), [&](const auto& d) { return d.first == name; })->second;
    CHECK(t.ne(want).sum().item<std::int64_t>() < 2 * 4096);
  }
  // Converted again from the file on the next use (q: the first 256 rows of qkv_proj).
  CheckpointDir file(path);
  CHECK(at::equal(copied->linear_layers(1)[0].weight,
                  file.tensor("model.layers.1.self_attn.qkv_proj.weight").narrow(0, 0, 256).to(at::kFloat)));
}

TEST_CASE("a sharded pruned checkpoint loads back as the model that was pruned", "[prune][model]") {
  test::TempDir dir;
  auto path = write_phi3(dir);
  auto model = load_language_model(path, at::kBFloat16);
  PruneConfig cfg;
  cfg.method = "magnitude";
  PrunedBlockStore store(dir / "blocks");
  auto want = load_language_model(path, at::kBFloat16);
  prune_model(*want, at::zeros({0, 1}, at::kLong), cfg);
  prune_model(*model, at::zeros({0, 1}, at::kLong), cfg, 8, {}, &store);
  save_sharded_checkpoint(*model, store, path, dir / "pruned", {{"note", "sharded"}});
  CHECK(fs::exists(dir / "pruned/config.json"));
  auto index = nlohmann::json::parse(read_file(dir / "pruned/model.safetensors.index.json"));
  CHECK(index["weight_map"]["model.layers.1.mlp.down_proj.weight"] == "model-00002-of-00003.safetensors");
  CHECK(index["weight_map"]["lm_head.weight"] == "model-00003-of-00003.safetensors");
  CHECK(SafetensorsFile(dir / "pruned/model-00003-of-00003.safetensors").metadata().at("format") == "pt");
  std::uintmax_t bytes = 0;
  for (const auto& [name, t] : want->checkpoint_tensors()) bytes += std::uintmax_t(t.numel()) * t.element_size();
  CHECK(index["metadata"]["total_size"].get<std::uintmax_t>() == bytes);
  auto back = load_language_model(dir / "pruned", at::kBFloat16);
  const at::Tensor ids = at::randint(0, V, {1, 9}, at::kLong);
  CHECK(at::equal(back->forward(ids), want->forward(ids)));
}

TEST_CASE("a calibration stream kept in a scratch file prunes to the same weights and leaves no file",
          "[prune][model]") {
  test::TempDir dir;
  auto path = write_phi3(dir);
  for (bool sequential : {true, false}) {
    PruneConfig cfg;
    cfg.method = "wanda";
    cfg.sequential = sequential;
    auto in_memory = load_language_model(path), spilled = load_language_model(path);
    prune_model(*in_memory, calibration_ids(), cfg, 4);
    prune_model(*spilled, calibration_ids(), cfg, 4, {}, nullptr, dir / "scratch");
    for (std::int64_t l = 0; l < 2; ++l) {
      auto a = in_memory->linear_layers(l), b = spilled->linear_layers(l);
      for (std::size_t i = 0; i < a.size(); ++i) CHECK(at::equal(a[i].weight, b[i].weight));
    }
    REQUIRE(fs::is_directory(dir / "scratch"));
    CHECK(fs::is_empty(dir / "scratch"));  // unlinked as soon as it was mapped
  }
}

TEST_CASE("every family prunes (sparsegpt, sequential), saves and loads back as the pruned model", "[prune][model][families]") {
  test::TempDir dir;
  for (const auto& type : test::tiny_families()) {
    INFO(type);
    auto ckpt = test::write_tiny_checkpoint(dir, type, 31, at::kFloat);
    write_file_atomic(ckpt.dir + "/tokenizer.json", "{}");  // copied along, not read here
    auto model = load_language_model(ckpt.dir);
    PruneConfig cfg;
    cfg.method = "sparsegpt";
    at::manual_seed(5);
    const at::Tensor ids = at::randint(0, ckpt.vocab, {4, 10}, at::kLong);
    const auto report = prune_model(*model, ids, cfg, 2);
    CHECK(std::int64_t(report.matrices.size()) == model->spec().num_layers * std::int64_t(model->spec().family->linears.size()));
    REQUIRE(std::int64_t(report.block_peak_bytes.size()) == model->spec().num_layers);  // one peak per block
    for (double peak : report.block_peak_bytes) CHECK(peak > 0);
    for (std::int64_t l = 0; l < model->spec().num_layers; ++l)
      for (const auto& lin : model->linear_layers(l)) {
        INFO(lin.name);
        CHECK(lin.weight.eq(0).sum().item<std::int64_t>() >= lin.weight.numel() / 2);
      }
    save_hf_checkpoint(*model, ckpt.dir, dir / (type + "-pruned"));
    auto again = load_language_model(dir / (type + "-pruned"));
    CHECK(at::equal(again->forward(ids), model->forward(ids)));
  }
}
