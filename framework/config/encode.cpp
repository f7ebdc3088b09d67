// Canonical forms of a typed config: sorted JSON for hashing, ordered YAML for people.
#include <yaml-cpp/yaml.h>

#include "framework/config/fields.h"
#include "framework/util/hash.h"

namespace sinklab {

std::string canonical_json(const ordered_json& j) {
  // nlohmann::json keeps object keys sorted and prints numbers in shortest round-trip form.
  return nlohmann::json::parse(j.dump()).dump();
}

std::string config_hash(const ordered_json& j) { return sha256_hex(canonical_json(j)); }

static void emit(YAML::Emitter& out, const ordered_json& j) {
  switch (j.type()) {
    case ordered_json::value_t::object:
      out << YAML::BeginMap;
      for (auto it = j.begin(); it != j.end(); ++it) {
        out << YAML::Key << it.key() << YAML::Value;
        emit(out, it.value());
      }
      out << YAML::EndMap;
      break;
    case ordered_json::value_t::array: {
      bool flat = std::all_of(j.begin(), j.end(), [](const auto& x) { return x.is_primitive(); });
      out << (flat ? YAML::Flow : YAML::Block) << YAML::BeginSeq;
      for (const auto& x : j) emit(out, x);
      out << YAML::EndSeq;
      break;
    }
    case ordered_json::value_t::string:
      out << YAML::DoubleQuoted << j.get<std::string>();
      break;
    case ordered_json::value_t::null:
      out << YAML::Null;
      break;
    default:
      out << j.dump();  // numbers and booleans in JSON's exact spelling
  }
}

std::string to_yaml(const ordered_json& j) {
  YAML::Emitter out;
  emit(out, j);
  return std::string(out.c_str()) + "\n";
}

}  // namespace sinklab
