// intervene.V: every intervention (and the clean run) on every selected prompt of one variant.
// A one-pass run streams each layer's attention pattern and residual stream into the reductions
// (alpha_0 per head, the largest activation), so memory stays at one layer's worth; a streamed
// run (`kv`) reads the prompt token by token through its KV cache and measures the NLL only.
#include <ATen/ATen.h>

#include <map>
#include <set>

#include "experiments/checkpoint/cost_model.h"
#include "experiments/checkpoint/prompt_tokens.h"
#include "experiments/checkpoint/stage_names.h"
#include "experiments/interventions/part.h"
#include "framework/analysis/sinks.h"
#include "framework/eval/perplexity.h"
#include "framework/hooks/hook_sites.h"
#include "framework/tokenizer/tokenizer.h"
#include "framework/util/error.h"
#include "framework/util/progress.h"

namespace sinklab::interventions {
namespace {

using checkpoint::PromptSpec;
using checkpoint::ResolvedModel;

const auto f64 = at::TensorOptions().dtype(at::kDouble);

Attrs meaning(const std::string& s) { return {{"meaning", s}}; }

// The ids an entry runs on and, for each NLL it produces, the text position it scores.
struct EntryInput {
  std::vector<std::int64_t> ids;
  std::vector<std::int64_t> targets;  // nll[i] scores text token targets[i]
};

EntryInput entry_input(const InterventionSpec& e, const std::vector<std::int64_t>& text, const Tokenizer& tok,
                       const std::string& prompt_id) {
  EntryInput in;
  in.ids = text;
  std::int64_t shift = 1;  // nll[i] predicts ids[i + 1]
  if (e.first_token == "drop") {
    SINKLAB_INPUT_CHECK(text.size() >= 3, "prompt '{}' has {} tokens: first_token: drop needs at least 3", prompt_id,
                        text.size());
    in.ids.erase(in.ids.begin());
    shift = 2;
  } else if (e.first_token == "replace") {
    auto with = tok.encode(e.replace_with, false);
    SINKLAB_INPUT_CHECK(!with.empty(), "replace_with '{}' encodes to no token", e.replace_with);
    in.ids[0] = with.front();
  }
  for (std::size_t i = 0; i + 1 < in.ids.size(); ++i) in.targets.push_back(std::int64_t(i) + shift);
  return in;
}

class InterveneStage : public Stage {
 public:
  InterveneStage(Section section, std::vector<PromptSpec> prompts, ResolvedModel model,
                 std::shared_ptr<checkpoint::ModelPool> pool)
      : section_(std::move(section)), prompts_(std::move(prompts)), model_(std::move(model)), pool_(std::move(pool)) {}
  std::string name() const override { return checkpoint::stage_names::intervene(model_.variant); }
  int version() const override { return 1; }
  nlohmann::ordered_json reads() const override {
    auto s = encode_value(section_);
    s.erase("heads");  // only the report reads them
    return {{"model", model_.reads()}, {"prompts", checkpoint::prompt_reads(prompts_)}, {"interventions", s}};
  }
  std::vector<std::string> input_files() const override { return model_.files(); }
  std::vector<std::string> upstream() const override { return model_.upstream(); }

  // The weights, and per prompt and entry one forward pass (streamed: T passes of one token
  // attending over the cache) with one layer's attention [H, T, T] in float32 at a time.
  std::optional<StageCost> cost() const override {
    const auto& shape = checkpoint::checkpoint_shape(model_.dir);
    const ModelSpec& s = shape.spec;
    const at::ScalarType dt = model_.scalar_type();
    StageCost c = checkpoint::weights_cost(shape, dt);
    for (const auto& prompt : prompts_) {
      const double T = double(checkpoint::prompt_length(model_.dir, prompt));
      StageCost pass;
      checkpoint::add_forward(pass, s, dt, 1, T);
      c.activations = std::max(c.activations, pass.activations);
      c.flops += pass.flops;  // the clean run
      c.hooks = std::max(c.hooks, double(s.num_heads) * T * T * 4 + 2 * T * double(s.hidden_size) * 4);
      const double per_token = 2 * double(s.num_layers * s.num_kv_heads * s.head_dim) * checkpoint::dtype_bytes(dt);
      for (const auto& [name, e] : section_.entries) {
        if (!e.kv) {
          c.flops += pass.flops;
          continue;
        }
        const double kept = e.kv->policy == "full" ? T : std::min(T, double(e.kv->window + e.kv->sink_tokens));
        StageCost step;
        checkpoint::add_forward(step, s, dt, 1, 1, kept);
        c.flops += step.flops * T;
        c.kv_cache = std::max(c.kv_cache, kept * per_token);
      }
    }
    c.fit = "prompts[].max_tokens or interventions.prompts, interventions.entries.*.kv.window, model.dtype: bfloat16";
    return c;
  }

