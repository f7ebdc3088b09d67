#include "framework/model/family.h"

#include <algorithm>

#include "framework/model/model_spec.h"
#include "framework/util/error.h"

namespace sinklab {

const char* role_name(Role role) {
  switch (role) {
    case Role::token_embed: return "token_embed";
    case Role::pos_embed: return "pos_embed";
    case Role::final_norm: return "final_norm";
    case Role::lm_head: return "lm_head";
    case Role::attn_norm: return "attn_norm";
    case Role::qkv: return "qkv";
    case Role::q: return "q";
    case Role::k: return "k";
    case Role::v: return "v";
    case Role::o: return "o";
    case Role::q_norm: return "q_norm";
    case Role::k_norm: return "k_norm";
    case Role::post_attn_norm: return "post_attn_norm";
    case Role::mlp_norm: return "mlp_norm";
    case Role::post_mlp_norm: return "post_mlp_norm";
    case Role::mlp_in: return "mlp_in";
    case Role::mlp_up: return "mlp_up";
    case Role::mlp_out: return "mlp_out";
  }
  return "?";
}

const char* to_string(NormKind kind) {
  switch (kind) {
    case NormKind::rms: return "RMSNorm";
    case NormKind::rms_float32_weight: return "RMSNorm (weight applied in float32)";
    case NormKind::rms_one_plus: return "RMSNorm with (1 + weight), in float32";
    case NormKind::layer: return "LayerNorm (with bias)";
  }
  return "?";
}
const char* to_string(MlpKind kind) { return kind == MlpKind::gated ? "gated" : "plain"; }
const char* to_string(Positions kind) { return kind == Positions::rotary ? "rotary" : "learned table"; }
const char* to_string(Layout kind) { return kind == Layout::linear ? "nn.Linear [out, in]" : "Conv1D [in, out]"; }
const char* to_string(QkNorm kind) {
  return kind == QkNorm::none ? "none" : kind == QkNorm::per_head ? "per head" : "over the whole projection";
}
const char* to_string(NormPlacement kind) {
  return kind == NormPlacement::pre_norm    ? "pre-norm"
         : kind == NormPlacement::post_norm ? "post-norm (on each sublayer's output)"
                                            : "sandwich (before and after each sublayer)";
}

const TensorName* Family::tensor(Role role) const {
  for (const auto& t : tensors)
    if (t.role == role) return &t;
  return nullptr;
}

const LinearMap* Family::linear(Role role) const {
  for (const auto& l : linears)
    if (l.role == role) return &l;
  return nullptr;
}

const FusedMap* Family::fused_with(Role role) const {
  for (const auto& f : fused)
    if (std::find(f.parts.begin(), f.parts.end(), role) != f.parts.end()) return &f;
  return nullptr;
}

bool Family::has_bias(Role role, const ModelSpec& spec) const {
  const LinearMap* l = linear(role);
  if (!l) return false;
  switch (l->bias) {
    case Bias::none: return false;
    case Bias::always: return true;
    case Bias::if_attention_bias: return spec.attention_bias;
    case Bias::if_mlp_bias: return spec.mlp_bias;
  }
  return false;
}

std::string layer_name(const std::string& format, std::int64_t layer) {
  std::string out = format;
  const auto at = out.find("{}");
  if (at != std::string::npos) out.replace(at, 2, std::to_string(layer));
  return out;
}

std::vector<std::int64_t> role_shape(Role role, const ModelSpec& s) {
  const std::int64_t D = s.hidden_size, I = s.intermediate_size, V = s.vocab_size;
  const std::int64_t q = s.num_heads * s.head_dim, kv = s.num_kv_heads * s.head_dim;
  const bool whole_qk = s.family && s.family->qk_norm == QkNorm::whole;
  switch (role) {
    case Role::token_embed:
    case Role::lm_head: return {V, D};
    case Role::pos_embed: return {s.max_positions, D};
    case Role::final_norm:
    case Role::attn_norm:
    case Role::post_attn_norm:
    case Role::mlp_norm:
    case Role::post_mlp_norm: return {D};
    case Role::q_norm: return {whole_qk ? q : s.head_dim};
    case Role::k_norm: return {whole_qk ? kv : s.head_dim};
    case Role::qkv: return {3 * q, D};  // GPT-NeoX: never grouped (H == KV)
    case Role::q: return {q, D};
    case Role::k:
    case Role::v: return {kv, D};
    case Role::o: return {D, q};
    case Role::mlp_in:
    case Role::mlp_up: return {I, D};
    case Role::mlp_out: return {D, I};
  }
  return {};
}

namespace {

// A linear map's (or fused group's) weight as stored: [out, in], or [in, out] for Conv1D.
std::vector<std::int64_t> stored_shape(const Family& f, std::int64_t out, std::int64_t in) {
  return f.layout == Layout::conv1d ? std::vector<std::int64_t>{in, out} : std::vector<std::int64_t>{out, in};
}

void add_norm(const Family& f, const std::string& name, std::int64_t D, std::int64_t layer,
              std::vector<CheckpointTensor>& out) {
  out.push_back({name + ".weight", {D}, layer});
  if (f.norm == NormKind::layer) out.push_back({name + ".bias", {D}, layer});
}

}  // namespace

std::vector<CheckpointTensor> checkpoint_layout(const Family& f, const ModelSpec& s) {
  auto need = [&](Role role) -> const std::string& {
    const TensorName* t = f.tensor(role);
    SINKLAB_CHECK(t, "family {} names no {} tensor", f.model_type, role_name(role));
    return t->name;
  };
  std::vector<CheckpointTensor> out{{need(Role::token_embed) + ".weight", role_shape(Role::token_embed, s)}};
  if (f.positions == Positions::learned) out.push_back({need(Role::pos_embed) + ".weight", role_shape(Role::pos_embed, s)});
  add_norm(f, need(Role::final_norm), s.hidden_size, -1, out);
  if (!s.tie_word_embeddings) out.push_back({need(Role::lm_head) + ".weight", role_shape(Role::lm_head, s)});
  for (std::int64_t l = 0; l < s.num_layers; ++l) {
    // The block's norms are those the family names (a post-norm block has no pre-norms).
    for (Role role : {Role::attn_norm, Role::mlp_norm, Role::post_attn_norm, Role::post_mlp_norm})
      if (const TensorName* t = f.tensor(role)) add_norm(f, layer_name(t->name, l), s.hidden_size, l, out);
    if (f.qk_norm != QkNorm::none)  // RMSNorm: a weight only
      for (Role role : {Role::q_norm, Role::k_norm})
        out.push_back({layer_name(need(role), l) + ".weight", role_shape(role, s), l});
    for (const auto& lin : f.linears) {
      const FusedMap* fused = f.fused_with(lin.role);
      if (fused && fused->parts.front() != lin.role) continue;  // written with its first part
      std::int64_t rows = 0;
      for (Role part : fused ? fused->parts : std::vector<Role>{lin.role}) rows += role_shape(part, s)[0];
      const std::string name = layer_name(fused ? fused->name : lin.name, l);
      out.push_back({name + ".weight", stored_shape(f, rows, role_shape(lin.role, s)[1]), l});
      if (f.has_bias(lin.role, s)) out.push_back({name + ".bias", {rows}, l});
    }
  }
  return out;
}

}  // namespace sinklab
