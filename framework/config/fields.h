#pragma once
// Typed configs. A config struct lists its keys once, in a `fields` template that every
// visitor (decoding from YAML, encoding to JSON/YAML) walks:
//
//   struct Grid {
//     double start = 1; int num = 30;
//     template <class V> void fields(V& v) {
//       v("start", start, "first value");
//       v("num", num, "number of points", Check::at_least(1));
//     }
//     void validate(const Decoder& d) const { ... d.fail("num", "...") ... }  // optional
//   };
//
// Keys absent from the YAML keep their C++ default. Unknown keys, wrong types and values
// outside the Check are InputErrors naming the dotted key and file:line:col.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "framework/config/node.h"

namespace sinklab {

using ordered_json = nlohmann::ordered_json;

// A value constraint, checked on decode and described in error messages.
struct Check {
  std::optional<double> min, max;
  bool min_exclusive = false, max_exclusive = false;
  std::vector<std::string> choices;
  bool non_empty = false;  // for strings and lists

  static Check at_least(double v) { Check c; c.min = v; return c; }
  static Check greater_than(double v) { Check c; c.min = v; c.min_exclusive = true; return c; }
  static Check between(double lo, double hi) { Check c; c.min = lo; c.max = hi; return c; }
  static Check one_of(std::vector<std::string> names) { Check c; c.choices = std::move(names); return c; }
  static Check required_non_empty() { Check c; c.non_empty = true; return c; }
  std::string describe() const;
};

template <class T, class = void>
struct has_fields : std::false_type {};
template <class T>
struct has_fields<T, std::void_t<decltype(std::declval<T&>().fields(std::declval<int&>()))>> : std::true_type {};
// (fields is a template, so it accepts any visitor type; `int&` only probes for its existence.)

class Decoder;
template <class T, class = void>
struct has_validate : std::false_type {};
template <class T>
struct has_validate<T, std::void_t<decltype(std::declval<const T&>().validate(std::declval<const Decoder&>()))>>
    : std::true_type {};

// A mapping whose keys keep the order the config writes them in (e.g. sweep axes: the first is
// a heatmap's rows). Decoded like std::map; the hash still ignores key order (canonical_json).
template <class T>
using OrderedMap = std::vector<std::pair<std::string, T>>;

// ---- decoding -------------------------------------------------------------------------------

// Scalars (decode.cpp). `path` is the dotted key, for messages.
void decode_value(const ConfigNode& n, bool& out, const std::string& path, const Check& c);
void decode_value(const ConfigNode& n, int& out, const std::string& path, const Check& c);
void decode_value(const ConfigNode& n, std::int64_t& out, const std::string& path, const Check& c);
void decode_value(const ConfigNode& n, double& out, const std::string& path, const Check& c);
void decode_value(const ConfigNode& n, std::string& out, const std::string& path, const Check& c);
[[noreturn]] void fail_at(const Location& loc, const std::string& path, const std::string& message);
void expect_kind(const ConfigNode& n, ConfigNode::Kind kind, const std::string& path, const char* what);

template <class T>
void decode_value(const ConfigNode& n, std::vector<T>& out, const std::string& path, const Check& c);
template <class T>
void decode_value(const ConfigNode& n, std::optional<T>& out, const std::string& path, const Check& c);
template <class T>
void decode_value(const ConfigNode& n, std::map<std::string, T>& out, const std::string& path, const Check& c);
template <class T>
void decode_value(const ConfigNode& n, OrderedMap<T>& out, const std::string& path, const Check& c);
template <class T, std::enable_if_t<has_fields<T>::value, int> = 0>
void decode_value(const ConfigNode& n, T& out, const std::string& path, const Check& c);

class Decoder {
 public:
  Decoder(const ConfigNode& node, std::string path) : node_(node), path_(std::move(path)) {}

