#include "tests/model/tiny_checkpoint.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "framework/io/atomic_file.h"
#include "framework/io/safetensors.h"

namespace sinklab::test {

const std::vector<std::string>& tiny_families() {
  static const std::vector<std::string> types{"llama", "mistral", "qwen2", "qwen3", "phi3", "gpt2"};
  return types;
}

namespace {

struct Writer {
  TinyCheckpoint& c;
  at::ScalarType dtype;
  // A random tensor rounded to the storage dtype; kept (as float32) under `key` in c.logical.
  at::Tensor make(const std::string& key, std::vector<std::int64_t> shape, double scale, double offset = 0) {
    at::Tensor t = (offset + at::randn(shape) * scale).to(dtype);
    c.logical[key] = t.to(at::kFloat);
    return t;
  }
  void put(const std::string& name, const at::Tensor& t) { c.tensors.emplace_back(name, t); }
};

void write_llama_layout(TinyCheckpoint& c, Writer& w, const std::string& type) {
  const std::int64_t D = c.d_model, I = c.d_mlp, q = c.heads * c.head_dim, kv = c.kv_heads * c.head_dim;
  const bool fused = type == "phi3", bias = type == "qwen2";
  w.put("model.embed_tokens.weight", w.make("token_embed", {c.vocab, D}, 1.0));
  w.put("model.norm.weight", w.make("final_norm", {D}, 0.1, 1.0));
  w.put("lm_head.weight", w.make("lm_head", {c.vocab, D}, 0.2));
  for (std::int64_t l = 0; l < c.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".", n = "." + std::to_string(l);
    w.put(p + "input_layernorm.weight", w.make("attn_norm" + n, {D}, 0.1, 1.0));
    w.put(p + "post_attention_layernorm.weight", w.make("mlp_norm" + n, {D}, 0.1, 1.0));
    if (type == "qwen3") {  // RMSNorm of each query and key head
      w.put(p + "self_attn.q_norm.weight", w.make("q_norm" + n, {c.head_dim}, 0.3, 1.0));
      w.put(p + "self_attn.k_norm.weight", w.make("k_norm" + n, {c.head_dim}, 0.3, 1.0));
    }
    auto wq = w.make("q" + n, {q, D}, 0.3), wk = w.make("k" + n, {kv, D}, 0.3), wv = w.make("v" + n, {kv, D}, 0.3);
    auto gate = w.make("gate" + n, {I, D}, 0.2), up = w.make("up" + n, {I, D}, 0.2);
    if (fused) {
      w.put(p + "self_attn.qkv_proj.weight", at::cat({wq, wk, wv}, 0));
      w.put(p + "mlp.gate_up_proj.weight", at::cat({gate, up}, 0));
    } else {
      w.put(p + "self_attn.q_proj.weight", wq);
      w.put(p + "self_attn.k_proj.weight", wk);
      w.put(p + "self_attn.v_proj.weight", wv);
      w.put(p + "mlp.gate_proj.weight", gate);
      w.put(p + "mlp.up_proj.weight", up);
    }
    w.put(p + "self_attn.o_proj.weight", w.make("o" + n, {D, q}, 0.2));
    w.put(p + "mlp.down_proj.weight", w.make("down" + n, {D, I}, 0.2));
    if (bias) {
      w.put(p + "self_attn.q_proj.bias", w.make("q_bias" + n, {q}, 0.1));
      w.put(p + "self_attn.k_proj.bias", w.make("k_bias" + n, {kv}, 0.1));
      w.put(p + "self_attn.v_proj.bias", w.make("v_bias" + n, {kv}, 0.1));
    }
  }
}

void write_gpt2_layout(TinyCheckpoint& c, Writer& w, const std::string& t, std::int64_t positions) {
  const std::int64_t D = c.d_model, I = c.d_mlp;
  w.put(t + "wte.weight", w.make("token_embed", {c.vocab, D}, 1.0));
  w.put(t + "wpe.weight", w.make("pos_embed", {positions, D}, 0.5));
  w.put(t + "ln_f.weight", w.make("final_norm", {D}, 0.1, 1.0));
  w.put(t + "ln_f.bias", w.make("final_norm_bias", {D}, 0.1));
  for (std::int64_t l = 0; l < c.layers; ++l) {
    const std::string p = t + "h." + std::to_string(l) + ".", n = "." + std::to_string(l);
    w.put(p + "ln_1.weight", w.make("attn_norm" + n, {D}, 0.1, 1.0));
    w.put(p + "ln_1.bias", w.make("attn_norm_bias" + n, {D}, 0.1));
    // Conv1D stores [in, out]: c_attn is [q; k; v] transposed.
    auto wq = w.make("q" + n, {D, D}, 0.3), wk = w.make("k" + n, {D, D}, 0.3), wv = w.make("v" + n, {D, D}, 0.3);
    w.put(p + "attn.c_attn.weight", at::cat({wq, wk, wv}, 0).t().contiguous());
    auto bq = w.make("q_bias" + n, {D}, 0.1), bk = w.make("k_bias" + n, {D}, 0.1), bv = w.make("v_bias" + n, {D}, 0.1);
    w.put(p + "attn.c_attn.bias", at::cat({bq, bk, bv}));
    w.put(p + "attn.c_proj.weight", w.make("o" + n, {D, D}, 0.2).t().contiguous());
    w.put(p + "attn.c_proj.bias", w.make("o_bias" + n, {D}, 0.1));
    w.put(p + "ln_2.weight", w.make("mlp_norm" + n, {D}, 0.1, 1.0));
    w.put(p + "ln_2.bias", w.make("mlp_norm_bias" + n, {D}, 0.1));
    w.put(p + "mlp.c_fc.weight", w.make("fc" + n, {I, D}, 0.2).t().contiguous());
    w.put(p + "mlp.c_fc.bias", w.make("fc_bias" + n, {I}, 0.1));
    w.put(p + "mlp.c_proj.weight", w.make("proj" + n, {D, I}, 0.2).t().contiguous());
    w.put(p + "mlp.c_proj.bias", w.make("proj_bias" + n, {D}, 0.1));
    w.put(p + "attn.bias", at::ones({1, 1, positions, positions}).tril());  // causal-mask buffer
  }
}

}  // namespace

TinyCheckpoint write_tiny_checkpoint(const TempDir& dir, const std::string& model_type, std::uint64_t seed,
                                     at::ScalarType dtype, bool gpt2_prefix, const std::string& name) {
  at::manual_seed(seed);
  TinyCheckpoint c;
  c.dir = dir / (name.empty() ? model_type : name);
  std::filesystem::create_directories(c.dir);
  Writer w{c, dtype};
  nlohmann::json cfg{{"model_type", model_type}, {"vocab_size", c.vocab}};
  if (model_type == "gpt2") {
    const std::int64_t positions = 32;
    c.kv_heads = c.heads;
    c.d_mlp = 4 * c.d_model;  // n_inner absent
    cfg.update({{"architectures", {"GPT2LMHeadModel"}}, {"n_embd", c.d_model}, {"n_layer", c.layers},
                {"n_head", c.heads}, {"n_positions", positions}, {"layer_norm_epsilon", 1e-5}});
    write_gpt2_layout(c, w, gpt2_prefix ? "transformer." : "", positions);
  } else {
    if (model_type == "qwen3") cfg["head_dim"] = c.head_dim = 12;  // explicit, != hidden_size / heads
    cfg.update({{"hidden_size", c.d_model}, {"intermediate_size", c.d_mlp}, {"num_hidden_layers", c.layers},
                {"num_attention_heads", c.heads}, {"num_key_value_heads", c.kv_heads}, {"rms_norm_eps", 1e-5},
                {"rope_theta", c.rope_theta}, {"tie_word_embeddings", false}});
    if (model_type == "mistral") cfg["sliding_window"] = c.sliding_window = 5;
    if (model_type == "phi3") {
      c.rope_theta = 500.0;
      c.partial_rotary = 0.5;
      cfg["rope_parameters"] = {{"rope_theta", c.rope_theta}, {"partial_rotary_factor", c.partial_rotary}, {"rope_type", "default"}};
    }
    write_llama_layout(c, w, model_type);
  }
  write_file_atomic(c.dir + "/config.json", cfg.dump(2));
  write_safetensors(c.dir + "/model.safetensors", c.tensors);
  return c;
}

}  // namespace sinklab::test
