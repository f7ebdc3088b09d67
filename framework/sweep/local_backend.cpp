#include "framework/sweep/local_backend.h"

#include <chrono>
#include <filesystem>
#include <map>

#include "framework/util/log.h"
#include "framework/util/subprocess.h"
#include "framework/util/system.h"

namespace fs = std::filesystem;

namespace sinklab {

void run_points_locally(const SweepPlan& plan, const std::vector<std::size_t>& indices, int jobs) {
  struct Running {
    std::size_t index;
    PointStatus status;
    std::chrono::steady_clock::time_point t0;
  };
  std::map<pid_t, Running> running;
  std::size_t next = 0, finished = 0;
  while (finished < indices.size()) {
    while (running.size() < std::size_t(std::max(1, jobs)) && next < indices.size()) {
      const std::size_t i = indices[next++];
      fs::create_directories(fs::path(plan.log(i)).parent_path());
      fs::remove(plan.log(i));
      fs::remove(plan.status_file(i));
      Running r{i, {}, std::chrono::steady_clock::now()};
      r.status.started = now_iso8601();
      r.status.host = host_name();
      running[spawn_logged(plan.points[i].command, plan.log(i))] = r;
    }
    auto [pid, code] = wait_any_child();
    if (pid < 0) break;  // no children left (cannot happen while `running` is non-empty)
    auto it = running.find(pid);
    if (it == running.end()) continue;
    Running r = it->second;
    running.erase(it);
    ++finished;
    r.status.exit_code = code;
    r.status.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - r.t0).count();
    r.status.finished = now_iso8601();
    write_point_status(plan, r.index, r.status);
    if (code == 0)
      log::info("sweep: point {} ({}) done in {:.1f}s [{}/{}]", r.index, plan.points[r.index].label(), r.status.seconds,
                finished, indices.size());
    else
      log::warn("sweep: point {} ({}) failed with exit code {}; see {}", r.index, plan.points[r.index].label(), code,
                plan.log(r.index));
  }
}

}  // namespace sinklab
