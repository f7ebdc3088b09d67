// include:, ${ENV} expansion and command-line overrides.
#include "tests/support/catch.h"
#include <cstdlib>

#include "experiments/run_config.h"
#include "framework/util/error.h"
#include "tests/support/temp_dir.h"

using namespace sinklab;
using Catch::Contains;

static std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST_CASE("include merges a base config; the including file wins key by key", "[config]") {
  test::TempDir dir;
  dir.write("base/base.yaml", "name: base\nseed: 3\ntheorem41:\n  model: {b: 2, d: 3}\n  data: {count: 50}\n");
  auto top = dir.write("top.yaml", "include: base/base.yaml\nname: top\ntheorem41:\n  model: {d: 5}\n");
  auto cfg = load_config<RunConfig>(top, {});
  CHECK(cfg.value.name == "top");
  CHECK(cfg.value.seed == 3);
  CHECK(cfg.value.theorem41->model.b == 2);  // from the base
  CHECK(cfg.value.theorem41->model.d == 5);  // overridden
  CHECK(cfg.value.theorem41->data.count == 50);
  CHECK(cfg.files.size() == 2);
}

TEST_CASE("a list of includes applies in order, and nested includes resolve relative to their file", "[config]") {
  test::TempDir dir;
  dir.write("a/one.yaml", "include: ../shared/zero.yaml\nseed: 1\n");
  dir.write("shared/zero.yaml", "name: zero\nseed: 0\ntheorem41: {}\n");
  dir.write("two.yaml", "seed: 2\n");
  auto top = dir.write("top.yaml", "include: [a/one.yaml, two.yaml]\n");
  auto cfg = load_config<RunConfig>(top, {});
  CHECK(cfg.value.name == "zero");
  CHECK(cfg.value.seed == 2);
}

TEST_CASE("a missing include and an include cycle are reported with their location", "[config][bad-input]") {
  test::TempDir dir;
  auto top = dir.write("top.yaml", "name: x\ninclude: nowhere.yaml\n");
  CHECK_THAT(error_of([&] { load_config<RunConfig>(top, {}); }),
             Contains("top.yaml:2:10") && Contains("included config 'nowhere.yaml' not found"));
  dir.write("p.yaml", "include: q.yaml\n");
  auto q = dir.write("q.yaml", "include: p.yaml\n");
  CHECK_THAT(error_of([&] { load_config<RunConfig>(q, {}); }), Contains("include cycle"));
  CHECK_THAT(error_of([&] { load_config<RunConfig>(dir / "absent.yaml", {}); }), Contains("does not exist"));
}

TEST_CASE("${VAR} and ${VAR:-default} expand; an unset VAR without default is an error", "[config]") {
  test::TempDir dir;
  setenv("SINKLAB_TEST_NAME", "from-env", 1);
  unsetenv("SINKLAB_TEST_UNSET");
  auto path = dir.write("env.yaml",
                        "name: ${SINKLAB_TEST_NAME}\ndevice: ${SINKLAB_TEST_UNSET:-cpu}\ntheorem41:\n"
                        "  data: {count: \"${SINKLAB_TEST_UNSET:-12}\"}\n");
  auto cfg = load_config<RunConfig>(path, {});
  CHECK(cfg.value.name == "from-env");
  CHECK(cfg.value.device == "cpu");
  CHECK(cfg.value.theorem41->data.count == 12);
  auto bad = dir.write("bad.yaml", "name: x\ntheorem41:\n  model: {b: \"${SINKLAB_TEST_UNSET}\"}\n");
  CHECK_THAT(error_of([&] { load_config<RunConfig>(bad, {}); }),
             Contains("bad.yaml:3:") && Contains("SINKLAB_TEST_UNSET is not set") &&
                 Contains("${SINKLAB_TEST_UNSET:-default}"));
}

TEST_CASE("command-line overrides are validated like file keys", "[config]") {
  test::TempDir dir;
  auto path = dir.write("c.yaml", "name: x\ntheorem41: {}\n");
  auto cfg = load_config<RunConfig>(path, {"theorem41.model.d=4", "seed=9", "theorem41.s_tag={start: 2, num: 3}"});
  CHECK(cfg.value.theorem41->model.d == 4);
  CHECK(cfg.value.seed == 9);
  CHECK(cfg.value.theorem41->s_tag.start == 2);
  CHECK(cfg.value.theorem41->s_tag.stop == 30);  // untouched sibling keys keep their values
  CHECK_THAT(error_of([&] { load_config<RunConfig>(path, {"theorem41.modle.d=4"}); }),
             Contains("command line 'theorem41.modle.d=4'") && Contains("did you mean 'model'?"));
  CHECK_THAT(error_of([&] { load_config<RunConfig>(path, {"theorem41.model.d=-1"}); }),
             Contains("theorem41.model.d") && Contains("out of range"));
  CHECK_THAT(error_of([&] { load_config<RunConfig>(path, {"theorem41.model.d"}); }), Contains("key.path=value"));
  CHECK_THAT(error_of([&] { load_config<RunConfig>(path, {"name.x=1"}); }), Contains("not a mapping"));
}

TEST_CASE("an override `key=null` removes a key or a whole section; removing an absent key is an error",
          "[config]") {
  test::TempDir dir;
  auto path = dir.write("c.yaml", "name: c\nseed: 7\ntheorem41:\n  model: {b: 2, d: 3}\ntoy_learned:\n  models:\n"
                                  "    m: {model: {kind: toy-averaging-2d}}\n");
  auto full = load_config<RunConfig>(path, {});
  REQUIRE(full.value.toy_learned.has_value());
  auto cut = load_config<RunConfig>(path, {"toy_learned=null", "seed=~", "theorem41.model.d=null"});
  CHECK_FALSE(cut.value.toy_learned.has_value());  // the section is gone
  CHECK(cut.value.seed == 0);                        // a field takes its default
  CHECK(cut.value.theorem41->model.d == theorem41::ModelParams{}.d);
  CHECK(cut.value.theorem41->model.b == 2);
  // Removing a section is the same config as never writing it: same hash.
  auto without = dir.write("w.yaml", "name: c\ntheorem41:\n  model: {b: 2}\n");
  CHECK(cut.hash == load_config<RunConfig>(without, {}).hash);
  CHECK_THAT(error_of([&] { load_config<RunConfig>(path, {"toy_lerned=null"}); }),
             Contains("removes nothing") && Contains("did you mean 'toy_learned'"));
  CHECK_THAT(error_of([&] { load_config<RunConfig>(path, {"theorem41.data.count=null"}); }),
             Contains("'theorem41' has no key 'data'"));
  CHECK_THAT(error_of([&] { load_config<RunConfig>(path, {"seed="}); }), Contains("has no value"));
}
