// intervene_eval.V: few-shot multiple choice of one variant, clean and under every entry that
// is not streamed, scored as eval.V scores it (experiments/evaluation/multiple_choice.h). An
// entry whose edits pick positions runs each request in one pass (naive scoring), so that
// position 0 is each request's first token; the others share the few-shot prefix's KV cache.
// Mean ablations take their mean from the entry's reference prompt, massive_dims from the clean
// runs of the section's prompts.
#include <ATen/ATen.h>

#include <set>

#include "experiments/checkpoint/prompt_tokens.h"
#include "experiments/checkpoint/stage_names.h"
#include "experiments/evaluation/multiple_choice.h"
#include "experiments/evaluation/part.h"
#include "experiments/interventions/clean_runs.h"
#include "experiments/interventions/part.h"
#include "framework/eval/mc_dataset.h"
#include "framework/tokenizer/tokenizer.h"
#include "framework/util/progress.h"
#include "framework/util/system.h"

namespace sinklab::interventions {
namespace {

using checkpoint::PromptSpec;
using checkpoint::ResolvedModel;

class InterveneEvalStage : public Stage {
 public:
  InterveneEvalStage(Section section, std::vector<PromptSpec> prompts, std::vector<PromptSpec> all_prompts,
                     ResolvedModel model, std::shared_ptr<checkpoint::ModelPool> pool)
      : section_(std::move(section)), prompts_(std::move(prompts)), all_prompts_(std::move(all_prompts)),
        model_(std::move(model)), pool_(std::move(pool)) {}
  std::string name() const override { return checkpoint::stage_names::intervene_eval(model_.variant); }
  int version() const override { return 1; }
  nlohmann::ordered_json reads() const override {
    auto eval = encode_value(*section_.eval);
    eval.erase("data");  // the files' fingerprints stand for it
    return {{"model", model_.reads()},
            {"prompts", checkpoint::prompt_reads(all_prompts_)},
            {"selected", section_.prompts},
            {"entries", encode_value(section_.entries)},
            {"massive", encode_value(section_.massive)},
            {"eval", eval}};
  }
  std::vector<std::string> input_files() const override {
    auto files = checkpoint::model_and_prompt_files(model_, all_prompts_);
    for (const auto& f : evaluation::question_files(*section_.eval)) files.push_back(f);
    return files;
  }
  std::vector<std::string> upstream() const override { return model_.upstream(); }

  // eval.V's cost once per run (clean and each entry), naive scoring for entries that pick positions.
  std::optional<StageCost> cost() const override {
    // Each estimate loads the questions and tokenizes the longest contexts: once per scoring.
    evaluation::EvalSpec naive_spec = *section_.eval;
    naive_spec.scoring = "naive";
    const StageCost as_configured = evaluation::eval_cost(*section_.eval, model_);
    std::optional<StageCost> naive;
    StageCost total = as_configured;
    for (const auto& [name, e] : section_.entries) {
      if (e.kv) continue;
      if (e.picks_positions() && !naive) naive = evaluation::eval_cost(naive_spec, model_);
      const StageCost& one = e.picks_positions() ? *naive : as_configured;
      total.flops += one.flops;
      total.activations = std::max(total.activations, one.activations);
      total.kv_cache = std::max(total.kv_cache, one.kv_cache);
    }
    total.fit = "interventions.eval.limit, interventions.eval.shots, interventions.eval.subjects, model.dtype: bfloat16";
    return total;
  }

