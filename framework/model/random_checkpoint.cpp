#include "framework/model/random_checkpoint.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <filesystem>

#include "framework/io/atomic_file.h"
#include "framework/io/safetensors.h"
#include "framework/model/families/registry.h"
#include "framework/model/family.h"
#include "framework/model/model_spec.h"
#include "framework/util/error.h"
#include "framework/util/strings.h"

namespace fs = std::filesystem;

namespace sinklab {

std::uint64_t write_random_checkpoint(nlohmann::json config, const std::string& out_dir,
                                      const RandomCheckpointOptions& options) {
  SINKLAB_INPUT_CHECK(config.is_object() && config.contains("model_type"), "config.json needs a model_type");
  const Family& family = find_family(config["model_type"].get<std::string>());
  if (options.layers >= 0) {
    SINKLAB_INPUT_CHECK(options.layers >= 1, "a model needs at least one block, got {}", options.layers);
    config[family.config.num_layers] = options.layers;
  }
  fs::create_directories(out_dir);
  const std::string config_path = (fs::path(out_dir) / "config.json").string();
  write_file_atomic(config_path, config.dump(2) + "\n");
  const ModelSpec spec = ModelSpec::from_config_json(config_path);  // checks the config as loading will
  const auto layout = checkpoint_layout(family, spec);

  at::manual_seed(options.seed);
  const std::int64_t shards = spec.num_layers + 1;
  auto shard_name = [&](std::int64_t i) { return fmt::format("model-{:05d}-of-{:05d}.safetensors", i + 1, shards); };
  nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
  std::uint64_t total = 0;
  for (std::int64_t shard = 0; shard < shards; ++shard) {
    const std::int64_t layer = shard < spec.num_layers ? shard : -1;  // the last shard: outside the blocks
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (const auto& t : layout) {
      if (t.layer != layer) continue;
      const auto opts = at::TensorOptions().dtype(at::kFloat);
      at::Tensor w = (t.name.size() > 5 && t.name.compare(t.name.size() - 5, 5, ".bias") == 0) ? at::zeros(t.shape, opts)
                     : t.shape.size() == 1      ? at::ones(t.shape, opts)  // a norm's scale
                                                : at::randn(t.shape, opts) * options.std;
      tensors.emplace_back(t.name, w.to(options.dtype));
      weight_map[t.name] = shard_name(shard);
      total += std::uint64_t(w.numel()) * c10::elementSize(options.dtype);
    }
    write_safetensors((fs::path(out_dir) / shard_name(shard)).string(), tensors, {{"format", "pt"}});
  }
  nlohmann::ordered_json index{{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
  write_file_atomic((fs::path(out_dir) / "model.safetensors.index.json").string(), index.dump(2) + "\n");
  return total;
}

}  // namespace sinklab
