// `sinklab model random CONFIG_JSON OUT`: a checkpoint with a real model's shapes and random
// weights (framework/model/random_checkpoint.h), to measure a model's cost before fetching it.
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "experiments/cli/commands.h"
#include "experiments/cli/options.h"
#include "framework/io/atomic_file.h"
#include "framework/model/random_checkpoint.h"
#include "framework/util/error.h"

namespace fs = std::filesystem;

namespace sinklab::cli {

int model_random_command(const std::vector<std::string>& args) {
  po::options_description desc("sinklab model random options");
  desc.add_options()
      ("layers", po::value<std::int64_t>()->default_value(-1), "keep this many blocks (default: as config.json says)")
      ("dtype", po::value<std::string>()->default_value("bfloat16"), "float32 | bfloat16 | float16")
      ("seed", po::value<std::uint64_t>()->default_value(0), "random seed")
      ("tokenizer", po::value<std::string>(), "copy tokenizer.json (and tokenizer_config.json) from this directory");
  po::variables_map vm;
  const std::string usage =
      "usage: sinklab model random CONFIG_JSON OUT [options]\n\n"
      "Writes a checkpoint directory OUT with CONFIG_JSON's exact shapes (any family sinklab loads) and random\n"
      "weights: N(0, 0.02), norms 1, biases 0; one shard per block, so a 14 B model is made a block at a time.";
  if (!parse_command(args, desc, usage, vm, {"CONFIG_JSON", "OUT"})) return 0;
  const auto rest = rest_arguments(vm);
  SINKLAB_INPUT_CHECK(rest.size() == 1, "give the output directory: sinklab model random CONFIG_JSON OUT");
  const std::string config_path = first_argument(vm), out = rest[0];
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(read_file(config_path));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("'{}' is not valid JSON: {}", config_path, e.what()));
  }
  const std::string dtype = vm["dtype"].as<std::string>();
  SINKLAB_INPUT_CHECK(dtype == "float32" || dtype == "bfloat16" || dtype == "float16",
                      "--dtype must be float32, bfloat16 or float16, got '{}'", dtype);
  SINKLAB_INPUT_CHECK(!fs::exists(fs::path(out) / "config.json"),
                      "'{}' already holds a checkpoint; remove it or choose another OUT", out);
  RandomCheckpointOptions opts;
  opts.layers = vm["layers"].as<std::int64_t>();
  opts.dtype = dtype == "float32" ? at::kFloat : dtype == "float16" ? at::kHalf : at::kBFloat16;
  opts.seed = vm["seed"].as<std::uint64_t>();
  config["torch_dtype"] = dtype;
  if (vm.count("tokenizer")) {  // checked before any weight is written
    const fs::path from = vm["tokenizer"].as<std::string>();
    SINKLAB_INPUT_CHECK(fs::exists(from / "tokenizer.json"), "'{}' has no tokenizer.json (--tokenizer)", from.string());
  }
  const bool created = !fs::exists(out);
  std::uint64_t bytes = 0;
  try {
    bytes = write_random_checkpoint(config, out, opts);
  } catch (...) {  // a config the family refuses, a full disk: leave no half checkpoint behind
    std::error_code ec;
    if (created) fs::remove_all(out, ec);
    throw;
  }
  if (vm.count("tokenizer")) {
    const fs::path from = vm["tokenizer"].as<std::string>();
    for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
      if (fs::exists(from / f)) fs::copy_file(from / f, fs::path(out) / f, fs::copy_options::overwrite_existing);
  }
  std::cout << fmt::format("{}: {:.3f} GB of random {} weights\n", out, double(bytes) / 1e9, dtype);
  return 0;
}

}  // namespace sinklab::cli
