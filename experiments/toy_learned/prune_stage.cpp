// toy_learned.M.seedS.prune.V: the final toy pruned with one method, measured again on the
// held-out set - do catch, tag and release survive? (the paper's Section 3 on the Section 4 toy)
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>

#include "experiments/toy_learned/experiment.h"
#include "framework/analysis/mechanism.h"
#include "framework/io/safetensors.h"
#include "framework/prune/prune_toy.h"

namespace sinklab::toy_learned {
namespace {

const auto f64 = at::TensorOptions().dtype(at::kDouble);

class ToyPruneStage : public Stage {
 public:
  ToyPruneStage(std::string model, ModelRun run, AveragingTask task, ExampleSequence example, std::int64_t seed,
                std::string variant, PruneConfig prune, int calibration)
      : model_(std::move(model)), run_(std::move(run)), task_(std::move(task)), example_(example), seed_(seed),
        variant_(std::move(variant)), prune_(std::move(prune)), calibration_(calibration) {}
  std::string train_stage() const { return ToyLearnedExperiment::stage_name(model_, seed_, "train"); }
  std::string name() const override { return ToyLearnedExperiment::prune_stage_name(model_, seed_, variant_); }
  int version() const override { return 2; }  // 2: example tokens and attention-view attributes
  nlohmann::ordered_json reads() const override {
    return {{"task", encode_value(task_)}, {"model", encode_value(run_.model)}, {"eval_sequences", run_.train.eval_sequences},
            {"example", encode_value(example_)}, {"seed", seed_}, {"prune", encode_value(prune_)},
            {"calibration_sequences", calibration_}};
  }
  std::vector<std::string> upstream() const override { return {train_stage()}; }

  void run(StageContext& ctx) const override {
    at::NoGradGuard no_grad;
    ToyModel model = load_final_checkpoint(ctx, train_stage(), run_.model);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(std::uint64_t(seed_) * 7919 + 555);
    AveragingBatch calibration = sample_averaging_batch(task_, calibration_, gen);
    PruneReport report = prune_toy(model, calibration, prune_);
    model.save(ctx.artifact("pruned.safetensors"), {{"method", prune_.method}});

    const AveragingBatch eval = heldout_batch(task_, run_.train.eval_sequences, seed_);
    auto trace = model.forward(eval);
    auto m = measure_mechanism(trace, eval, 1);
    auto& out = ctx.output();
    auto str = [](const std::string& s) { return Attrs{{"meaning", s}}; };
    out.write("heldout_mse", (trace.output.to(at::kDouble) - averaging_target(eval)).pow(2).mean().reshape({}),
              str("held-out MSE of the pruned toy, []"));
    out.write("catch_mass", m.catch_mass, str("mean attention of tokens i > t on [SEP], [layer, head]"));
    out.write("catch_any_head", m.catch_any_head, str("largest attention any head puts on [SEP], [layer]"));
    out.write("tag_ratio", at::tensor(m.tag_ratio, f64).reshape({}), str("outlier dimension's after/before ratio, []"));
    out.write("release_kl", m.release_kl, str("KL(uniform over j > t || A[T, :]), [head]"));
    std::int64_t zeros = 0, total = 0, kept = 0;
    for (const auto& r : report.matrices) zeros += r.zeros, total += r.rows * r.cols, kept += r.parameters;
    out.set_attr("/", "sparsity", double(zeros) / double(total));
    out.set_attr("/", "parameter_fraction", double(kept) / double(total));
    // The example sequence, as the measure stage draws it, for side-by-side attention maps.
    const AveragingBatch example = example_batch(task_, example_, seed_);
    const std::string prefix = ToyLearnedExperiment::stage_prefix(model_, seed_);
    write_example_attention(out, model.forward(example), example.x[0], example_.sep_position, name(), prefix + " example",
                            "pruned model's attention, [head, query, key]");
  }

 private:
  std::string model_;
  ModelRun run_;
  AveragingTask task_;
  ExampleSequence example_;
  std::int64_t seed_;
  std::string variant_;
  PruneConfig prune_;
  int calibration_;
};

}  // namespace

std::vector<std::unique_ptr<Stage>> toy_prune_stages(const Config& config) {
  std::vector<std::unique_ptr<Stage>> out;
  for (const auto& [name, run] : config.models)
    for (auto seed : config.seeds) {
      if (run.model.is_2d()) continue;  // no linear maps (validated: some model has them)
      for (const auto& [variant, prune] : config.prune)
        out.push_back(std::make_unique<ToyPruneStage>(name, run, config.task, config.example, seed, variant, prune,
                                                      config.calibration_sequences));
    }
  return out;
}

}  // namespace sinklab::toy_learned
