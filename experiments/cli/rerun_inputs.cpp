#include "experiments/cli/rerun_inputs.h"

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <set>

#include "framework/runner/cache.h"
#include "framework/util/error.h"
#include "framework/util/strings.h"
#include "framework/util/system.h"

namespace fs = std::filesystem;

namespace sinklab::cli {
namespace {

std::string normal(const std::string& p) {
  std::string s = fs::path(p).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// The path without its root and leading "." / ".." parts: what may be found under another root.
std::vector<std::string> portable_parts(const std::string& p) {
  std::vector<std::string> parts;
  for (const auto& part : fs::path(normal(p)).relative_path()) {
    const std::string s = part.string();
    if (s == ".." || s == ".") {
      if (parts.empty()) continue;
    }
    if (!s.empty()) parts.push_back(s);
  }
  return parts;
}

std::string joined(const std::vector<std::string>& parts, std::size_t from) {
  std::vector<std::string> tail(parts.begin() + std::ptrdiff_t(from), parts.end());
  return join(tail, "/");
}

// Whether `path` ends with the components of `tail`.
bool ends_with_parts(const std::string& path, const std::string& tail) {
  return path == tail || ends_with(path, "/" + tail);
}

}  // namespace

std::vector<RecordedInput> recorded_inputs(const nlohmann::json& provenance) {
  std::vector<RecordedInput> out;
  std::map<std::pair<std::string, std::string>, std::size_t> index;
  for (const auto& f : provenance.value("input_files", nlohmann::json::array())) {
    const auto key = std::make_pair(f.value("path", std::string()), f.value("sha256", std::string()));
    SINKLAB_INPUT_CHECK(!key.first.empty() && key.second.size() == 64,
                        "provenance.json's input_files has an entry without a path and a SHA-256: {}", f.dump());
    auto [it, fresh] = index.try_emplace(key, out.size());
    if (fresh) out.push_back({key.first, key.second, {}});
    out[it->second].stages.push_back(f.value("stage", std::string()));
  }
  return out;
}

std::vector<LocatedInput> locate_inputs(const std::vector<RecordedInput>& inputs, const std::string& working_dir,
                                        const std::vector<std::string>& roots, const StageCache& fingerprints) {
  std::vector<LocatedInput> located;
  std::vector<std::string> problems;
  for (const auto& in : inputs) {
    std::vector<std::string> candidates{in.path};
    if (fs::path(in.path).is_relative()) {
      if (!working_dir.empty()) candidates.push_back((fs::path(working_dir) / in.path).string());
      candidates.push_back((fs::path(source_dir()) / in.path).string());
    }
    const auto parts = portable_parts(in.path);
    for (const auto& root : roots)
      for (std::size_t from = 0; from < parts.size(); ++from) candidates.push_back((fs::path(root) / joined(parts, from)).string());
    std::string found;
    std::vector<std::string> different;
    std::set<std::string> tried;
    for (const auto& c : candidates) {
      const std::string path = normal(c);
      std::error_code ec;
      if (!tried.insert(path).second || !fs::is_regular_file(path, ec)) continue;
      const std::string hash = fingerprints.fingerprint(path);
      if (hash == in.sha256) {
        found = normal(fs::absolute(path).string());
        break;
      }
      different.push_back(fmt::format("{} (sha256 {})", path, hash));
    }
    if (found.empty()) {
      problems.push_back(fmt::format("{} (sha256 {}, read by {}): {}", in.path, in.sha256, join(in.stages, ", "),
                                     different.empty() ? "not found"
                                                       : "only different files were found: " + join(different, "; ")));
      continue;
    }
    located.push_back({in, found});
  }
  SINKLAB_INPUT_CHECK(problems.empty(),
                      "{} of the archived run's {} input files cannot be found with the content it read:\n  {}\n"
                      "Put them where the archived run had them, or give the directories that hold them with "
                      "--models DIR / --data DIR (each searched by the tail of the recorded path).",
                      problems.size(), inputs.size(), join(problems, "\n  "));
  return located;
}

std::vector<Redirect> redirect_config_paths(nlohmann::ordered_json& config, const std::vector<LocatedInput>& inputs) {
  std::vector<Redirect> changes;
  std::function<void(nlohmann::ordered_json&, const std::string&)> walk = [&](nlohmann::ordered_json& j,
                                                                               const std::string& key) {
    if (j.is_object()) {
      for (auto it = j.begin(); it != j.end(); ++it) walk(it.value(), key.empty() ? it.key() : key + "." + it.key());
      return;
    }
    if (j.is_array()) {
      for (std::size_t i = 0; i < j.size(); ++i) walk(j[i], key + "." + std::to_string(i));
      return;
    }
    if (!j.is_string()) return;
    const std::string value = j.get<std::string>();
    if (value.empty() || value.find('\n') != std::string::npos) return;
    const std::string as_given = normal(value);
    const std::string tail = join(portable_parts(value), "/");
    // A bare name ("dense") matches only a recorded path that is exactly it.
    const bool tail_usable = tail.find('/') != std::string::npos;
    std::set<std::string> replacements;
    for (const auto& in : inputs) {
      const std::string recorded = normal(in.recorded.path);
      if (recorded == as_given || (tail_usable && ends_with_parts(recorded, tail))) {
        replacements.insert(in.found);
        continue;
      }
      // A directory holding the input: the part of the recorded path below it must be the same
      // below the found directory.
      std::string below;
      if (starts_with(recorded, as_given + "/")) below = recorded.substr(as_given.size() + 1);
      else if (tail_usable && recorded.find("/" + tail + "/") != std::string::npos)
        below = recorded.substr(recorded.rfind("/" + tail + "/") + tail.size() + 2);
      else continue;
      if (!ends_with_parts(in.found, below)) continue;  // found under another layout: cannot stand for the directory
      replacements.insert(in.found.substr(0, in.found.size() - below.size() - 1));
    }
    if (replacements.empty()) return;
    SINKLAB_INPUT_CHECK(replacements.size() == 1,
                        "config key {} ('{}'): the input files it names were found in different places ({}); put "
                        "them in one directory, laid out as the archived run had them",
                        key, value, join({replacements.begin(), replacements.end()}, ", "));
    const std::string now = *replacements.begin();
    if (now != value) {
      changes.push_back({key, value, now});
      j = now;
    }
  };
  walk(config, "");
  return changes;
}

}  // namespace sinklab::cli
