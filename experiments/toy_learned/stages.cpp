// Training and measuring the learned toys.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>

#include <chrono>

#include "experiments/toy_learned/experiment.h"
#include "framework/analysis/mechanism.h"
#include "framework/io/safetensors.h"
#include "framework/report/attention_data.h"
#include "framework/util/progress.h"
#include "framework/util/strings.h"

namespace sinklab::toy_learned {
namespace {

const auto f64 = at::TensorOptions().dtype(at::kDouble);

std::string checkpoint_name(std::int64_t step) { return fmt::format("step-{:06d}.safetensors", step); }

// Baseline: predict the mean of all numbers in the sequence, ignoring where [SEP] is.
double baseline_mse(const AveragingBatch& b) {
  auto pos = at::arange(b.x.size(1), b.sep.options()).unsqueeze(0);
  auto numbers = (pos.lt(b.length.unsqueeze(1)) & pos.ne(b.sep.unsqueeze(1))).to(at::kDouble);
  auto mean_all = (b.x * numbers).sum(1) / numbers.sum(1);
  return (mean_all - averaging_target(b)).pow(2).mean().item<double>();
}

double model_mse(const ToyModel& model, const AveragingBatch& b) {
  at::NoGradGuard no_grad;
  auto out = model.forward(b).output.to(at::kDouble);
  return (out - averaging_target(b)).pow(2).mean().item<double>();
}

}  // namespace

ToyModel load_final_checkpoint(StageContext& ctx, const std::string& train_stage, const ToyModelSpec& spec) {
  auto steps = ctx.input(train_stage).read("checkpoint_steps");
  SafetensorsFile file(ctx.upstream_artifact(train_stage, checkpoint_name(steps[steps.numel() - 1].item<std::int64_t>())));
  return ToyModel::load(spec, file);
}

AveragingBatch heldout_batch(const AveragingTask& task, int count, std::int64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(heldout_seed(seed));
  return sample_averaging_batch(task, count, gen);
}

namespace {

class TrainStage : public Stage {
 public:
  TrainStage(std::string model, ModelRun run, AveragingTask task, std::int64_t seed)
      : model_(std::move(model)), run_(std::move(run)), task_(std::move(task)), seed_(seed) {}
  std::string name() const override { return ToyLearnedExperiment::stage_name(model_, seed_, "train"); }
  int version() const override { return 1; }
  nlohmann::ordered_json reads() const override {
    return {{"task", encode_value(task_)}, {"model", encode_value(run_.model)}, {"train", encode_value(run_.train)},
            {"seed", seed_}};
  }

  void run(StageContext& ctx) const override {
    const TrainConfig& tc = run_.train;
    ToyModel model = ToyModel::initialize(run_.model, std::uint64_t(seed_));
    auto data_gen = at::make_generator<at::CPUGeneratorImpl>(std::uint64_t(seed_) * 7919 + 17);
    const AveragingBatch eval = heldout_batch(task_, tc.eval_sequences, seed_);
    const double baseline = baseline_mse(eval);
    AdamOptimizer opt(model.parameters(), tc.optimizer);

    std::vector<double> losses, lrs, grad_norms, eval_mse;
    std::vector<std::int64_t> checkpoints;
    auto checkpoint = [&](std::int64_t step) {
      model.save(ctx.artifact(checkpoint_name(step)), {{"step", std::to_string(step)}, {"seed", std::to_string(seed_)}});
      checkpoints.push_back(step);
      eval_mse.push_back(model_mse(model, eval));
    };
    Progress progress(name(), tc.steps);
    auto t0 = std::chrono::steady_clock::now();
    for (int step = 0; step < tc.steps; ++step) {
      if (step % tc.checkpoint_every == 0) checkpoint(step);
      AveragingBatch batch = sample_averaging_batch(task_, tc.batch_size, data_gen);
      auto target = averaging_target(batch).to(at::kFloat);
      auto loss = (model.forward(batch).output - target).pow(2).mean();
      opt.zero_grad();
      loss.backward();
      grad_norms.push_back(clip_grad_norm(model.parameters(), tc.optimizer.clip_norm));
      double lr = scheduled_lr(tc.optimizer, step, tc.steps);
      opt.step(lr);
      losses.push_back(loss.item<double>());
      lrs.push_back(lr);
      progress.advance();
    }
    progress.finish();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    checkpoint(tc.steps);

    auto& out = ctx.output();
    auto str = [](const std::string& s) { return Attrs{{"meaning", s}}; };
    out.write("loss", at::tensor(losses, f64), str("training MSE per step, [steps]"));
    out.write("lr", at::tensor(lrs, f64), str("learning rate per step, [steps]"));
    out.write("grad_norm", at::tensor(grad_norms, f64), str("gradient norm before clipping, [steps]"));
    out.write("checkpoint_steps", at::tensor(checkpoints, f64.dtype(at::kLong)),
              str("steps with a safetensors checkpoint (step-NNNNNN.safetensors), [C]"));
    out.write("heldout_mse", at::tensor(eval_mse, f64), str("held-out MSE at each checkpoint, [C]"));
    out.write("baseline_mse", at::tensor(baseline, f64).reshape({}),
              str("held-out MSE of predicting the mean of all numbers, []"));
    out.set_attr("/", "seconds_per_step", seconds / tc.steps);
    out.set_attr("/", "model_kind", run_.model.kind);
  }

