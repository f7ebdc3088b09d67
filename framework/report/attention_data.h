#pragma once
// The attention maps of a run as the JSON the report's interactive view draws. A dataset is an
// attention map of the view when its attributes say so (attention_map_attributes below); the
// writers are the hook stage (attn.hook_pattern of every probed prompt) and the toys' example
// sequences. The view's JSON:
//   {prompts: {id: {tokens: [...]}}, maps: [{variant, prompt, layer, head, n, cropped, scale, w}]}
// w holds the causal lower triangle row by row (query q, keys 0..q) as integers weight * scale,
// which keeps a 256-token map near 100 kB of text.
#include <nlohmann/json.hpp>

#include <string>

#include "framework/io/hdf5_store.h"

namespace sinklab::report {

// The attributes that put a dataset [head, query, key] (heads listed in a `heads` attribute) or
// [query, key] into the view: view = "attention", the variant and prompt it belongs to (maps
// of one prompt are shown side by side), its 0-based layer, and `tokens`, the name of a sibling
// string dataset [key] with the text of each position.
Attrs attention_map_attributes(const std::string& variant, const std::string& prompt, std::int64_t layer,
                               const std::string& tokens_dataset = "tokens");

// maps.size() == 0 when the run has no attention map. Prompts longer than `max_tokens` are
// cropped to their first `max_tokens` tokens (`cropped` gives the full length).
nlohmann::json attention_view_data(const std::string& run_h5, int max_tokens = 256);

}  // namespace sinklab::report
