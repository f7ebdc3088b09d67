// Qwen2 (transformers' Qwen2ForCausalLM): Llama's block and tensor names, with a bias on q, k and
// v (always, whatever config.json says) and none on o or the MLP.
#include "framework/model/family.h"

namespace sinklab {

const Family& qwen2_family() {
  static const Family family = [] {
    Family f;
    f.model_type = "qwen2";
    f.hf_class = "Qwen2ForCausalLM";
    // config.json uses LlamaConfig's names (ConfigKeys' defaults). With use_sliding_window true
    // the layers from max_window_layers on attend within sliding_window (released checkpoints
    // set it false: full attention everywhere).
    f.config.sliding_window = "sliding_window";
    f.config.sliding_layers = SlidingLayers::from_max_window_layers;
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
        {Role::q, "q", "model.layers.{}.self_attn.q_proj", Bias::always},
        {Role::k, "k", "model.layers.{}.self_attn.k_proj", Bias::always},
        {Role::v, "v", "model.layers.{}.self_attn.v_proj", Bias::always},
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
