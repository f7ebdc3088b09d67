#pragma once
// The hook sites: one table, TransformerLens's names and semantics. Everything that needs to
// know a site - its full name, whether it has a head axis (and which heads index it), whether it
// is an attention map, its shape and meaning - asks this table (models when recording, configs
// when validating, stages when writing attributes, reports when drawing titles).
//
// Shapes are those of one sequence (the batch axis removed), as stored in run.h5:
//   pos = token position, head = query head, kv_head = key/value head (grouped-query attention),
//   d_model = residual width, d_head = head width, d_mlp = MLP width.
#include <optional>
#include <string>
#include <vector>

namespace sinklab {

// Which heads a site's head axis counts: query heads, or the (fewer) key/value heads.
enum class HeadKind { none, query, key_value };
// What a model must have for the site to exist (TransformerLens, too, has rot_q/rot_k only in
// rotary models); framework/model's computes_site() answers it for a checkpoint.
enum class SiteNeeds { nothing, rotary_positions, learned_positions, gated_mlp, qk_norm, sequential_residual };

struct HookSite {
  std::string short_name;   // "pattern"; what configs write
  std::string long_name;    // "attn.hook_pattern"; the name after "blocks.{l}." (or the whole name)
  bool per_block = true;    // false: a model-level site (hook_embed, ln_final.hook_normalized)
  HeadKind heads = HeadKind::none;
  int head_axis = -1;       // axis of the head index in one sequence's tensor; -1 without heads
  bool attention_map = false;  // [head, query, key]
  SiteNeeds needs = SiteNeeds::nothing;
  std::string shape;        // "[head, query, key]"
  std::string meaning;      // what the value is, for the `meaning` attribute of stored datasets
  std::string title;        // "attention", for figure titles: "<title> layer 3 head 6"

  bool has_heads() const { return heads != HeadKind::none; }
  // "blocks.3.attn.hook_pattern", or the model-level name.
  std::string full_name(int layer) const;
};

// Every site, in the order a block computes them.
const std::vector<HookSite>& hook_sites();
// The site a config names: its short form ("pattern"), its long form ("attn.hook_pattern") or a
// full name ("blocks.3.attn.hook_pattern"). An unknown name is an InputError listing the sites.
const HookSite& hook_site(const std::string& name);
// "blocks.3.attn.hook_pattern" from (3, "pattern") or (3, "attn.hook_pattern").
std::string hook_name(int layer, const std::string& site);

// A full hook name taken apart; nullopt when it names no site.
struct ParsedHookName {
  const HookSite* site = nullptr;
  int layer = -1;  // -1 for model-level sites
};
std::optional<ParsedHookName> parse_hook_name(const std::string& full_name);

}  // namespace sinklab
