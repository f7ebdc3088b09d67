// Gemma 3's text model (transformers' Gemma3ForCausalLM, model_type gemma3_text): Gemma 2's
// block (gemma2.cpp) with a (1 + w) RMSNorm of each query and key head before RoPE, five sliding
// layers to every global one (sliding_window_pattern), the sliding layers rotating with their own
// base (rope_local_base_freq, unscaled) and the global ones with rope_theta and rope_scaling; no
// soft-capping unless config.json sets it.
#include "framework/model/family.h"

namespace sinklab {

Family gemma_family_base(const std::string& model_type, const std::string& hf_class);

const Family& gemma3_family() {
  static const Family family = [] {
    Family f = gemma_family_base("gemma3_text", "Gemma3ForCausalLM");
    f.config.attn_softcap = "attn_logit_softcapping";
    f.config.final_softcap = "final_logit_softcapping";
    f.config.sliding_layers = SlidingLayers::all_but_every_nth;
    f.config.rope_local_theta = "rope_local_base_freq";
    f.qk_norm = QkNorm::per_head;
    f.tensors.push_back({Role::q_norm, "model.layers.{}.self_attn.q_norm"});
    f.tensors.push_back({Role::k_norm, "model.layers.{}.self_attn.k_norm"});
    return f;
  }();
  return family;
}

}  // namespace sinklab
