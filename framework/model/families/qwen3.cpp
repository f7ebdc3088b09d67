// Qwen3 (transformers' Qwen3ForCausalLM): Llama's block and tensor names plus an RMSNorm over
// each head of the queries and of the keys, after the projections and before RoPE (q_norm,
// k_norm: [head_dim], the block's rms_norm_eps); attention_bias gives q, k, v and o a bias.
#include "framework/model/family.h"

namespace sinklab {

const Family& qwen3_family() {
  static const Family family = [] {
    Family f;
    f.model_type = "qwen3";
    f.hf_class = "Qwen3ForCausalLM";
    // config.json uses LlamaConfig's names (ConfigKeys' defaults; head_dim is given explicitly,
    // often != hidden_size / heads). Sliding windows as Qwen2's (use_sliding_window,
    // max_window_layers; released checkpoints: off).
    f.config.attention_bias = "attention_bias";
    f.config.sliding_window = "sliding_window";
    f.config.sliding_layers = SlidingLayers::from_max_window_layers;
    f.norm = NormKind::rms;
    f.mlp = MlpKind::gated;
    f.positions = Positions::rotary;
    f.layout = Layout::linear;
    f.qk_norm = QkNorm::per_head;
    f.tensors = {
        {Role::token_embed, "model.embed_tokens"},
        {Role::final_norm, "model.norm"},
        {Role::lm_head, "lm_head"},
        {Role::attn_norm, "model.layers.{}.input_layernorm"},
        {Role::q_norm, "model.layers.{}.self_attn.q_norm"},
        {Role::k_norm, "model.layers.{}.self_attn.k_norm"},
        {Role::mlp_norm, "model.layers.{}.post_attention_layernorm"},
    };
    f.linears = {
        {Role::q, "q", "model.layers.{}.self_attn.q_proj", Bias::if_attention_bias},
        {Role::k, "k", "model.layers.{}.self_attn.k_proj", Bias::if_attention_bias},
        {Role::v, "v", "model.layers.{}.self_attn.v_proj", Bias::if_attention_bias},
        {Role::o, "o", "model.layers.{}.self_attn.o_proj", Bias::if_attention_bias},
        {Role::mlp_in, "gate", "model.layers.{}.mlp.gate_proj"},
        {Role::mlp_up, "up", "model.layers.{}.mlp.up_proj"},
        {Role::mlp_out, "down", "model.layers.{}.mlp.down_proj"},
    };
    return f;
  }();
  return family;
}

}  // namespace sinklab
