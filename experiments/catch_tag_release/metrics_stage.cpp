// metrics.V: sinks, massive activations, outlier dimensions and per-head spectra. The forward
// pass streams each layer's attention and hidden state into the reductions, so memory stays at
// one layer's worth whatever the depth.
#include "experiments/checkpoint/cost_model.h"
#include <ATen/ATen.h>

#include "experiments/catch_tag_release/stages.h"
#include "experiments/checkpoint/prompt_tokens.h"
#include "experiments/checkpoint/stage_names.h"
#include "framework/analysis/sinks.h"
#include "framework/hooks/hook_sites.h"
#include "framework/util/error.h"
#include "framework/util/progress.h"

namespace sinklab::catch_tag_release {
namespace {

using checkpoint::PromptSpec;
using checkpoint::ResolvedModel;

const auto f32 = at::TensorOptions().dtype(at::kFloat);

Attrs meaning(const std::string& s) { return {{"meaning", s}}; }

class MetricsStage : public Stage {
 public:
  MetricsStage(MetricsSpec metrics, std::vector<PromptSpec> prompts, ResolvedModel model,
               std::shared_ptr<checkpoint::ModelPool> pool)
      : metrics_(std::move(metrics)), prompts_(std::move(prompts)), model_(std::move(model)), pool_(std::move(pool)) {}
  std::string name() const override { return checkpoint::stage_names::metrics(model_.variant); }
  int version() const override { return 1; }
  nlohmann::ordered_json reads() const override {
    return {{"model", model_.reads()}, {"prompts", checkpoint::prompt_reads(selected_prompts())},
            {"metrics", encode_value(metrics_)}};
  }
  std::vector<std::string> input_files() const override {
    return checkpoint::model_and_prompt_files(model_, selected_prompts());
  }
  std::vector<std::string> upstream() const override { return model_.upstream(); }
  bool checked_for_thread_invariance() const override { return true; }

  std::vector<PromptSpec> selected_prompts() const {
    std::vector<PromptSpec> out;
    for (const auto& p : prompts_)
      if (metrics_.prompts.empty() || std::find(metrics_.prompts.begin(), metrics_.prompts.end(), p.id) != metrics_.prompts.end())
        out.push_back(p);
    return out;
  }

  // The weights, each prompt's forward pass, and one layer's attention [H, T, T] and hidden
  // state in float32 at a time (the reductions stream layer by layer).
  std::optional<StageCost> cost() const override {
    const auto& shape = checkpoint::checkpoint_shape(model_.dir);
    const ModelSpec& s = shape.spec;
    StageCost c = checkpoint::weights_cost(shape, model_.scalar_type());
    for (const auto& prompt : selected_prompts()) {
      const double T = double(checkpoint::prompt_length(model_.dir, prompt));
      checkpoint::add_forward(c, s, model_.scalar_type(), 1, T);
      c.hooks = std::max(c.hooks, 2 * double(s.num_heads) * T * T * 4 + 4 * T * double(s.hidden_size) * 4);
    }
    c.fit = "prompts[].max_tokens or metrics.prompts (memory grows with T^2), model.dtype: bfloat16";
    return c;
  }

