// `sinklab archive pack|verify|unpack`: one verifiable file for a run or sweep directory.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <iostream>

#include "experiments/cli/commands.h"
#include "experiments/cli/archive_diff.h"
#include "experiments/cli/archive_rerun.h"
#include "experiments/cli/options.h"
#include "framework/io/run_archive.h"
#include "framework/util/error.h"
#include "framework/util/log.h"
#include "framework/util/strings.h"

namespace fs = std::filesystem;

namespace sinklab::cli {

int archive_command(const std::vector<std::string>& args) {
  const std::string usage =
      "usage: sinklab archive pack DIR [-o FILE.tar.gz|FILE.tar.zst] [--no-checkpoints] [--no-tensors]\n"
      "       sinklab archive verify FILE\n"
      "       sinklab archive unpack FILE DIR\n"
      "       sinklab archive diff A B        configs and summary numbers of two archives\n"
      "       sinklab archive rerun FILE [--models DIR] [--data DIR] [--tolerance GLOB=REL]   run it again here and compare\n\n"
      "An archive holds MANIFEST.json (every file's SHA-256 and size, the provenance summary) and the files.";
  SINKLAB_INPUT_CHECK(!args.empty(), "missing subcommand; {}", usage);
  const std::string sub = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (sub == "--help" || sub == "-h") {
    std::cout << usage << "\n";
    return 0;
  }
  if (sub == "pack") {
    po::options_description desc("sinklab archive pack options");
    desc.add_options()("output,o", po::value<std::string>(), "archive file (default: DIR's name + .tar.gz)")(
        "no-checkpoints", "leave out *.safetensors (checkpoints, pruned models)")("no-tensors", "leave out *.h5");
    po::variables_map vm;
    if (!parse_command(rest, desc, usage, vm, {"DIR", ""})) return 0;
    apply_verbosity(vm);
    const std::string dir = first_argument(vm);
    const std::string name = fs::path(fs::absolute(dir)).lexically_normal().filename().string();
    const std::string file = vm.count("output") ? vm["output"].as<std::string>() : name + ".tar.gz";
    ArchiveOptions o;
    o.checkpoints = !vm.count("no-checkpoints");
    o.tensors = !vm.count("no-tensors");
    auto n = pack_archive(dir, file, o);
    log::info("packed {} files of {} into {}", n, dir, file);
    std::cout << file << "\n";
    return 0;
  }
  if (sub == "verify") {
    SINKLAB_INPUT_CHECK(rest.size() == 1, "usage: sinklab archive verify FILE");
    auto problems = verify_archive(rest[0]);
    SINKLAB_INPUT_CHECK(problems.empty(), "{} failed verification:\n  {}", rest[0], join(problems, "\n  "));
    std::cout << rest[0] << ": every file matches its SHA-256\n";
    return 0;
  }
  if (sub == "unpack") {
    SINKLAB_INPUT_CHECK(rest.size() == 2, "usage: sinklab archive unpack FILE DIR");
    unpack_archive(rest[0], rest[1]);
    std::cout << rest[1] << "\n";
    return 0;
  }
  if (sub == "rerun") return archive_rerun(rest);
  if (sub == "diff") {
    SINKLAB_INPUT_CHECK(rest.size() == 2, "usage: sinklab archive diff A B");
    return archive_diff(rest[0], rest[1]);
  }
  throw InputError(fmt::format("unknown archive subcommand '{}'{}; {}", sub, did_you_mean(sub, {"pack", "verify", "unpack", "diff", "rerun"}),
                               usage));
}

}  // namespace sinklab::cli
