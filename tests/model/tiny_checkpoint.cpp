#include "tests/model/tiny_checkpoint.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "framework/io/atomic_file.h"
#include "framework/io/safetensors.h"

namespace sinklab::test {

const std::vector<std::string>& tiny_families() {
  static const std::vector<std::string> types{"llama", "mistral", "qwen2",    "qwen3",  "phi3",
                                              "gpt2",  "gpt_neox", "olmo2", "gemma2", "gemma3_text"};
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
  const bool gemma = type == "gemma2" || type == "gemma3_text";
  // Gemma's norms scale by (1 + w): weights near 0, not near 1.
  const double norm_offset = gemma ? 0.0 : 1.0;
  w.put("model.embed_tokens.weight", w.make("token_embed", {c.vocab, D}, 1.0));
  w.put("model.norm.weight", w.make("final_norm", {D}, 0.1, norm_offset));
  if (!gemma) w.put("lm_head.weight", w.make("lm_head", {c.vocab, D}, 0.2));  // Gemma's head is tied
  for (std::int64_t l = 0; l < c.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".", n = "." + std::to_string(l);
    if (type == "olmo2") {  // post-norm: a norm on each sublayer's output, none before
      w.put(p + "post_attention_layernorm.weight", w.make("post_attn_norm" + n, {D}, 0.1, 1.0));
      w.put(p + "post_feedforward_layernorm.weight", w.make("post_mlp_norm" + n, {D}, 0.1, 1.0));
    } else if (gemma) {  // before and after each sublayer
      w.put(p + "input_layernorm.weight", w.make("attn_norm" + n, {D}, 0.1));
      w.put(p + "post_attention_layernorm.weight", w.make("post_attn_norm" + n, {D}, 0.1));
      w.put(p + "pre_feedforward_layernorm.weight", w.make("mlp_norm" + n, {D}, 0.1));
      w.put(p + "post_feedforward_layernorm.weight", w.make("post_mlp_norm" + n, {D}, 0.1));
    } else {
      w.put(p + "input_layernorm.weight", w.make("attn_norm" + n, {D}, 0.1, 1.0));
      w.put(p + "post_attention_layernorm.weight", w.make("mlp_norm" + n, {D}, 0.1, 1.0));
    }
    if (type == "qwen3" || type == "gemma3_text") {  // a norm of each query and key head
      w.put(p + "self_attn.q_norm.weight", w.make("q_norm" + n, {c.head_dim}, 0.3, norm_offset));
      w.put(p + "self_attn.k_norm.weight", w.make("k_norm" + n, {c.head_dim}, 0.3, norm_offset));
    }
    if (type == "olmo2") {  // over the whole projection
      w.put(p + "self_attn.q_norm.weight", w.make("q_norm" + n, {q}, 0.3, 1.0));
      w.put(p + "self_attn.k_norm.weight", w.make("k_norm" + n, {kv}, 0.3, 1.0));
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

// GPT-NeoX: q, k, v in one map whose rows go head by head, [H, 3, hd]; biases everywhere.
void write_gpt_neox_layout(TinyCheckpoint& c, Writer& w) {
  const std::int64_t D = c.d_model, I = c.d_mlp, H = c.heads, hd = c.head_dim;
  w.put("gpt_neox.embed_in.weight", w.make("token_embed", {c.vocab, D}, 1.0));
  w.put("gpt_neox.final_layer_norm.weight", w.make("final_norm", {D}, 0.1, 1.0));
  w.put("gpt_neox.final_layer_norm.bias", w.make("final_norm_bias", {D}, 0.1));
  w.put("embed_out.weight", w.make("lm_head", {c.vocab, D}, 0.2));
  for (std::int64_t l = 0; l < c.layers; ++l) {
    const std::string p = "gpt_neox.layers." + std::to_string(l) + ".", n = "." + std::to_string(l);
    w.put(p + "input_layernorm.weight", w.make("attn_norm" + n, {D}, 0.1, 1.0));
    w.put(p + "input_layernorm.bias", w.make("attn_norm_bias" + n, {D}, 0.1));
    w.put(p + "post_attention_layernorm.weight", w.make("mlp_norm" + n, {D}, 0.1, 1.0));
    w.put(p + "post_attention_layernorm.bias", w.make("mlp_norm_bias" + n, {D}, 0.1));
    auto wq = w.make("q" + n, {H * hd, D}, 0.3), wk = w.make("k" + n, {H * hd, D}, 0.3), wv = w.make("v" + n, {H * hd, D}, 0.3);
    auto bq = w.make("q_bias" + n, {H * hd}, 0.1), bk = w.make("k_bias" + n, {H * hd}, 0.1), bv = w.make("v_bias" + n, {H * hd}, 0.1);
    w.put(p + "attention.query_key_value.weight",
          at::stack({wq.view({H, hd, D}), wk.view({H, hd, D}), wv.view({H, hd, D})}, 1).reshape({3 * H * hd, D}));
    w.put(p + "attention.query_key_value.bias",
          at::stack({bq.view({H, hd}), bk.view({H, hd}), bv.view({H, hd})}, 1).reshape({3 * H * hd}));
    w.put(p + "attention.dense.weight", w.make("o" + n, {D, H * hd}, 0.2));
    w.put(p + "attention.dense.bias", w.make("o_bias" + n, {D}, 0.1));
    w.put(p + "mlp.dense_h_to_4h.weight", w.make("fc" + n, {I, D}, 0.2));
    w.put(p + "mlp.dense_h_to_4h.bias", w.make("fc_bias" + n, {I}, 0.1));
    w.put(p + "mlp.dense_4h_to_h.weight", w.make("proj" + n, {D, I}, 0.2));
    w.put(p + "mlp.dense_4h_to_h.bias", w.make("proj_bias" + n, {D}, 0.1));
    w.put(p + "attention.rotary_emb.inv_freq", at::ones({hd / 4}));  // a buffer older checkpoints carry
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
  } else if (model_type == "gpt_neox") {
    c.kv_heads = c.heads;
    c.partial_rotary = 0.5;
    cfg.update({{"architectures", {"GPTNeoXForCausalLM"}}, {"hidden_size", c.d_model}, {"intermediate_size", c.d_mlp},
                {"num_hidden_layers", c.layers}, {"num_attention_heads", c.heads}, {"rotary_pct", c.partial_rotary},
                {"rotary_emb_base", c.rope_theta}, {"layer_norm_eps", 1e-5}, {"hidden_act", "gelu"},
                {"use_parallel_residual", true}, {"max_position_embeddings", 64}, {"tie_word_embeddings", false}});
    write_gpt_neox_layout(c, w);
  } else {
    if (model_type == "qwen3") cfg["head_dim"] = c.head_dim = 12;  // explicit, != hidden_size / heads
    if (model_type == "gemma2" || model_type == "gemma3_text") {
      cfg["head_dim"] = c.head_dim = 12;
      c.query_pre_attn_scalar = 10;
      c.sliding_window = 4;
      cfg.update({{"query_pre_attn_scalar", c.query_pre_attn_scalar}, {"sliding_window", c.sliding_window},
                  {"hidden_activation", "gelu_pytorch_tanh"}, {"tie_word_embeddings", true}});
    }
    if (model_type == "gemma2") {  // small caps, so that they bite on these scores and logits
      c.attn_softcap = 2.0;
      c.final_softcap = 3.0;
      cfg.update({{"attn_logit_softcapping", c.attn_softcap}, {"final_logit_softcapping", c.final_softcap}});
    }
    cfg.update({{"hidden_size", c.d_model}, {"intermediate_size", c.d_mlp}, {"num_hidden_layers", c.layers},
                {"num_attention_heads", c.heads}, {"num_key_value_heads", c.kv_heads}, {"rms_norm_eps", 1e-5},
                {"rope_theta", c.rope_theta}});
    if (!cfg.contains("tie_word_embeddings")) cfg["tie_word_embeddings"] = false;
    if (model_type == "mistral") cfg["sliding_window"] = c.sliding_window = 5;
    if (model_type == "phi3") {
      c.rope_theta = 500.0;
      c.partial_rotary = 0.5;
      cfg["rope_parameters"] = {{"rope_theta", c.rope_theta}, {"partial_rotary_factor", c.partial_rotary}, {"rope_type", "default"}};
    }
    if (model_type == "gemma3_text") {  // layer 0 slides with its own base, layer 1 is global and scaled
      c.rope_local_theta = 100.0;
      c.rope_linear_factor = 2.0;
      cfg.update({{"sliding_window_pattern", 2}, {"rope_local_base_freq", c.rope_local_theta},
                  {"rope_scaling", {{"rope_type", "linear"}, {"factor", c.rope_linear_factor}}},
                  {"attn_logit_softcapping", nullptr}, {"final_logit_softcapping", nullptr}});
    }
    write_llama_layout(c, w, model_type);
  }
  write_file_atomic(c.dir + "/config.json", cfg.dump(2));
  write_safetensors(c.dir + "/model.safetensors", c.tensors);
  return c;
}

}  // namespace sinklab::test
