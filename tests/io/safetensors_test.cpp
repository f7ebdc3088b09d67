// safetensors: round trips, and every malformed file a clear InputError naming file and tensor.
#include <ATen/ATen.h>

#include "tests/support/catch.h"
#include <fstream>
#include <nlohmann/json.hpp>

#include "framework/io/safetensors.h"
#include "framework/util/error.h"
#include "tests/support/temp_dir.h"

using namespace sinklab;
using Catch::Contains;

namespace {

// Writes a file with a hand-made header and `data_bytes` bytes of data.
std::string write_raw(const test::TempDir& dir, const std::string& name, const std::string& header, std::size_t data_bytes,
                      std::int64_t claimed_header_len = -1) {
  std::string path = dir / name;
  std::ofstream out(path, std::ios::binary);
  std::uint64_t n = claimed_header_len >= 0 ? std::uint64_t(claimed_header_len) : header.size();
  for (int i = 0; i < 8; ++i) out.put(char((n >> (8 * i)) & 0xff));
  out << header << std::string(data_bytes, '\0');
  return path;
}

std::string error_of(const std::string& path) {
  try {
    SafetensorsFile f(path);
    for (const auto& n : f.names()) f.tensor(n);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("safetensors round-trip every dtype and the metadata", "[io][safetensors]") {
  test::TempDir dir;
  at::manual_seed(1);
  std::vector<std::pair<std::string, at::Tensor>> tensors{
      {"a.f32", at::randn({3, 5})}, {"b.f64", at::randn({2}, at::kDouble)}, {"c.f16", at::randn({4, 4}).to(at::kHalf)},
      {"d.bf16", at::randn({7}).to(at::kBFloat16)}, {"e.i64", at::arange(6).view({2, 3})},
      {"f.scalar", at::tensor(3.5f).reshape({})}, {"g.bool", at::rand({5}) > 0.5}, {"h.empty", at::empty({0, 3})}};
  write_safetensors(dir / "m.safetensors", tensors, {{"step", "10"}});
  SafetensorsFile f(dir / "m.safetensors");
  CHECK(f.names().size() == tensors.size());
  CHECK(f.metadata().at("step") == "10");
  for (const auto& [name, t] : tensors) {
    INFO(name);
    CHECK(at::equal(f.tensor(name), t));
  }
  CHECK(f.info("d.bf16").dtype == "BF16");
  CHECK_THAT(error_of(dir / "missing.safetensors"), Contains("missing.safetensors"));
  CHECK_THROWS_WITH(f.tensor("a.f3"), Contains("no tensor 'a.f3'") && Contains("did you mean 'a.f32'?"));
}

TEST_CASE("tensors view the mapping and outlive the file object", "[io][safetensors]") {
  test::TempDir dir;
  write_safetensors(dir / "m.safetensors", {{"w", at::arange(10, at::kFloat)}});
  at::Tensor t;
  {
    SafetensorsFile f(dir / "m.safetensors");
    t = f.tensor("w");
  }
  t.add_(1);  // copy-on-write mapping: writable, and the file is untouched
  CHECK(t[9].item<float>() == 10.0f);
  CHECK(SafetensorsFile(dir / "m.safetensors").tensor("w")[9].item<float>() == 9.0f);
}

TEST_CASE("malformed safetensors files are input errors naming file and tensor", "[io][safetensors][bad-input]") {
  test::TempDir dir;
  auto entry = [](const char* dtype, std::vector<int> shape, std::size_t b, std::size_t e) {
    return nlohmann::json{{"dtype", dtype}, {"shape", shape}, {"data_offsets", {b, e}}};
  };
  CHECK_THAT(error_of(write_raw(dir, "empty-header", "", 0)), Contains("not valid JSON"));
  {
    std::ofstream(dir / "tiny") << "abc";
    CHECK_THAT(error_of(dir / "tiny"), Contains("too short"));
  }
  CHECK_THAT(error_of(write_raw(dir, "hdrlen", "{}", 0, 1 << 20)), Contains("header length") && Contains("hdrlen"));
  CHECK_THAT(error_of(write_raw(dir, "json", "{not json", 0)), Contains("not valid JSON"));
  nlohmann::json h;
  h["w"] = entry("F32", {4}, 0, 16);
  auto ok = write_raw(dir, "truncated", h.dump(), 8);  // 8 of the 16 data bytes
  CHECK_THAT(error_of(ok), Contains("truncated") && Contains("'w'"));
  h["w"] = entry("F33", {4}, 0, 16);
  CHECK_THAT(error_of(write_raw(dir, "dtype", h.dump(), 16)), Contains("unknown dtype 'F33'") && Contains("'w'"));
  h["w"] = entry("F32", {5}, 0, 16);
  CHECK_THAT(error_of(write_raw(dir, "shape", h.dump(), 16)), Contains("'w' has 16 bytes but shape [5] F32 needs 20"));
  h["w"] = entry("F32", {4}, 0, 16);
  h["v"] = entry("F32", {2}, 8, 16);
  CHECK_THAT(error_of(write_raw(dir, "overlap", h.dump(), 16)), Contains("overlap"));
  // [2^62, 2^62] float32 is 2^126 bytes: its product must not wrap around to the 0 bytes it claims.
  nlohmann::json huge;
  huge["w"] = {{"dtype", "F32"}, {"shape", {std::int64_t(1) << 62, std::int64_t(1) << 62}}, {"data_offsets", {0, 0}}};
  CHECK_THAT(error_of(write_raw(dir, "wrap", huge.dump(), 16)), Contains("more elements than any file holds"));
  huge["w"] = {{"dtype", "F32"}, {"shape", {std::int64_t(1) << 62, 0}}, {"data_offsets", {0, 0}}};  // empty: fine
  CHECK(error_of(write_raw(dir, "empty", huge.dump(), 16)) == "no error");
  nlohmann::json bad;
  bad["w"] = {{"dtype", "F32"}, {"shape", "four"}, {"data_offsets", {0, 16}}};
  CHECK_THAT(error_of(write_raw(dir, "entry", bad.dump(), 16)), Contains("malformed header entry") && Contains("'w'"));
}
