#include "framework/config/node.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "framework/util/error.h"
#include "framework/util/utf8.h"
#include "framework/util/strings.h"

namespace fs = std::filesystem;

namespace sinklab {

std::string Location::str() const {
  if (line <= 0) return file;
  return fmt::format("{}:{}:{}", file, line, column);
}

const ConfigEntry* ConfigNode::entry(const std::string& key) const {
  for (const auto& e : entries)
    if (e.key == key) return &e;
  return nullptr;
}

ConfigEntry* ConfigNode::entry(const std::string& key) {
  for (auto& e : entries)
    if (e.key == key) return &e;
  return nullptr;
}

std::vector<std::string> ConfigNode::keys() const {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.key);
  return out;
}

const char* ConfigNode::kind_name(Kind k) {
  switch (k) {
    case Kind::null: return "nothing";
    case Kind::scalar: return "a value";
    case Kind::list: return "a list";
    case Kind::map: return "a mapping";
  }
  return "?";
}

std::string expand_env(const std::string& text, const Location& loc) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    std::size_t start = text.find("${", pos);
    if (start == std::string::npos) break;
    std::size_t end = text.find('}', start);
    SINKLAB_INPUT_CHECK(end != std::string::npos, "{}: unterminated '${{' in '{}'", loc.str(), text);
    out += text.substr(pos, start - pos);
    std::string inner = text.substr(start + 2, end - start - 2);
    std::size_t dflt = inner.find(":-");
    std::string name = inner.substr(0, dflt);
    SINKLAB_INPUT_CHECK(!name.empty(), "{}: empty variable name in '${{{}}}'", loc.str(), inner);
    const char* value = std::getenv(name.c_str());
    if (dflt != std::string::npos) {
      // Shell semantics: the default also replaces an empty value.
      out += (value != nullptr && *value != '\0') ? std::string(value) : inner.substr(dflt + 2);
    } else {
      SINKLAB_INPUT_CHECK(value != nullptr,
                          "{}: environment variable {} is not set; export {}=... or write ${{{}:-default}}",
                          loc.str(), name, name, name);
      out += value;
    }
    pos = end + 1;
  }
  return out + text.substr(pos);
}

static Location location_of(const YAML::Node& n, const std::string& origin, const Location& fallback) {
  YAML::Mark m = n.Mark();
  if (m.is_null() || m.line < 0) return fallback;
  return Location{origin, m.line + 1, m.column + 1};
}

// The most values one config may expand to. YAML aliases share nodes, so a few hundred bytes of
// nested aliases name billions of values ("billion laughs"); converting them would take all
// memory. The paper's largest config is a few hundred values.
constexpr std::size_t kMaxConfigValues = 1000000;

static void check_utf8(const std::string& s, const Location& loc, const char* what) {
  const long bad = utf8::invalid_at(s);
  SINKLAB_INPUT_CHECK(bad < 0, "{}: this {} is not valid UTF-8 (byte {} of it); save the file as UTF-8", loc.str(), what,
                      bad);
}

// The deepest nesting a config may have: a YAML alias inside its own anchor ("&x [*x]") is a
// cycle, which would otherwise recurse until the stack overflows.
constexpr int kMaxConfigDepth = 128;

static ConfigNode convert(const YAML::Node& n, const std::string& origin, const Location& fallback, std::size_t& values,
                          int depth = 0) {
  ConfigNode out;
  out.loc = location_of(n, origin, fallback);
  SINKLAB_INPUT_CHECK(depth <= kMaxConfigDepth, "{}: the config nests deeper than {} levels (a YAML alias inside its own "
                      "anchor?)", out.loc.str(), kMaxConfigDepth);
  SINKLAB_INPUT_CHECK(++values <= kMaxConfigValues, "{}: the config expands to more than {} values (nested YAML "
                      "aliases?); write the values out or use fewer aliases", out.loc.str(), kMaxConfigValues);
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      out.kind = ConfigNode::Kind::null;
      break;
    case YAML::NodeType::Scalar:
      out.kind = ConfigNode::Kind::scalar;
      check_utf8(n.Scalar(), out.loc, "value");
      out.scalar = expand_env(n.Scalar(), out.loc);
      break;
    case YAML::NodeType::Sequence:
      out.kind = ConfigNode::Kind::list;
      for (const auto& item : n) out.items.push_back(convert(item, origin, out.loc, values, depth + 1));
      break;
    case YAML::NodeType::Map:
      out.kind = ConfigNode::Kind::map;
      for (auto it = n.begin(); it != n.end(); ++it) {
        Location key_loc = location_of(it->first, origin, out.loc);
        SINKLAB_INPUT_CHECK(it->first.IsScalar(), "{}: mapping keys must be plain names", key_loc.str());
        std::string key = it->first.Scalar();
        check_utf8(key, key_loc, "key");
        SINKLAB_INPUT_CHECK(out.entry(key) == nullptr, "{}: key '{}' appears twice in the same mapping",
                            key_loc.str(), key);
        out.entries.push_back(ConfigEntry{key, key_loc, convert(it->second, origin, key_loc, values, depth + 1)});
      }
      break;
  }
  return out;
}

