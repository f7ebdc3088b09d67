#pragma once
// The variants' models and tokenizers as the stages of one run share them: each variant is
// loaded once, not once per stage. The runner keeps a variant's stages (hook, metrics, eval)
// next to each other, so the pool holds only the model it loaded last: memory stays at one
// model however many variants a run compares.
#include <c10/core/Device.h>

#include <memory>
#include <string>

#include "experiments/checkpoint/inputs.h"
#include "framework/model/language_model.h"
#include "framework/tokenizer/tokenizer.h"

namespace sinklab::checkpoint {

struct LoadedModel {
  std::shared_ptr<const LanguageModel> model;
  std::shared_ptr<const Tokenizer> tokenizer;
};

class ModelPool {
 public:
  // The variant's model and tokenizer on the stage's device: the one held when it is the same
  // checkpoint, dtype and device, else loaded (replacing the one held).
  LoadedModel get(const ResolvedModel& model, const StageContext& ctx);
  int loads() const { return loads_; }  // checkpoints loaded so far (tests check "once per variant")
  void release() { held_ = {}, key_.clear(); }

 private:
  std::string key_;
  LoadedModel held_;
  int loads_ = 0;
};

}  // namespace sinklab::checkpoint
