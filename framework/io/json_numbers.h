#pragma once
// Every number in a JSON tree under its dotted path ("eval.variants.dense.k.0.acc_micro"), for
// tables and comparisons across runs (sweep summaries, archive diffs).
#include <nlohmann/json.hpp>

#include <cstddef>
#include <limits>
#include <map>
#include <string>

namespace sinklab {

// Every leaf (number, string, boolean, null, empty object or array) under its dotted path, as
// it is. With `expand_scalar_lists` false, a list of scalars is one leaf ([1, 2, 3]: a config
// value); lists of objects or lists are always expanded.
std::map<std::string, nlohmann::json> json_leaves(const nlohmann::json& j, bool expand_scalar_lists = true);

// Booleans count as 0/1 when `booleans`; arrays longer than `max_array` are left out.
std::map<std::string, double> json_numbers(const nlohmann::json& j, bool booleans = false,
                                           std::size_t max_array = std::numeric_limits<std::size_t>::max());

}  // namespace sinklab
