#include "framework/model/language_model.h"

#include <ATen/ATen.h>

#include <filesystem>

#include "framework/model/decoder_lm.h"
#include "framework/model/gpt2_lm.h"
#include "framework/util/error.h"

namespace sinklab {

at::Tensor LanguageModel::forward(const at::Tensor& ids) const {
  HookPoints none = HookPoints::none();
  return forward(ids, none);
}

std::vector<std::int64_t> LanguageModel::generate_greedy(const std::vector<std::int64_t>& prompt, int max_new,
                                                         std::int64_t stop_id) const {
  SINKLAB_INPUT_CHECK(!prompt.empty(), "generation needs a non-empty prompt");
  std::vector<std::int64_t> out = prompt;
  KvCache cache;
  HookPoints none = HookPoints::none();
  at::Tensor next = at::tensor(prompt, at::kLong).unsqueeze(0);
  for (int step = 0; step < max_new; ++step) {
    auto logits = forward(next, none, &cache);  // [1, t, V]
    std::int64_t id = logits[0][logits.size(1) - 1].argmax().item<std::int64_t>();
    out.push_back(id);
    if (id == stop_id) break;
    next = at::tensor({id}, at::kLong).unsqueeze(0);
  }
  return out;
}

std::unique_ptr<LanguageModel> load_language_model(const std::string& dir, at::ScalarType dtype, c10::Device device) {
  ModelSpec spec = ModelSpec::from_config_json((std::filesystem::path(dir) / "config.json").string());
  SINKLAB_INPUT_CHECK(device.is_cuda() || (dtype != at::kHalf),
                      "float16 matmul is not available on the CPU: use float32 or bfloat16 there");
  std::unique_ptr<LanguageModel> model;
  if (spec.model_type == "gpt2") model = std::make_unique<Gpt2LM>(Gpt2LM::load(dir, dtype));
  else model = std::make_unique<DecoderLM>(DecoderLM::load(dir, dtype));
  if (!device.is_cpu()) model->to(device);
  return model;
}

}  // namespace sinklab
