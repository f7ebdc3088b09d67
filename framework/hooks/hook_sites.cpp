#include "framework/hooks/hook_sites.h"

#include <cstdlib>

#include "framework/util/error.h"
#include "framework/util/strings.h"

namespace sinklab {

namespace {

HookSite site(std::string short_name, std::string long_name, std::string shape, std::string meaning, std::string title) {
  HookSite s;
  s.short_name = std::move(short_name);
  s.long_name = std::move(long_name);
  s.shape = std::move(shape);
  s.meaning = std::move(meaning);
  s.title = std::move(title);
  return s;
}

HookSite with_heads(HookSite s, HeadKind kind, int axis) {
  s.heads = kind;
  s.head_axis = axis;
  return s;
}

HookSite model_level(HookSite s) {
  s.per_block = false;
  return s;
}

std::vector<HookSite> make_sites() {
  using H = HeadKind;
  std::vector<HookSite> s;
  s.push_back(model_level(site("embed", "hook_embed", "[pos, d_model]", "token embedding (before any block)", "token embedding")));
  HookSite pos = model_level(site("pos_embed", "hook_pos_embed", "[pos, d_model]",
                                  "learned position embedding, added to hook_embed", "position embedding"));
  pos.needs = SiteNeeds::learned_positions;
  s.push_back(pos);
  s.push_back(site("resid_pre", "hook_resid_pre", "[pos, d_model]", "residual stream entering the block",
                   "residual stream entering"));
  s.push_back(site("ln1_normalized", "ln1.hook_normalized", "[pos, d_model]",
                   "attention input: the first norm's output, weight applied (the residual stream itself in a post-norm block)", "attention input,"));
  s.push_back(with_heads(site("q", "attn.hook_q", "[pos, head, d_head]",
                              "queries before the rotary embedding (TransformerLens attn.hook_q)", "queries of"),
                         H::query, 1));
  s.push_back(with_heads(site("k", "attn.hook_k", "[pos, kv_head, d_head]",
                              "keys before the rotary embedding, per key/value head (TransformerLens attn.hook_k)", "keys of"),
                         H::key_value, 1));
  s.push_back(with_heads(site("v", "attn.hook_v", "[pos, kv_head, d_head]", "values, per key/value head", "values of"),
                         H::key_value, 1));
  HookSite q_normed = with_heads(site("q_normed", "attn.hook_q_normed", "[pos, head, d_head]",
                                      "queries after their RMSNorm, before the rotary embedding (Qwen3, OLMo 2)",
                                      "normed queries of"),
                                 H::query, 1);
  q_normed.needs = SiteNeeds::qk_norm;
  s.push_back(q_normed);
  HookSite k_normed = with_heads(site("k_normed", "attn.hook_k_normed", "[pos, kv_head, d_head]",
                                      "keys after their RMSNorm, before the rotary embedding, per key/value head",
                                      "normed keys of"),
                                 H::key_value, 1);
  k_normed.needs = SiteNeeds::qk_norm;
  s.push_back(k_normed);
  HookSite rot_q = with_heads(site("rot_q", "attn.hook_rot_q", "[pos, head, d_head]",
                                   "queries after the rotary embedding (TransformerLens attn.hook_rot_q)",
                                   "rotated queries of"),
                              H::query, 1);
  rot_q.needs = SiteNeeds::rotary_positions;
  s.push_back(rot_q);
  HookSite rot_k = with_heads(site("rot_k", "attn.hook_rot_k", "[pos, kv_head, d_head]",
                                   "keys after the rotary embedding, per key/value head (TransformerLens attn.hook_rot_k)",
                                   "rotated keys of"),
                              H::key_value, 1);
  rot_k.needs = SiteNeeds::rotary_positions;
  s.push_back(rot_k);
  HookSite scores = with_heads(site("attn_scores", "attn.hook_attn_scores", "[head, query, key]",
                                    "attention logits q.k/sqrt(d_head) before softmax; blocked keys hold the dtype's lowest value",
                                    "attention scores"),
                               H::query, 0);
  scores.attention_map = true;
  s.push_back(scores);
  HookSite pattern = with_heads(site("pattern", "attn.hook_pattern", "[head, query, key]",
                                     "attention probabilities (softmax over keys)", "attention"),
                                H::query, 0);
  pattern.attention_map = true;
  s.push_back(pattern);
  s.push_back(with_heads(site("z", "attn.hook_z", "[pos, head, d_head]", "attention-weighted values, per query head",
                              "attention-weighted values of"),
                         H::query, 1));
  s.push_back(with_heads(site("result", "attn.hook_result", "[pos, head, d_model]",
                              "each head's output through its slice of W_O (bias not included)", "output of attention"),
                         H::query, 1));
  s.push_back(site("attn_out", "hook_attn_out", "[pos, d_model]",
                   "attention output (W_O's, before any post-attention norm) that enters the residual stream",
                   "attention output,"));
  // A parallel block (GPT-NeoX) adds attention and MLP at once: there is no stream between them.
  HookSite resid_mid = site("resid_mid", "hook_resid_mid", "[pos, d_model]", "residual stream after attention, before the MLP",
                            "residual stream after attention,");
  resid_mid.needs = SiteNeeds::sequential_residual;
  s.push_back(resid_mid);
  s.push_back(site("normalized", "ln2.hook_normalized", "[pos, d_model]",
                   "MLP input: the second norm's output, weight applied (the stream itself in a post-norm block)", "FFN input,"));
  s.push_back(site("pre", "mlp.hook_pre", "[pos, d_mlp]",
                   "MLP pre-activation: the gate projection (gated MLPs) or the first projection", "MLP pre-activation,"));
  HookSite pre_linear = site("pre_linear", "mlp.hook_pre_linear", "[pos, d_mlp]",
                             "gated MLPs only: the up projection, multiplied by act(pre)", "MLP up projection,");
  pre_linear.needs = SiteNeeds::gated_mlp;
  s.push_back(pre_linear);
  s.push_back(site("post", "mlp.hook_post", "[pos, d_mlp]", "MLP activation: the input of the down projection",
                   "MLP activation,"));
  s.push_back(site("mlp_out", "hook_mlp_out", "[pos, d_model]", "MLP output (before any post-MLP norm) that enters the residual stream", "MLP output,"));
  s.push_back(site("resid_post", "hook_resid_post", "[pos, d_model]", "residual stream after the block",
                   "residual stream after"));
  s.push_back(model_level(site("ln_final", "ln_final.hook_normalized", "[pos, d_model]",
                               "the final norm's output, the unembedding's input", "final norm output")));
  return s;
}

}  // namespace

std::string HookSite::full_name(int layer) const {
  return per_block ? "blocks." + std::to_string(layer) + "." + long_name : long_name;
}

const std::vector<HookSite>& hook_sites() {
  static const std::vector<HookSite> sites = make_sites();
  return sites;
}

const HookSite& hook_site(const std::string& name) {
  std::string rest = name;
  if (starts_with(rest, "blocks.")) {  // a full name: drop "blocks.<l>."
    const auto dot = rest.find('.', 7);
    if (dot != std::string::npos) rest = rest.substr(dot + 1);
  }
  std::vector<std::string> names;
  for (const auto& s : hook_sites()) {
    if (s.short_name == rest || s.long_name == rest) return s;
    names.push_back(s.short_name);
  }
  throw InputError(fmt::format("unknown hook site '{}'{}; sites: {}", name, did_you_mean(rest, names), join(names, ", ")));
}

std::string hook_name(int layer, const std::string& site) { return hook_site(site).full_name(layer); }

std::optional<ParsedHookName> parse_hook_name(const std::string& full_name) {
  if (starts_with(full_name, "blocks.")) {
    const auto dot = full_name.find('.', 7);
    if (dot == std::string::npos || dot == 7) return std::nullopt;
    const std::string digits = full_name.substr(7, dot - 7);
    if (digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    const std::string rest = full_name.substr(dot + 1);
    for (const auto& s : hook_sites())
      if (s.per_block && s.long_name == rest) return ParsedHookName{&s, std::atoi(digits.c_str())};
    return std::nullopt;
  }
  for (const auto& s : hook_sites())
    if (!s.per_block && s.long_name == full_name) return ParsedHookName{&s, -1};
  return std::nullopt;
}

}  // namespace sinklab
