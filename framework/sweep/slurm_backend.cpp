#include "framework/sweep/slurm_backend.h"

#include <filesystem>

#include "framework/io/atomic_file.h"
#include "framework/util/error.h"
#include "framework/util/strings.h"
#include "framework/util/subprocess.h"

namespace fs = std::filesystem;

namespace sinklab {
namespace {

// Single-quoted for bash; a ' inside becomes '\''.
std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// "0-8" for a contiguous range, else "1,4,7".
std::string array_spec(const std::vector<std::size_t>& indices) {
  bool contiguous = true;
  for (std::size_t i = 1; i < indices.size(); ++i) contiguous = contiguous && indices[i] == indices[i - 1] + 1;
  if (contiguous && indices.size() > 1) return fmt::format("{}-{}", indices.front(), indices.back());
  std::vector<std::string> parts;
  for (auto i : indices) parts.push_back(std::to_string(i));
  return join(parts, ",");
}

}  // namespace

nlohmann::ordered_json slurm_options_json(const SlurmOptions& o) {
  return {{"partition", o.partition}, {"time", o.time}, {"account", o.account}, {"mem", o.mem},   {"gpus", o.gpus},
          {"max_parallel", o.max_parallel}, {"extra", o.extra}, {"sinklab", o.sinklab}};
}

SlurmOptions slurm_options_from_json(const nlohmann::json& j) {
  SlurmOptions o;
  o.partition = j.value("partition", "");
  o.time = j.value("time", "");
  o.account = j.value("account", "");
  o.mem = j.value("mem", "");
  o.gpus = j.value("gpus", 0);
  o.max_parallel = j.value("max_parallel", 0);
  o.extra = j.value("extra", std::vector<std::string>{});
  o.sinklab = j.value("sinklab", "");
  return o;
}

std::string slurm_array_script(const SweepPlan& plan, const SlurmOptions& o, const std::vector<std::size_t>& indices) {
  SINKLAB_CHECK(!indices.empty(), "slurm_array_script: no points");
  std::string s = "#!/bin/bash\n";
  s += fmt::format("# sinklab sweep {} as a Slurm job array: one task per grid point.\n", plan.dir);
  s += "# Follow with `sinklab sweep status DIR`, aggregate with `sinklab sweep collect DIR`.\n";
  auto directive = [&](const std::string& option) { s += "#SBATCH " + option + "\n"; };
  directive("--job-name=sinklab-" + (plan.name.empty() ? std::string("sweep") : plan.name));
  directive("--array=" + array_spec(indices) + (o.max_parallel > 0 ? fmt::format("%{}", o.max_parallel) : ""));
  directive("--output=\"" + plan.dir + "/logs/slurm-%a.out\"");
  directive("--ntasks=1");
  directive(fmt::format("--cpus-per-task={}", plan.threads));
  if (!o.partition.empty()) directive("--partition=" + o.partition);
  if (!o.time.empty()) directive("--time=" + o.time);
  if (!o.account.empty()) directive("--account=" + o.account);
  if (!o.mem.empty()) directive("--mem=" + o.mem);
  if (o.gpus > 0) directive(fmt::format("--gpus={}", o.gpus));
  for (const auto& e : o.extra) directive(e);
  s += "\nset -euo pipefail\n";
  s += fmt::format("exec {} sweep point {} \"$SLURM_ARRAY_TASK_ID\"\n", shell_quote(o.sinklab), shell_quote(plan.dir));
  return s;
}

std::string submit_slurm_array(SweepPlan& plan, const SlurmOptions& o, const std::vector<std::size_t>& indices) {
  SINKLAB_INPUT_CHECK(!find_on_path("sbatch").empty(),
                      "Slurm is not available here: no `sbatch` on PATH. Run the sweep with --backend local, or on a "
                      "machine with a Slurm client (Debian: apt-get install slurm-client)");
  fs::create_directories(plan.dir + "/slurm");
  fs::create_directories(plan.dir + "/logs");
  auto jobs = plan.backend_info.contains("jobs") && plan.backend_info["jobs"].is_array() ? plan.backend_info["jobs"]
                                                                                      : nlohmann::ordered_json::array();
  const std::string name = jobs.empty() ? "sweep.sbatch" : fmt::format("resume-{}.sbatch", jobs.size());
  const std::string script = plan.dir + "/slurm/" + name;
  write_file_atomic(script, slurm_array_script(plan, o, indices));
  fs::permissions(script, fs::perms::owner_exec, fs::perm_options::add);
  auto r = run_captured({"sbatch", "--parsable", script});
  SINKLAB_INPUT_CHECK(r.exit_code == 0, "sbatch refused the sweep (exit code {}): {}\nThe script is {}; check the Slurm "
                      "options (--partition, --time, --gpus) or whether the Slurm controller is up (sinfo)",
                      r.exit_code, trim(r.err + r.out), script);
  // --parsable prints "jobid" or "jobid;cluster"
  std::string job = trim(r.out);
  job = job.substr(0, job.find(';'));
  SINKLAB_CHECK(!job.empty(), "sbatch printed no job id (output: '{}')", r.out);
  plan.backend = "slurm";
  jobs.push_back({{"job_id", job}, {"script", "slurm/" + name}, {"array", array_spec(indices)}});
  plan.backend_info["jobs"] = jobs;
  plan.backend_info["options"] = slurm_options_json(o);
  plan.save();
  return job;
}

std::optional<std::map<std::size_t, std::string>> slurm_queue_states(const std::vector<std::string>& job_ids) {
  if (find_on_path("squeue").empty()) return std::nullopt;
  std::map<std::size_t, std::string> states;
  for (const auto& job_id : job_ids) {
    // -r: one line per array task; %K: the task's array index; %T: its state.
    auto r = run_captured({"squeue", "-h", "-r", "-j", job_id, "-o", "%K %T"});
    if (r.exit_code != 0) {
      // A job that has left the queue entirely is "Invalid job id" for squeue: nothing queued.
      if (r.err.find("Invalid job id") != std::string::npos) continue;
      return std::nullopt;
    }
    for (const auto& line : split(r.out, '\n')) {
      auto parts = split(trim(line), ' ');
      if (parts.size() < 2) continue;
      // A pending array not yet split into tasks shows its range ("3-8%2"): expand it.
      auto spec = parts[0].substr(0, parts[0].find('%'));
      for (const auto& piece : split(spec, ',')) {
        auto dash = piece.find('-');
        try {
          std::size_t lo = std::stoul(piece.substr(0, dash)), hi = dash == std::string::npos ? lo : std::stoul(piece.substr(dash + 1));
          for (std::size_t i = lo; i <= hi; ++i) states[i] = parts[1];
        } catch (const std::exception&) {
        }
      }
    }
  }
  return states;
}

}  // namespace sinklab
