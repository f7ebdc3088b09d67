// Mistral (transformers' MistralForCausalLM): Llama's block and tensor names, no biases, and an
// optional sliding attention window.
#include "framework/model/family.h"

namespace sinklab {

const Family& mistral_family() {
  static const Family family = [] {
    Family f;
    f.model_type = "mistral";
    f.hf_class = "MistralForCausalLM";
    // config.json uses LlamaConfig's names (ConfigKeys' defaults) plus the window; a null window
    // (Mistral v0.2 and later) means full causal attention.
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
    f.linears = {
        {Role::q, "q", "model.layers.{}.self_attn.q_proj"},
        {Role::k, "k", "model.layers.{}.self_attn.k_proj"},
        {Role::v, "v", "model.layers.{}.self_attn.v_proj"},
        {Role::o, "o", "model.layers.{}.self_attn.o_proj"},
        {Role::mlp_in, "gate", "model.layers.{}.mlp.gate_proj"},
        {Role::mlp_up, "up", "model.layers.{}.mlp.up_proj"},
        {Role::mlp_out, "down", "model.layers.{}.mlp.down_proj"},
    };
    return f;
  }();
  return family;
}

}  // namespace sinklab
