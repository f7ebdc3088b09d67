#include "tests/support/catch.h"

#include "framework/util/error.h"
#include "framework/util/progress.h"
#include "framework/util/strings.h"
#include "framework/util/system.h"

using namespace sinklab;

TEST_CASE("edit distance matches hand-computed Levenshtein distances", "[util]") {
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("seed", "seed") == 0);
  CHECK(edit_distance("sed", "seed") == 1);
}

TEST_CASE("did-you-mean suggests close names and stays quiet for unrelated ones", "[util]") {
  std::vector<std::string> keys{"seed", "name", "device", "threads", "theorem41"};
  CHECK(closest_match("sed", keys) == "seed");
  CHECK(closest_match("theorem_41", keys) == "theorem41");
  CHECK(closest_match("completely_different", keys).empty());
  CHECK(did_you_mean("devcie", keys) == " (did you mean 'device'?)");
}

TEST_CASE("split, join and trim", "[util]") {
  CHECK(split("a.b..c", '.') == std::vector<std::string>{"a", "b", "", "c"});
  CHECK(join({"x", "y", "z"}, ", ") == "x, y, z");
  CHECK(trim("  a b \n") == "a b");
}

TEST_CASE("errors carry their exit code", "[util]") {
  CHECK_THROWS_AS(([] { SINKLAB_INPUT_CHECK(false, "bad {}", 1); })(), InputError);
  try {
    SINKLAB_CHECK(1 + 1 == 3, "math is {}", "broken");
  } catch (const Error& e) {
    CHECK(e.exit_code() == 1);
    CHECK(std::string(e.what()).find("math is broken") != std::string::npos);
    CHECK(std::string(e.what()).find("(tests/util/strings_test.cpp:") != std::string::npos);
    CHECK(std::string(e.what()).find(source_dir()) == std::string::npos);  // repository-relative
  }
  CHECK(InputError("x").exit_code() == 2);
}

TEST_CASE("durations print for people", "[util]") {
  CHECK(format_duration(4.25) == "4.2s");
  CHECK(format_duration(83) == "1m23s");
  CHECK(format_duration(7322) == "2h02m");
}
