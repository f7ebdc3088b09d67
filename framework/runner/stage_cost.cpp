#include "framework/runner/stage_cost.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>

namespace sinklab {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

std::string gib(double bytes) { return bytes <= 0 ? "-" : fmt::format("{:.2f}", bytes / kGiB); }

std::string duration(double seconds) {
  if (seconds < 120) return fmt::format("{:.1f} s", seconds);
  if (seconds < 7200) return fmt::format("{:.1f} min", seconds / 60);
  return fmt::format("{:.1f} h", seconds / 3600);
}

}  // namespace

double matmul_flops_per_second(at::ScalarType dtype, c10::Device device) {
  // Square-ish products of the size a block's maps have at a few hundred tokens; the best of a
  // few repetitions (the first also warms the BLAS threads up).
  const std::int64_t m = 512, k = 2048, n = 2048;
  auto opts = at::TensorOptions().dtype(dtype).device(device);
  auto a = at::randn({m, k}, opts), b = at::randn({k, n}, opts);
  double best = 1e30;
  for (int i = 0; i < 4; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto c = at::matmul(a, b);
    if (device.is_cuda()) c.cpu();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return 2.0 * double(m) * double(k) * double(n) / std::max(best, 1e-9);
}

std::string plan_table(const std::vector<PlannedStage>& stages, double base_bytes, c10::Device device) {
  std::map<at::ScalarType, double> speed;
  std::string out = fmt::format("{:<24} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>10}\n", "stage (GiB)",
                                "anon", "weights", "activ.", "hooks", "calib.", "solver", "kv", "mapped", "time");
  for (const auto& s : stages) {
    if (!s.cost) {
      out += fmt::format("{:<24} {}\n", s.name, s.note.empty() ? "(small)" : s.note);
      continue;
    }
    const StageCost& c = *s.cost;
    if (!speed.count(c.dtype)) speed[c.dtype] = matmul_flops_per_second(c.dtype, device);
    out += fmt::format("{:<24} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>10}\n", s.name,
                       gib(base_bytes + c.anonymous()), gib(c.weights), gib(c.activations), gib(c.hooks),
                       gib(c.calibration), gib(c.solver), gib(c.kv_cache), gib(c.mapped),
                       duration(c.flops / speed[c.dtype]));
  }
  std::string rates;
  for (const auto& [dtype, fps] : speed) rates += fmt::format(" {} {:.0f} GFLOP/s", c10::toString(dtype), fps / 1e9);
  out += fmt::format("anon includes the process's own {} GiB; time from matmul FLOPs at the measured{} ({})\n",
                     gib(base_bytes), rates.empty() ? " -" : rates, device.str());
  return out;
}

std::string over_budget(const std::vector<PlannedStage>& stages, double base_bytes, double budget_bytes) {
  std::string msg;
  for (const auto& s : stages) {
    if (!s.cost || base_bytes + s.cost->anonymous_within(base_bytes, budget_bytes) <= budget_bytes) continue;
    msg += fmt::format("\n  {}: about {:.1f} GiB{}", s.name, (base_bytes + s.cost->anonymous_within(base_bytes, budget_bytes)) / kGiB,
                       s.cost->fit.empty() ? "" : "; to fit: " + s.cost->fit);
  }
  if (msg.empty()) return "";
  return fmt::format("the memory budget is {:.1f} GiB and these stages would exceed it:{}\n"
                     "change those keys, raise --memory-budget, or run anyway with --ignore-memory-budget",
                     budget_bytes / kGiB, msg);
}

std::string spilling(const std::vector<PlannedStage>& stages, double base_bytes, double budget_bytes) {
  std::string out;
  for (const auto& s : stages)
    if (s.cost && s.cost->spills(base_bytes, budget_bytes))
      out += fmt::format("{}: over the {:.1f} GiB budget in memory: its calibration stream ({} GiB) goes to a scratch "
                         "file in the cache\n", s.name, budget_bytes / kGiB, gib(s.cost->spillable));
  return out;
}

}  // namespace sinklab