 private:
  std::string model_;
  ModelRun run_;
  AveragingTask task_;
  std::int64_t seed_;
};

// Stacks per-checkpoint vectors of possibly different lengths into [C, rows, k], zero-padded.
at::Tensor stack_padded(const std::vector<std::vector<at::Tensor>>& per_checkpoint) {
  int64_t k = 0;
  for (const auto& row : per_checkpoint)
    for (const auto& t : row) k = std::max(k, t.numel());
  auto out = at::zeros({int64_t(per_checkpoint.size()), int64_t(per_checkpoint.at(0).size()), k}, f64);
  for (std::size_t c = 0; c < per_checkpoint.size(); ++c)
    for (std::size_t r = 0; r < per_checkpoint[c].size(); ++r)
      out[c][r].narrow(0, 0, per_checkpoint[c][r].numel()).copy_(per_checkpoint[c][r]);
  return out;
}

// Spectrum measures of a set of matrices at every checkpoint (rows appended per checkpoint).
struct SpectrumTrack {
  std::vector<std::vector<at::Tensor>> singular_values;  // [checkpoint][matrix]
  std::vector<double> effective_rank, energy_top1, energy_top2;  // checkpoint-major
  std::vector<std::string> names;
  void add(const std::vector<NamedMatrix>& matrices) {
    singular_values.emplace_back();
    names.clear();
    for (const auto& mat : matrices) {
      auto s = measure_spectrum(mat.matrix);
      singular_values.back().push_back(s.singular_values);
      effective_rank.push_back(s.effective_rank);
      energy_top1.push_back(s.energy_top1);
      energy_top2.push_back(s.energy_top2);
      names.push_back(mat.name);
    }
  }
};

class MeasureStage : public Stage {
 public:
  MeasureStage(std::string model, ModelRun run, AveragingTask task, ExampleSequence example, std::int64_t seed)
      : model_(std::move(model)), run_(std::move(run)), task_(std::move(task)), example_(example), seed_(seed) {}
  std::string train_stage() const { return ToyLearnedExperiment::stage_name(model_, seed_, "train"); }
  std::string name() const override { return ToyLearnedExperiment::stage_name(model_, seed_, "measure"); }
  int version() const override { return 4; }  // 2: catch_any_head; 3: example residual streams; 4: example tokens
  nlohmann::ordered_json reads() const override {
    return {{"task", encode_value(task_)}, {"model", encode_value(run_.model)},
            {"eval_sequences", run_.train.eval_sequences}, {"example", encode_value(example_)}, {"seed", seed_}};
  }
  std::vector<std::string> upstream() const override { return {train_stage()}; }

