#include "experiments/checkpoint/model_pool.h"

#include <filesystem>

#include "framework/util/error.h"
#include "framework/util/log.h"

namespace sinklab::checkpoint {

LoadedModel ModelPool::get(const ResolvedModel& m, const StageContext& ctx) {
  const std::string problem = m.problem();
  SINKLAB_INPUT_CHECK(problem.empty(), "{}", problem);
  const std::string dir = m.checkpoint_dir(ctx);
  const std::string key = dir + "|" + m.dtype + "|" + ctx.device().str() + (m.offload ? "|offload" : "");
  if (key == key_) return held_;
  held_ = {};  // free the previous model before loading the next one
  log::debug("loading {} ({}, {}) for variant {}", dir, m.dtype, ctx.device().str(), m.variant);
  held_.model = load_language_model(dir, m.scalar_type(), ctx.device(), m.offload);
  held_.tokenizer = std::make_shared<Tokenizer>(Tokenizer::from_file((std::filesystem::path(dir) / "tokenizer.json").string()));
  key_ = key;
  ++loads_;
  return held_;
}

}  // namespace sinklab::checkpoint
