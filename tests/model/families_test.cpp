// The family registry and each family's declaration: every family loads a tiny checkpoint and
// gives it back unchanged (names, shapes, dtypes, values); config keys map as transformers reads
// them; pruning sees the same names and kinds as before the families were data.
#include <ATen/ATen.h>

#include "tests/support/catch.h"
#include <nlohmann/json.hpp>
#include <filesystem>
#include <set>

#include "framework/io/atomic_file.h"
#include "framework/model/families/registry.h"
#include "framework/model/language_model.h"
#include "framework/model/random_checkpoint.h"
#include "framework/io/safetensors.h"
#include "framework/model/transformer_lm.h"
#include "framework/util/error.h"
#include "framework/util/memory.h"
#include "tests/model/tiny_checkpoint.h"
#include "tests/support/temp_dir.h"

using namespace sinklab;

namespace {

std::vector<std::string> kinds_of(const Family& f) {
  std::vector<std::string> out;
  for (const auto& l : f.linears) out.push_back(l.kind);
  return out;
}

// A config.json in `dir` with `keys` on top of a minimal llama one.
std::string write_config(const test::TempDir& dir, const std::string& name, const nlohmann::json& keys) {
  nlohmann::json cfg{{"model_type", "llama"},    {"vocab_size", 11},          {"hidden_size", 16},
                     {"intermediate_size", 24},  {"num_hidden_layers", 1},    {"num_attention_heads", 2}};
  cfg.update(keys);
  return dir.write(name + ".json", cfg.dump());
}

}  // namespace

TEST_CASE("the registry lists exactly the families the tests write checkpoints for", "[model][families]") {
  std::vector<std::string> types;
  for (const Family* f : all_families()) types.push_back(f->model_type);
  CHECK(types == test::tiny_families());
  CHECK(find_family("phi3").hf_class == "Phi3ForCausalLM");
  CHECK(find_family("gpt2").hf_class == "GPT2LMHeadModel");
  CHECK_THROWS_AS(find_family("gpt-j"), InputError);
  CHECK_THROWS_WITH(find_family("gpt-j"), Catch::Contains("model_type 'gpt-j' is not supported; supported: llama, "
                                                          "mistral, qwen2, qwen3, phi3, gpt2, gpt_neox, olmo2, gemma2, gemma3_text"));
  CHECK(find_family("gemma3_text").hf_class == "Gemma3ForCausalLM");
  CHECK_THROWS_WITH(find_family("lama"), Catch::Contains("did you mean 'llama'?"));
  test::TempDir dir;
  const std::string path = write_config(dir, "falcon", {{"model_type", "falcon"}});
  CHECK_THROWS_WITH(ModelSpec::from_config_json(path), Catch::Contains(path) && Catch::Contains("supported: llama"));
}

TEST_CASE("every family's declaration is complete and consistent", "[model][families]") {
  for (const Family* f : all_families()) {
    INFO(f->model_type);
    for (Role r : {Role::token_embed, Role::final_norm, Role::lm_head}) CHECK(f->tensor(r) != nullptr);
    // The block's norms are those its placement implies.
    const bool pre = f->placement != NormPlacement::post_norm, post = f->placement != NormPlacement::pre_norm;
    for (Role r : {Role::attn_norm, Role::mlp_norm}) CHECK((f->tensor(r) != nullptr) == pre);
    for (Role r : {Role::post_attn_norm, Role::post_mlp_norm}) CHECK((f->tensor(r) != nullptr) == post);
    CHECK((f->tensor(Role::pos_embed) != nullptr) == (f->positions == Positions::learned));
    // q, k and v as three maps, or GPT-NeoX's one per-head fused map, never both.
    const bool split = f->linear(Role::q) && f->linear(Role::k) && f->linear(Role::v);
    CHECK(split != (f->linear(Role::qkv) != nullptr));
    for (Role r : {Role::o, Role::mlp_in, Role::mlp_out}) CHECK(f->linear(r) != nullptr);
    CHECK((f->linear(Role::mlp_up) != nullptr) == (f->mlp == MlpKind::gated));
    for (const auto& fused : f->fused)
      for (Role part : fused.parts) {
        REQUIRE(f->linear(part) != nullptr);
        CHECK(f->linear(part)->bias == f->linear(fused.parts.front())->bias);  // one fused bias or none
      }
    const auto& acts = f->config.activations;
    CHECK(std::find(acts.begin(), acts.end(), f->config.activation_default) != acts.end());
  }
  const std::vector<std::string> llama_kinds{"q", "k", "v", "o", "gate", "up", "down"};
  for (const char* t : {"llama", "mistral", "qwen2", "qwen3", "phi3", "olmo2", "gemma2", "gemma3_text"})
    CHECK(kinds_of(find_family(t)) == llama_kinds);
  CHECK(kinds_of(find_family("gpt_neox")) == std::vector<std::string>{"qkv", "o", "fc", "proj"});
  for (const Family* f : all_families())  // a family with q/k norms names both tensors
    CHECK((f->tensor(Role::q_norm) != nullptr && f->tensor(Role::k_norm) != nullptr) == (f->qk_norm != QkNorm::none));
  CHECK(kinds_of(find_family("gpt2")) == std::vector<std::string>{"q", "k", "v", "o", "fc", "proj"});
}

