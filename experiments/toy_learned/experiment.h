#pragma once
// Section 4, learned: train the averaging models from scratch and measure catch, tag and release
// at every checkpoint. Per model M and seed S:
//   toy_learned.M.seedS.train    Adam(W) training; loss curve, held-out MSE, safetensors checkpoints
//   toy_learned.M.seedS.measure  loads each checkpoint; catch, tag, release and low-rank measures
//   toy_learned.M.seedS.prune.V  (with `prune`) the final model pruned, measured again
//   toy_learned.M.seedS.intervene  (with `interventions`) the final model under each edit, measured
#include "framework/runner/experiment.h"
#include "experiments/toy_learned/config.h"

namespace sinklab::toy_learned {

class ToyLearnedExperiment : public Experiment {
 public:
  explicit ToyLearnedExperiment(Config config) : config_(std::move(config)) {}
  std::string name() const override { return "toy_learned"; }
  std::vector<std::unique_ptr<Stage>> stages() const override;
  void report(const RunView& run, const std::string& figures_dir, nlohmann::ordered_json& summary) const override;
  nlohmann::ordered_json report_reads() const override { return {{"toy_learned", encode_value(config_)}}; }

  // "toy_learned.M.seedS": every stage of one trained model starts with it.
  static std::string stage_prefix(const std::string& model, std::int64_t seed) {
    return "toy_learned." + model + ".seed" + std::to_string(seed);
  }
  static std::string stage_name(const std::string& model, std::int64_t seed, const std::string& step) {
    return stage_prefix(model, seed) + "." + step;
  }
  // toy_learned.M.seedS.prune.V: the final model pruned as the config's `prune.V` says.
  static std::string prune_stage_name(const std::string& model, std::int64_t seed, const std::string& variant) {
    return stage_name(model, seed, "prune." + variant);
  }

 private:
  void report_pruning(const RunView& run, const std::string& model, const std::string& figures_dir,
                      nlohmann::ordered_json& summary) const;
  void report_interventions(const RunView& run, const std::string& model, const std::string& figures_dir,
                            nlohmann::ordered_json& summary) const;
  Config config_;
};

// toy_learned.M.seedS.prune.V: the final model pruned with `prune[V]`, measured again.
std::vector<std::unique_ptr<Stage>> toy_prune_stages(const Config& config);

// toy_learned.M.seedS.intervene: the final model clean and under each `interventions` entry.
std::vector<std::unique_ptr<Stage>> toy_intervene_stages(const Config& config);

// The last checkpoint the train stage `train_stage` wrote, loaded (the prune and intervene stages').
ToyModel load_final_checkpoint(StageContext& ctx, const std::string& train_stage, const ToyModelSpec& spec);

// The held-out set of the measure stage (and the others that measure on it).
AveragingBatch heldout_batch(const AveragingTask& task, int count, std::int64_t seed);

// The example sequence's tokens (example/tokens) and every layer's attention on it
// (example/attention_layer<l>, [head, query, key]), marked for the report's attention view:
// `variant` is the model (or pruned model) drawn, `prompt` the example it shares with its variants.
void write_example_attention(Hdf5File& out, const ToyTrace& trace, const at::Tensor& x, int sep_position,
                             const std::string& variant, const std::string& prompt, const std::string& meaning);

// The held-out sequence the attention figures show (the measure and prune stages draw the same).
AveragingBatch example_batch(const AveragingTask& task, const ExampleSequence& example, std::int64_t seed);

// Seeds derived from the run seed, so training data, held-out data and initialisation differ.
inline std::uint64_t heldout_seed(std::int64_t seed) { return std::uint64_t(seed) * 7919 + 1000003; }

}  // namespace sinklab::toy_learned
