// Scalar decoding and the error messages of typed configs.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "framework/config/fields.h"
#include "framework/util/error.h"
#include "framework/util/strings.h"

namespace sinklab {

std::string Check::describe() const {
  std::vector<std::string> parts;
  if (!choices.empty()) parts.push_back("one of " + join(choices, ", "));
  if (min) parts.push_back(fmt::format("{} {}", min_exclusive ? ">" : ">=", *min));
  if (max) parts.push_back(fmt::format("{} {}", max_exclusive ? "<" : "<=", *max));
  return join(parts, " and ");
}

void fail_at(const Location& loc, const std::string& path, const std::string& message) {
  throw InputError(fmt::format("{}: {}: {}", loc.str(), path.empty() ? "config" : path, message));
}

void expect_kind(const ConfigNode& n, ConfigNode::Kind kind, const std::string& path, const char* what) {
  if (n.kind != kind)
    fail_at(n.loc, path,
            fmt::format("expected {}, got {}{}", what, ConfigNode::kind_name(n.kind),
                        n.kind == ConfigNode::Kind::scalar ? " '" + n.scalar + "'" : ""));
}

static void check_range(const ConfigNode& n, double v, const std::string& path, const Check& c) {
  bool ok = true;
  if (c.min) ok &= c.min_exclusive ? v > *c.min : v >= *c.min;
  if (c.max) ok &= c.max_exclusive ? v < *c.max : v <= *c.max;
  if (!ok) fail_at(n.loc, path, fmt::format("value {} is out of range: must be {}", n.scalar, c.describe()));
}

static const std::string& scalar_of(const ConfigNode& n, const std::string& path, const char* what) {
  expect_kind(n, ConfigNode::Kind::scalar, path, what);
  return n.scalar;
}

void decode_value(const ConfigNode& n, bool& out, const std::string& path, const Check&) {
  std::string s = scalar_of(n, path, "true or false");
  std::transform(s.begin(), s.end(), s.begin(), ::tolower);
  if (s == "true" || s == "yes" || s == "on") out = true;
  else if (s == "false" || s == "no" || s == "off") out = false;
  else fail_at(n.loc, path, fmt::format("expected true or false, got '{}'", n.scalar));
}

static long long parse_integer(const ConfigNode& n, const std::string& path) {
  const std::string& s = scalar_of(n, path, "an integer");
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0') {
    // 1e3 is a fine way to write an integer, as long as it is one.
    char* fend = nullptr;
    double d = std::strtod(s.c_str(), &fend);
    if (!s.empty() && *fend == '\0' && std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15)
      return static_cast<long long>(d);
    fail_at(n.loc, path, fmt::format("expected an integer, got '{}'", s));
  }
  if (errno == ERANGE) fail_at(n.loc, path, fmt::format("integer '{}' is too large", s));
  return v;
}

void decode_value(const ConfigNode& n, int& out, const std::string& path, const Check& c) {
  long long v = parse_integer(n, path);
  if (v < INT32_MIN || v > INT32_MAX) fail_at(n.loc, path, fmt::format("integer '{}' is too large", n.scalar));
  check_range(n, double(v), path, c);
  out = int(v);
}

void decode_value(const ConfigNode& n, std::int64_t& out, const std::string& path, const Check& c) {
  long long v = parse_integer(n, path);
  check_range(n, double(v), path, c);
  out = v;
}

void decode_value(const ConfigNode& n, double& out, const std::string& path, const Check& c) {
  const std::string& s = scalar_of(n, path, "a number");
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  std::string lower = s;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  if (lower == ".inf" || lower == "+.inf") v = INFINITY, end = const_cast<char*>(s.c_str() + s.size());
  if (lower == "-.inf") v = -INFINITY, end = const_cast<char*>(s.c_str() + s.size());
  if (s.empty() || *end != '\0' || std::isnan(v)) fail_at(n.loc, path, fmt::format("expected a number, got '{}'", s));
  check_range(n, v, path, c);
  out = v;
}

void decode_value(const ConfigNode& n, std::string& out, const std::string& path, const Check& c) {
  const std::string& s = scalar_of(n, path, "a string");
  if (c.non_empty && s.empty()) fail_at(n.loc, path, "must not be empty");
  if (!c.choices.empty() && std::find(c.choices.begin(), c.choices.end(), s) == c.choices.end())
    fail_at(n.loc, path,
            fmt::format("'{}' is not allowed: must be {}{}", s, c.describe(), did_you_mean(s, c.choices)));
  out = s;
}

void Decoder::fail(const std::string& key, const std::string& message) const {
  const ConfigEntry* e = node_.entry(key);
  fail_at(e ? e->value.loc : node_.loc, child(key), message);
}

void Decoder::finish() const {
  for (const auto& e : node_.entries) {
    if (std::find(known_.begin(), known_.end(), e.key) != known_.end()) continue;
    std::string where = path_.empty() ? "at the top level" : "in '" + path_ + "'";
    throw InputError(fmt::format("{}: unknown key '{}' {}{}; valid keys here: {}", e.key_loc.str(), e.key, where,
                                 did_you_mean(e.key, known_), join(known_, ", ")));
  }
}

}  // namespace sinklab
