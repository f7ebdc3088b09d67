#include "framework/sweep/sweep_plan.h"

#include <chrono>
#include <filesystem>

#include "framework/io/atomic_file.h"
#include "framework/util/error.h"
#include "framework/util/subprocess.h"
#include "framework/util/system.h"

namespace fs = std::filesystem;

namespace sinklab {

std::string SweepPlan::run_dir(std::size_t i) const { return (fs::path(dir) / "points" / std::to_string(i)).string(); }
std::string SweepPlan::log(std::size_t i) const { return (fs::path(dir) / "logs" / (std::to_string(i) + ".log")).string(); }
std::string SweepPlan::status_file(std::size_t i) const {
  return (fs::path(dir) / "status" / (std::to_string(i) + ".json")).string();
}

static nlohmann::ordered_json axes_json(const std::vector<SweepAxis>& axes) {
  auto j = nlohmann::ordered_json::array();
  for (const auto& a : axes) j.push_back({{"key", a.key}, {"values", a.values}});
  return j;
}

static std::vector<SweepAxis> axes_from(const nlohmann::json& j) {
  std::vector<SweepAxis> out;
  for (const auto& a : j) out.push_back({a.at("key").get<std::string>(), a.at("values").get<std::vector<std::string>>()});
  return out;
}

void SweepPlan::save() const {
  nlohmann::ordered_json j{{"format", "sinklab-sweep-1"}, {"name", name}, {"config", config},      {"overrides", overrides},
                           {"working_directory", working_directory},
                           {"cache", cache},              {"threads", threads},    {"grid", axes_json(grid)},
                           {"zip", axes_json(zipped)},    {"metric", metric},      {"backend", backend},
                           {"backend_info", backend_info}, {"points", nlohmann::ordered_json::array()}};
  for (std::size_t i = 0; i < points.size(); ++i) {
    nlohmann::ordered_json a = nlohmann::ordered_json::object();
    for (const auto& [k, v] : points[i].assignments) a[k] = v;
    j["points"].push_back({{"index", i},
                           {"assignments", a},
                           {"run", "points/" + std::to_string(i)},
                           {"log", "logs/" + std::to_string(i) + ".log"},
                           {"command", points[i].command}});
  }
  write_file_atomic((fs::path(dir) / "sweep.json").string(), j.dump(2) + "\n");
}

SweepPlan SweepPlan::load(const std::string& dir) {
  const auto file = fs::path(dir) / "sweep.json";
  SINKLAB_INPUT_CHECK(fs::exists(file), "'{}' is not a sweep directory (no sweep.json); give the directory `sinklab sweep` printed",
                      dir);
  return from_json(read_file(file.string()), fs::absolute(dir).lexically_normal().string());
}

SweepPlan SweepPlan::from_json(const std::string& text, const std::string& dir) {
  try {
    const auto j = nlohmann::json::parse(text);
    SINKLAB_INPUT_CHECK(j.value("format", "") == "sinklab-sweep-1", "unknown sweep format '{}'", j.value("format", ""));
    SweepPlan p;
    p.dir = dir;
    p.name = j.value("name", "");
    p.config = j.at("config").get<std::string>();
    p.overrides = j.at("overrides").get<std::vector<std::string>>();
    p.working_directory = j.value("working_directory", "");
    p.cache = j.at("cache").get<std::string>();
    p.threads = j.at("threads").get<int>();
    p.grid = axes_from(j.at("grid"));
    p.zipped = axes_from(j.at("zip"));
    p.metric = j.value("metric", "");
    p.backend = j.value("backend", "local");
    p.backend_info = j.value("backend_info", nlohmann::ordered_json::object());
    for (const auto& pt : j.at("points")) {
      SweepPointPlan point;
      // assignments keep the axes' order (nlohmann::json sorts object keys)
      for (const auto* axes : {&p.grid, &p.zipped})
        for (const auto& axis : *axes) point.assignments.push_back({axis.key, pt.at("assignments").at(axis.key).get<std::string>()});
      point.command = pt.at("command").get<std::vector<std::string>>();
      p.points.push_back(std::move(point));
    }
    return p;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}/sweep.json is damaged ({}); rerun the sweep", dir, e.what()));
  }
}

std::optional<PointStatus> read_point_status(const SweepPlan& plan, std::size_t i) {
  const auto file = plan.status_file(i);
  if (!fs::exists(file)) return std::nullopt;
  try {
    auto j = nlohmann::json::parse(read_file(file));
    return PointStatus{j.at("exit_code").get<int>(), j.at("seconds").get<double>(), j.value("started", ""),
                       j.value("finished", ""), j.value("host", "")};
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // written atomically, so this is a foreign file; the point counts as not run
  }
}

void write_point_status(const SweepPlan& plan, std::size_t i, const PointStatus& s) {
  fs::create_directories(fs::path(plan.status_file(i)).parent_path());
  nlohmann::ordered_json j{{"exit_code", s.exit_code}, {"seconds", s.seconds}, {"started", s.started},
                           {"finished", s.finished},   {"host", s.host}};
  write_file_atomic(plan.status_file(i), j.dump(2) + "\n");
}

PointProcess start_point(const SweepPlan& plan, std::size_t i) {
  SINKLAB_INPUT_CHECK(i < plan.points.size(), "point {} is not in the sweep (it has {} points, 0..{})", i, plan.points.size(),
                      plan.points.size() - 1);
  fs::create_directories(fs::path(plan.log(i)).parent_path());
  fs::remove(plan.log(i));
  fs::remove(plan.status_file(i));
  PointProcess p;
  p.index = i;
  p.status.started = now_iso8601();
  p.status.host = host_name();
  p.t0 = std::chrono::steady_clock::now();
  p.pid = spawn_logged(plan.points[i].command, plan.log(i));
  return p;
}

void finish_point(const SweepPlan& plan, PointProcess& p, int exit_code) {
  p.status.exit_code = exit_code;
  p.status.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - p.t0).count();
  p.status.finished = now_iso8601();
  write_point_status(plan, p.index, p.status);
}

int run_sweep_point(const SweepPlan& plan, std::size_t i) {
  auto p = start_point(plan, i);
  finish_point(plan, p, wait_child(p.pid));
  return p.status.exit_code;
}

}  // namespace sinklab
