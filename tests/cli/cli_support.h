#pragma once
// Helpers shared by the end-to-end CLI tests.
#include "tests/support/catch.h"
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "framework/util/system.h"
#include "tests/support/process.h"

namespace sinklab::test {

// A Theorem 4.1 config small enough to run in well under a second.
inline std::string tiny_config(const std::string& name = "tiny", int count = 64, int s_tag_num = 4) {
  return "name: " + name + "\nseed: 1\ndevice: cpu\nthreads: 1\ntheorem41:\n  data: {count: " + std::to_string(count) +
         ", min_length: 6, max_length: 16}\n  s_tag: {start: 1, stop: 25, num: " + std::to_string(s_tag_num) +
         "}\n  example: {length: 8, sep_position: 3, s_tag: 10}\n";
}

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

inline int count_cached(const nlohmann::json& provenance) {
  int n = 0;
  for (const auto& s : provenance["stages"]) n += s["cached"].get<bool>();
  return n;
}

inline bool has_entries(const std::string& dir) {
  std::error_code ec;
  return std::filesystem::exists(dir, ec) && !std::filesystem::is_empty(dir, ec);
}

// configs/examples/<file> of the checkout, and the override that points it at tiny-phi3 in
// the shared directory (the examples' own default is ../shared relative to the working dir).
inline std::string example_config(const std::string& file) { return std::string(source_dir()) + "/configs/examples/" + file; }
inline std::string tiny_phi3_override(const std::string& shared) { return "model.path=" + shared + "/models/tiny-phi3"; }

// The first line a command printed: the run, sweep or report path sinklab prints on success.
inline std::string printed_path(const ProcessResult& r) { return r.out.substr(0, r.out.find('\n')); }

// `sinklab` with `args` followed by `overrides` must be refused as bad input: exit code 2,
// `message` on stderr, and nothing written under `must_stay_empty`.
inline void expect_rejected_run(std::vector<std::string> args, const std::vector<std::string>& overrides,
                                const std::string& message, const std::string& must_stay_empty) {
  args.insert(args.end(), overrides.begin(), overrides.end());
  auto r = sinklab(args);
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains(message));
  CHECK_FALSE(has_entries(must_stay_empty));
}

}  // namespace sinklab::test