ConfigNode parse_config_text(const std::string& text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw InputError(fmt::format("{}:{}:{}: malformed YAML: {}", origin, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  std::size_t values = 0;
  return convert(root, origin, Location{origin, 0, 0}, values);
}

void merge_config(ConfigNode& base, const ConfigNode& over) {
  if (base.kind != ConfigNode::Kind::map || over.kind != ConfigNode::Kind::map) {
    base = over;
    return;
  }
  for (const auto& e : over.entries) {
    if (ConfigEntry* mine = base.entry(e.key)) {
      mine->key_loc = e.key_loc;
      merge_config(mine->value, e.value);
    } else {
      base.entries.push_back(e);
    }
  }
  base.loc = over.loc;
}

static ConfigNode load_with_includes(const fs::path& path, std::vector<std::string>& stack,
                                     std::vector<std::string>* files) {
  std::string canonical = fs::weakly_canonical(path).string();
  SINKLAB_INPUT_CHECK(std::find(stack.begin(), stack.end(), canonical) == stack.end(),
                      "config include cycle: {} -> {}", join(stack, " -> "), canonical);
  std::error_code ec;
  SINKLAB_INPUT_CHECK(fs::is_regular_file(path, ec), "config file '{}' does not exist", path.string());
  std::string text;
  {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    SINKLAB_INPUT_CHECK(f != nullptr, "cannot read config file '{}'", path.string());
    char buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
  }
  if (files != nullptr) files->push_back(path.string());
  ConfigNode node = parse_config_text(text, path.string());
  if (node.kind == ConfigNode::Kind::null) node.kind = ConfigNode::Kind::map;  // an empty file
  SINKLAB_INPUT_CHECK(node.kind == ConfigNode::Kind::map, "{}: a config file must be a mapping of keys, got {}",
                      node.loc.str(), ConfigNode::kind_name(node.kind));

  auto inc = std::find_if(node.entries.begin(), node.entries.end(), [](auto& e) { return e.key == "include"; });
  if (inc == node.entries.end()) return node;
  std::vector<const ConfigNode*> bases;
  if (inc->value.kind == ConfigNode::Kind::list)
    for (const auto& item : inc->value.items) bases.push_back(&item);
  else
    bases.push_back(&inc->value);

  stack.push_back(canonical);
  ConfigNode merged;
  merged.kind = ConfigNode::Kind::map;
  merged.loc = node.loc;
  for (const ConfigNode* b : bases) {
    SINKLAB_INPUT_CHECK(b->kind == ConfigNode::Kind::scalar, "{}: include expects a file path or a list of paths",
                        b->loc.str());
    fs::path target = path.parent_path() / b->scalar;
    SINKLAB_INPUT_CHECK(fs::is_regular_file(target, ec), "{}: included config '{}' not found (looked for {})",
                        b->loc.str(), b->scalar, target.string());
    merge_config(merged, load_with_includes(target, stack, files));
  }
  stack.pop_back();
  node.entries.erase(inc);
  merge_config(merged, node);
  return merged;
}

ConfigNode load_config_file(const std::string& path, std::vector<std::string>* files) {
  std::vector<std::string> stack;
  return load_with_includes(fs::path(path), stack, files);
}

namespace {

// `a.b=null`: the key goes, as if the file never wrote it (an optional section is then absent,
// a field takes its default). Removing a key that is not there is an error, so a typo is not
// silently ignored.
void remove_key(ConfigNode& root, const std::vector<std::string>& parts, const std::string& assignment) {
  ConfigNode* node = &root;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string where = i == 0 ? "the config" : "'" + join(std::vector<std::string>(parts.begin(), parts.begin() + i), ".") + "'";
    ConfigEntry* e = node->kind == ConfigNode::Kind::map ? node->entry(parts[i]) : nullptr;
    SINKLAB_INPUT_CHECK(e != nullptr, "override '{}' removes nothing: {} has no key '{}'{}", assignment, where, parts[i],
                        did_you_mean(parts[i], node->keys()));
    if (i + 1 < parts.size()) {
      node = &e->value;
      continue;
    }
    node->entries.erase(node->entries.begin() + (e - node->entries.data()));
  }
}

}  // namespace

void apply_override(ConfigNode& root, const std::string& assignment) {
  std::size_t eq = assignment.find('=');
  SINKLAB_INPUT_CHECK(eq != std::string::npos && eq > 0,
                      "override '{}' must look like key.path=value (e.g. theorem41.model.d=2)", assignment);
  std::string key_path = assignment.substr(0, eq);
  Location loc{fmt::format("command line '{}'", assignment), 0, 0};
  SINKLAB_INPUT_CHECK(!trim(assignment.substr(eq + 1)).empty(),
                      "override '{}' has no value: give one (YAML), or null to remove the key", assignment);
  ConfigNode value = parse_config_text(assignment.substr(eq + 1), loc.file);
  // Every location inside the value points at the override.
  std::vector<ConfigNode*> todo{&value};
  while (!todo.empty()) {
    ConfigNode* n = todo.back();
    todo.pop_back();
    n->loc = loc;
    for (auto& i : n->items) todo.push_back(&i);
    for (auto& e : n->entries) e.key_loc = loc, todo.push_back(&e.value);
  }
  auto parts = split(key_path, '.');
  for (const auto& part : parts) SINKLAB_INPUT_CHECK(!part.empty(), "override '{}' has an empty key segment", assignment);
  if (value.kind == ConfigNode::Kind::null) {
    remove_key(root, parts, assignment);
    return;
  }
  ConfigNode* node = &root;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (node->kind == ConfigNode::Kind::null) node->kind = ConfigNode::Kind::map;
    SINKLAB_INPUT_CHECK(node->kind == ConfigNode::Kind::map, "override '{}': '{}' is {}, not a mapping", assignment,
                        join(std::vector<std::string>(parts.begin(), parts.begin() + i), "."),
                        ConfigNode::kind_name(node->kind));
    ConfigEntry* e = node->entry(parts[i]);
    if (e == nullptr) {
      ConfigNode empty;
      empty.loc = loc;
      node->entries.push_back(ConfigEntry{parts[i], loc, empty});
      e = &node->entries.back();
    }
    e->key_loc = loc;
    node = &e->value;
  }
  merge_config(*node, value);
}

}  // namespace sinklab
