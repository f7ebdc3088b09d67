#include "experiments/evaluation/multiple_choice.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cmath>

#include "framework/eval/mc_prompt.h"
#include "framework/tokenizer/tokenizer.h"
#include "framework/util/progress.h"

namespace sinklab::evaluation {

void score_multiple_choice(const LanguageModel& model, const Tokenizer& tok, const EvalSpec& spec,
                           const std::vector<McSubject>& subjects, Hdf5File& out, const std::string& group,
                           Progress& progress, const McRunOptions& options) {
  const auto f64 = at::TensorOptions().dtype(at::kDouble);
  const bool prefix_scoring = spec.scoring == "prefix" && !options.naive;
  std::vector<std::string> names;
  for (const auto& s : subjects) names.push_back(s.name);
  out.write_strings(group + "subjects", names, {{"meaning", std::string("subject of each index, [S]")}});
  for (auto k : spec.shots) {
    const std::string g = group + fmt::format("k{}/", k);
    std::vector<double> ll_all, correct_by, total_by;
    std::vector<std::int64_t> answers, predictions, subject_of;
    std::int64_t reused = 0, computed = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (std::size_t si = 0; si < subjects.size(); ++si) {
      const McSubject& s = subjects[si];
      HookPoints shared = HookPoints::none();
      if (options.add_hooks && prefix_scoring) options.add_hooks({}, shared);
      PrefixScorer scorer(model, &shared);
      if (prefix_scoring) {
        std::string prefix = mc_shared_prefix(s.name, s.dev, int(k));
        while (!prefix.empty() && std::isspace(static_cast<unsigned char>(prefix.back()))) prefix.pop_back();
        auto ids = tok.encode(prefix, spec.add_bos);
        if (options.edit_request && !ids.empty()) {  // the prefix is what every request begins with
          EncodedRequest r{ids, {}};
          options.edit_request(r);
          ids = r.context;
        }
        scorer.set_prefix(ids);
      }
      double correct = 0;
      // Questions go through in batches of `batch` (prefix scoring) or one by one (naive).
      const std::size_t batch = prefix_scoring ? std::size_t(spec.batch_size) : 1;
      for (std::size_t first = 0; first < s.test.size(); first += batch) {
        const std::size_t count = std::min(batch, s.test.size() - first);
        std::vector<std::vector<EncodedRequest>> questions;
        for (std::size_t q = first; q < first + count; ++q) {
          const std::string context = mc_context(s.name, s.dev, int(k), s.test[q]);
          std::vector<EncodedRequest> requests;
          for (std::size_t c = 0; c < s.test[q].choices.size(); ++c) {
            requests.push_back(encode_pair(tok, context, mc_continuation(int(c)), spec.add_bos));
            if (options.edit_request) options.edit_request(requests.back());
          }
          questions.push_back(std::move(requests));
        }
        std::vector<std::vector<double>> scores;
        if (prefix_scoring) {
          scores = scorer.score_batch(questions);
        } else {
          for (const auto& requests : questions) {
            scores.emplace_back();
            for (const auto& r : requests) {
              HookPoints hooks = HookPoints::none();
              if (options.add_hooks) {
                std::vector<std::int64_t> ids = r.context;
                ids.insert(ids.end(), r.continuation.begin(), r.continuation.end());
                options.add_hooks(ids, hooks);
              }
              scores.back().push_back(loglikelihood_naive(model, r, &hooks));
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
    out.write(g + "subject", at::tensor(subject_of, f64.dtype(at::kLong)), m("index into subjects, [N]"));
    out.write(g + "correct", at::tensor(correct_by, f64), m("correct answers per subject, [S]"));
    out.write(g + "total", at::tensor(total_by, f64), m("questions per subject, [S]"));
    double micro = 0, macro = 0;
    for (std::size_t i = 0; i < correct_by.size(); ++i) micro += correct_by[i], macro += correct_by[i] / total_by[i];
    const std::string at = "/" + g.substr(0, g.size() - 1);
    out.set_attr(at, "acc_micro", micro / double(n));
    out.set_attr(at, "acc_macro", macro / double(correct_by.size()));
    out.set_attr(at, "seconds", seconds);
    out.set_attr(at, "questions_per_second", double(n) / seconds);
    out.set_attr(at, "tokens_reused", reused);
    out.set_attr(at, "tokens_computed", computed);
  }
}

}  // namespace sinklab::evaluation
