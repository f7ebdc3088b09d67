// Sweep axes and their combinations.
#include "tests/support/catch.h"

#include "framework/sweep/sweep_grid.h"
#include "framework/util/error.h"

using namespace sinklab;

TEST_CASE("sweep axes split values at top-level commas only", "[runner][sweep]") {
  auto a = parse_sweep_axis("prune.sparsity=0.3, 0.5,0.7");
  CHECK(a.key == "prune.sparsity");
  CHECK(a.values == std::vector<std::string>{"0.3", "0.5", "0.7"});
  auto b = parse_sweep_axis("probes=[{site: pattern, layers: [0, 1]}],[],\"a,b\"");
  CHECK(b.values == std::vector<std::string>{"[{site: pattern, layers: [0, 1]}]", "[]", "\"a,b\""});
  CHECK_THROWS_AS(parse_sweep_axis("no-equals"), InputError);
  CHECK_THROWS_AS(parse_sweep_axis("a=1,,2"), InputError);
}

TEST_CASE("grid axes combine as a product, zipped axes advance together", "[runner][sweep]") {
  auto points = expand_sweep({{"a", {"1", "2"}}, {"b", {"x", "y", "z"}}}, {{"c", {"p", "q"}}, {"d", {"7", "8"}}});
  REQUIRE(points.size() == 2 * 3 * 2);
  CHECK(points[0].label() == "a=1, b=x, c=p, d=7");
  CHECK(points[1].label() == "a=1, b=x, c=q, d=8");
  CHECK(points[2].label() == "a=1, b=y, c=p, d=7");  // the last grid axis varies fastest
  CHECK(points.back().overrides() == std::vector<std::string>{"a=2", "b=z", "c=q", "d=8"});
  CHECK_THROWS_AS(expand_sweep({}, {}), InputError);
  CHECK_THROWS_AS(expand_sweep({{"a", {"1"}}, {"a", {"2"}}}, {}), InputError);
  CHECK_THROWS_AS(expand_sweep({}, {{"c", {"1", "2"}}, {"d", {"1"}}}), InputError);
}
