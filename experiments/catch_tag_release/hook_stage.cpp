// hook.V: the probed sites of every prompt, stored with the tokens they belong to.
#include <ATen/ATen.h>

#include <map>
#include <set>

#include "experiments/catch_tag_release/part.h"
#include "experiments/catch_tag_release/stages.h"
#include "experiments/checkpoint/cost_model.h"
#include "experiments/checkpoint/prompt_tokens.h"
#include "experiments/checkpoint/stage_names.h"
#include "framework/hooks/hook_sites.h"
#include "framework/report/attention_data.h"
#include "framework/util/error.h"
#include "framework/util/log.h"
#include "framework/util/progress.h"

namespace sinklab::catch_tag_release {
namespace {

using checkpoint::PromptSpec;
using checkpoint::ResolvedModel;

class HookStage : public Stage {
 public:
  HookStage(Config config, std::vector<PromptSpec> prompts, ResolvedModel model, std::shared_ptr<checkpoint::ModelPool> pool)
      : config_(std::move(config)), prompts_(std::move(prompts)), model_(std::move(model)), pool_(std::move(pool)) {}
  std::string name() const override { return checkpoint::stage_names::hook(model_.variant); }
  int version() const override { return 2; }  // 2: q/k before RoPE (rot_q/rot_k after), attention-view attributes
  nlohmann::ordered_json reads() const override {
    return {{"model", model_.reads()},
            {"prompts", checkpoint::prompt_reads(prompts_)},
            {"probes", encode_value(config_.probes)},
            {"pca", encode_value(config_.pca)}};
  }
  std::vector<std::string> input_files() const override { return checkpoint::model_and_prompt_files(model_, prompts_); }
  std::vector<std::string> upstream() const override { return model_.upstream(); }

  // The weights, the longest prompt's forward pass, and the largest probed site (written as its
  // block computes it: recorded in the compute dtype and copied to float32).
  std::optional<StageCost> cost() const override {
    const auto& shape = checkpoint::checkpoint_shape(model_.dir);
    const ModelSpec& s = shape.spec;
    StageCost c = checkpoint::weights_cost(shape, model_.scalar_type());
    const double e = checkpoint::dtype_bytes(model_.scalar_type());
    auto requests = site_requests(config_, prompts_, s.num_layers);
    for (const auto& prompt : prompts_) {
      const double T = double(checkpoint::prompt_length(model_.dir, prompt));
      checkpoint::add_forward(c, s, model_.scalar_type(), 1, T);
      for (const auto& r : requests) {
        if (r.prompt != prompt.id) continue;
        const std::string site = parse_hook_name(r.hook)->site->short_name;
        const double heads = r.heads.empty() ? double(s.num_heads) : double(r.heads.size());
        double n = T * double(s.hidden_size);                                  // [T, D] sites
        if (site == "pattern" || site == "attn_scores") n = heads * T * T;    // [heads, T, T]
        else if (site == "result") n = heads * T * double(s.hidden_size);     // [T, heads, D]
        else if (site == "pre" || site == "post" || site == "pre_linear") n = T * double(s.intermediate_size);
        c.hooks = std::max(c.hooks, n * (e + 4));
      }
    }
    c.fit = "prompts[].max_tokens (memory grows with T^2), probes (fewer heads), model.dtype: bfloat16";
    return c;
  }

  void run(StageContext& ctx) const override {
    auto lm = pool_->get(model_, ctx);
    const ModelSpec& spec = lm.model->spec();
    auto requests = site_requests(config_, prompts_, spec.num_layers);
    auto& out = ctx.output();
    out.set_attr("/", "model", model_.display_name);
    out.set_attr("/", "model_type", spec.model_type);
    out.set_attr("/", "layers", spec.num_layers);
    out.set_attr("/", "heads", spec.num_heads);
    std::int64_t values = 0;
    Progress progress(name(), std::int64_t(prompts_.size()));
    for (const auto& prompt : prompts_) {
      auto tp = checkpoint::tokenize_prompt(*lm.tokenizer, checkpoint::prompt_text(prompt), prompt.max_tokens);
      const std::string group = "prompts/" + prompt.id;
      checkpoint::write_prompt_tokens(out, group, tp);
      std::map<std::string, const SiteRequest*> wanted;  // hook name -> its request (one per prompt)
      for (const auto& r : requests)
        if (r.prompt == prompt.id) wanted[r.hook] = &r;
      if (wanted.empty()) continue;
      // Each site goes to run.h5 as soon as its block computes it: memory holds one site, not a
      // prompt's worth (every layer's [heads, T, T] pattern of a 2048-token prompt is ~25 GiB).
      auto write_site = [&](const std::string& hook, const at::Tensor& value) {
        const SiteRequest& r = *wanted.at(hook);
        at::Tensor t = value.squeeze(0).to(at::kCPU).to(at::kFloat);
        const HookSite& site = *parse_hook_name(r.hook)->site;
        std::vector<std::int64_t> heads = r.heads;
        if (heads.empty() && site.has_heads())
          for (std::int64_t h = 0; h < t.size(site.head_axis); ++h) heads.push_back(h);
        Attrs attrs = site.short_name == "pattern" ? report::attention_map_attributes(model_.variant, prompt.id, r.layer)
                                                   : Attrs{{"layer", r.layer}};
        attrs["meaning"] = site.meaning + ", " + site.shape + (heads.empty() ? "" : " (heads: the `heads` attribute)");
        attrs["site"] = site.short_name;
        if (!heads.empty()) attrs["heads"] = heads;
        out.write(group + "/" + r.hook, t, attrs);
        values += t.numel();
      };
      std::set<std::string> names;
      for (const auto& [hook, r] : wanted) names.insert(hook);
      HookPoints hooks = HookPoints::streaming(names, write_site);
      for (const auto& [hook, r] : wanted)
        if (!r->heads.empty()) hooks.select_heads(hook, r->heads);
      lm.model->forward(at::tensor(tp.ids, at::TensorOptions().dtype(at::kLong)).unsqueeze(0), hooks);
      progress.advance();
    }
    progress.finish();
    out.set_attr("/", "values_kept", values);
    log::debug("{}: kept {} values", name(), values);
  }

 private:
  Config config_;
  std::vector<PromptSpec> prompts_;
  ResolvedModel model_;
  std::shared_ptr<checkpoint::ModelPool> pool_;
};

}  // namespace

std::unique_ptr<Stage> make_hook_stage(const Config& config, const checkpoint::Inputs& inputs, const ResolvedModel& model) {
  return std::make_unique<HookStage>(config, inputs.prompts, model, inputs.pool);
}

}  // namespace sinklab::catch_tag_release