TEST_CASE("each family loads its tiny checkpoint and saves it back unchanged", "[model][families]") {
  test::TempDir dir;
  for (const auto& type : test::tiny_families()) {
    // phi3 stored in bfloat16 as real checkpoints are, loaded in float32: saved back as bfloat16.
    const at::ScalarType stored = type == "phi3" ? at::kBFloat16 : at::kFloat;
    auto ckpt = test::write_tiny_checkpoint(dir, type, 3, stored);
    INFO(type);
    auto model = TransformerLM::load(ckpt.dir);
    CHECK(model.spec().model_type == type);
    CHECK(&model.family() == &find_family(type));
    std::map<std::string, at::Tensor> saved;
    for (const auto& [name, t] : model.checkpoint_tensors()) CHECK(saved.emplace(name, t).second);
    std::size_t weights = 0;
    for (const auto& [name, t] : ckpt.tensors) {
      INFO(name);
      auto ends_with = [&](const std::string& end) {
        return name.size() > end.size() && name.compare(name.size() - end.size(), end.size(), end) == 0;
      };
      // gpt2's causal-mask and gpt_neox's RoPE buffers: not weights (saving copies them from the source)
      if (ends_with(".attn.bias") || ends_with(".rotary_emb.inv_freq")) {
        CHECK(saved.count(name) == 0);
        continue;
      }
      ++weights;
      REQUIRE(saved.count(name) == 1);
      CHECK(saved[name].sizes() == t.sizes());
      CHECK(saved[name].scalar_type() == t.scalar_type());
      CHECK(at::equal(saved[name], t));
    }
    CHECK(saved.size() == weights);
  }
}

