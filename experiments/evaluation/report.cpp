// Figure 3: accuracy vs number of shots, one line per variant, and each pruned variant's gap to
// the dense model; the numbers per variant, k and subject in summary.json.
#include <ATen/ATen.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "experiments/checkpoint/stage_names.h"
#include "experiments/evaluation/part.h"
#include "framework/plot/figures.h"
#include "framework/util/system.h"
#include "framework/util/tensors.h"

namespace sinklab::evaluation {

std::vector<std::unique_ptr<Stage>> EvaluationPart::variant_stages(const checkpoint::Inputs& inputs,
                                                                   const checkpoint::ResolvedModel& m) const {
  std::vector<std::unique_ptr<Stage>> out;
  out.push_back(make_eval_stage(spec_, inputs, m));
  return out;
}

std::vector<std::string> question_set_problems(const EvalSpec& spec, const std::string& key) {
  if (spec.data.empty() || std::filesystem::exists(resolve_data_path(spec.data))) return {};
  const std::string what = spec.task == "mmlu"      ? "the MMLU release: dev/<subject>_dev.csv and test/<subject>_test.csv"
                           : spec.task == "hamexam" ? "apt-get install hamexam puts it in /usr/share/hamexam"
                                                    : "a JSONL file of {question, choices, answer, subject}";
  return {fmt::format("{}.data: '{}' does not exist ({}){}", key, spec.data, what,
                      std::getenv("SINKLAB_DATA") || spec.task != "mmlu" ? "" : "; SINKLAB_DATA is not set")};
}

std::vector<std::string> EvaluationPart::input_problems(const checkpoint::Inputs&) const {
  return question_set_problems(spec_, "eval");
}

void EvaluationPart::report(const RunView& run, const checkpoint::Inputs& inputs, const std::string& dir,
                            nlohmann::ordered_json& summary) const {
  const EvalSpec& spec = spec_;
  nlohmann::ordered_json& js = summary["eval"];
  if (!spec.data.empty()) {  // a perplexity-only run has no question set
    js["task"] = spec.task;
    js["average"] = "acc_micro: over questions (as lm-evaluation-harness reports MMLU); acc_macro: over subjects";
  }
  plot::LinePlot acc{"Few-shot accuracy (" + spec.task + ")", "shots k", "accuracy (micro average)", false, false, {}};
  plot::LinePlot gap{"Gap to dense", "shots k", "accuracy - dense accuracy", false, false, {}};
  std::vector<double> dense;
  for (const auto& m : inputs.models) {
    const std::string base = "/" + checkpoint::stage_names::eval(m.variant);
    nlohmann::ordered_json& vj = js["variants"][m.variant];
    if (run.has(base + "/perplexity/value")) vj["perplexity"] = run.read(base + "/perplexity/value").item<double>();
    if (spec.data.empty()) continue;
    auto subjects = run.read_strings(base + "/subjects");
    std::vector<double> ks, micro;
    for (auto k : spec.shots) {
      const std::string g = base + fmt::format("/k{}", k);
      double mi = std::get<double>(*run.attr(g, "acc_micro")), ma = std::get<double>(*run.attr(g, "acc_macro"));
      auto correct = to_doubles(run.read(g + "/correct")), total = to_doubles(run.read(g + "/total"));
      nlohmann::ordered_json per = nlohmann::ordered_json::object();
      for (std::size_t i = 0; i < subjects.size(); ++i) per[subjects[i]] = correct[i] / total[i];
      vj["k"][std::to_string(k)] = {{"acc_micro", mi}, {"acc_macro", ma},
                                    {"questions", std::int64_t(to_doubles(run.read(g + "/answer")).size())},
                                    {"questions_per_second", std::get<double>(*run.attr(g, "questions_per_second"))},
                                    {"by_subject", per}};
      ks.push_back(double(k));
      micro.push_back(mi);
    }
    acc.series.push_back({m.variant, ks, micro});
    if (m.variant == "dense") {
      dense = micro;
      gap.series.push_back({"dense", ks, std::vector<double>(ks.size(), 0.0)});  // keeps colours matched
    } else if (!dense.empty()) {
      std::vector<double> d;
      for (std::size_t i = 0; i < micro.size(); ++i) d.push_back(micro[i] - dense[i]);
      gap.series.push_back({m.variant, ks, d});
    }
  }
  if (spec.data.empty()) return;
  std::vector<plot::LinePlot> panels{acc};
  if (gap.series.size() > 1) panels.push_back(gap);
  plot::render_line_plot_grid(panels, int(panels.size()), "Few-shot accuracy per variant (paper Fig. 3)",
                              dir + "/fewshot_accuracy");
}

}  // namespace sinklab::evaluation