  void run(StageContext& ctx) const override {
    at::NoGradGuard no_grad;
    auto steps = ctx.input(train_stage()).read("checkpoint_steps");
    const AveragingBatch eval = heldout_batch(task_, run_.train.eval_sequences, seed_);
    std::vector<at::Tensor> catch_mass, catch_any, tag_after, tag_before, release_mass, release_kl;
    std::vector<std::int64_t> tag_dim;
    std::vector<double> tag_ratio;
    SpectrumTrack qk, v;
    ToyModel final_model;
    Progress progress(name(), steps.numel());
    for (int64_t c = 0; c < steps.numel(); ++c) {
      SafetensorsFile file(ctx.upstream_artifact(train_stage(), checkpoint_name(steps[c].item<std::int64_t>())));
      ToyModel model = ToyModel::load(run_.model, file);
      auto m = measure_mechanism(model.forward(eval), eval, 1);
      catch_mass.push_back(m.catch_mass);
      catch_any.push_back(m.catch_any_head);
      tag_after.push_back(m.tag_abs_after);
      tag_before.push_back(m.tag_abs_before);
      tag_dim.push_back(m.tag_dim);
      tag_ratio.push_back(m.tag_ratio);
      release_mass.push_back(m.release_mass);
      release_kl.push_back(m.release_kl);
      qk.add(model.qk_matrices());
      v.add(model.value_matrices());
      final_model = model;
      progress.advance();
    }
    progress.finish();
    const int64_t C = steps.numel(), nqk = int64_t(qk.names.size()), nv = int64_t(v.names.size());
    auto& out = ctx.output();
    auto str = [](const std::string& s) { return Attrs{{"meaning", s}}; };
    out.write("checkpoint_steps", steps, str("training step of each checkpoint, [C]"));
    out.write("catch_mass", at::stack(catch_mass), str("mean attention of tokens i > t on [SEP], [C, layer, head]"));
    out.write("catch_any_head", at::stack(catch_any),
              str("mean over tokens i > t of the largest attention any head puts on [SEP], [C, layer]"));
    out.write("tag_abs_after", at::stack(tag_after), str("mean |h_d| after layer 1, tokens i > t, [C, dim]"));
    out.write("tag_abs_before", at::stack(tag_before), str("mean |h_d| after layer 1, tokens i < t, [C, dim]"));
    out.write("tag_dim", at::tensor(tag_dim, f64.dtype(at::kLong)), str("dimension with the largest after/before ratio, [C]"));
    out.write("tag_ratio", at::tensor(tag_ratio, f64), str("that ratio, [C]"));
    out.write("release_mass", at::stack(release_mass),
              str("layer-2 attention of the last token on j < t, j = t, j > t, [C, head, 3]"));
    out.write("release_kl", at::stack(release_kl), str("KL(uniform over j > t || A[T, :]) in nats, [C, head]"));
    out.write("qk_singular_values", stack_padded(qk.singular_values), {{"meaning", std::string("singular values of W_Q W_K^T, [C, matrix, k]")},
                                                        {"matrices", join(qk.names, ",")}});
    out.write("qk_effective_rank", at::tensor(qk.effective_rank, f64).view({C, nqk}), str("exp(entropy of s/sum s), [C, matrix]"));
    out.write("qk_energy_top1", at::tensor(qk.energy_top1, f64).view({C, nqk}), str("s1^2 / sum s^2, [C, matrix]"));
    out.write("qk_energy_top2", at::tensor(qk.energy_top2, f64).view({C, nqk}), str("(s1^2 + s2^2) / sum s^2, [C, matrix]"));
    out.write("v_singular_values", stack_padded(v.singular_values), {{"meaning", std::string("singular values of W_V, [C, matrix, k]")},
                                                      {"matrices", join(v.names, ",")}});
    out.write("v_effective_rank", at::tensor(v.effective_rank, f64).view({C, nv}), str("exp(entropy of s/sum s), [C, matrix]"));
    out.write("v_energy_top1", at::tensor(v.energy_top1, f64).view({C, nv}), str("s1^2 / sum s^2, [C, matrix]"));

    // One held-out sequence through the final model, for the attention figure.
    AveragingBatch ex = example_batch(task_, example_, seed_);
    const at::Tensor& x = ex.x;
    auto trace = final_model.forward(ex);
    const std::string labels = averaging_token_labels(example_.length, example_.sep_position);
    out.write("example/x", x[0], {{"meaning", std::string("the numbers, [T]; 0 at [SEP]")}, {"token_labels", labels}});
    write_example_attention(out, trace, x[0], example_.sep_position, ToyLearnedExperiment::stage_prefix(model_, seed_),
                            ToyLearnedExperiment::stage_prefix(model_, seed_) + " example",
                            "final model's attention, [head, query, key]");
    for (std::size_t l = 0; l < trace.resid.size(); ++l)
      out.write(fmt::format("example/resid_layer{}", l), trace.resid[l][0],
                str("final model's residual stream after the layer, [T, d_model]"));
    out.write("example/output", trace.output.to(at::kDouble), str("final model's prediction, [1]"));
    out.write("example/target", averaging_target(ex), str("mean of x_{t+1..T}, [1]"));
  }

 private:
  std::string model_;
  ModelRun run_;
  AveragingTask task_;
  ExampleSequence example_;
  std::int64_t seed_;
};

}  // namespace

void write_example_attention(Hdf5File& out, const ToyTrace& trace, const at::Tensor& x, int sep_position,
                             const std::string& variant, const std::string& prompt, const std::string& meaning) {
  out.write_strings("example/tokens", averaging_token_texts(x, sep_position),
                    {{"meaning", std::string("each position as text (x_i=value, [SEP]), [T]")}});
  for (std::size_t l = 0; l < trace.attention.size(); ++l) {
    Attrs attrs = report::attention_map_attributes(variant, prompt, std::int64_t(l));
    attrs["meaning"] = meaning;
    out.write(fmt::format("example/attention_layer{}", l), trace.attention[l][0], attrs);
  }
}

AveragingBatch example_batch(const AveragingTask& task, const ExampleSequence& example, std::int64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(heldout_seed(seed) + 1);
  auto x = draw_numbers(task.numbers, {1, int64_t(example.length)}, gen);
  x.index_put_({0, example.sep_position - 1}, 0.0);
  return {x, at::full({1}, int64_t(example.length), f64.dtype(at::kLong)),
          at::full({1}, int64_t(example.sep_position - 1), f64.dtype(at::kLong))};
}

std::vector<std::unique_ptr<Stage>> ToyLearnedExperiment::stages() const {
  std::vector<std::unique_ptr<Stage>> out;
  for (const auto& [name, run] : config_.models)
    for (auto seed : config_.seeds) {
      out.push_back(std::make_unique<TrainStage>(name, run, config_.task, seed));
      out.push_back(std::make_unique<MeasureStage>(name, run, config_.task, config_.example, seed));
    }
  for (auto& s : toy_prune_stages(config_)) out.push_back(std::move(s));
  for (auto& s : toy_intervene_stages(config_)) out.push_back(std::move(s));
  return out;
}

}  // namespace sinklab::toy_learned
