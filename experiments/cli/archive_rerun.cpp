#include "experiments/cli/archive_rerun.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>

#include "experiments/cli/options.h"
#include "experiments/cli/rerun_inputs.h"
#include "experiments/cli/sweep_support.h"
#include "experiments/cli/text_table.h"
#include "framework/io/atomic_file.h"
#include "framework/io/result_diff.h"
#include "framework/io/run_archive.h"
#include "framework/runner/cache.h"
#include "framework/runner/provenance.h"
#include "framework/util/error.h"
#include "framework/util/interrupt.h"
#include "framework/util/log.h"
#include "framework/util/strings.h"
#include "framework/util/subprocess.h"
#include "framework/util/system.h"
#include "framework/util/threads.h"

namespace fs = std::filesystem;

namespace sinklab::cli {
namespace {

nlohmann::json read_json_file(const fs::path& path) {
  SINKLAB_INPUT_CHECK(fs::exists(path), "the archive holds no {}: rerun needs a run's archive (provenance.json, "
                      "config.resolved.yaml, summary.json)", path.filename().string());
  auto j = nlohmann::json::parse(read_file(path.string()), nullptr, false);
  SINKLAB_INPUT_CHECK(!j.is_discarded(), "{} in the archive is not valid JSON", path.filename().string());
  return j;
}

// The settings the archived run had that this machine may not share; each difference is a
// warning (numbers may then differ within the tolerances, or beyond them).
void warn_about_differences(const nlohmann::json& archived) {
  auto said = [](const nlohmann::json& j, const char* key) { return j.contains(key) ? j[key].dump() : "(not recorded)"; };
  const auto here = library_versions();
  if (archived.value("sinklab_version", "") != SINKLAB_VERSION)
    log::warn("the archive was made by sinklab {}, this is {}", said(archived, "sinklab_version"), SINKLAB_VERSION);
  const std::string commit = archived.contains("git") ? archived["git"].value("commit", "") : "";
  const auto git = source_git_state();
  if (!commit.empty() && !git.commit.empty() && commit != git.commit)
    log::warn("the archive was made at commit {}, this build is at {}", commit.substr(0, 12), git.commit.substr(0, 12));
  const auto libs = archived.value("libraries", nlohmann::json::object());
  for (const char* lib : {"libtorch", "blas"})
    if (!libs.contains(lib) || libs[lib].dump() != here[lib].dump())
      log::warn("{}: the archived run used {}, this machine has {}", lib, said(libs, lib), here[lib].dump());
}

std::string format_value(double x) { return std::isfinite(x) ? fmt::format("{:.3g}", x) : fmt::format("{}", x); }

void print_table(const std::vector<QuantityDiff>& diffs, std::size_t show) {
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < std::min(show, diffs.size()); ++i) {
    const auto& d = diffs[i];
    std::string verdict = d.agrees() ? (d.differing ? "agrees" : "equal") : "DIFFERS";
    if (!d.problem.empty()) verdict += ": " + d.problem;
    rows.push_back({d.name, d.dtype, std::to_string(d.elements), std::to_string(d.differing), format_value(d.max_abs),
                    format_value(d.relative), d.tolerance == 0 ? "exact" : format_value(d.tolerance), verdict});
  }
  std::cout << text_table({"quantity", "dtype", "elements", "differing", "max |diff|", "relative", "tolerance", "verdict"},
                          rows, "<<>>>>><");
  if (diffs.size() > show) std::cout << fmt::format("... and {} more (--show N)\n", diffs.size() - show);
}

}  // namespace

