#include "framework/prune/save_checkpoint.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <set>

#include "framework/io/checkpoint_dir.h"
#include "framework/io/safetensors.h"
#include "framework/io/atomic_file.h"
#include "framework/model/language_model.h"
#include "framework/prune/block_store.h"
#include "framework/util/error.h"

namespace fs = std::filesystem;

namespace sinklab {

namespace {

// Every regular file of the source except its weights (written anew) and their index.
void copy_other_files(const std::string& source_dir, const std::string& out_dir) {
  for (const auto& e : fs::directory_iterator(source_dir)) {
    const std::string file = e.path().filename().string();
    const bool weights = file.size() > 12 && file.rfind(".safetensors") == file.size() - 12;
    if (!e.is_regular_file() || weights || file == "model.safetensors.index.json") continue;
    fs::copy_file(e.path(), fs::path(out_dir) / file, fs::copy_options::overwrite_existing);
  }
}

// `tensors` in the source's dtypes, plus what the source has that `held` lacks (buffers, a tied
// lm_head written out), copied as it is.
std::vector<std::pair<std::string, at::Tensor>> with_source_extras(
    CheckpointDir& source, std::vector<std::pair<std::string, at::Tensor>> tensors, const std::set<std::string>& held) {
  for (auto& [name, t] : tensors) {
    SINKLAB_CHECK(source.has(name), "{} has no tensor '{}' to replace", source.dir(), name);
    t = t.to(at::kCPU).to(source.tensor(name).scalar_type());
  }
  for (const auto& name : source.names())
    if (!held.count(name)) tensors.emplace_back(name, source.tensor(name));
  return tensors;
}

}  // namespace

void save_hf_checkpoint(const LanguageModel& model, const std::string& source_dir, const std::string& out_dir,
                        const std::map<std::string, std::string>& metadata) {
  fs::create_directories(out_dir);
  CheckpointDir source(source_dir);
  std::set<std::string> held;
  auto tensors = model.checkpoint_tensors();
  for (const auto& [name, t] : tensors) held.insert(name);
  auto meta = metadata;
  meta["format"] = "pt";  // transformers refuses safetensors metadata without it
  write_safetensors((fs::path(out_dir) / "model.safetensors").string(), with_source_extras(source, tensors, held), meta);
  copy_other_files(source_dir, out_dir);
}

void save_sharded_checkpoint(const LanguageModel& model, const PrunedBlockStore& blocks, const std::string& source_dir,
                             const std::string& out_dir, const std::map<std::string, std::string>& metadata) {
  fs::create_directories(out_dir);
  CheckpointDir source(source_dir);
  const std::int64_t layers = model.spec().num_layers, shards = layers + 1;
  auto shard_name = [&](std::int64_t i) { return fmt::format("model-{:05d}-of-{:05d}.safetensors", i + 1, shards); };
  nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
  std::uintmax_t total = 0;
  std::set<std::string> held;
  for (std::int64_t l = 0; l < layers; ++l) {
    SINKLAB_CHECK(blocks.has(l), "block {} is not in {}", l, blocks.dir());
    const fs::path to = fs::path(out_dir) / shard_name(l);
    std::error_code ec;
    fs::remove(to, ec);
    fs::create_hard_link(blocks.shard(l), to, ec);
    if (ec) fs::copy_file(blocks.shard(l), to);
    SafetensorsFile shard(to.string());
    for (const auto& name : shard.names()) {
      weight_map[name] = shard_name(l);
      held.insert(name);
      total += shard.info(name).end - shard.info(name).begin;
    }
  }
  auto rest = model.checkpoint_tensors(-1);
  for (const auto& [name, t] : rest) held.insert(name);
  rest = with_source_extras(source, rest, held);
  auto meta = metadata;
  meta["format"] = "pt";
  write_safetensors((fs::path(out_dir) / shard_name(layers)).string(), rest, meta);
  for (const auto& [name, t] : rest) {
    weight_map[name] = shard_name(layers);
    total += std::uintmax_t(t.numel()) * t.element_size();
  }
  nlohmann::ordered_json index{{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
  write_file_atomic((fs::path(out_dir) / "model.safetensors.index.json").string(), index.dump(2) + "\n");
  copy_other_files(source_dir, out_dir);
}

}  // namespace sinklab