  void run(StageContext& ctx) const override {
    auto lm = pool_->get(model_, ctx);
    const LanguageModel& model = *lm.model;
    const Tokenizer& tok = *lm.tokenizer;
    const evaluation::EvalSpec& spec = *section_.eval;
    auto subjects = load_mc_dataset(spec.task, resolve_data_path(spec.data), spec.subjects, spec.limit);
    std::vector<std::pair<std::string, InterventionSpec>> runs{{"clean", InterventionSpec{}}};
    for (const auto& [name, e] : section_.entries)
      if (!e.kv) runs.emplace_back(name, e);
    std::vector<std::string> names;
    for (const auto& r : runs) names.push_back(r.first);
    auto& out = ctx.output();
    out.write_strings("entries", names, {{"meaning", std::string("the runs scored: clean, then each entry not streamed, [E]")}});
    // The massive dims of the selected prompts' clean runs, when an entry asks for them.
    std::vector<std::int64_t> massive;
    bool wants_massive = false;
    for (const auto& r : runs) wants_massive = wants_massive || r.second.reads_massive_dims();
    if (wants_massive) {
      std::set<std::int64_t> dims;
      for (const auto& p : prompts_) {
        const auto ids = checkpoint::prompt_ids(tok, checkpoint::prompt_text(p), p.max_tokens);
        const std::int64_t context = model.spec().context_length;
        if (context > 0 && std::int64_t(ids.size()) > context) continue;  // read by streamed entries only
        for (auto d : massive_dims_of(model, ids, section_.massive)) dims.insert(d);
      }
      massive.assign(dims.begin(), dims.end());
      out.write("massive_dims", at::tensor(massive.empty() ? std::vector<std::int64_t>{} : massive,
                                           at::TensorOptions().dtype(at::kLong)),
                {{"meaning", std::string("dims with a massive activation in the clean runs of the section's prompts, [M]")}});
    }
    std::int64_t questions = 0;
    for (const auto& s : subjects) questions += std::int64_t(s.test.size());
    Progress progress(name(), questions * std::int64_t(spec.shots.size() * runs.size()));
    for (const auto& run : runs) {
      const std::string& entry = run.first;
      const InterventionSpec& e = run.second;  // a plain reference: lambdas below capture it (C++17)
      std::map<std::string, at::Tensor> reference;
      if (e.reads_reference()) {
        const PromptSpec& ref = prompt_named(all_prompts_, e.reference);
        reference = record_clean(model, checkpoint::prompt_ids(tok, checkpoint::prompt_text(ref), ref.max_tokens),
                                 ablated_site_names(e, model.spec().num_layers));
      }
      evaluation::McRunOptions options;
      options.naive = e.picks_positions();
      const bool by_tokens = std::any_of(e.ablate.begin(), e.ablate.end(), [](const Ablation& a) { return !a.tokens.empty(); });
      options.add_hooks = [&, by_tokens](const std::vector<std::int64_t>& ids, HookPoints& hooks) {
        std::vector<std::string> pieces;
        if (by_tokens) pieces = checkpoint::tokenize_ids(tok, ids).pieces;
        for (const auto& a : e.ablate)
          if (auto at = at_tokens(a, pieces))
            if (auto resolved = at_dims(*at, massive)) add_ablation(*resolved, model.spec().num_layers, hooks, reference);
      };
      if (e.first_token != "keep") {
        const std::int64_t token = e.first_token == "drop" ? -1 : first_token_id(e, tok);
        options.edit_request = [&e, token](EncodedRequest& r) {
          if (e.first_token == "drop") {
            SINKLAB_INPUT_CHECK(r.context.size() >= 2, "first_token: drop leaves a request with no context");
            r.context.erase(r.context.begin());
          } else if (e.first_token == "replace") {
            r.context[0] = token;
          } else {
            r.context.insert(r.context.begin(), token);
          }
        };
      }
      evaluation::score_multiple_choice(model, tok, spec, subjects, out, entry + "/", progress, options);
      out.set_attr("/" + entry, "scoring", std::string(options.naive ? "naive" : spec.scoring));
    }
    progress.finish();
  }

 private:
  Section section_;
  std::vector<PromptSpec> prompts_, all_prompts_;
  ResolvedModel model_;
  std::shared_ptr<checkpoint::ModelPool> pool_;
};

}  // namespace

std::unique_ptr<Stage> make_intervene_eval_stage(const Section& section, const checkpoint::Inputs& inputs,
                                                 const ResolvedModel& model) {
  return std::make_unique<InterveneEvalStage>(section, selected_prompts(section, inputs.prompts), inputs.prompts, model,
                                              inputs.pool);
}

}  // namespace sinklab::interventions