int archive_rerun(const std::vector<std::string>& args) {
  const std::string usage =
      "usage: sinklab archive rerun FILE [--models DIR] [--data DIR] [--tolerance GLOB=REL ...] [--work DIR] [--show N]\n\n"
      "Runs an archived run again on this machine, on the inputs it read (found by their SHA-256), and compares every\n"
      "summary.json number and run.h5 dataset with the archive's. Exit 0: everything agrees; 3: something differs;\n"
      "2: an input is missing or different, or the archive is not a run's (nothing is run then).";
  po::options_description desc("sinklab archive rerun options");
  desc.add_options()
      ("models", po::value<std::vector<std::string>>()->composing(), "a directory holding the archived run's checkpoints (repeatable)")
      ("data", po::value<std::vector<std::string>>()->composing(), "a directory holding its prompts, calibration and eval data (repeatable)")
      ("tolerance", po::value<std::vector<std::string>>()->composing(),
       "GLOB=REL: the relative tolerance of the quantities whose name matches GLOB (e.g. 'summary.json:eval.*=1e-3', "
       "'run.h5:/prune.*=1e-2'); REL alone: every float's; integers and strings are exact unless a glob names them")
      ("work", po::value<std::string>(), "keep the unpacked archive, the rerun and its cache in DIR (must not exist); "
       "default: a temporary directory, removed at the end")
      ("show", po::value<std::size_t>()->default_value(20), "rows of the comparison table (largest differences first)");
  po::variables_map vm;
  if (!parse_command(args, desc, usage, vm, {"FILE", ""})) return 0;
  apply_verbosity(vm);
  const std::string file = first_argument(vm);
  SINKLAB_INPUT_CHECK(fs::is_regular_file(file), "archive '{}' does not exist", file);

  // Where everything goes: a temporary directory unless --work names one to keep.
  std::string work;
  if (vm.count("work")) {
    work = vm["work"].as<std::string>();
    SINKLAB_INPUT_CHECK(!fs::exists(work), "--work {} exists already: name a new directory", work);
    fs::create_directories(work);
  } else {
    std::string pattern = (fs::temp_directory_path() / "sinklab-rerun-XXXXXX").string();
    SINKLAB_CHECK(mkdtemp(pattern.data()) != nullptr, "cannot create a temporary directory under {}",
                  fs::temp_directory_path().string());
    work = pattern;
  }
  std::optional<RemoveOnInterrupt> cleanup_on_interrupt;
  if (!vm.count("work")) cleanup_on_interrupt.emplace(work);
  struct RemoveAtExit {
    std::string path;
    ~RemoveAtExit() {
      std::error_code ec;
      if (!path.empty()) fs::remove_all(path, ec);
    }
  } remove_at_exit{vm.count("work") ? "" : work};

  const fs::path archived = fs::path(work) / "archived";
  unpack_archive(file, archived.string());  // verifies every hash first
  SINKLAB_INPUT_CHECK(!fs::exists(archived / "sweep.json"),
                      "{} is a sweep's archive: rerun takes one run's; pack a point (sinklab archive pack SWEEP/points/I) "
                      "and rerun that", file);
  const auto provenance = read_json_file(archived / "provenance.json");
  const auto expected_summary = read_json_file(archived / "summary.json");
  SINKLAB_INPUT_CHECK(provenance.contains("config") && provenance["config"].contains("resolved"),
                      "the archive's provenance.json has no resolved config (config.resolved): it cannot be rerun");
  warn_about_differences(provenance);

  // The inputs, by fingerprint; the config pointed at them.
  const std::string cache_dir = (fs::path(work) / "cache").string();
  fs::create_directories(cache_dir);
  StageCache fingerprints(cache_dir);
  std::vector<std::string> roots;
  for (const char* opt : {"models", "data"})
    if (vm.count(opt))
      for (const auto& d : vm[opt].as<std::vector<std::string>>()) {
        SINKLAB_INPUT_CHECK(fs::is_directory(d), "--{} {} is not a directory", opt, d);
        roots.push_back(d);
      }
  roots.push_back(fs::current_path().string());
  const auto inputs = recorded_inputs(provenance);
  const auto located = locate_inputs(inputs, provenance.value("working_directory", ""), roots, fingerprints);
  nlohmann::ordered_json config = provenance["config"]["resolved"];
  Renamed renamed;
  for (const auto& r : redirect_config_paths(config, located)) {
    log::info("input moved: {}: {} -> {}", r.key, r.was, r.now);
    renamed.emplace_back(r.was, r.now);
  }
  const std::string config_path = (fs::path(work) / "config.rerun.yaml").string();
  write_file_atomic(config_path, config.dump(2) + "\n");  // JSON is YAML

  // Same threads and device as the archived run, where this machine has them.
  const auto host = provenance.value("host", nlohmann::json::object());
  const int threads = host.value("threads", 0);
  std::string device = provenance.value("device", nlohmann::json::object()).value("selected", std::string("cpu"));
  const bool archived_on_gpu = device.rfind("cuda", 0) == 0;
  if (archived_on_gpu && !cuda_available()) {
    log::warn("the archived run used {}; this machine has no CUDA device, so the rerun uses the CPU", device);
    device = "cpu";
  }
  if (threads > 0 && unsigned(threads) > hardware_threads())
    log::warn("the archived run used {} threads; this machine has {}", threads, hardware_threads());
  // A GPU on either side: the archived one (a GPU here is only chosen when the archive used one).
  Tolerances tolerances = Tolerances::defaults(archived_on_gpu);
  if (vm.count("tolerance"))
    for (const auto& t : vm["tolerance"].as<std::vector<std::string>>()) tolerances.add_override(t);

  const std::string rerun_dir = (fs::path(work) / "rerun").string(), log_path = (fs::path(work) / "rerun.log").string();
  std::vector<std::string> argv{self_executable(), "run", config_path, "--out", rerun_dir, "--results",
                                (fs::path(work) / "results").string(), "--cache", cache_dir, "--device", device};
  if (threads > 0) argv.insert(argv.end(), {"--threads", std::to_string(threads)});
  log::info("rerunning {} ({} threads, {}); log: {}", file, threads, device, log_path);
  const pid_t child = spawn_logged(argv, log_path);
  int code = 0;
  {
    SignalOnInterrupt pass_on(child);
    code = wait_child(child);
  }
  if (code != 0) {
    const std::string log_text = fs::exists(log_path) ? read_file(log_path) : "";
    throw InputError(fmt::format("the rerun failed (exit {}); the end of its log ({}):\n{}", code, log_path,
                                 log_text.substr(log_text.size() > 3000 ? log_text.size() - 3000 : 0)));
  }

  // Every number and tensor against the archive's.
  const auto actual_summary = read_json_file(fs::path(rerun_dir) / "summary.json");
  auto diffs = diff_summaries(expected_summary, actual_summary, tolerances, renamed);
  const bool tensors = fs::exists(archived / "run.h5");
  if (tensors) {
    auto more = diff_hdf5_files((archived / "run.h5").string(), (fs::path(rerun_dir) / "run.h5").string(), tolerances, renamed);
    diffs.insert(diffs.end(), more.begin(), more.end());
  }
  sort_by_severity(diffs);
  const auto disagreeing = std::count_if(diffs.begin(), diffs.end(), [](const QuantityDiff& d) { return !d.agrees(); });
  const auto unequal = std::count_if(diffs.begin(), diffs.end(), [](const QuantityDiff& d) { return d.differing > 0; });
  std::cout << fmt::format("rerun of {}: {} quantities compared ({}), {} equal, {} within tolerance, {} differ\n", file,
                           diffs.size(), tensors ? "summary.json and run.h5" : "summary.json only: the archive holds no run.h5",
                           diffs.size() - std::size_t(unequal), unequal - disagreeing, disagreeing);
  std::cout << fmt::format("default tolerances (relative to each quantity's largest |value|): float64 {}, float32 {}, "
                           "bfloat16/float16 {}, summary floats {}; integers, booleans and strings exact{}\n",
                           tolerances.float64, tolerances.float32, tolerances.half, tolerances.summary,
                           archived_on_gpu ? " (a GPU run: looser)" : "");
  if (expected_summary.value("config_hash", "") != actual_summary.value("config_hash", ""))
    std::cout << fmt::format("config hash: {} archived, {} rerun (not compared: it changes with the input paths)\n",
                             expected_summary.value("config_hash", "?").substr(0, 12),
                             actual_summary.value("config_hash", "?").substr(0, 12));
  print_table(diffs, vm["show"].as<std::size_t>());
  if (vm.count("work")) std::cout << "kept: " << work << "\n";
  std::cout << (disagreeing ? "the rerun DISAGREES with the archive\n" : "the rerun agrees with the archive\n");
  return disagreeing ? 3 : 0;
}

}  // namespace sinklab::cli
