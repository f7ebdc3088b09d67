// Phi-3 (transformers' Phi3ForCausalLM): Llama's block with q, k, v fused into qkv_proj and gate,
// up into gate_up_proj (stacked along the output axis), partial rotary, an optional sliding window.
#include "framework/model/family.h"

namespace sinklab {

const Family& phi3_family() {
  static const Family family = [] {
    Family f;
    f.model_type = "phi3";
    f.hf_class = "Phi3ForCausalLM";
    // config.json uses LlamaConfig's names (ConfigKeys' defaults) plus the window (Phi-3-mini:
    // 2047; null: full causal attention). partial_rotary_factor < 1 rotates the first dims only.
    f.config.sliding_window = "sliding_window";
    f.norm = NormKind::rms;
    f.mlp = MlpKind::gated;
    f.positions = Positions::rotary;
    f.layout = Layout::linear;
    f.tensors = {
        {Role::token_embed, "model.embed_tokens"},
        {Role::final_norm, "model.norm"},
        {Role::lm_head, "lm_head"},
        {Role::attn_norm, "model.layers.{}.input_layernorm"},
        {Role::mlp_norm, "model.layers.{}.post_attention_layernorm"},
    };
    // The names of the fused parts are Llama's: pruning reports and low-rank files use them, and
    // saving writes the fused tensors again.
    f.linears = {
        {Role::q, "q", "model.layers.{}.self_attn.q_proj"},
        {Role::k, "k", "model.layers.{}.self_attn.k_proj"},
        {Role::v, "v", "model.layers.{}.self_attn.v_proj"},
        {Role::o, "o", "model.layers.{}.self_attn.o_proj"},
        {Role::mlp_in, "gate", "model.layers.{}.mlp.gate_proj"},
        {Role::mlp_up, "up", "model.layers.{}.mlp.up_proj"},
        {Role::mlp_out, "down", "model.layers.{}.mlp.down_proj"},
    };
    f.fused = {
        {"model.layers.{}.self_attn.qkv_proj", {Role::q, Role::k, Role::v}},  // [(H + 2 KV) hd, D]
        {"model.layers.{}.mlp.gate_up_proj", {Role::mlp_in, Role::mlp_up}},   // [2 I, D]
    };
    return f;
  }();
  return family;
}

}  // namespace sinklab
