// GPT-NeoX (transformers' GPTNeoXForCausalLM; the Pythia suite, whose public training checkpoints
// are what emergence studies use): LayerNorm with bias, q, k and v in one map whose rows go head
// by head ([H, 3 (q, k, v), hd]: not three blocks), partial rotary (rotary_pct), exact-GELU MLP
// with biases, and by default a parallel residual: h + attn(ln1 h) + mlp(ln2 h).
#include "framework/model/family.h"

namespace sinklab {

const Family& gpt_neox_family() {
  static const Family family = [] {
    Family f;
    f.model_type = "gpt_neox";
    f.hf_class = "GPTNeoXForCausalLM";
    // GPTNeoXConfig's names: no grouped heads, head_dim = hidden / heads, RoPE base and rotated
    // fraction under their old names (newer files also write rope_theta / partial_rotary_factor).
    ConfigKeys& c = f.config;
    c.num_kv_heads = "";
    c.head_dim = "";
    c.norm_eps = "layer_norm_eps";
    c.norm_eps_default = 1e-5;
    c.activation_default = "gelu";
    c.activations = {"gelu"};
    c.attention_bias = "attention_bias";
    c.attention_bias_default = true;
    c.rope_theta_alias = "rotary_emb_base";
    c.partial_rotary_alias = "rotary_pct";
    c.partial_rotary_default = 0.25;
    c.parallel_residual = "use_parallel_residual";
    f.norm = NormKind::layer;
    f.mlp = MlpKind::plain;
    f.positions = Positions::rotary;
    f.layout = Layout::linear;
    f.tensors = {
        {Role::token_embed, "gpt_neox.embed_in"},
        {Role::final_norm, "gpt_neox.final_layer_norm"},
        {Role::lm_head, "embed_out"},
        {Role::attn_norm, "gpt_neox.layers.{}.input_layernorm"},
        {Role::mlp_norm, "gpt_neox.layers.{}.post_attention_layernorm"},
    };
    // Pruning sees the maps as the checkpoint has them (as the SparseGPT code prunes Pythia).
    f.linears = {
        {Role::qkv, "qkv", "gpt_neox.layers.{}.attention.query_key_value", Bias::if_attention_bias},
        {Role::o, "o", "gpt_neox.layers.{}.attention.dense", Bias::if_attention_bias},
        {Role::mlp_in, "fc", "gpt_neox.layers.{}.mlp.dense_h_to_4h", Bias::always},
        {Role::mlp_out, "proj", "gpt_neox.layers.{}.mlp.dense_4h_to_h", Bias::always},
    };
    // Buffers older checkpoints carry (causal mask, its fill value, RoPE's inverse frequencies).
    f.ignored = {"gpt_neox.layers.{}.attention.bias", "gpt_neox.layers.{}.attention.masked_bias",
                 "gpt_neox.layers.{}.attention.rotary_emb.inv_freq"};
    return f;
  }();
  return family;
}

}  // namespace sinklab