  void run(StageContext& ctx) const override {
    const MetricsSpec& ms = metrics_;
    auto lm = pool_->get(model_, ctx);
    const ModelSpec& spec = lm.model->spec();
    std::vector<std::int64_t> layers = ms.layers;
    if (layers.empty())
      for (std::int64_t l = 0; l < spec.num_layers; ++l) layers.push_back(l);
    for (auto l : layers)
      SINKLAB_INPUT_CHECK(l < spec.num_layers, "metrics.layers: layer {} does not exist: the model has layers 0..{}", l,
                          spec.num_layers - 1);
    const std::int64_t L = std::int64_t(layers.size());
    auto& out = ctx.output();
    out.set_attr("/", "model", model_.display_name);
    out.set_attr("/", "sink_epsilon", ms.sink_epsilon);
    out.write("layers", at::tensor(layers, f32.dtype(at::kLong)), meaning("the measured layers (0-based), [L]"));

    // Which (kind, row) each streamed hook fills.
    std::map<std::string, std::pair<bool, std::int64_t>> slot;  // hook -> (is_pattern, row)
    std::set<std::string> names;
    for (std::int64_t i = 0; i < L; ++i) {
      slot[hook_name(int(layers[i]), "pattern")] = {true, i};
      slot[hook_name(int(layers[i]), "resid_post")] = {false, i};
      names.insert(hook_name(int(layers[i]), "pattern"));
      names.insert(hook_name(int(layers[i]), "resid_post"));
    }
    auto prompts = selected_prompts();
    Progress progress(name(), std::int64_t(prompts.size()) + (ms.weights ? L : 0));
    for (const auto& prompt : prompts) {
      auto tp = checkpoint::tokenize_prompt(*lm.tokenizer, checkpoint::prompt_text(prompt), prompt.max_tokens);
      const std::int64_t T = std::int64_t(tp.ids.size());
      auto sinks = at::full({L, spec.num_heads, T}, NAN, f32);
      auto outlier = at::zeros({L, spec.hidden_size}, f32);
      auto top = at::zeros({L, 3}, f32.dtype(at::kDouble));
      auto abs_max = at::zeros({L}, f32), abs_median = at::zeros({L}, f32);
      std::vector<at::Tensor> massive;
      HookPoints hooks = HookPoints::streaming(names, [&](const std::string& hook, const at::Tensor& value) {
        auto [is_pattern, row] = slot.at(hook);
        if (is_pattern) {
          sinks[row].copy_(sink_scores(value[0], ms.min_queries));
          return;
        }
        auto x = value[0].to(at::kCPU).to(at::kDouble);  // [T, D]
        auto mag = x.abs();
        auto flat = mag.argmax().item<std::int64_t>();
        const std::int64_t D = x.size(1);
        top[row][0] = double(flat / D);
        top[row][1] = double(flat % D);
        top[row][2] = x.view({-1})[flat].item<double>();
        abs_max[row] = mag.max().item<double>();
        abs_median[row] = mag.median().item<double>();
        outlier[row].copy_(outlier_dimension_scores(x));
        auto m = massive_activations(x, ms.massive_abs, ms.massive_ratio);  // [N, 3]
        if (m.size(0) > 0)
          massive.push_back(at::cat({at::full({m.size(0), 1}, double(layers[row]), m.options()), m}, 1));
      });
      lm.model->forward(at::tensor(tp.ids, f32.dtype(at::kLong)).unsqueeze(0), hooks);
      const std::string g = "prompts/" + prompt.id;
      checkpoint::write_prompt_tokens(out, g, tp);
      out.write(g + "/sink_scores", sinks,
                {{"meaning", std::string("alpha_k = mean over queries t >= k of A[t, k]; NaN where fewer than "
                                         "min_queries queries, [layer, head, key]")},
                 {"min_queries", std::int64_t(ms.min_queries)}});
      out.write(g + "/top_activation", top, meaning("largest |x| of resid_post: (position, dimension, value), [layer, 3]"));
      out.write(g + "/abs_max", abs_max, meaning("max |x| of resid_post, [layer]"));
      out.write(g + "/abs_median", abs_median, meaning("median |x| of resid_post, [layer]"));
      out.write(g + "/outlier_scores", outlier,
                meaning("median over tokens of |x_d| / median |x_t|, resid_post, [layer, d_model]"));
      auto all_massive = massive.empty() ? at::zeros({0, 4}, f32.dtype(at::kDouble)) : at::cat(massive, 0);
      all_massive = all_massive.index_select(0, all_massive.select(1, 3).abs().argsort(0, /*descending=*/true));
      out.write(g + "/massive_activations", all_massive,
                {{"meaning", std::string("(layer, position, dimension, value) with |x| > massive_abs and >= "
                                         "massive_ratio x its token's median |x|, largest first, [N, 4]")},
                 {"massive_abs", ms.massive_abs},
                 {"massive_ratio", ms.massive_ratio}});
      progress.advance();
    }
    if (ms.weights) {
      std::vector<at::Tensor> qk, v;
      for (auto l : layers) {
        auto s = attention_head_spectra(lm.model->attention_weights(l), spec.num_heads, spec.num_kv_heads,
                                        spec.head_dim);
        qk.push_back(s.qk_singular_values);
        v.push_back(s.v_singular_values);
        progress.advance();
      }
      auto qk_all = at::stack(qk), v_all = at::stack(v);
      out.write("qk_singular_values", qk_all, meaning("singular values of W_Q,h^T W_K,h per head, [layer, head, d_head]"));
      out.write("qk_effective_rank", effective_rank(qk_all).to(at::kFloat),
                meaning("exp(entropy of s / sum s) of W_Q,h^T W_K,h, [layer, head]"));
      out.write("v_singular_values", v_all, meaning("singular values of W_V,g per key/value head, [layer, kv_head, d_head]"));
      out.write("v_effective_rank", effective_rank(v_all).to(at::kFloat),
                meaning("exp(entropy of s / sum s) of W_V,g, [layer, kv_head]"));
    }
    progress.finish();
  }

 private:
  MetricsSpec metrics_;
  std::vector<PromptSpec> prompts_;
  ResolvedModel model_;
  std::shared_ptr<checkpoint::ModelPool> pool_;
};

}  // namespace

std::unique_ptr<Stage> make_metrics_stage(const MetricsSpec& metrics, const checkpoint::Inputs& inputs,
                                          const ResolvedModel& model) {
  return std::make_unique<MetricsStage>(metrics, inputs.prompts, model, inputs.pool);
}

}  // namespace sinklab::catch_tag_release
