#include "framework/prune/block_store.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "framework/io/safetensors.h"
#include "framework/model/language_model.h"
#include "framework/util/error.h"

namespace fs = std::filesystem;

namespace sinklab {
namespace {

nlohmann::json record_json(const PrunedLayerRecord& r) {
  return {{"name", r.name}, {"kind", r.kind}, {"layer", r.layer}, {"rows", r.rows}, {"cols", r.cols},
          {"zeros", r.zeros}, {"parameters", r.parameters}, {"rank", r.rank}, {"seconds", r.seconds},
          {"relative_error", r.relative_error}, {"objective", r.objective}};
}

PrunedLayerRecord record_from(const nlohmann::json& j) {
  PrunedLayerRecord r;
  r.name = j.at("name").get<std::string>();
  r.kind = j.at("kind").get<std::string>();
  r.layer = j.at("layer").get<std::int64_t>();
  r.rows = j.at("rows").get<std::int64_t>();
  r.cols = j.at("cols").get<std::int64_t>();
  r.zeros = j.at("zeros").get<std::int64_t>();
  r.parameters = j.at("parameters").get<std::int64_t>();
  r.rank = j.at("rank").get<std::int64_t>();
  r.seconds = j.at("seconds").get<double>();
  r.relative_error = j.at("relative_error").get<double>();
  r.objective = j.at("objective").get<std::vector<double>>();
  return r;
}

}  // namespace

PrunedBlockStore::PrunedBlockStore(std::string dir) : dir_(std::move(dir)) { fs::create_directories(dir_); }

std::string PrunedBlockStore::shard(std::int64_t layer) const {
  return (fs::path(dir_) / fmt::format("block-{:05d}.safetensors", layer)).string();
}

std::string PrunedBlockStore::lowrank(std::int64_t layer) const {
  return fs::exists(lowrank_path(layer)) ? lowrank_path(layer) : std::string();
}

std::string PrunedBlockStore::lowrank_path(std::int64_t layer) const {
  return (fs::path(dir_) / fmt::format("block-{:05d}.lowrank.safetensors", layer)).string();
}

bool PrunedBlockStore::has(std::int64_t layer) const { return fs::exists(shard(layer)); }

void PrunedBlockStore::save(std::int64_t layer, const LanguageModel& model, const std::vector<PrunedLayerRecord>& records,
                            double seconds) const {
  nlohmann::json recs = nlohmann::json::array();
  std::vector<std::pair<std::string, at::Tensor>> factors;
  for (const auto& r : records) {
    recs.push_back(record_json(r));
    if (!r.lowrank_u.defined()) continue;
    factors.emplace_back(r.name + ".lowrank_u", r.lowrank_u);
    factors.emplace_back(r.name + ".lowrank_v", r.lowrank_v);
    factors.emplace_back(r.name + ".sparse_mask", r.keep.to(at::kByte));
  }
  std::error_code ec;
  fs::remove(lowrank_path(layer), ec);  // a killed earlier try's
  if (!factors.empty()) write_safetensors(lowrank_path(layer), factors);
  write_safetensors(shard(layer), model.checkpoint_tensors(layer),
                    {{"format", "pt"}, {"sinklab_records", recs.dump()}, {"sinklab_seconds", fmt::format("{:.17g}", seconds)}});
}

std::pair<std::vector<PrunedLayerRecord>, double> PrunedBlockStore::restore(std::int64_t layer, LanguageModel& model) const {
  const std::string path = shard(layer);
  const std::string fix = fmt::format("delete {} (or run with --force) to prune from scratch", dir_);
  try {
    SafetensorsFile f(path);
    std::set<std::string> want, got;
    for (const auto& [name, t] : model.checkpoint_tensors(layer)) want.insert(name);
    for (const auto& name : f.names()) got.insert(name);
    SINKLAB_INPUT_CHECK(want == got, "holds {} tensors, block {} of the model has {} under other names or more",
                        got.size(), layer, want.size());
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (const auto& name : f.names()) tensors.emplace_back(name, f.tensor(name));
    model.assign_checkpoint_tensors(tensors);
    std::vector<PrunedLayerRecord> records;
    for (const auto& j : nlohmann::json::parse(f.metadata().at("sinklab_records"))) records.push_back(record_from(j));
    for (const auto& r : records)
      SINKLAB_INPUT_CHECK(r.rank == 0 || !lowrank(layer).empty(), "'{}' has rank {} but its factors file is missing",
                          r.name, r.rank);
    return {records, std::stod(f.metadata().at("sinklab_seconds"))};
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}; {}", path, e.what(), fix));
  } catch (const std::exception& e) {  // a missing metadata key, malformed JSON
    throw InputError(fmt::format("{}: not a finished block of this prune ({}); {}", path, e.what(), fix));
  }
}

}  // namespace sinklab
