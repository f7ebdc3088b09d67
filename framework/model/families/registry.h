#pragma once
// The model families sinklab can load, keyed by config.json's model_type.
#include <string>
#include <vector>

#include "framework/model/family.h"

namespace sinklab {

// Every family, in the order `sinklab model families` lists them.
const std::vector<const Family*>& all_families();
// The family of `model_type`; an unknown one is an InputError listing the supported types.
const Family& find_family(const std::string& model_type);

}  // namespace sinklab
