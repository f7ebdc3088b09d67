// `sinklab inspect`: what a run directory or an HDF5 file holds, without recomputing anything.
#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <iostream>

#include "experiments/cli/commands.h"
#include "experiments/cli/options.h"
#include "framework/io/atomic_file.h"
#include "framework/io/hdf5_store.h"
#include "framework/util/error.h"
#include "framework/util/strings.h"

namespace fs = std::filesystem;

namespace sinklab::cli {

static void print_provenance(const nlohmann::json& p) {
  std::cout << "provenance\n";
  std::cout << fmt::format("  sinklab   {} (git {}{})\n", p.value("sinklab_version", "?"),
                           p["git"].value("commit", "").substr(0, 12), p["git"].value("dirty", false) ? ", dirty" : "");
  std::vector<std::string> cmd = p.value("command_line", std::vector<std::string>{});
  std::cout << fmt::format("  command   {}\n", join(cmd, " "));
  std::cout << fmt::format("  config    hash {}\n", p["config"].value("hash", ""));
  for (const auto& f : p["config"]["files"])
    std::cout << fmt::format("            {} (sha256 {})\n", f.value("path", ""), f.value("sha256", "").substr(0, 12));
  std::cout << fmt::format("  time      {} -> {} ({:.2f}s)\n", p["time"].value("started", ""),
                           p["time"].value("finished", ""), p["time"].value("seconds", 0.0));
  std::cout << fmt::format("  host      {} | {} | {} cpus, {} threads\n", p["host"].value("name", ""),
                           p["host"].value("cpu", ""), p["host"].value("cpus", 0), p["host"].value("threads", 0));
  std::cout << fmt::format("  device    {} (cuda available: {})\n", p["device"].value("selected", ""),
                           p["device"].value("cuda_available", false));
  std::vector<std::string> libs;
  for (auto it = p["libraries"].begin(); it != p["libraries"].end(); ++it)
    if (it.key() != "compiler") libs.push_back(it.key() + " " + it.value().get<std::string>());
  std::cout << "  libraries " << join(libs, ", ") << "\n";
  std::cout << fmt::format("  seed      {}\n", p["seeds"].value("seed", 0));
  std::cout << "stages\n";
  for (const auto& s : p["stages"])
    std::cout << fmt::format("  {:<24} v{}  {:<8} {:>8.3f}s  key {}\n", s.value("name", ""), s.value("version", 0),
                             s.value("cached", false) ? "cached" : "computed", s.value("compute_seconds", 0.0),
                             s.value("key", "").substr(0, 16));
}

static std::string shape_string(const std::vector<std::int64_t>& shape) {
  return "[" + fmt::format("{}", fmt::join(shape, ", ")) + "]";
}

static void print_tensors(const std::string& path) {
  Hdf5File f(path, Hdf5File::Mode::read);
  std::cout << "tensors in " << path << "\n";
  for (const auto& d : f.datasets()) {
    std::string meaning;
    if (auto it = d.attrs.find("meaning"); it != d.attrs.end()) meaning = attr_to_string(it->second);
    std::cout << fmt::format("  {:<40} {:<9} {:<14}{}  {}\n", d.path, d.dtype, shape_string(d.shape),
                             d.compressed ? " (compressed)" : "", meaning);
  }
}

int inspect_command(const std::vector<std::string>& args) {
  po::options_description desc("sinklab inspect options");
  po::variables_map vm;
  const std::string usage = "usage: sinklab inspect RUN_DIR|FILE.h5\n\n"
                            "Prints a run's provenance, its stages (cached or computed, timings, cache keys) and\n"
                            "every tensor with dtype, shape and meaning.";
  if (!parse_command(args, desc, usage, vm, {"RUN_DIR|FILE.h5", ""})) return 0;
  fs::path target = first_argument(vm);
  SINKLAB_INPUT_CHECK(fs::exists(target), "'{}' does not exist; give a run directory or an .h5 file", target.string());
  if (fs::is_directory(target)) {
    fs::path prov = target / "provenance.json", h5 = target / "run.h5";
    SINKLAB_INPUT_CHECK(!fs::exists(target / "sweep.json"),
                        "'{}' is a sweep: `sinklab sweep status {}` lists its points, and each point (points/<i>) is a "
                        "run directory that inspect reads", target.string(), target.string());
    SINKLAB_INPUT_CHECK(fs::exists(prov) && fs::exists(h5),
                        "'{}' is not a sinklab run directory (no provenance.json and run.h5)", target.string());
    std::cout << "run " << fs::absolute(target).string() << "\n";
    print_provenance(nlohmann::json::parse(read_file(prov.string())));
    print_tensors(h5.string());
    std::cout << "figures\n";
    std::vector<std::string> figs;
    for (const auto& e : fs::directory_iterator(target / "figures")) figs.push_back(e.path().filename().string());
    std::sort(figs.begin(), figs.end());
    for (const auto& f : figs) std::cout << "  " << f << "\n";
    return 0;
  }
  Hdf5File f(target.string(), Hdf5File::Mode::read);
  if (auto p = f.attr("/", "provenance")) print_provenance(nlohmann::json::parse(attr_to_string(*p)));
  for (const auto& [name, value] : f.attrs("/"))
    if (name != "provenance") std::cout << fmt::format("  @{} = {}\n", name, attr_to_string(value));
  print_tensors(target.string());
  return 0;
}

}  // namespace sinklab::cli
