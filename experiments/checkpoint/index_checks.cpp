#include "experiments/checkpoint/index_checks.h"

#include "experiments/checkpoint/cost_model.h"
#include "framework/hooks/hook_sites.h"
#include "framework/util/error.h"

namespace sinklab::checkpoint {

void IndexChecks::layer(std::int64_t layer, const std::string& key) const {
  SINKLAB_INPUT_CHECK(layer < spec_.num_layers, "{}: layer {} does not exist: {} ({}) has layers 0..{}", key, layer,
                      model_.display_name, spec_.model_type, spec_.num_layers - 1);
}

void IndexChecks::site(const std::string& name, const std::string& key) const {
  const HookSite& s = hook_site(name);
  SINKLAB_INPUT_CHECK(computes_site(spec_, s), "{}: {} ({}) has no site '{}': {}", key, model_.display_name,
                      spec_.model_type, name, s.meaning);
}

void IndexChecks::head(std::int64_t head, const std::string& site, const std::string& key) const {
  const bool kv = hook_site(site).heads == HeadKind::key_value;
  const std::int64_t n = kv ? spec_.num_kv_heads : spec_.num_heads;
  SINKLAB_INPUT_CHECK(head < n, "{}: head {} does not exist: {} has {} {}heads per layer (0..{})", key, head,
                      model_.display_name, n, kv ? "key/value " : "", n - 1);
}

void IndexChecks::prompt_lengths(const std::vector<PromptSpec>& prompts) const {
  if (spec_.context_length <= 0) return;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    const std::int64_t n = prompt_length(model_.dir, prompts[i]);
    SINKLAB_INPUT_CHECK(n <= spec_.context_length,
                        "prompts[{}] ('{}') has {} tokens, {} takes {} (max_position_embeddings): set prompts[{}].max_tokens "
                        "to at most {}", i, prompts[i].id, n, model_.display_name, spec_.context_length, i,
                        spec_.context_length);
  }
}

}  // namespace sinklab::checkpoint