  template <class T>
  void operator()(const char* key, T& value, const char* /*doc*/, const Check& check = {}) {
    known_.push_back(key);
    if (const ConfigEntry* e = node_.entry(key)) decode_value(e->value, value, child(key), check);
  }
  // Cross-field checks: an InputError located at `key` (or at the mapping when absent).
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
  // Every key present must have been declared.
  void finish() const;
  std::string child(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

 private:
  const ConfigNode& node_;
  std::string path_;
  std::vector<std::string> known_;
};

template <class T>
void decode_value(const ConfigNode& n, std::vector<T>& out, const std::string& path, const Check& c) {
  expect_kind(n, ConfigNode::Kind::list, path, "a list");
  if (c.non_empty && n.items.empty()) fail_at(n.loc, path, "must not be empty");
  Check element = c;
  element.non_empty = false;
  out.clear();
  for (std::size_t i = 0; i < n.items.size(); ++i) {
    T v{};
    decode_value(n.items[i], v, path + "[" + std::to_string(i) + "]", element);
    out.push_back(std::move(v));
  }
}

template <class T>
void decode_value(const ConfigNode& n, std::optional<T>& out, const std::string& path, const Check& c) {
  if (n.kind == ConfigNode::Kind::null) {
    out.reset();
    return;
  }
  if (!out) out.emplace();  // start from the defaults
  decode_value(n, *out, path, c);
}

template <class T>
void decode_value(const ConfigNode& n, std::map<std::string, T>& out, const std::string& path, const Check& c) {
  expect_kind(n, ConfigNode::Kind::map, path, "a mapping");
  out.clear();
  for (const auto& e : n.entries) decode_value(e.value, out[e.key], path + "." + e.key, c);
}

template <class T>
void decode_value(const ConfigNode& n, OrderedMap<T>& out, const std::string& path, const Check& c) {
  expect_kind(n, ConfigNode::Kind::map, path, "a mapping");
  out.clear();
  for (const auto& e : n.entries) {
    out.emplace_back(e.key, T{});
    decode_value(e.value, out.back().second, path + "." + e.key, c);
  }
}

template <class T, std::enable_if_t<has_fields<T>::value, int>>
void decode_value(const ConfigNode& n, T& out, const std::string& path, const Check&) {
  if (n.kind == ConfigNode::Kind::null) return;  // "key:" with nothing keeps the defaults
  expect_kind(n, ConfigNode::Kind::map, path, "a mapping");
  Decoder d(n, path);
  out.fields(d);
  d.finish();
  if constexpr (has_validate<T>::value) out.validate(d);
}

// ---- encoding -------------------------------------------------------------------------------

inline ordered_json encode_value(bool v) { return v; }
inline ordered_json encode_value(int v) { return v; }
inline ordered_json encode_value(std::int64_t v) { return v; }
inline ordered_json encode_value(double v) { return v; }
inline ordered_json encode_value(const std::string& v) { return v; }
template <class T>
ordered_json encode_value(const std::vector<T>& v);
template <class T>
ordered_json encode_value(const std::optional<T>& v);
template <class T>
ordered_json encode_value(const std::map<std::string, T>& v);
template <class T>
ordered_json encode_value(const OrderedMap<T>& v);
template <class T, std::enable_if_t<has_fields<T>::value, int> = 0>
ordered_json encode_value(const T& v);

class Encoder {
 public:
  template <class T>
  void operator()(const char* key, const T& value, const char* /*doc*/, const Check& = {}) {
    ordered_json j = encode_value(value);
    if (!j.is_null()) json[key] = std::move(j);  // absent optionals stay absent
  }
  ordered_json json = ordered_json::object();
};

template <class T>
ordered_json encode_value(const std::vector<T>& v) {
  ordered_json j = ordered_json::array();
  for (const auto& x : v) j.push_back(encode_value(x));
  return j;
}
template <class T>
ordered_json encode_value(const std::optional<T>& v) {
  return v ? encode_value(*v) : ordered_json();
}
template <class T>
ordered_json encode_value(const std::map<std::string, T>& v) {
  ordered_json j = ordered_json::object();
  for (const auto& [k, x] : v) j[k] = encode_value(x);
  return j;
}
template <class T>
ordered_json encode_value(const OrderedMap<T>& v) {
  ordered_json j = ordered_json::object();
  for (const auto& [k, x] : v) j[k] = encode_value(x);
  return j;
}
template <class T, std::enable_if_t<has_fields<T>::value, int>>
ordered_json encode_value(const T& v) {
  Encoder e;
  const_cast<T&>(v).fields(e);  // fields() is shared with decoding; encoding only reads
  return e.json;
}

// ---- whole configs --------------------------------------------------------------------------

// Key order and formatting do not matter: keys are sorted, numbers printed canonically.
std::string canonical_json(const ordered_json& j);
std::string config_hash(const ordered_json& j);  // SHA-256 of canonical_json
std::string to_yaml(const ordered_json& j);       // the resolved config, in declaration order

template <class T>
struct LoadedConfig {
  T value;
  ordered_json json;               // every key, defaults included
  std::string hash;
  std::vector<std::string> files;  // the config file and its includes
};

// Loads `path` with its includes, applies `overrides` ("a.b=c"), decodes and validates.
template <class T>
LoadedConfig<T> load_config(const std::string& path, const std::vector<std::string>& overrides) {
  LoadedConfig<T> out;
  ConfigNode root = load_config_file(path, &out.files);
  for (const auto& o : overrides) apply_override(root, o);
  decode_value(root, out.value, "", Check{});
  out.json = encode_value(out.value);
  out.hash = config_hash(out.json);
  return out;
}

}  // namespace sinklab
