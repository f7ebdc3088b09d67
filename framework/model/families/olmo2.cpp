// OLMo 2 (transformers' Olmo2ForCausalLM): Llama's maps and names, but post-norm blocks (the
// norm is on each sublayer's output: h + norm(attn h), h + norm(mlp h); no pre-norms) and an
// RMSNorm of the queries and of the keys over the whole projection ([H*hd], [KV*hd]) before
// RoPE; its RMSNorm applies the weight in float32.
#include "framework/model/family.h"

namespace sinklab {

const Family& olmo2_family() {
  static const Family family = [] {
    Family f;
    f.model_type = "olmo2";
    f.hf_class = "Olmo2ForCausalLM";
    f.config.attention_bias = "attention_bias";
    f.norm = NormKind::rms_float32_weight;
    f.mlp = MlpKind::gated;
    f.positions = Positions::rotary;
    f.layout = Layout::linear;
    f.qk_norm = QkNorm::whole;
    f.placement = NormPlacement::post_norm;
    f.tensors = {
        {Role::token_embed, "model.embed_tokens"},
        {Role::final_norm, "model.norm"},
        {Role::lm_head, "lm_head"},
        {Role::q_norm, "model.layers.{}.self_attn.q_norm"},
        {Role::k_norm, "model.layers.{}.self_attn.k_norm"},
        {Role::post_attn_norm, "model.layers.{}.post_attention_layernorm"},
        {Role::post_mlp_norm, "model.layers.{}.post_feedforward_layernorm"},
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
