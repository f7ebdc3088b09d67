#pragma once
// The config tree before it is typed: YAML maps, lists and scalars, each remembering where it
// was written (file:line:col, or the command-line override), so that every later error can
// point at the exact place to fix.
//
// Loading does, in order: parse YAML, expand ${VAR} and ${VAR:-default} in scalars, resolve
// `include:` (one path or a list, relative to the including file; the including file's keys
// override the included ones, maps merge recursively). Overrides `a.b=c` apply afterwards.
#include <string>
#include <vector>

namespace sinklab {

struct Location {
  std::string file;  // a path, or "command line"
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;
  std::string str() const;
};

struct ConfigEntry;

struct ConfigNode {
  enum class Kind { null, scalar, list, map };
  Kind kind = Kind::null;
  Location loc;
  std::string scalar;                // kind == scalar
  std::vector<ConfigNode> items;     // kind == list
  std::vector<ConfigEntry> entries;  // kind == map, in file order, keys unique

  const ConfigEntry* entry(const std::string& key) const;
  ConfigEntry* entry(const std::string& key);
  std::vector<std::string> keys() const;
  static const char* kind_name(Kind k);
};

struct ConfigEntry {
  std::string key;
  Location key_loc;
  ConfigNode value;
};

// Parses YAML text; `origin` names it in errors. ${VAR} expansion happens here.
ConfigNode parse_config_text(const std::string& text, const std::string& origin);
// Loads a config file with its includes. `files` receives every file read, in order.
ConfigNode load_config_file(const std::string& path, std::vector<std::string>* files = nullptr);
// `over` wins; maps merge key by key, anything else is replaced.
void merge_config(ConfigNode& base, const ConfigNode& over);
// Applies "a.b.c=value" (value is YAML: 3, 0.5, [1, 2], {x: 1}, text). "a.b=null" (or ~)
// removes the key: an optional section is then absent, a field takes its default.
void apply_override(ConfigNode& root, const std::string& assignment);
// Expands ${VAR} / ${VAR:-default}; an unset VAR without default is an InputError at `loc`.
std::string expand_env(const std::string& text, const Location& loc);

}  // namespace sinklab
