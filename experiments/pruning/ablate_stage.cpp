// ablate.V: an OATS model with the low-rank terms of some matrices removed (paper Fig. 4):
// W' = (W - u v) restricted to S's pattern, i.e. the sparse part alone.
#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>

#include "experiments/checkpoint/stage_names.h"
#include "experiments/pruning/part.h"
#include "experiments/pruning/stages.h"
#include "framework/io/atomic_file.h"
#include "framework/io/safetensors.h"
#include "framework/model/language_model.h"
#include "framework/prune/save_checkpoint.h"
#include "framework/util/error.h"

namespace fs = std::filesystem;

namespace sinklab::pruning {
namespace {

using checkpoint::LowRankAblation;
namespace stage_names = checkpoint::stage_names;

class AblateStage : public Stage {
 public:
  AblateStage(std::string variant, std::string from, std::string dtype, LowRankAblation ablation)
      : variant_(std::move(variant)), from_(std::move(from)), dtype_(std::move(dtype)), ablation_(std::move(ablation)) {}
  std::string name() const override { return stage_names::ablate(variant_); }
  int version() const override { return 1; }
  nlohmann::ordered_json reads() const override { return {{"ablate_lowrank", encode_value(ablation_)}}; }
  std::vector<std::string> upstream() const override { return {stage_names::prune(from_)}; }

  void run(StageContext& ctx) const override {
    const std::string source = ctx.upstream_artifact(stage_names::prune(from_), "");
    checkpoint::ResolvedModel m;
    m.dtype = dtype_;
    auto model = load_language_model(source, m.scalar_type(), ctx.device(), m.offload);  // its own copy: edited in place
    SafetensorsFile lowrank((fs::path(source) / kLowRankFile).string());
    const std::int64_t L = model->spec().num_layers;
    std::vector<std::int64_t> layers = ablation_.layers;
    if (layers.empty())
      for (std::int64_t l = 0; l < L; ++l) layers.push_back(l);
    nlohmann::ordered_json removed = nlohmann::ordered_json::array();
    for (auto l : layers) {
      SINKLAB_INPUT_CHECK(l < L, "variants.{}.ablate_lowrank.layers: layer {} does not exist: the model has layers 0..{}",
                          variant_, l, L - 1);
      for (auto& lin : model->linear_layers(l)) {
        if (std::find(ablation_.matrices.begin(), ablation_.matrices.end(), lin.kind) == ablation_.matrices.end()) continue;
        auto u = lowrank.tensor(lin.name + ".lowrank_u"), v = lowrank.tensor(lin.name + ".lowrank_v");
        auto keep = lowrank.tensor(lin.name + ".sparse_mask").to(at::kBool).to(lin.weight.device());
        auto sparse = (lin.weight.to(at::kFloat) - at::matmul(u, v).to(lin.weight.device())) * keep;
        lin.weight.copy_(sparse.to(lin.weight.scalar_type()));
        removed.push_back(lin.name);
      }
    }
    for (const auto& kind : ablation_.matrices) {
      bool known = false;
      for (auto& lin : model->linear_layers(0)) known = known || lin.kind == kind;
      SINKLAB_INPUT_CHECK(known, "variants.{}.ablate_lowrank.matrices: '{}' is not a linear map of {} blocks", variant_,
                          kind, model->spec().model_type);
    }
    const std::string dir = ctx.artifact_dir();
    save_hf_checkpoint(*model, source, dir, {{"sinklab_pruning", kPruningReport}});
    auto report = nlohmann::ordered_json::parse(read_file((fs::path(source) / kPruningReport).string()));
    report["lowrank_removed_from"] = removed;
    write_file_atomic((fs::path(dir) / kPruningReport).string(), report.dump(2) + "\n");
    ctx.output().write_strings("lowrank_removed_from", removed.get<std::vector<std::string>>(),
                               {{"meaning", std::string("maps whose low-rank term was zeroed")}});
  }

 private:
  std::string variant_, from_, dtype_;
  LowRankAblation ablation_;
};

}  // namespace

std::unique_ptr<Stage> make_ablate_stage(const std::string& variant, const std::string& from, const std::string& dtype,
                                         const checkpoint::LowRankAblation& ablation) {
  return std::make_unique<AblateStage>(variant, from, dtype, ablation);
}

}  // namespace sinklab::pruning
