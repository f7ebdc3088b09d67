// Gemma 2 (transformers' Gemma2ForCausalLM): the embedding times sqrt(hidden_size), RMSNorm
// with (1 + w) in float32, a norm before and after attention and the MLP, GeGLU (tanh GELU),
// scores scaled by query_pre_attn_scalar^-0.5 and soft-capped (c tanh(x / c)), the final
// logits soft-capped too, and a sliding window on the even layers; the head is tied.
#include "framework/model/family.h"

namespace sinklab {

// Gemma 2's and Gemma 3's common part (gemma3.cpp adds q/k norms and per-layer-type RoPE).
Family gemma_family_base(const std::string& model_type, const std::string& hf_class) {
  Family f;
  f.model_type = model_type;
  f.hf_class = hf_class;
  ConfigKeys& c = f.config;
  c.activation = "hidden_activation";
  c.activation_default = "gelu_pytorch_tanh";
  c.activations = {"gelu_pytorch_tanh"};
  c.tie_default = true;
  c.attention_bias = "attention_bias";
  c.sliding_window = "sliding_window";
  c.query_scale = "query_pre_attn_scalar";
  f.norm = NormKind::rms_one_plus;
  f.mlp = MlpKind::gated;
  f.positions = Positions::rotary;
  f.layout = Layout::linear;
  f.placement = NormPlacement::sandwich;
  f.scaled_embedding = true;
  f.tensors = {
      {Role::token_embed, "model.embed_tokens"},
      {Role::final_norm, "model.norm"},
      {Role::lm_head, "lm_head"},
      {Role::attn_norm, "model.layers.{}.input_layernorm"},
      {Role::post_attn_norm, "model.layers.{}.post_attention_layernorm"},
      {Role::mlp_norm, "model.layers.{}.pre_feedforward_layernorm"},
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
}

const Family& gemma2_family() {
  static const Family family = [] {
    Family f = gemma_family_base("gemma2", "Gemma2ForCausalLM");
    // Gemma2Config's defaults where a file omits the caps (an explicit null switches one off).
    f.config.attn_softcap = "attn_logit_softcapping";
    f.config.final_softcap = "final_logit_softcapping";
    f.config.attn_softcap_default = 50.0;
    f.config.final_softcap_default = 30.0;
    f.config.sliding_layers = SlidingLayers::even;
    return f;
  }();
  return family;
}

}  // namespace sinklab
