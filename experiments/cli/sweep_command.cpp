// `sinklab sweep`: every point of a grid as a normal run (own run directory and provenance)
// sharing one stage cache, so stages whose inputs a point does not change are computed once.
// Points run as child processes (--jobs in parallel); a failed point is reported and the others
// go on. The sweep directory gets sweep.json (points, status, run directories), summary.csv
// (one row per point: its axes and every number in its summary.json) and, with --metric, a
// figure of that metric over the swept axes.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "experiments/cli/commands.h"
#include "experiments/cli/options.h"
#include "experiments/experiment.h"
#include "framework/io/atomic_file.h"
#include "framework/io/json_numbers.h"
#include "framework/plot/figures.h"
#include "framework/runner/runner.h"
#include "framework/runner/sweep_grid.h"
#include "framework/util/error.h"
#include "framework/util/hash.h"
#include "framework/util/log.h"
#include "framework/util/strings.h"
#include "framework/util/system.h"

namespace fs = std::filesystem;

namespace sinklab::cli {
namespace {

std::string self_executable() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  SINKLAB_CHECK(!ec, "cannot find the sinklab executable: {}", ec.message());
  return p.string();
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = fork();
  SINKLAB_CHECK(pid >= 0, "fork failed");
  if (pid == 0) {
    FILE* f = std::fopen(log.c_str(), "w");
    if (f) {
      dup2(fileno(f), 1);
      dup2(fileno(f), 2);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

struct PointResult {
  int exit_code = -1;
  double seconds = 0;
  std::string run_dir, log;
  std::map<std::string, double> metrics;
};

}  // namespace

int sweep_command(const std::vector<std::string>& args) {
  po::options_description desc("sinklab sweep options");
  desc.add_options()("grid", po::value<std::vector<std::string>>()->composing(), "an axis: key.path=v1,v2,... (repeatable)")(
      "zip", po::value<std::vector<std::string>>()->composing(), "an axis that advances with the other --zip axes")(
      "jobs,j", po::value<int>()->default_value(1), "points run in parallel")(
      "results", po::value<std::string>()->default_value("results"), "results directory")(
      "cache", po::value<std::string>(), "stage cache (default RESULTS/.cache), shared by every point")(
      "threads", po::value<int>(), "CPU threads per point (default: cores / jobs)")(
      "metric", po::value<std::string>(), "dotted path into the points' summary.json to plot over the axes");
  po::variables_map vm;
  const std::string usage =
      "usage: sinklab sweep CONFIG [key.path=value ...] --grid a.b=v1,v2 [--grid ...] [--zip ...] [--jobs N]\n\n"
      "Runs every point of the grid (the cartesian product of --grid axes and of the config's `sweep: {grid: ...}`\n"
      "section; --zip axes advance together) as its own run, sharing the stage cache.";
  if (!parse_command(args, desc, usage, vm)) return 0;
  apply_verbosity(vm);
  const std::string config_path = vm["config"].as<std::string>();
  std::vector<std::string> base;
  if (vm.count("overrides")) base = vm["overrides"].as<std::vector<std::string>>();
  auto cfg = load_config<RunConfig>(config_path, base);

  std::vector<SweepAxis> grid, zipped;
  if (cfg.value.sweep) {
    for (const auto& [k, v] : cfg.value.sweep->grid) grid.push_back({k, v});
    for (const auto& [k, v] : cfg.value.sweep->zip) zipped.push_back({k, v});
  }
  if (vm.count("grid"))
    for (const auto& g : vm["grid"].as<std::vector<std::string>>()) grid.push_back(parse_sweep_axis(g));
  if (vm.count("zip"))
    for (const auto& z : vm["zip"].as<std::vector<std::string>>()) zipped.push_back(parse_sweep_axis(z));
  const auto points = expand_sweep(grid, zipped);

  // Every point must be a valid config with its inputs present before any of them runs.
  std::vector<std::string> hashes;
  for (std::size_t i = 0; i < points.size(); ++i) {
    auto overrides = base;
    for (const auto& o : points[i].overrides()) overrides.push_back(o);
    try {
      auto point = load_config<RunConfig>(config_path, overrides);
      Runner runner(RunnerOptions{});
      auto experiments = add_experiment_stages(point.value, runner);
      runner.validate();
      for (const auto& e : experiments)
        for (const auto& p : e->input_problems()) throw InputError(p);
      hashes.push_back(point.hash);
    } catch (const InputError& e) {
      throw InputError(fmt::format("sweep point {} ({}) is not a valid run: {}", i, points[i].label(), e.what()));
    }
  }
  const int jobs = std::max(1, vm["jobs"].as<int>());
  const int threads = vm.count("threads") ? vm["threads"].as<int>() : int(std::max(1u, hardware_threads() / unsigned(jobs)));
  const std::string results = vm["results"].as<std::string>();
  const std::string cache = vm.count("cache") ? vm["cache"].as<std::string>() : (fs::path(results) / ".cache").string();
  ensure_writable_dir(cache, "choose a writable cache with --cache DIR or --results DIR");
  const std::string dir = (fs::path(results) / cfg.value.name /
                           ("sweep-" + now_compact() + "-" + sha256_hex(join(hashes, ",")).substr(0, 8))).string();
  fs::create_directories(fs::path(dir) / "logs");
  log::info("sweep: {} points, {} in parallel, {} threads each -> {}", points.size(), jobs, threads, dir);

  // Run the points, at most `jobs` at a time.
  const std::string exe = self_executable();
  std::vector<PointResult> done(points.size());
  std::map<pid_t, std::pair<std::size_t, std::chrono::steady_clock::time_point>> running;
  std::size_t next = 0, finished = 0;
  auto t0 = std::chrono::steady_clock::now();
  while (finished < points.size()) {
    while (running.size() < std::size_t(jobs) && next < points.size()) {
      std::vector<std::string> argv{exe, "run", config_path};
      for (const auto& o : base) argv.push_back(o);
      for (const auto& o : points[next].overrides()) argv.push_back(o);
      done[next].run_dir = (fs::path(dir) / "points" / std::to_string(next)).string();
      done[next].log = (fs::path(dir) / "logs" / (std::to_string(next) + ".log")).string();
      for (const auto& a : std::vector<std::string>{"--out", done[next].run_dir, "--cache", cache, "--results", results,
                                                     "--threads", std::to_string(threads)})
        argv.push_back(a);
      running[spawn(argv, done[next].log)] = {next, std::chrono::steady_clock::now()};
      ++next;
    }
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) continue;
    auto [index, started] = running.at(pid);
    running.erase(pid);
    PointResult& r = done[index];
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    ++finished;
    if (r.exit_code == 0) {
      r.metrics = json_numbers(nlohmann::json::parse(read_file(r.run_dir + "/summary.json")), /*booleans=*/true, 64);
      log::info("sweep: point {}/{} ({}) done in {:.1f}s", finished, points.size(), points[index].label(), r.seconds);
    } else {
      log::warn("sweep: point {} ({}) failed with exit code {}; see {}", index, points[index].label(), r.exit_code, r.log);
    }
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // summary.csv: axes, status, seconds, then every metric any point produced.
  std::set<std::string> columns;
  for (const auto& r : done)
    for (const auto& [k, v] : r.metrics) columns.insert(k);
  std::string csv = "point";
  for (const auto& a : points.front().assignments) csv += "," + csv_field(a.first);
  csv += ",exit_code,seconds";
  for (const auto& c : columns) csv += "," + csv_field(c);
  csv += "\n";
  nlohmann::ordered_json sweep{{"config", fs::absolute(config_path).string()}, {"overrides", base},
                               {"cache", fs::absolute(cache).string()},       {"jobs", jobs},
                               {"wall_seconds", wall},                        {"points", nlohmann::ordered_json::array()}};
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& r = done[i];
    csv += std::to_string(i);
    nlohmann::ordered_json assignments = nlohmann::ordered_json::object();
    for (const auto& [k, v] : points[i].assignments) csv += "," + csv_field(v), assignments[k] = v;
    csv += fmt::format(",{},{:.3f}", r.exit_code, r.seconds);
    for (const auto& c : columns) {
      auto it = r.metrics.find(c);
      csv += "," + (it == r.metrics.end() ? std::string() : fmt::format("{}", it->second));
    }
    csv += "\n";
    sweep["points"].push_back({{"index", i}, {"assignments", assignments}, {"exit_code", r.exit_code},
                               {"seconds", r.seconds}, {"run", fs::relative(r.run_dir, dir).string()},
                               {"log", fs::relative(r.log, dir).string()}});
  }
  write_file_atomic(dir + "/summary.csv", csv);
  write_file_atomic(dir + "/sweep.json", sweep.dump(2) + "\n");

  if (vm.count("metric")) {
    const std::string metric = vm["metric"].as<std::string>();
    SINKLAB_INPUT_CHECK(columns.count(metric), "--metric '{}' is not in the points' summary.json{}", metric,
                        did_you_mean(metric, std::vector<std::string>(columns.begin(), columns.end())));
    fs::create_directories(dir + "/figures");
    auto value = [&](std::size_t i) {
      auto it = done[i].metrics.find(metric);
      return it == done[i].metrics.end() ? NAN : it->second;
    };
    if (grid.size() == 2 && zipped.empty()) {
      plot::Heatmap h;
      h.title = metric;
      h.y_label = grid[0].key;
      h.x_label = grid[1].key;
      h.colorbar_label = metric;
      h.rows = int(grid[0].values.size());
      h.cols = int(grid[1].values.size());
      h.row_labels = grid[0].values;
      h.col_labels = grid[1].values;
      for (std::size_t i = 0; i < points.size(); ++i) h.values.push_back(value(i));
      plot::render_heatmap(h, dir + "/figures/sweep_heatmap");
    } else {
      // One line along the last grid axis per combination of the others.
      const auto& axis = grid.empty() ? zipped.front() : grid.back();
      plot::LinePlot lp{metric + " along " + axis.key, axis.key, metric, false, false, {}};
      const std::size_t n = axis.values.size();
      for (std::size_t start = 0; start < points.size(); start += n) {
        plot::Series s;
        for (std::size_t j = 0; j < n && start + j < points.size(); ++j) {
          char* end = nullptr;
          double x = std::strtod(axis.values[j].c_str(), &end);
          s.x.push_back(end && *end == 0 ? x : double(j));
          s.y.push_back(value(start + j));
        }
        auto others = points[start].assignments;
        others.erase(std::remove_if(others.begin(), others.end(), [&](const auto& a) { return a.first == axis.key; }), others.end());
        std::vector<std::string> parts;
        for (const auto& [k, v] : others) parts.push_back(k + "=" + v);
        s.label = parts.empty() ? metric : join(parts, ", ");
        lp.series.push_back(std::move(s));
      }
      plot::render_line_plot(lp, dir + "/figures/sweep_lines");
    }
  }

  std::vector<std::string> failed;
  for (std::size_t i = 0; i < points.size(); ++i)
    if (done[i].exit_code != 0) failed.push_back(fmt::format("{} ({}): {}", i, points[i].label(), done[i].log));
  fmt::print("{}\n", dir);
  if (!failed.empty()) {
    log::warn("sweep: {} of {} points failed:\n  {}", failed.size(), points.size(), join(failed, "\n  "));
    return 1;
  }
  log::info("sweep: {} points in {:.1f}s -> {}", points.size(), wall, dir);
  return 0;
}

}  // namespace sinklab::cli
