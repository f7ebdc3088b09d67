#include "framework/sweep/local_backend.h"

#include <map>
#include <memory>

#include "framework/util/log.h"
#include "framework/util/interrupt.h"
#include "framework/util/subprocess.h"

namespace sinklab {

void run_points_locally(const SweepPlan& plan, const std::vector<std::size_t>& indices, int jobs) {
  std::map<pid_t, PointProcess> running;
  std::map<pid_t, std::unique_ptr<SignalOnInterrupt>> passed_on;  // SIGINT / SIGTERM reach the points too
  std::size_t next = 0, finished = 0;
  while (finished < indices.size()) {
    while (running.size() < std::size_t(std::max(1, jobs)) && next < indices.size()) {
      auto p = start_point(plan, indices[next++]);
      running[p.pid] = p;
      passed_on[p.pid] = std::make_unique<SignalOnInterrupt>(p.pid);
    }
    auto [pid, code] = wait_any_child();
    if (pid < 0) break;  // no children left (cannot happen while `running` is non-empty)
    auto it = running.find(pid);
    if (it == running.end()) continue;
    PointProcess p = it->second;
    running.erase(it);
    passed_on.erase(pid);
    ++finished;
    finish_point(plan, p, code);
    const std::string label = plan.points[p.index].label();
    if (code == 0)
      log::info("sweep: point {} ({}) done in {:.1f}s [{}/{}]", p.index, label, p.status.seconds, finished, indices.size());
    else
      log::warn("sweep: point {} ({}) failed with exit code {}; see {}", p.index, label, code, plan.log(p.index));
  }
}

}  // namespace sinklab
