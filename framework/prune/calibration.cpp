#include "framework/prune/calibration.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <set>
#include <sstream>

#include "framework/io/atomic_file.h"
#include "framework/tokenizer/tokenizer.h"
#include "framework/util/error.h"
#include "framework/util/strings.h"
#include "framework/util/utf8.h"

namespace fs = std::filesystem;

namespace sinklab {
namespace {

std::string read_maybe_gzip(const std::string& path) {
  if (!ends_with(path, ".gz")) return read_file(path);
  gzFile f = gzopen(path.c_str(), "rb");
  SINKLAB_INPUT_CHECK(f != nullptr, "cannot open '{}'", path);
  std::string out;
  std::vector<char> buf(1 << 20);
  int n;
  while ((n = gzread(f, buf.data(), unsigned(buf.size()))) > 0) out.append(buf.data(), std::size_t(n));
  int err = 0;
  const char* msg = gzerror(f, &err);
  gzclose(f);
  SINKLAB_INPUT_CHECK(n == 0 && err == Z_OK, "'{}' is not a valid gzip file ({})", path, msg ? msg : "read error");
  return out;
}

bool is_json_lines(const std::string& path) {
  for (const char* ext : {".jsonl", ".json", ".jsonl.gz", ".json.gz"})
    if (ends_with(path, ext)) return true;
  return false;
}

}  // namespace

std::vector<std::string> calibration_files(const std::string& path) {
  SINKLAB_INPUT_CHECK(fs::exists(path), "calibration.path: '{}' does not exist (give a text file, a .jsonl/.json(.gz) "
                      "file with a `text` field per line, or a directory of them)", path);
  if (!fs::is_directory(path)) return {fs::canonical(path).string()};
  std::set<std::string> files;  // canonical: symlinks to the same file count once
  for (const auto& e : fs::directory_iterator(path))
    if (e.is_regular_file() && e.path().filename().string()[0] != '.') files.insert(fs::canonical(e.path()).string());
  SINKLAB_INPUT_CHECK(!files.empty(), "calibration.path: directory '{}' has no files", path);
  return {files.begin(), files.end()};
}

std::vector<std::string> load_documents(const std::string& path, const std::string& text_field) {
  std::vector<std::string> docs;
  for (const auto& file : calibration_files(path)) {
    std::string content = read_maybe_gzip(file);
    if (!is_json_lines(file)) {
      SINKLAB_INPUT_CHECK(utf8::invalid_at(content) < 0, "calibration file '{}' is not UTF-8 text (byte {})", file,
                          utf8::invalid_at(content));
      docs.push_back(std::move(content));
      continue;
    }
    std::istringstream in(content);
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
      if (trim(line).empty()) continue;
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const std::exception& e) {
        throw InputError(fmt::format("{}:{}: not a JSON line ({})", file, number, e.what()));
      }
      SINKLAB_INPUT_CHECK(j.is_object() && j.contains(text_field) && j[text_field].is_string(),
                          "{}:{}: no string field '{}' (set calibration.text_field)", file, number, text_field);
      docs.push_back(j[text_field].get<std::string>());
    }
  }
  SINKLAB_INPUT_CHECK(!docs.empty(), "calibration.path '{}' holds no documents", path);
  return docs;
}

at::Tensor draw_calibration_windows(const Tokenizer& tokenizer, const std::vector<std::string>& documents,
                                    const CalibrationConfig& c) {
  // BOS: what the tokenizer's template puts before an empty text (nothing for GPT-2).
  const std::vector<std::int64_t> prefix = tokenizer.encode("", /*add_special_tokens=*/true);
  SINKLAB_INPUT_CHECK(std::int64_t(prefix.size()) < c.seq_len, "calibration.seq_len {} is too short", c.seq_len);
  const std::int64_t body = c.seq_len - std::int64_t(prefix.size());
  std::vector<std::size_t> order(documents.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  // mt19937_64's output is fixed by the standard; the distributions are not, so draws are
  // taken from it directly (modulo bias is below 2^-40 for any realistic size).
  std::mt19937_64 rng(std::uint64_t(c.seed) * 0x9E3779B97F4A7C15ull + 1);
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  const std::int64_t wanted = 2 * std::int64_t(c.samples) * body;
  const std::vector<std::int64_t> separator = tokenizer.encode("\n\n", false);
  std::vector<std::int64_t> stream;
  for (std::size_t i : order) {
    auto ids = tokenizer.encode(documents[i], false);
    if (!stream.empty()) stream.insert(stream.end(), separator.begin(), separator.end());
    stream.insert(stream.end(), ids.begin(), ids.end());
    if (std::int64_t(stream.size()) >= wanted) break;
  }
  SINKLAB_INPUT_CHECK(std::int64_t(stream.size()) >= body,
                      "the calibration text has {} tokens, fewer than one window of {} (lower calibration.seq_len or "
                      "give more text)", stream.size(), body);
  auto out = at::empty({c.samples, c.seq_len}, at::TensorOptions().dtype(at::kLong));
  auto* p = out.data_ptr<std::int64_t>();
  const std::uint64_t starts = std::uint64_t(std::int64_t(stream.size()) - body + 1);
  for (int s = 0; s < c.samples; ++s) {
    auto* row = p + std::int64_t(s) * c.seq_len;
    std::copy(prefix.begin(), prefix.end(), row);
    const std::int64_t at = std::int64_t(rng() % starts);
    std::copy(stream.begin() + at, stream.begin() + at + body, row + prefix.size());
  }
  return out;
}

}  // namespace sinklab
