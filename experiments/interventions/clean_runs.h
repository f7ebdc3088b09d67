#pragma once
// What the interventions' stages take from clean runs and from an entry's first-token edit,
// in one place: the intervene stage (prompts) and the intervene_eval stage (few-shot requests)
// both read them.
#include <ATen/core/Tensor.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "experiments/interventions/config.h"

namespace sinklab {
class LanguageModel;
class Tokenizer;
}  // namespace sinklab

namespace sinklab::interventions {

// The token first_token: replace or insert puts at the front; InputError when the text encodes
// to no token.
std::int64_t first_token_id(const InterventionSpec& entry, const Tokenizer& tokenizer);

// The full hook names an entry's ablations edit: what its mean and resample ops read from the
// reference run.
std::set<std::string> ablated_site_names(const InterventionSpec& entry, std::int64_t num_layers);

// The values of `sites` (full hook names -> [1, ...]) in one clean pass over `ids`.
std::map<std::string, at::Tensor> record_clean(const LanguageModel& model, const std::vector<std::int64_t>& ids,
                                               const std::set<std::string>& sites);

// The massive activations of one layer's resid_post x [T, D]: their dims added to `dims`; returns
// how many there are.
std::int64_t add_massive_dims(const at::Tensor& x, const MassiveSpec& massive, std::set<std::int64_t>& dims);

// The d_model dims where one clean pass over `ids` has a massive activation (`massive`) in any
// layer's resid_post, ascending.
std::vector<std::int64_t> massive_dims_of(const LanguageModel& model, const std::vector<std::int64_t>& ids,
                                          const MassiveSpec& massive);

}  // namespace sinklab::interventions
