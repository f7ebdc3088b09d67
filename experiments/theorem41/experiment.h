#pragma once
// Theorem 4.1 ("catch, tag, release") on the built-in two-layer averaging model.
// Stages:
//   theorem41.sequences  random sequences (reads seed, data)
//   theorem41.sweep      error, catch, tag and release measures per s_tag (reads model, s_tag, batch_size)
//   theorem41.example    one sequence's attention maps for the Figure 6 heatmap (reads seed, model, example, data.numbers)
#include "framework/runner/experiment.h"
#include "experiments/theorem41/config.h"

namespace sinklab::theorem41 {

class Theorem41Experiment : public Experiment {
 public:
  Theorem41Experiment(Config config, std::int64_t seed) : config_(std::move(config)), seed_(seed) {}
  std::string name() const override { return "theorem41"; }
  std::vector<std::unique_ptr<Stage>> stages() const override;
  void report(const RunView& run, const std::string& figures_dir, nlohmann::ordered_json& summary) const override;
  nlohmann::ordered_json report_reads() const override { return {{"theorem41", encode_value(config_)}, {"seed", seed_}}; }

 private:
  Config config_;
  std::int64_t seed_;
};

}  // namespace sinklab::theorem41
