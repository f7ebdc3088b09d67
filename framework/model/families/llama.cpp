// Llama (transformers' LlamaForCausalLM): pre-RMSNorm blocks, rotary attention with grouped-query
// heads, SiLU-gated MLP; every linear map stored on its own as nn.Linear [out, in].
#include "framework/model/family.h"

namespace sinklab {

const Family& llama_family() {
  static const Family family = [] {
    Family f;
    f.model_type = "llama";
    f.hf_class = "LlamaForCausalLM";
    // config.json uses LlamaConfig's names (ConfigKeys' defaults). attention_bias gives q, k, v
    // and o a bias, mlp_bias gate, up and down, as LlamaAttention and LlamaMLP do.
    f.config.attention_bias = "attention_bias";
    f.config.mlp_bias = "mlp_bias";
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
        {Role::q, "q", "model.layers.{}.self_attn.q_proj", Bias::if_attention_bias},
        {Role::k, "k", "model.layers.{}.self_attn.k_proj", Bias::if_attention_bias},
        {Role::v, "v", "model.layers.{}.self_attn.v_proj", Bias::if_attention_bias},
        {Role::o, "o", "model.layers.{}.self_attn.o_proj", Bias::if_attention_bias},
        {Role::mlp_in, "gate", "model.layers.{}.mlp.gate_proj", Bias::if_mlp_bias},
        {Role::mlp_up, "up", "model.layers.{}.mlp.up_proj", Bias::if_mlp_bias},
        {Role::mlp_out, "down", "model.layers.{}.mlp.down_proj", Bias::if_mlp_bias},
    };
    // Checkpoints converted by older transformers still carry RoPE's inverse frequencies, a buffer.
    f.ignored = {"model.layers.{}.self_attn.rotary_emb.inv_freq"};
    return f;
  }();
  return family;
}

}  // namespace sinklab
