#pragma once
// The attention patterns of a run as the JSON the report's interactive view draws: what a model
// run hooked (run.h5: /hook.<variant>/prompts/<prompt>/blocks.<L>.attn.hook_pattern, [head,
// query, key], with the prompt's tokens beside them) and the toys' example sequences
// (/<stage>/example/attention_layer<L>, /theorem41.example/A<L>, with their numbers in x):
//   {prompts: {id: {tokens: [...]}}, maps: [{variant, prompt, layer, head, n, cropped, scale, w}]}
// w holds the causal lower triangle row by row (query q, keys 0..q) as integers weight * scale,
// which keeps a 256-token map near 100 kB of text.
#include <nlohmann/json.hpp>

#include <string>

namespace sinklab::report {

// maps.size() == 0 when the run hooked no attention pattern. Prompts longer than `max_tokens`
// are cropped to their first `max_tokens` tokens (`cropped` gives the full length).
nlohmann::json attention_view_data(const std::string& run_h5, int max_tokens = 256);

}  // namespace sinklab::report
