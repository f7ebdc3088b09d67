// toy_learned.M.seedS.intervene: the final toy-averaging model, clean and under every
// `interventions` entry, on the held-out set: MSE and the catch, tag and release measures -
// does zeroing the tag dimension, knocking out a catching head or forcing the release head's
// attention break the average? (issue 19 on the Section 4 toy)
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "experiments/toy_learned/experiment.h"
#include "framework/analysis/mechanism.h"
#include "framework/io/safetensors.h"

namespace sinklab::toy_learned {
namespace {

const auto f64 = at::TensorOptions().dtype(at::kDouble);

class ToyInterveneStage : public Stage {
 public:
  ToyInterveneStage(std::string model, ModelRun run, AveragingTask task, std::int64_t seed,
                    std::map<std::string, ToyInterventionSpec> entries)
      : model_(std::move(model)), run_(std::move(run)), task_(std::move(task)), seed_(seed), entries_(std::move(entries)) {}
  std::string train_stage() const { return ToyLearnedExperiment::stage_name(model_, seed_, "train"); }
  std::string measure_stage() const { return ToyLearnedExperiment::stage_name(model_, seed_, "measure"); }
  std::string name() const override { return ToyLearnedExperiment::stage_name(model_, seed_, "intervene"); }
  int version() const override { return 1; }
  nlohmann::ordered_json reads() const override {
    return {{"task", encode_value(task_)}, {"model", encode_value(run_.model)},
            {"eval_sequences", run_.train.eval_sequences}, {"seed", seed_}, {"interventions", encode_value(entries_)}};
  }
  std::vector<std::string> upstream() const override { return {train_stage(), measure_stage()}; }

  void run(StageContext& ctx) const override {
    at::NoGradGuard no_grad;
    const ToyModel model = load_final_checkpoint(ctx, train_stage(), run_.model);
    const auto tag_dims = ctx.input(measure_stage()).read("tag_dim");  // [C]
    const std::int64_t tag = tag_dims[tag_dims.numel() - 1].item<std::int64_t>();
    const AveragingBatch eval = heldout_batch(task_, run_.train.eval_sequences, seed_);
    auto& out = ctx.output();
    std::vector<std::string> names{"clean"};
    for (const auto& [name, e] : entries_) names.push_back(name);
    out.write_strings("entries", names, {{"meaning", std::string("clean, then each intervention, [E]")}});
    out.set_attr("/", "tag_dim", tag);
    auto str = [](const std::string& s) { return Attrs{{"meaning", s}}; };
    for (const auto& entry : names) {
      HookPoints hooks = HookPoints::none();
      if (entry != "clean") {
        const ToyInterventionSpec& e = entries_.at(entry);
        for (Ablation a : e.ablate) {
          if (e.tag_dim && std::find(a.dims.begin(), a.dims.end(), tag) == a.dims.end()) a.dims.push_back(tag);
          add_ablation(a, run_.model.layers, hooks);
        }
      }
      const ToyTrace trace = model.forward(eval, &hooks);
      const auto m = measure_mechanism(trace, eval, 1);
      const std::string g = entry + "/";
      out.write(g + "heldout_mse", (trace.output.to(at::kDouble) - averaging_target(eval)).pow(2).mean().reshape({}),
                str("held-out MSE, []"));
      out.write(g + "catch_mass", m.catch_mass, str("mean attention of tokens i > t on [SEP], [layer, head]"));
      out.write(g + "catch_any_head", m.catch_any_head, str("largest attention any head puts on [SEP], [layer]"));
      out.write(g + "tag_abs_after", m.tag_abs_after, str("mean |h_d| after layer 1, tokens i > t, [dim]"));
      out.write(g + "tag_abs_before", m.tag_abs_before, str("mean |h_d| after layer 1, tokens i < t, [dim]"));
      out.write(g + "release_kl", m.release_kl, str("KL(uniform over j > t || A[T, :]) in nats, [head]"));
      out.set_attr("/" + entry, "tag_ratio", m.tag_ratio);
    }
  }

 private:
  std::string model_;
  ModelRun run_;
  AveragingTask task_;
  std::int64_t seed_;
  std::map<std::string, ToyInterventionSpec> entries_;
};

}  // namespace

std::vector<std::unique_ptr<Stage>> toy_intervene_stages(const Config& config) {
  std::vector<std::unique_ptr<Stage>> out;
  if (config.interventions.empty()) return out;
  for (const auto& [name, run] : config.models)
    for (auto seed : config.seeds)
      if (!run.model.is_2d())  // no hook sites (validated: some model has them)
        out.push_back(std::make_unique<ToyInterveneStage>(name, run, config.task, seed, config.interventions));
  return out;
}

}  // namespace sinklab::toy_learned