TEST_CASE("linear maps keep their checkpoint names and kinds and write through into the stored tensors",
          "[model][families][prune]") {
  test::TempDir dir;
  auto phi3 = TransformerLM::load(test::write_tiny_checkpoint(dir, "phi3", 4, at::kFloat).dir);
  auto lin = phi3.linear_layers(1);
  REQUIRE(lin.size() == 7);
  CHECK(lin[0].name == "model.layers.1.self_attn.q_proj");
  CHECK(lin[4].name == "model.layers.1.mlp.gate_proj");
  CHECK(lin[3].input == "blocks.1.attn.hook_z");
  CHECK(lin[6].input == "blocks.1.mlp.hook_post");
  phi3.to(c10::Device(c10::DeviceType::CPU));  // the views are rebuilt and still write through
  lin = phi3.linear_layers(1);
  lin[1].weight.fill_(0.5);  // k, the middle part of qkv_proj
  lin[5].weight.fill_(-2);   // up, the second half of gate_up_proj
  std::map<std::string, at::Tensor> saved;
  for (const auto& [name, t] : phi3.checkpoint_tensors()) saved[name] = t;
  auto qkv = saved.at("model.layers.1.self_attn.qkv_proj.weight");  // [(4 + 2 + 2) * 8, 32]
  CHECK(qkv.narrow(0, 32, 16).eq(0.5).all().item<bool>());
  CHECK_FALSE(qkv.narrow(0, 0, 32).eq(0.5).any().item<bool>());
  CHECK(saved.at("model.layers.1.mlp.gate_up_proj.weight").narrow(0, 48, 48).eq(-2).all().item<bool>());
  CHECK(at::equal(phi3.attention_weights(1).k, lin[1].weight));

  for (bool prefix : {true, false}) {
    auto gpt2 = TransformerLM::load(test::write_tiny_checkpoint(dir, "gpt2", 5, at::kFloat, prefix, prefix ? "a" : "b").dir);
    auto g = gpt2.linear_layers(0);
    REQUIRE(g.size() == 6);
    CHECK(g[0].name == std::string(prefix ? "transformer." : "") + "h.0.attn.c_attn.q");
    CHECK(g[3].name == std::string(prefix ? "transformer." : "") + "h.0.attn.c_proj");
    CHECK(g[4].kind == "fc");
    CHECK(g[2].weight.sizes() == at::IntArrayRef({32, 32}));  // [out, in] view of the [in, 3 out] c_attn
    g[2].weight.fill_(0.25);
    saved.clear();
    for (const auto& [name, t] : gpt2.checkpoint_tensors()) saved[name] = t;
    auto c_attn = saved.at(std::string(prefix ? "transformer." : "") + "h.0.attn.c_attn.weight");  // [32, 96]
    CHECK(c_attn.narrow(1, 64, 32).eq(0.25).all().item<bool>());
    CHECK_FALSE(c_attn.narrow(1, 0, 64).eq(0.25).any().item<bool>());
  }
}

TEST_CASE("config.json keys map onto ModelSpec as each family's config class reads them", "[model][families]") {
  test::TempDir dir;
  auto spec = [&](const std::string& name, const nlohmann::json& keys) {
    return ModelSpec::from_config_json(write_config(dir, name, keys));
  };
  // GPT-2's own names; n_inner null is 4 * n_embd; only gelu_new.
  nlohmann::json gpt2{{"model_type", "gpt2"}, {"n_embd", 16}, {"n_layer", 3}, {"n_head", 4},
                      {"n_positions", 64},    {"n_inner", nullptr}, {"layer_norm_epsilon", 1e-4}};
  auto g = spec("gpt2", gpt2);
  CHECK(g.hidden_size == 16);
  CHECK(g.num_layers == 3);
  CHECK(g.num_kv_heads == 4);
  CHECK(g.head_dim == 4);
  CHECK(g.intermediate_size == 64);
  CHECK(g.max_positions == 64);
  CHECK(g.norm_eps == 1e-4);
  CHECK(g.tie_word_embeddings);
  CHECK_FALSE(g.rotary);
  gpt2["activation_function"] = "relu";
  CHECK_THROWS_WITH(spec("gpt2-relu", gpt2), Catch::Contains("activation_function 'relu' is not supported for gpt2 (gelu_new)"));

  // Newer rope_parameters win over top-level keys; RoPE variants sinklab lacks are refused, not ignored.
  auto r = spec("rope", {{"rope_theta", 1.0}, {"rope_parameters", {{"rope_theta", 500.0}, {"partial_rotary_factor", 0.5}}}});
  CHECK(r.rope_theta == 500.0);
  CHECK(r.rotary_dim() == 4);
  CHECK_THROWS_WITH(spec("yarn", {{"rope_scaling", {{"type", "yarn"}, {"factor", 4.0}}}}),
                    Catch::Contains("rope_type 'yarn' is not supported yet (default, linear, dynamic, llama3, longrope)"));
  CHECK_THROWS_WITH(spec("longrope", {{"rope_scaling", {{"type", "longrope"}, {"short_factor", {1.0}}}}}),
                    Catch::Contains("longrope needs rope_scaling.short_factor with 4 numbers"));
  CHECK_THROWS_WITH(spec("llama3", {{"rope_scaling", {{"rope_type", "llama3"}, {"factor", 8.0}}}}),
                    Catch::Contains("rope_type 'llama3' needs rope_scaling.low_freq_factor"));
  CHECK_THROWS_WITH(spec("act", {{"hidden_act", "gelu"}}), Catch::Contains("hidden_act 'gelu' is not supported for llama (silu)"));

  // Biases: qwen2's q/k/v always, llama's attention_bias on q, k, v and o, mistral none.
  auto has_o_bias = [&](const ModelSpec& s) {
    for (const auto& t : checkpoint_layout(*s.family, s))
      if (t.name == "model.layers.0.self_attn.o_proj.bias") return true;
    return false;
  };
  auto q2 = spec("qwen2", {{"model_type", "qwen2"}});
  CHECK(q2.family->has_bias(Role::q, q2));
  CHECK_FALSE(q2.family->has_bias(Role::o, q2));
  auto lb = spec("llama-bias", {{"attention_bias", true}});
  CHECK(lb.family->has_bias(Role::v, lb));
  CHECK(has_o_bias(lb));
  CHECK_FALSE(lb.family->has_bias(Role::mlp_in, lb));
  auto mb = spec("mistral-bias", {{"model_type", "mistral"}, {"attention_bias", true}});
  CHECK_FALSE(mb.family->has_bias(Role::q, mb));

  // Sliding windows where the family has them (which layers: family_reference_test.cpp).
  CHECK(*spec("mistral", {{"model_type", "mistral"}, {"sliding_window", 7}}).sliding_window == 7);
  CHECK_FALSE(spec("mistral-null", {{"model_type", "mistral"}, {"sliding_window", nullptr}}).sliding_window);
  CHECK_FALSE(spec("llama-window", {{"sliding_window", 7}}).sliding_window);  // LlamaConfig has none
  CHECK(*spec("qwen2-window", {{"model_type", "qwen2"}, {"use_sliding_window", true}, {"sliding_window", 4}}).sliding_window == 4);
  CHECK_THROWS_WITH(spec("kv", {{"num_key_value_heads", 3}}), Catch::Contains("must be a multiple of num_key_value_heads"));
  CHECK_THROWS_WITH(spec("no-layers", {{"num_hidden_layers", nullptr}}), Catch::Contains("has no 'num_hidden_layers'"));
}

