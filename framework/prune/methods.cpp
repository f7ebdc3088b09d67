#include "framework/prune/methods.h"

#include <map>

#include "framework/util/error.h"
#include "framework/util/strings.h"

namespace sinklab {

static const std::map<std::string, MethodInfo>& registry() {
  static const std::map<std::string, MethodInfo> methods{{"magnitude", {prune_magnitude, false, false}},
                                                         {"wanda", {prune_wanda, true, false}},
                                                         {"sparsegpt", {prune_sparsegpt, true, true}},
                                                         {"oats", {prune_oats, true, false}}};
  return methods;
}

std::vector<std::string> prune_method_names() {
  std::vector<std::string> names;
  for (const auto& [n, m] : registry()) names.push_back(n);
  return names;
}

const MethodInfo& prune_method(const std::string& name) {
  auto it = registry().find(name);
  SINKLAB_INPUT_CHECK(it != registry().end(), "unknown pruning method '{}'{}; methods: {}", name,
                      did_you_mean(name, prune_method_names()), join(prune_method_names(), ", "));
  return it->second;
}

}  // namespace sinklab
