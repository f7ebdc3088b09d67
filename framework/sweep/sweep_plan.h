#pragma once
// A sweep directory and what is written into it, whichever backend runs the points:
//   <sweep>/sweep.json        the plan: config, overrides, axes, every point's command (written
//                             before any point runs; the backend adds e.g. the Slurm job id)
//   <sweep>/points/<i>/       point i's run directory (a normal run: provenance, summary.json)
//   <sweep>/logs/<i>.log      its output
//   <sweep>/status/<i>.json   written when point i ends: exit code, seconds, host
//   <sweep>/summary.{csv,h5}, figures/   written by collect (sweep_summary.h)
#include <nlohmann/json.hpp>
#include <sys/types.h>

#include <chrono>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "framework/sweep/sweep_grid.h"

namespace sinklab {

struct SweepPointPlan : SweepPoint {
  std::vector<std::string> command;  // argv of the point's `sinklab run`
};

struct SweepPlan {
  std::string name;                    // the config's name
  std::string dir;                     // the sweep directory (absolute)
  std::string config;                  // absolute config path
  std::vector<std::string> overrides;  // applied to every point before its own
  std::string working_directory;       // where the sweep was started (relative paths in the config)
  std::string cache;                   // stage cache the points share ("" = one per point)
  int threads = 1;                     // CPU threads per point
  std::vector<SweepAxis> grid, zipped;
  std::vector<SweepPointPlan> points;
  std::string metric;                  // summary.json path plotted by collect ("" = none)
  std::string backend = "local";       // local | slurm
  nlohmann::ordered_json backend_info = nlohmann::ordered_json::object();  // e.g. slurm job id

  std::string run_dir(std::size_t i) const;  // <dir>/points/<i>
  std::string log(std::size_t i) const;      // <dir>/logs/<i>.log
  std::string status_file(std::size_t i) const;

  void save() const;                          // sweep.json (atomically)
  static SweepPlan load(const std::string& dir);  // InputError when dir is not a sweep
  // From sweep.json's content (e.g. read out of an archive); `dir` is where it lives.
  static SweepPlan from_json(const std::string& text, const std::string& dir);
};

struct PointStatus {
  int exit_code = -1;
  double seconds = 0;
  std::string started, finished, host;
};

std::optional<PointStatus> read_point_status(const SweepPlan& plan, std::size_t i);
void write_point_status(const SweepPlan& plan, std::size_t i, const PointStatus& status);

// A point's `sinklab run` as a child process: start_point clears its old log and status and
// spawns it; finish_point records how it ended (status/<i>.json).
struct PointProcess {
  std::size_t index = 0;
  pid_t pid = -1;
  PointStatus status;  // started, host; exit code, seconds, finished once finished
  std::chrono::steady_clock::time_point t0;
};
PointProcess start_point(const SweepPlan& plan, std::size_t i);
void finish_point(const SweepPlan& plan, PointProcess& point, int exit_code);

// Runs point i and waits for it (what a Slurm array task does); returns its exit code.
int run_sweep_point(const SweepPlan& plan, std::size_t i);

}  // namespace sinklab
