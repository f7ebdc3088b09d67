#include "framework/io/json_numbers.h"

namespace sinklab {

static void collect(const nlohmann::json& j, const std::string& prefix, bool booleans, std::size_t max_array,
                    std::map<std::string, double>& out) {
  if (j.is_number()) {
    out[prefix] = j.get<double>();
  } else if (j.is_boolean()) {
    if (booleans) out[prefix] = double(j.get<bool>());
  } else if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      collect(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), booleans, max_array, out);
  } else if (j.is_array() && j.size() <= max_array) {
    for (std::size_t i = 0; i < j.size(); ++i) collect(j[i], prefix + "." + std::to_string(i), booleans, max_array, out);
  }
}

static void leaves(const nlohmann::json& j, const std::string& path, bool expand_scalar_lists,
                   std::map<std::string, nlohmann::json>& out) {
  if (j.is_object() && !j.empty()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      leaves(it.value(), path.empty() ? it.key() : path + "." + it.key(), expand_scalar_lists, out);
  } else if (j.is_array() && !j.empty() && (expand_scalar_lists || j[0].is_object() || j[0].is_array())) {
    for (std::size_t i = 0; i < j.size(); ++i) leaves(j[i], path + "." + std::to_string(i), expand_scalar_lists, out);
  } else {
    out[path] = j;
  }
}

std::map<std::string, nlohmann::json> json_leaves(const nlohmann::json& j, bool expand_scalar_lists) {
  std::map<std::string, nlohmann::json> out;
  leaves(j, "", expand_scalar_lists, out);
  return out;
}

std::map<std::string, double> json_numbers(const nlohmann::json& j, bool booleans, std::size_t max_array) {
  std::map<std::string, double> out;
  collect(j, "", booleans, max_array, out);
  return out;
}

}  // namespace sinklab
