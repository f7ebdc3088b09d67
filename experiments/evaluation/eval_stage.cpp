// eval.V: few-shot multiple choice as lm-evaluation-harness scores MMLU, and perplexity.
#include <ATen/ATen.h>

#include <chrono>
#include <filesystem>

#include "experiments/checkpoint/cost_model.h"
#include "experiments/checkpoint/stage_names.h"
#include "experiments/evaluation/multiple_choice.h"
#include "experiments/evaluation/part.h"
#include "framework/eval/loglikelihood.h"
#include "framework/eval/mc_dataset.h"
#include "framework/eval/mc_prompt.h"
#include "framework/eval/perplexity.h"
#include "framework/tokenizer/tokenizer.h"
#include "framework/prune/calibration.h"
#include "framework/util/error.h"
#include "framework/util/progress.h"
#include "framework/util/system.h"

namespace fs = std::filesystem;

namespace sinklab::evaluation {
namespace {

using checkpoint::ResolvedModel;

const auto f64 = at::TensorOptions().dtype(at::kDouble);

std::vector<std::string> data_files(const std::string& path) {
  std::vector<std::string> out;
  if (fs::is_regular_file(path)) return {path};
  if (!fs::is_directory(path)) return {};
  for (const auto& e : fs::recursive_directory_iterator(path))
    if (e.is_regular_file() && e.path().extension() != ".png") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

class EvalStage : public Stage {
 public:
  EvalStage(EvalSpec spec, ResolvedModel model, std::shared_ptr<checkpoint::ModelPool> pool)
      : spec_(std::move(spec)), model_(std::move(model)), pool_(std::move(pool)) {}
  std::string name() const override { return checkpoint::stage_names::eval(model_.variant); }
  int version() const override { return 1; }
  nlohmann::ordered_json reads() const override {
    auto e = encode_value(spec_);
    e.erase("data");  // the files' fingerprints stand for it
    if (e.contains("perplexity") && e["perplexity"].is_object()) e["perplexity"].erase("path");
    return {{"model", model_.reads()}, {"eval", e}};
  }
  std::vector<std::string> input_files() const override {
    auto files = model_.files();
    for (const auto& f : question_files(spec_)) files.push_back(f);
    if (spec_.perplexity)
      for (const auto& f : calibration_files(resolve_data_path(spec_.perplexity->path))) files.push_back(f);
    return files;
  }
  std::vector<std::string> upstream() const override { return model_.upstream(); }
  bool checked_for_thread_invariance() const override { return true; }
  std::unique_ptr<Stage> rebatched(std::string& condition) const override {
    auto copy = std::make_unique<EvalStage>(*this);
    copy->spec_.batch_size = spec_.batch_size == 1 ? 4 : 1;
    condition = fmt::format("eval.batch_size {} -> {}", spec_.batch_size, copy->spec_.batch_size);
    return copy;
  }

  void run(StageContext& ctx) const override {
    auto lm = pool_->get(model_, ctx);
    auto& out = ctx.output();
    if (!spec_.data.empty()) {
      auto subjects = load_mc_dataset(spec_.task, resolve_data_path(spec_.data), spec_.subjects, spec_.limit);
      std::int64_t questions = 0;
      for (const auto& s : subjects) questions += std::int64_t(s.test.size());
      Progress progress(name(), questions * std::int64_t(spec_.shots.size()));
      score_multiple_choice(*lm.model, *lm.tokenizer, spec_, subjects, out, "", progress);
      progress.finish();
    }
    if (spec_.perplexity) {
      const auto& p = *spec_.perplexity;
      auto docs = load_documents(resolve_data_path(p.path));
      std::vector<std::int64_t> tokens = lm.tokenizer->encode(docs.front(), true);
      for (std::size_t i = 1; i < docs.size(); ++i) {
        auto more = lm.tokenizer->encode("\n\n" + docs[i], false);
        tokens.insert(tokens.end(), more.begin(), more.end());
      }
      if (p.max_tokens > 0 && tokens.size() > std::size_t(p.max_tokens)) tokens.resize(std::size_t(p.max_tokens));
      auto r = perplexity(*lm.model, tokens, p.window, p.stride);
      out.write("perplexity/value", at::tensor(r.perplexity(), f64).reshape({}), {{"meaning", std::string("exp(mean NLL), []")}});
      out.write("perplexity/tokens", at::tensor(r.tokens, f64.dtype(at::kLong)).reshape({}),
                {{"meaning", std::string("scored tokens, []")}});
    }
  }

  std::optional<StageCost> cost() const override { return eval_cost(spec_, model_); }

 private:
  EvalSpec spec_;
  ResolvedModel model_;
  std::shared_ptr<checkpoint::ModelPool> pool_;
};

}  // namespace

std::vector<std::string> question_files(const EvalSpec& spec) {
  return spec.data.empty() ? std::vector<std::string>{} : data_files(resolve_data_path(spec.data));
}

// The weights; for multiple choice the longest k-shot context (its question and choice), a
// batch of them with the shared prefix's KV cache, and the FLOPs of the tokens beyond the
// prefix; for perplexity one window, over the text (bytes / 4 tokens when
// max_tokens is 0). Loads the questions (which checks subjects) but reads no weights.
StageCost eval_cost(const EvalSpec& spec, const ResolvedModel& model) {
  const auto& shape = checkpoint::checkpoint_shape(model.dir);
  const ModelSpec& s = shape.spec;
  const at::ScalarType dt = model.scalar_type();
  StageCost c = checkpoint::weights_cost(shape, dt);
  if (!spec.data.empty()) {
    auto subjects = load_mc_dataset(spec.task, resolve_data_path(spec.data), spec.subjects, spec.limit);
    const Tokenizer& tok = checkpoint::checkpoint_tokenizer(model.dir);  // shared by every variant's estimate
    const double B = spec.scoring == "prefix" ? double(spec.batch_size) : 1;
    for (const auto& subject : subjects) {
      if (subject.test.empty()) continue;
      const McItem* longest = &subject.test.front();
      for (const auto& item : subject.test)
        if (mc_doc_text(item).size() > mc_doc_text(*longest).size()) longest = &item;
      for (auto k : spec.shots) {
        const double T = double(tok.encode(mc_context(subject.name, subject.dev, int(k), *longest) + mc_continuation(0),
                                           spec.add_bos).size());
        const bool prefix_scoring = spec.scoring == "prefix";
        const double prefix =
            prefix_scoring ? double(tok.encode(mc_shared_prefix(subject.name, subject.dev, int(k)), spec.add_bos).size()) : 0;
        const double rest = std::max(1.0, T - prefix);
        // Prefix scoring: a batch of questions' tokens after the shared prefix, attending to
        // it; the prefix's own pass is one sequence of `prefix` tokens. Naive: the whole
        // context once per choice.
        StageCost pass, prefix_pass;
        checkpoint::add_forward(pass, s, dt, B, rest, prefix);
        if (prefix > 0) checkpoint::add_forward(prefix_pass, s, dt, 1, prefix);
        c.activations = std::max({c.activations, pass.activations, prefix_pass.activations});
        // The prefix's cache, and the batch's (its copy of the prefix and its own tokens).
        const double per_token = 2 * double(s.num_layers * s.num_kv_heads * s.head_dim) * checkpoint::dtype_bytes(dt);
        if (prefix_scoring) c.kv_cache = std::max(c.kv_cache, (prefix + B * T) * per_token);
        StageCost pass_flops;
        checkpoint::add_forward(pass_flops, s, dt, 1, rest, prefix);
        c.flops += prefix_pass.flops +
                   pass_flops.flops * double(subject.test.size()) * (prefix_scoring ? 1.0 : double(longest->choices.size()));
      }
    }
  }
  if (spec.perplexity) {
    const auto& p = *spec.perplexity;
    double tokens = double(p.max_tokens);
    if (tokens == 0)
      for (const auto& f : calibration_files(resolve_data_path(p.path))) tokens += double(fs::file_size(f)) / 4;
    StageCost window;
    checkpoint::add_forward(window, s, dt, 1, double(p.window));
    c.activations = std::max(c.activations, window.activations);
    c.flops += window.flops * std::max(1.0, (tokens - double(p.window)) / double(p.stride) + 1);
  }
  c.fit = "eval.batch_size, eval.shots (shorter contexts), eval.perplexity.window, model.dtype: bfloat16";
  return c;
}


std::unique_ptr<Stage> make_eval_stage(const EvalSpec& spec, const checkpoint::Inputs& inputs, const ResolvedModel& model) {
  return std::make_unique<EvalStage>(spec, model, inputs.pool);
}

}  // namespace sinklab::evaluation
