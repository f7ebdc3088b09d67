// hook.V: the probed sites of every prompt, stored with the tokens they belong to.
#include <ATen/ATen.h>

#include <cstring>
#include <filesystem>
#include <set>

#include "experiments/catch_tag_release/experiment.h"
#include "experiments/catch_tag_release/stages.h"
#include "experiments/pruning/stages.h"
#include "framework/model/language_model.h"
#include "framework/util/error.h"
#include "framework/util/log.h"
#include "framework/util/progress.h"

namespace sinklab::catch_tag_release {

LoadedModel load_model(const ResolvedModel& m, StageContext& ctx) {
  auto problem = m.problem();
  SINKLAB_INPUT_CHECK(problem.empty(), "{}", problem);
  const std::string dir = pruning::model_directory(m, ctx);
  LoadedModel out{load_language_model(dir, m.scalar_type(), ctx.device()),
                  Tokenizer::from_file((std::filesystem::path(dir) / "tokenizer.json").string())};
  return out;
}

nlohmann::ordered_json model_reads(const ResolvedModel& m) {
  // The checkpoint enters the key through its files' fingerprints, not its path.
  return {{"variant", m.variant}, {"dtype", m.dtype}};
}

nlohmann::ordered_json prompt_reads(const std::vector<PromptSpec>& prompts) {
  auto out = nlohmann::ordered_json::array();
  for (const auto& p : prompts) out.push_back({{"id", p.id}, {"text", prompt_text(p)}, {"max_tokens", p.max_tokens}});
  return out;
}

void write_prompt_tokens(Hdf5File& out, const std::string& group, const TokenizedPrompt& p) {
  const auto i64 = at::TensorOptions().dtype(at::kLong);
  const std::int64_t T = std::int64_t(p.ids.size());
  out.write(group + "/input_ids", at::tensor(p.ids, i64), {{"meaning", std::string("token ids, [T]")}});
  out.write_strings(group + "/tokens", p.pieces, {{"meaning", std::string("text each token adds to `text`, [T]")}});
  out.write(group + "/offsets", at::tensor(p.offsets, i64).view({T, 2}),
            {{"meaning", std::string("byte range [start, end) of each token in `text`, [T, 2]")}});
  out.write_strings(group + "/text", {p.decoded}, {{"meaning", std::string("the decoded ids, special tokens included")}});
}

namespace {

std::string site_meaning(const std::string& hook) {
  auto ends = [&](const char* s) { return hook.size() >= std::strlen(s) && hook.compare(hook.size() - std::strlen(s), std::strlen(s), s) == 0; };
  if (ends("hook_pattern")) return "attention probabilities, [head, query, key] (heads: the `heads` attribute)";
  if (ends("hook_attn_scores")) return "attention logits before softmax, [head, query, key]";
  if (ends("hook_result")) return "each head's output through its W_O slice, [pos, head, d_model]";
  if (ends("hook_q") || ends("hook_k") || ends("hook_v") || ends("hook_z")) return "[pos, head, d_head]";
  return "[pos, d_model]";
}

class HookStage : public Stage {
 public:
  HookStage(RunConfig config, ResolvedModel model) : config_(std::move(config)), model_(std::move(model)) {}
  std::string name() const override { return hook_stage_name(model_.variant); }
  int version() const override { return 1; }
  nlohmann::ordered_json reads() const override {
    return {{"model", model_reads(model_)},
            {"prompts", prompt_reads(config_.prompts)},
            {"probes", encode_value(config_.probes)},
            {"pca", encode_value(config_.pca)}};
  }
  std::vector<std::string> input_files() const override { return model_.files(); }
  std::vector<std::string> upstream() const override { return model_.upstream(); }

  void run(StageContext& ctx) const override {
    LoadedModel lm = load_model(model_, ctx);
    const ModelSpec& spec = lm.model->spec();
    auto requests = site_requests(config_, spec.num_layers);
    auto& out = ctx.output();
    out.set_attr("/", "model", model_.display_name);
    out.set_attr("/", "model_type", spec.model_type);
    out.set_attr("/", "layers", spec.num_layers);
    out.set_attr("/", "heads", spec.num_heads);
    std::int64_t values = 0;
    Progress progress(name(), std::int64_t(config_.prompts.size()));
    for (const auto& prompt : config_.prompts) {
      TokenizedPrompt tp = tokenize_prompt(lm.tokenizer, prompt_text(prompt), prompt.max_tokens);
      const std::string group = "prompts/" + prompt.id;
      write_prompt_tokens(out, group, tp);
      std::set<std::string> names;
      for (const auto& r : requests)
        if (r.prompt == prompt.id) {
          SINKLAB_INPUT_CHECK(r.layer < spec.num_layers, "{}: layer {} does not exist: the model has layers 0..{}",
                              r.hook, r.layer, spec.num_layers - 1);
          names.insert(r.hook);
        }
      if (names.empty()) continue;
      HookPoints hooks = HookPoints::only(names);
      for (const auto& r : requests)
        if (r.prompt == prompt.id && !r.heads.empty()) hooks.select_heads(r.hook, r.heads);
      auto ids = at::tensor(tp.ids, at::TensorOptions().dtype(at::kLong)).unsqueeze(0);
      lm.model->forward(ids, hooks);
      for (const auto& r : requests) {
        if (r.prompt != prompt.id) continue;
        at::Tensor t = hooks.at(r.hook).squeeze(0).to(at::kCPU).to(at::kFloat);
        std::vector<std::int64_t> heads = r.heads;
        const std::string site = r.hook.substr(r.hook.find('.', std::strlen("blocks.")) + 1);
        if (heads.empty() && is_per_head_site(site)) {
          const std::int64_t n = is_attention_map_site(site) ? t.size(0) : t.size(1);
          for (std::int64_t h = 0; h < n; ++h) heads.push_back(h);
        }
        Attrs attrs{{"meaning", site_meaning(r.hook)}, {"layer", r.layer}};
        if (!heads.empty()) attrs["heads"] = heads;
        out.write(group + "/" + r.hook, t, attrs);
        values += t.numel();
      }
      progress.advance();
    }
    progress.finish();
    out.set_attr("/", "values_kept", values);
    log::debug("{}: kept {} values", name(), values);
  }

 private:
  RunConfig config_;
  ResolvedModel model_;
};

}  // namespace

std::unique_ptr<Stage> make_hook_stage(const RunConfig& config, const ResolvedModel& model) {
  return std::make_unique<HookStage>(config, model);
}

}  // namespace sinklab::catch_tag_release
