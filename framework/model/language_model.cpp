#include "framework/model/language_model.h"

#include <ATen/ATen.h>

#include "framework/model/transformer_lm.h"
#include "framework/util/error.h"

namespace sinklab {

at::Tensor LanguageModel::forward(const at::Tensor& ids) const {
  HookPoints none = HookPoints::none();
  return forward(ids, none);
}

std::vector<std::int64_t> LanguageModel::generate_greedy(const std::vector<std::int64_t>& prompt, int max_new,
                                                         std::int64_t stop_id, const StepLogits& on_step) const {
  SINKLAB_INPUT_CHECK(!prompt.empty(), "generation needs a non-empty prompt");
  std::vector<std::int64_t> out = prompt;
  KvCache cache;
  cache.bounded = true;  // sliding layers keep only their window
  HookPoints none = HookPoints::none();
  at::Tensor next = at::tensor(prompt, at::kLong).unsqueeze(0);
  for (int step = 0; step < max_new; ++step) {
    auto logits = forward(next, none, &cache)[0];  // [t, V]
    auto last = logits[logits.size(0) - 1];          // [V]
    if (on_step) on_step(last);
    std::int64_t id = last.argmax().item<std::int64_t>();
    out.push_back(id);
    if (id == stop_id) break;
    next = at::tensor({id}, at::kLong).unsqueeze(0);
  }
  return out;
}

std::unique_ptr<LanguageModel> load_language_model(const std::string& dir, at::ScalarType dtype, c10::Device device,
                                                   bool offload_blocks) {
  SINKLAB_INPUT_CHECK(device.is_cuda() || (dtype != at::kHalf),
                      "float16 matmul is not available on the CPU: use float32 or bfloat16 there");
  // Every family is data for the one TransformerLM; config.json's model_type picks it (families/).
  auto model = std::make_unique<TransformerLM>(TransformerLM::load(dir, dtype));
  if (!device.is_cpu()) model->to(device, offload_blocks);
  return model;
}

}  // namespace sinklab
