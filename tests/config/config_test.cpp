// Typed configs: YAML maps one-to-one onto structs; every mistake names the key and the place.
#include "tests/support/catch.h"

#include "experiments/run_config.h"
#include "framework/config/fields.h"
#include "framework/util/error.h"
#include "tests/support/temp_dir.h"

using namespace sinklab;
using Catch::Contains;

namespace {

const char* kGood = R"(name: demo
seed: 7
theorem41:
  data:
    count: 100
    min_length: 10
    max_length: 20
  model: {b: 0.5, d: 2}
  s_tag: {start: 1, stop: 10, num: 4}
)";

LoadedConfig<RunConfig> load(const test::TempDir& dir, const std::string& text,
                             const std::vector<std::string>& overrides = {}) {
  return load_config<RunConfig>(dir.write("c.yaml", text), overrides);
}

std::string error_of(const test::TempDir& dir, const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    load(dir, text, overrides);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("a config maps onto the typed struct and keeps defaults for absent keys", "[config]") {
  test::TempDir dir;
  auto cfg = load(dir, kGood);
  CHECK(cfg.value.name == "demo");
  CHECK(cfg.value.seed == 7);
  CHECK(cfg.value.device == "auto");  // default
  REQUIRE(cfg.value.theorem41);
  CHECK(cfg.value.theorem41->data.count == 100);
  CHECK(cfg.value.theorem41->data.numbers.kind == "normal");  // default inside a given section
  CHECK(cfg.value.theorem41->model.d == 2.0);
  CHECK((cfg.value.theorem41->s_tag.values() == std::vector<double>{1, 4, 7, 10}));
  CHECK(cfg.json["theorem41"]["example"]["length"] == 16);  // defaults are in the resolved form
  CHECK(cfg.files.size() == 1);
}

TEST_CASE("malformed YAML names file, line and column", "[config][bad-input]") {
  test::TempDir dir;
  auto msg = error_of(dir, "name: demo\ntheorem41: {data: [1, 2}\n");
  CHECK_THAT(msg, Contains("c.yaml:2:") && Contains("malformed YAML"));
}

TEST_CASE("an unknown key is an error with a suggestion and the valid keys", "[config][bad-input]") {
  test::TempDir dir;
  auto msg = error_of(dir, "name: demo\nsed: 3\ntheorem41: {}\n");
  CHECK_THAT(msg, Contains("c.yaml:2:1") && Contains("unknown key 'sed'") && Contains("did you mean 'seed'?") &&
                      Contains("valid keys here: name, seed"));
  auto nested = error_of(dir, "name: demo\ntheorem41:\n  model:\n    dd: 1\n");
  CHECK_THAT(nested, Contains("c.yaml:4:5") && Contains("in 'theorem41.model'") && Contains("did you mean 'd'?"));
}

TEST_CASE("a wrong type names the dotted key and its location", "[config][bad-input]") {
  test::TempDir dir;
  auto msg = error_of(dir, "name: demo\ntheorem41:\n  data:\n    count: many\n");
  CHECK_THAT(msg, Contains("c.yaml:4:12") && Contains("theorem41.data.count") && Contains("expected an integer, got 'many'"));
  CHECK_THAT(error_of(dir, "name: demo\ntheorem41:\n  data: 5\n"), Contains("expected a mapping"));
  CHECK_THAT(error_of(dir, "name: [a, b]\ntheorem41: {}\n"), Contains("c.yaml:1:7") && Contains("expected a string"));
  CHECK_THAT(error_of(dir, "name: x\nseed: 1.5\ntheorem41: {}\n"), Contains("expected an integer, got '1.5'"));
}

TEST_CASE("negative and out-of-range values are rejected with the allowed range", "[config][bad-input]") {
  test::TempDir dir;
  CHECK_THAT(error_of(dir, "name: x\ntheorem41:\n  data: {count: -5}\n"),
             Contains("theorem41.data.count") && Contains("out of range") && Contains(">= 1"));
  CHECK_THAT(error_of(dir, "name: x\ntheorem41:\n  model: {d: 0}\n"), Contains("theorem41.model.d") && Contains("> 0"));
  CHECK_THAT(error_of(dir, "name: x\nseed: -1\ntheorem41: {}\n"), Contains("seed") && Contains(">= 0"));
  CHECK_THAT(error_of(dir, "name: x\ntheorem41:\n  s_tag: {scale: logarithmic}\n"),
             Contains("must be one of linear, log"));
  CHECK_THAT(error_of(dir, "name: x\ntheorem41:\n  data: {min_length: 30, max_length: 20}\n"),
             Contains("theorem41.data.max_length") && Contains("must be >= min_length (30)"));
  CHECK_THAT(error_of(dir, "name: x\ntheorem41:\n  example: {length: 5, sep_position: 5}\n"),
             Contains("sep_position") && Contains("must be < length (5)"));
  CHECK_THAT(error_of(dir, "name: ../escape\ntheorem41: {}\n"), Contains("names a directory"));
  CHECK_THAT(error_of(dir, "name: x\n"), Contains("no experiment section"));
  CHECK_THAT(error_of(dir, "name: x\nname: y\ntheorem41: {}\n"), Contains("appears twice"));
}

TEST_CASE("the canonical hash ignores key order, formatting and comments but not values", "[config]") {
  test::TempDir dir;
  auto a = load(dir, kGood);
  auto b = load(dir, R"(# same config, written differently
theorem41:
  s_tag: {num: 4, stop: 10.0, start: 1.0}
  model:
    d: 2.0
    b: 0.50
  data: {max_length: 20, count: 100, min_length: 10}
seed: 7
name: "demo"
)");
  CHECK(a.hash == b.hash);
  CHECK(a.hash.size() == 64);
  auto c = load(dir, kGood, {"theorem41.model.b=0.25"});
  CHECK(c.hash != a.hash);
  // Writing a default explicitly does not change the hash either.
  auto d = load(dir, std::string(kGood) + "device: auto\n");
  CHECK(d.hash == a.hash);
}

TEST_CASE("the resolved YAML loads back to the same config", "[config]") {
  test::TempDir dir;
  auto a = load(dir, kGood);
  auto path = dir.write("resolved.yaml", to_yaml(a.json));
  auto b = load_config<RunConfig>(path, {});
  CHECK(b.hash == a.hash);
  CHECK(b.json == a.json);
}

TEST_CASE("an ordered mapping (sweep axes) keeps the written key order; the hash still ignores it", "[config]") {
  test::TempDir dir;
  auto a = load(dir, std::string(kGood) + "sweep:\n  grid:\n    theorem41.model.d: [1, 2]\n    seed: [0, 1]\n");
  auto b = load(dir, std::string(kGood) + "sweep:\n  grid:\n    seed: [0, 1]\n    theorem41.model.d: [1, 2]\n");
  REQUIRE(a.value.sweep->grid.size() == 2);
  REQUIRE(a.value.sweep->grid[0].first == "theorem41.model.d");
  REQUIRE(b.value.sweep->grid[0].first == "seed");
  REQUIRE(a.value.sweep->grid[1].second == std::vector<std::string>({"0", "1"}));
  REQUIRE(a.hash == b.hash);
  CHECK_THAT(to_yaml(a.json), Catch::Contains("theorem41.model.d: [\"1\", \"2\"]\n    seed:"));
}

// Issue 21, cases 7 and 8: small inputs with unbounded cost, and bytes that are not text.
TEST_CASE("a YAML alias bomb, invalid UTF-8, a NUL in a prompt and an over-long name are input errors",
          "[config][bad-input]") {
  test::TempDir dir;
  // 9 levels of 10 aliases each: 10^9 values from a few hundred bytes ("billion laughs").
  std::string bomb = "name: bomb\ntheorem41: {}\nsweep:\n  grid:\n    a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 9; ++i) {
    const std::string p = "*a" + std::to_string(i - 1);
    bomb += "    a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + p + ", " + p + ", " + p + ", " + p + ", " +
            p + ", " + p + ", " + p + ", " + p + ", " + p + ", " + p + "]\n";
  }
  REQUIRE(bomb.size() < 1000);
  CHECK_THAT(error_of(dir, bomb), Contains("expands to more than 1000000 values") && Contains("aliases"));
  // An alias inside its own anchor is a cycle (found by scripts/fuzz.sh: a stack overflow).
  CHECK_THAT(error_of(dir, "name: a\ntheorem41: {}\nx: &x [1, *x]\n"), Contains("nests deeper than 128 levels"));
  CHECK_THAT(error_of(dir, "name: \"caf\xe9\"\ntheorem41: {}\n"), Contains("c.yaml:1:") && Contains("not valid UTF-8"));
  CHECK_THAT(error_of(dir, "name: ok\ntheorem41: {}\n\xff\xfe: 1\n"), Contains("key is not valid UTF-8"));
  CHECK_THAT(error_of(dir, "name: " + std::string(300, 'n') + "\ntheorem41: {}\n"),
             Contains("300 characters long: at most 128"));
  CHECK_THAT(error_of(dir, "name: p\nmodel: {path: m}\nprompts: [{id: a, text: \"one\\0two\"}]\nmetrics: {}\n"),
             Contains("prompts[0].text") && Contains("NUL byte at byte 3"));
}
