#include "framework/runner/provenance.h"

#include <H5public.h>
#include <boost/version.hpp>
#include <cairo.h>
#include <dlfcn.h>
#include <fmt/core.h>
#include <openssl/opensslv.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <torch/version.h>

#include <filesystem>

#include "framework/io/hdf5_store.h"
#include "framework/util/hash.h"
#include "framework/util/system.h"
#include "framework/util/threads.h"

namespace sinklab {

namespace {

// The BLAS this process computes with: OpenBLAS says which build and kernel it runs (its speed
// and its float results depend on both); anything else is named by what it is not.
std::string blas_in_use() {
  using GetConfig = char* (*)();
  using GetCore = char* (*)();
  auto config = reinterpret_cast<GetConfig>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
  auto core = reinterpret_cast<GetCore>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (!config) return "not OpenBLAS (reference BLAS or another library)";
  return fmt::format("{}{}", config(), core ? fmt::format(" ({})", core()) : std::string());
}

}  // namespace

nlohmann::ordered_json library_versions() {
  unsigned maj = 0, min = 0, rel = 0;
  H5get_libversion(&maj, &min, &rel);
  return {{"libtorch", TORCH_VERSION},
          {"hdf5", fmt::format("{}.{}.{}", maj, min, rel)},
          {"yaml_cpp", SINKLAB_YAML_CPP_VERSION},
          {"fmt", fmt::format("{}.{}.{}", FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100)},
          {"boost", fmt::format("{}.{}.{}", BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100)},
          {"openssl", OPENSSL_VERSION_TEXT},
          {"cairo", cairo_version_string()},
          {"blas", blas_in_use()},
          {"compiler", __VERSION__}};
}

nlohmann::ordered_json build_provenance(const ProvenanceInput& in) {
  nlohmann::ordered_json p;
  GitState git = source_git_state();
  p["sinklab_version"] = SINKLAB_VERSION;
  p["git"] = {{"commit", git.commit}, {"dirty", git.dirty}};
  p["command_line"] = in.command_line;
  p["working_directory"] = std::filesystem::current_path().string();
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const auto& f : in.config_files) files.push_back({{"path", f}, {"sha256", sha256_file(f)}});
  p["config"] = {{"hash", in.config_hash}, {"files", files}, {"resolved", in.resolved_config}};
  p["time"] = {{"started", in.started}, {"finished", in.finished}, {"seconds", in.seconds}};
  nlohmann::ordered_json stages = nlohmann::ordered_json::array();
  nlohmann::ordered_json inputs = nlohmann::ordered_json::array();
  for (const auto& s : in.stages) {
    stages.push_back({{"name", s.name},
                      {"version", s.version},
                      {"key", s.key},
                      {"cached", s.cached},
                      {"seconds", s.seconds},
                      {"compute_seconds", s.compute_seconds},
                      {"peak_anonymous_mib", s.peak_anonymous_mib},
                      {"entry", s.entry}});
    for (const auto& [path, hash] : s.input_files) inputs.push_back({{"path", path}, {"sha256", hash}, {"stage", s.name}});
  }
  p["stages"] = stages;
  p["input_files"] = inputs;
  // Invariance checks (invariance_check.h): what each found, from its entry's attributes.
  nlohmann::ordered_json checks = nlohmann::ordered_json::array();
  for (const auto& s : in.stages) {
    if (s.name.rfind("check.", 0) != 0 || s.entry.empty()) continue;
    Hdf5File entry(s.entry, Hdf5File::Mode::read);
    auto attr = [&](const char* name) { return entry.attr("/", name).value_or(AttrValue(std::string())); };
    checks.push_back({{"stage", std::get<std::string>(attr("stage"))},
                      {"check", s.name},
                      {"condition", std::get<std::string>(attr("condition"))},
                      {"max_relative_difference", std::get<double>(entry.attr("/", "max_relative").value_or(AttrValue(0.0)))},
                      {"worst_dataset", std::get<std::string>(attr("worst_dataset"))},
                      {"within_tolerance", std::get<std::int64_t>(entry.attr("/", "within_tolerance").value_or(AttrValue(std::int64_t(0)))) != 0}});
  }
  if (!checks.empty()) p["checks"] = checks;
  struct utsname u {};
  uname(&u);
  p["host"] = {{"name", host_name()},
               {"os", fmt::format("{} {} {}", u.sysname, u.release, u.machine)},
               {"cpu", cpu_model()},
               {"cpus", hardware_threads()},
               {"threads", in.threads}};
  p["device"] = {{"selected", in.device}, {"cuda_available", cuda_available()}, {"cuda_devices", cuda_device_count()}};
  p["libraries"] = library_versions();
  p["seeds"] = {{"seed", in.seed}};
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  p["peak_memory_mib"] = double(usage.ru_maxrss) / 1024.0;  // resident set high-water mark (ru_maxrss is KiB)
  return p;
}

}  // namespace sinklab