TEST_CASE("a wrong config.json size names every tensor whose shape it contradicts", "[model][families][bad-input]") {
  test::TempDir dir;
  auto ckpt = test::write_tiny_checkpoint(dir, "qwen2", 6, at::kFloat);
  auto cfg = nlohmann::json::parse(read_file(ckpt.dir + "/config.json"));
  cfg["num_key_value_heads"] = 4;
  write_file_atomic(ckpt.dir + "/config.json", cfg.dump());
  CHECK_THROWS_WITH(load_language_model(ckpt.dir),
                    Catch::Contains("'model.layers.0.self_attn.k_proj.weight' has shape [16, 32], config.json implies [32, 32]") &&
                        Catch::Contains("model.layers.0.self_attn.k_proj.bias") && Catch::Contains("and 4 more"));
}

TEST_CASE("a random checkpoint has its config's exact shapes, a shard per block, and loads", "[model][random]") {
  test::TempDir dir;
  // Phi-3-medium's head layout (40 heads, 10 KV heads of 128 would be 5120 wide) scaled down:
  // 8 heads, 2 KV heads of 16; fused qkv and gate_up as the phi3 family stores them.
  nlohmann::json cfg{{"model_type", "phi3"},        {"vocab_size", 64},        {"hidden_size", 128},
                     {"intermediate_size", 96},      {"num_hidden_layers", 40}, {"num_attention_heads", 8},
                     {"num_key_value_heads", 2},     {"rms_norm_eps", 1e-5},    {"max_position_embeddings", 64}};
  RandomCheckpointOptions opts;
  opts.layers = 3;
  const std::uint64_t bytes = write_random_checkpoint(cfg, dir / "r", opts);
  auto index = nlohmann::json::parse(read_file(dir / "r/model.safetensors.index.json"));
  CHECK(index["weight_map"]["model.layers.2.self_attn.qkv_proj.weight"] == "model-00003-of-00004.safetensors");
  CHECK(index["weight_map"]["lm_head.weight"] == "model-00004-of-00004.safetensors");
  // embed + head + final norm, and per block: qkv [128+2*32, 128], o, gate_up [192, 128], down, 2 norms
  const std::uint64_t per_block = 192 * 128 + 128 * 128 + 192 * 128 + 128 * 96 + 2 * 128;
  CHECK(bytes == 2 * (2 * 64 * 128 + 128 + 3 * per_block));
  CHECK(index["metadata"]["total_size"].get<std::uint64_t>() == bytes);
  auto model = load_language_model(dir / "r", at::kBFloat16);
  CHECK(model->spec().num_layers == 3);
  SafetensorsFile block1(dir / "r/model-00002-of-00004.safetensors");
  CHECK(at::equal(block1.tensor("model.layers.1.input_layernorm.weight"), at::ones({128}, at::kBFloat16)));
  const double sd = block1.tensor("model.layers.1.mlp.down_proj.weight").to(at::kFloat).std().item<double>();
  CHECK(sd == Approx(0.02).epsilon(0.05));
  CHECK(model->forward(at::randint(0, 64, {1, 5}, at::kLong)).isfinite().all().item<bool>());
  cfg["model_type"] = "phi9";
  CHECK_THROWS_AS(write_random_checkpoint(cfg, dir / "bad", opts), InputError);
}