  void run(StageContext& ctx) const override {
    auto lm = pool_->get(model_, ctx);
    const ModelSpec& spec = lm.model->spec();
    const std::int64_t L = spec.num_layers, H = spec.num_heads;
    auto& out = ctx.output();
    out.set_attr("/", "model", model_.display_name);
    std::vector<std::pair<std::string, InterventionSpec>> runs{{"clean", InterventionSpec{}}};
    runs.insert(runs.end(), section_.entries.begin(), section_.entries.end());
    std::vector<std::string> names;
    for (const auto& r : runs) names.push_back(r.first);
    out.write_strings("entries", names, meaning("the runs per prompt: clean, then each intervention, [E]"));
    std::int64_t steps = 0;
    for (const auto& r : runs) steps += r.second.kv ? 4 : 1;  // a streamed run costs a few passes' time
    Progress progress(name(), std::int64_t(prompts_.size()) * steps);
    for (const auto& prompt : prompts_) {
      auto tp = checkpoint::tokenize_prompt(*lm.tokenizer, checkpoint::prompt_text(prompt), prompt.max_tokens);
      SINKLAB_INPUT_CHECK(tp.ids.size() >= 2, "prompt '{}' has {} token(s): interventions need at least 2", prompt.id,
                          tp.ids.size());
      const std::string g = "prompts/" + prompt.id;
      checkpoint::write_prompt_tokens(out, g, tp);
      for (const auto& [entry, e] : runs) {
        const EntryInput in = entry_input(e, tp.ids, *lm.tokenizer, prompt.id);
        const std::string eg = g + "/" + entry;
        if (e.kv) streamed(*lm.model, e, in, out, eg);
        else one_pass(*lm.model, e, in, out, eg);
        const auto N = std::int64_t(in.targets.size());
        out.write(eg + "/targets", at::tensor(in.targets, f64.dtype(at::kLong)),
                  meaning("the prompt token (0-based, in /" + g + "/input_ids) each nll entry scores, [N]"));
        out.set_attr("/" + eg, "first_token", e.first_token);
        out.set_attr("/" + eg, "scored_tokens", N);
        progress.advance(e.kv ? 4 : 1);
      }
    }
    out.set_attr("/", "sink_epsilon", section_.sink_epsilon);
    out.write("layers", at::arange(L, f64.dtype(at::kLong)), meaning("layers of alpha0 and the activations, [L]"));
    out.set_attr("/", "heads", H);
    progress.finish();
  }

 private:
  void add_edits(const InterventionSpec& e, std::int64_t layers, HookPoints& hooks) const {
    for (const auto& a : e.ablate) add_ablation(a, layers, hooks);
  }

  void one_pass(const LanguageModel& model, const InterventionSpec& e, const EntryInput& in, Hdf5File& out,
                const std::string& g) const {
    const ModelSpec& spec = model.spec();
    const std::int64_t L = spec.num_layers, H = spec.num_heads;
    auto alpha0 = at::full({L, H}, NAN, f64);
    auto top = at::zeros({L, 3}, f64), median = at::zeros({L}, f64);
    std::map<std::string, std::pair<bool, std::int64_t>> slot;  // hook -> (is the pattern, layer)
    std::set<std::string> names;
    for (std::int64_t l = 0; l < L; ++l) {
      slot[hook_name(int(l), "pattern")] = {true, l};
      slot[hook_name(int(l), "resid_post")] = {false, l};
    }
    for (const auto& entry : slot) names.insert(entry.first);
    HookPoints hooks = HookPoints::streaming(names, [&](const std::string& hook, const at::Tensor& value) {
      const auto [is_pattern, l] = slot.at(hook);
      if (is_pattern) {
        alpha0[l].copy_(sink_scores(value[0].to(at::kCPU).to(at::kFloat)).select(-1, 0).to(at::kDouble));
        return;
      }
      auto x = value[0].to(at::kCPU).to(at::kDouble);  // [T, D]
      auto mag = x.abs();
      const std::int64_t flat = mag.argmax().item<std::int64_t>(), D = x.size(1);
      top[l][0] = double(flat / D);
      top[l][1] = double(flat % D);
      top[l][2] = x.view({-1})[flat].item<double>();
      median[l] = mag.median().item<double>();
    });
    add_edits(e, L, hooks);
    const auto ids = at::tensor(in.ids, f64.dtype(at::kLong));
    auto lp = at::log_softmax(model.forward(ids.unsqueeze(0), hooks)[0].to(at::kCPU).to(at::kDouble), -1);  // [T, V]
    const std::int64_t T = ids.size(0);
    auto nll = -lp.narrow(0, 0, T - 1).gather(1, ids.narrow(0, 1, T - 1).unsqueeze(1)).squeeze(1);  // [T - 1]
    out.write(g + "/nll", nll, meaning("-log p(token | the tokens before it) in nats, [N]"));
    out.write(g + "/alpha0", alpha0, meaning("mean over queries of the attention paid to position 0, [layer, head]"));
    out.write(g + "/top_activation", top, meaning("largest |x| of resid_post: (position, dimension, value), [layer, 3]"));
    out.write(g + "/abs_median", median, meaning("median |x| of resid_post, [layer]"));
  }

  void streamed(const LanguageModel& model, const InterventionSpec& e, const EntryInput& in, Hdf5File& out,
                const std::string& g) const {
    std::optional<StreamingPolicy> policy;
    if (e.kv->policy != "full") policy = StreamingPolicy{e.kv->policy == "sinks" ? e.kv->sink_tokens : 0, e.kv->window};
    HookPoints hooks = HookPoints::none();
    add_edits(e, model.spec().num_layers, hooks);
    auto nll = streaming_nll(model, in.ids, policy, hooks);
    out.write(g + "/nll", at::tensor(nll, f64),
              {{"meaning", std::string("-log p(token | what the KV cache kept of the tokens before it) in nats, [N]")},
               {"policy", e.kv->policy},
               {"sink_tokens", policy ? policy->sink_tokens : std::int64_t(0)},
               {"window", policy ? policy->window : std::int64_t(0)}});
  }

  Section section_;
  std::vector<PromptSpec> prompts_;
  ResolvedModel model_;
  std::shared_ptr<checkpoint::ModelPool> pool_;
};

}  // namespace

std::unique_ptr<Stage> make_intervene_stage(const Section& section, const checkpoint::Inputs& inputs,
                                            const ResolvedModel& model) {
  return std::make_unique<InterveneStage>(section, selected_prompts(section, inputs.prompts), model, inputs.pool);
}

}  // namespace sinklab::interventions
