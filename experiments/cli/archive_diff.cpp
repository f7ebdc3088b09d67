#include "experiments/cli/archive_diff.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <map>

#include "framework/io/json_numbers.h"
#include "framework/io/run_archive.h"
#include "framework/sweep/sweep_plan.h"
#include "framework/util/error.h"
#include "framework/util/strings.h"

namespace sinklab::cli {
namespace {

using Files = std::map<std::string, std::string>;

std::vector<std::string> config_lines(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& l : split(text, '\n'))
    if (!l.empty() && l[0] != '#') out.push_back(l);
  return out;
}

// Lines only one side has, as "- line" / "+ line"; returns how many.
int diff_lines(const std::vector<std::string>& a, const std::vector<std::string>& b, const std::string& indent) {
  int changes = 0;
  for (const auto& l : a)
    if (std::find(b.begin(), b.end(), l) == b.end()) std::cout << indent << "- " << l << "\n", ++changes;
  for (const auto& l : b)
    if (std::find(a.begin(), a.end(), l) == a.end()) std::cout << indent << "+ " << l << "\n", ++changes;
  return changes;
}

std::map<std::string, double> numbers_of(const Files& files, const std::string& path) {
  auto it = files.find(path);
  if (it == files.end()) return {};
  auto j = nlohmann::json::parse(it->second, nullptr, false);
  return j.is_discarded() ? std::map<std::string, double>{} : json_numbers(j);
}

// Every number that differs or exists on one side only, under `header` (printed only when
// something differs); returns how many.
int diff_numbers(const std::map<std::string, double>& a, const std::map<std::string, double>& b, const std::string& indent,
                 const std::string& header = "") {
  int diffs = 0;
  auto line = [&](const std::string& text) { std::cout << (diffs++ == 0 ? header : "") << indent << text << "\n"; };
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end()) line(fmt::format("{}: {} -> (absent)", k, v));
    else if (it->second != v) line(fmt::format("{}: {} -> {}", k, v, it->second));
  }
  for (const auto& [k, v] : b)
    if (!a.count(k)) line(fmt::format("{}: (absent) -> {}", k, v));
  return diffs;
}

void diff_runs(const Files& a, const Files& b) {
  std::cout << "config (resolved):\n";
  const bool ca = a.count("config.resolved.yaml"), cb = b.count("config.resolved.yaml");
  if (!ca || !cb)
    std::cout << "  (" << (ca ? "B" : cb ? "A" : "neither archive") << " has no config.resolved.yaml)\n";
  else if (diff_lines(config_lines(a.at("config.resolved.yaml")), config_lines(b.at("config.resolved.yaml")), "  ") == 0)
    std::cout << "  identical\n";
  std::cout << "summary.json (A -> B):\n";
  if (diff_numbers(numbers_of(a, "summary.json"), numbers_of(b, "summary.json"), "  ") == 0) std::cout << "  identical\n";
}

// Point label ("key=value, ...") -> index.
std::map<std::string, std::size_t> points_by_label(const SweepPlan& plan) {
  std::map<std::string, std::size_t> out;
  for (std::size_t i = 0; i < plan.points.size(); ++i) out[plan.points[i].label()] = i;
  return out;
}

void diff_sweeps(const Files& a, const Files& b) {
  const auto sa = SweepPlan::from_json(a.at("sweep.json"), "A"), sb = SweepPlan::from_json(b.at("sweep.json"), "B");
  auto plan_lines = [](const SweepPlan& s) {
    std::vector<std::string> out;
    for (const auto& [kind, axes] : {std::pair{"grid", &s.grid}, std::pair{"zip", &s.zipped}})
      for (const auto& ax : *axes) out.push_back(fmt::format("{} {}: {}", kind, ax.key, nlohmann::json(ax.values).dump()));
    for (const auto& o : s.overrides) out.push_back("override " + o);
    return out;
  };
  std::cout << "sweep (axes, overrides):\n";
  if (diff_lines(plan_lines(sa), plan_lines(sb), "  ") == 0) std::cout << "  identical\n";
  std::cout << "config of point 0 (resolved):\n";
  const bool ca = a.count("points/0/config.resolved.yaml"), cb = b.count("points/0/config.resolved.yaml");
  if (!ca || !cb || diff_lines(config_lines(a.at("points/0/config.resolved.yaml")), config_lines(b.at("points/0/config.resolved.yaml")), "  ") == 0)
    std::cout << (ca && cb ? "  identical\n" : "  (a point has no config.resolved.yaml)\n");
  std::cout << "points (A -> B), matched by their axis values:\n";
  const auto pa = points_by_label(sa), pb = points_by_label(sb);
  int diffs = 0;
  for (const auto& [label, i] : pa) {
    auto it = pb.find(label);
    if (it == pb.end()) {
      std::cout << "  " << label << ": only in A\n", ++diffs;
      continue;
    }
    diffs += diff_numbers(numbers_of(a, fmt::format("points/{}/summary.json", i)),
                          numbers_of(b, fmt::format("points/{}/summary.json", it->second)), "    ", "  " + label + ":\n");
  }
  for (const auto& [label, j] : pb)
    if (!pa.count(label)) std::cout << "  " << label << ": only in B\n", ++diffs;
  if (diffs == 0) std::cout << "  identical\n";
}

}  // namespace

int archive_diff(const std::string& a_file, const std::string& b_file) {
  for (const auto& f : {a_file, b_file}) {
    auto problems = verify_archive(f);
    SINKLAB_INPUT_CHECK(problems.empty(), "{} failed verification: {}", f, problems.front());
  }
  const std::vector<std::string> wanted{"sweep.json", "summary.json", "config.resolved.yaml"};
  const Files a = read_archive_files(a_file, wanted), b = read_archive_files(b_file, wanted);
  const bool sweep_a = a.count("sweep.json"), sweep_b = b.count("sweep.json");
  SINKLAB_INPUT_CHECK(sweep_a == sweep_b, "{} is a {} and {} a {}: diff compares two runs or two sweeps", a_file,
                      sweep_a ? "sweep" : "run", b_file, sweep_b ? "sweep" : "run");
  if (sweep_a)
    diff_sweeps(a, b);
  else
    diff_runs(a, b);
  return 0;
}

}  // namespace sinklab::cli