TEST_CASE("a compute dtype other than the file's is applied one block at a time, with the same values",
          "[model][families][memory]") {
  test::TempDir dir;
  // 8 blocks of ~3 M parameters: 96 MiB in float32, 48 MiB as stored in bfloat16.
  nlohmann::json cfg{{"model_type", "llama"},       {"vocab_size", 64},       {"hidden_size", 512},
                     {"intermediate_size", 1536},   {"num_hidden_layers", 8}, {"num_attention_heads", 8},
                     {"num_key_value_heads", 2},    {"rms_norm_eps", 1e-5},   {"max_position_embeddings", 64}};
  RandomCheckpointOptions opts;
  opts.std = 0.05;
  write_random_checkpoint(cfg, dir / "bf16", opts);
  // The reference: the same values stored in float32 (computed from its own mapping, no conversion).
  std::filesystem::create_directories(dir / "f32");
  write_file_atomic(dir / "f32/config.json", read_file(dir / "bf16/config.json"));
  std::vector<std::pair<std::string, at::Tensor>> all;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "bf16")) {
    if (entry.path().extension() != ".safetensors") continue;
    SafetensorsFile f(entry.path().string());
    for (const auto& n : f.names()) all.emplace_back(n, f.tensor(n).to(at::kFloat));
  }
  write_safetensors(dir / "f32/model.safetensors", all);
  all.clear();

  const std::uint64_t before = anonymous_rss_bytes();
  auto converted = std::make_unique<TransformerLM>(TransformerLM::load(dir / "bf16", at::kFloat, /*convert_whole_below=*/0));
  const double grew_mib = (double(anonymous_rss_bytes()) - double(before)) / (1 << 20);
  INFO("anonymous memory grew by " << grew_mib << " MiB");
  CHECK(grew_mib < 40);  // a whole float32 copy would be 96 MiB
  auto reference = load_language_model(dir / "f32", at::kFloat);
  at::manual_seed(3);
  auto ids = at::randint(0, 64, {2, 12}, at::kLong);
  CHECK(at::equal(converted->forward(ids), reference->forward(ids)));
  // A block pruning edits stays converted until it is released; the others still come from the file.
  auto lin = converted->linear_layers(3);
  lin[0].weight.zero_();
  CHECK(converted->checkpoint_tensors(3).front().second.scalar_type() == at::kBFloat16);
  CHECK_FALSE(at::equal(converted->forward(ids), reference->forward(ids)));
  CHECK(converted->release_block_memory(3) >= std::size_t(512 * 512 * 4));  // the converted copy goes
  CHECK(at::equal(converted->forward(ids), reference->forward(ids)));       // back to the file's values
}
