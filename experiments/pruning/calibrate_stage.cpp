// calibrate: the calibration windows, tokenized once for every pruned variant.
#include <ATen/ATen.h>

#include <filesystem>

#include "experiments/checkpoint/stage_names.h"
#include "experiments/pruning/stages.h"
#include "framework/tokenizer/tokenizer.h"
#include "framework/prune/calibration.h"
#include "framework/util/system.h"

namespace sinklab::pruning {
namespace {

class CalibrateStage : public Stage {
 public:
  CalibrateStage(CalibrationConfig config, std::string tokenizer)
      : config_(std::move(config)), tokenizer_(std::move(tokenizer)) {}
  std::string name() const override { return checkpoint::stage_names::calibrate; }
  int version() const override { return 1; }
  nlohmann::ordered_json reads() const override {
    auto r = encode_value(config_);
    r.erase("path");        // the data enters the key through its files' fingerprints
    r.erase("batch_size");  // how pruning batches and stores the windows, not which windows
    r.erase("spill");
    return r;
  }
  std::vector<std::string> input_files() const override {
    auto files = calibration_files(resolve_data_path(config_.path));
    files.push_back(tokenizer_);
    return files;
  }
  void run(StageContext& ctx) const override {
    auto tokenizer = Tokenizer::from_file(tokenizer_);
    auto docs = load_documents(resolve_data_path(config_.path), config_.text_field);
    auto ids = draw_calibration_windows(tokenizer, docs, config_);
    ctx.output().write("ids", ids, {{"meaning", std::string("calibration token windows, [samples, seq_len]")}});
    ctx.output().set_attr("/", "documents", std::int64_t(docs.size()));
  }

 private:
  CalibrationConfig config_;
  std::string tokenizer_;
};

}  // namespace

std::unique_ptr<Stage> make_calibrate_stage(const CalibrationConfig& config, const std::string& tokenizer) {
  return std::make_unique<CalibrateStage>(config, tokenizer);
}

}  // namespace sinklab::pruning
