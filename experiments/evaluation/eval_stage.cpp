// eval.V: few-shot multiple choice as lm-evaluation-harness scores MMLU, and perplexity.
#include <ATen/ATen.h>

#include <chrono>
#include <filesystem>

#include "experiments/checkpoint/cost_model.h"
#include "experiments/checkpoint/stage_names.h"
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
    for (const auto& f : data_files(resolve_data_path(spec_.data))) files.push_back(f);
    if (spec_.perplexity)
      for (const auto& f : calibration_files(resolve_data_path(spec_.perplexity->path))) files.push_back(f);
    return files;
  }
  std::vector<std::string> upstream() const override { return model_.upstream(); }

  void run(StageContext& ctx) const override {
    auto lm = pool_->get(model_, ctx);
    auto& out = ctx.output();
    if (!spec_.data.empty()) multiple_choice(*lm.model, *lm.tokenizer, out);
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

  void multiple_choice(const LanguageModel& model, const Tokenizer& tok, Hdf5File& out) const {
    auto subjects = load_mc_dataset(spec_.task, resolve_data_path(spec_.data), spec_.subjects, spec_.limit);
    std::vector<std::string> names;
    std::int64_t questions = 0;
    for (const auto& s : subjects) names.push_back(s.name), questions += std::int64_t(s.test.size());
    out.write_strings("subjects", names, {{"meaning", std::string("subject of each index, [S]")}});
    Progress progress(name(), questions * std::int64_t(spec_.shots.size()));
    for (auto k : spec_.shots) {
      const std::string g = fmt::format("k{}/", k);
      std::vector<double> ll_all, correct_by, total_by;
      std::vector<std::int64_t> answers, predictions, subject_of;
      std::int64_t reused = 0, computed = 0;
      auto t0 = std::chrono::steady_clock::now();
      for (std::size_t si = 0; si < subjects.size(); ++si) {
        const McSubject& s = subjects[si];
        PrefixScorer scorer(model);
        if (spec_.scoring == "prefix") {
          std::string prefix = mc_shared_prefix(s.name, s.dev, int(k));
          while (!prefix.empty() && std::isspace(static_cast<unsigned char>(prefix.back()))) prefix.pop_back();
          scorer.set_prefix(tok.encode(prefix, spec_.add_bos));
        }
        double correct = 0;
        // Questions go through in batches of `batch` (prefix scoring) or one by one (naive).
        const std::size_t batch = spec_.scoring == "prefix" ? std::size_t(spec_.batch_size) : 1;
        for (std::size_t first = 0; first < s.test.size(); first += batch) {
          const std::size_t count = std::min(batch, s.test.size() - first);
          std::vector<std::vector<EncodedRequest>> questions;
          for (std::size_t q = first; q < first + count; ++q) {
            const std::string context = mc_context(s.name, s.dev, int(k), s.test[q]);
            std::vector<EncodedRequest> requests;
            for (std::size_t c = 0; c < s.test[q].choices.size(); ++c)
              requests.push_back(encode_pair(tok, context, mc_continuation(int(c)), spec_.add_bos));
            questions.push_back(std::move(requests));
          }
          std::vector<std::vector<double>> scores;
          if (spec_.scoring == "prefix") {
            scores = scorer.score_batch(questions);
          } else {
            for (const auto& requests : questions) {
              scores.emplace_back();
              for (const auto& r : requests) {
                scores.back().push_back(loglikelihood_naive(model, r));
                computed += std::int64_t(r.context.size() + r.continuation.size());
              }
            }
          }
          for (std::size_t i = 0; i < count; ++i) {
            const McItem& item = s.test[first + i];
            std::vector<double> ll = scores[i];
            const auto pred = std::int64_t(std::max_element(ll.begin(), ll.end()) - ll.begin());
            correct += pred == item.answer;
            ll.resize(4, -INFINITY);  // rows of [N, 4] (MMLU and hamexam have 4 choices)
            ll_all.insert(ll_all.end(), ll.begin(), ll.end());
            answers.push_back(item.answer);
            predictions.push_back(pred);
            subject_of.push_back(std::int64_t(si));
            progress.advance();
          }
        }
        reused += scorer.reused_tokens();
        computed += scorer.computed_tokens();
        correct_by.push_back(correct);
        total_by.push_back(double(s.test.size()));
      }
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const auto n = std::int64_t(answers.size());
      auto m = [](const std::string& s) { return Attrs{{"meaning", s}}; };
      out.write(g + "loglikelihood", at::tensor(ll_all, f64).view({n, 4}), m("log p(\" X\" | context) per choice, [N, 4]"));
      out.write(g + "answer", at::tensor(answers, f64.dtype(at::kLong)), m("correct choice, [N]"));
      out.write(g + "prediction", at::tensor(predictions, f64.dtype(at::kLong)), m("argmax log-likelihood, [N]"));
      out.write(g + "subject", at::tensor(subject_of, f64.dtype(at::kLong)), m("index into /subjects, [N]"));
      out.write(g + "correct", at::tensor(correct_by, f64), m("correct answers per subject, [S]"));
      out.write(g + "total", at::tensor(total_by, f64), m("questions per subject, [S]"));
      double micro = 0, macro = 0;
      for (std::size_t i = 0; i < correct_by.size(); ++i) micro += correct_by[i], macro += correct_by[i] / total_by[i];
      out.set_attr("/" + g.substr(0, g.size() - 1), "acc_micro", micro / double(n));
      out.set_attr("/" + g.substr(0, g.size() - 1), "acc_macro", macro / double(correct_by.size()));
      out.set_attr("/" + g.substr(0, g.size() - 1), "seconds", seconds);
      out.set_attr("/" + g.substr(0, g.size() - 1), "questions_per_second", double(n) / seconds);
      out.set_attr("/" + g.substr(0, g.size() - 1), "tokens_reused", reused);
      out.set_attr("/" + g.substr(0, g.size() - 1), "tokens_computed", computed);
    }
    progress.finish();
  }

  // The weights; for multiple choice the longest k-shot context (its question and choice), a
  // batch of them with the shared prefix's KV cache, and the FLOPs of the tokens beyond the
  // prefix; for perplexity one window, over the text (bytes / 4 tokens when
  // max_tokens is 0). Loads the questions (which checks subjects) but reads no weights.
  std::optional<StageCost> cost() const override {
    const auto& shape = checkpoint::checkpoint_shape(model_.dir);
    const ModelSpec& s = shape.spec;
    const at::ScalarType dt = model_.scalar_type();
    StageCost c = checkpoint::weights_cost(shape, dt);
    if (!spec_.data.empty()) {
      auto subjects = load_mc_dataset(spec_.task, resolve_data_path(spec_.data), spec_.subjects, spec_.limit);
      const Tokenizer& tok = checkpoint::checkpoint_tokenizer(model_.dir);  // shared by every variant's estimate
      const double B = spec_.scoring == "prefix" ? double(spec_.batch_size) : 1;
      for (const auto& subject : subjects) {
        if (subject.test.empty()) continue;
        const McItem* longest = &subject.test.front();
        for (const auto& item : subject.test)
          if (mc_doc_text(item).size() > mc_doc_text(*longest).size()) longest = &item;
        for (auto k : spec_.shots) {
          const double T = double(tok.encode(mc_context(subject.name, subject.dev, int(k), *longest) + mc_continuation(0),
                                             spec_.add_bos).size());
          const bool prefix_scoring = spec_.scoring == "prefix";
          const double prefix =
              prefix_scoring ? double(tok.encode(mc_shared_prefix(subject.name, subject.dev, int(k)), spec_.add_bos).size()) : 0;
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
    if (spec_.perplexity) {
      const auto& p = *spec_.perplexity;
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

 private:
  EvalSpec spec_;
  ResolvedModel model_;
  std::shared_ptr<checkpoint::ModelPool> pool_;
};

}  // namespace

std::unique_ptr<Stage> make_eval_stage(const EvalSpec& spec, const checkpoint::Inputs& inputs, const ResolvedModel& model) {
  return std::make_unique<EvalStage>(spec, model, inputs.pool);
}

}  // namespace sinklab::evaluation
