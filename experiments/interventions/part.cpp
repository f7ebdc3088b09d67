// The interventions part: its stage per variant, the index checks before a run, and its report
// (the effects against the clean run, from the run's datasets only).
#include "experiments/interventions/part.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <set>

#include "experiments/checkpoint/index_checks.h"
#include "experiments/checkpoint/stage_names.h"
#include "experiments/evaluation/part.h"
#include "framework/hooks/hook_sites.h"
#include "framework/plot/figures.h"
#include "framework/plot/panels.h"
#include "framework/util/error.h"
#include "framework/util/tensors.h"

namespace sinklab::interventions {

std::vector<checkpoint::PromptSpec> selected_prompts(const Section& section, const std::vector<checkpoint::PromptSpec>& all) {
  std::vector<checkpoint::PromptSpec> out;
  for (const auto& p : all)
    if (section.prompts.empty() || std::find(section.prompts.begin(), section.prompts.end(), p.id) != section.prompts.end())
      out.push_back(p);
  return out;
}

const checkpoint::PromptSpec& prompt_named(const std::vector<checkpoint::PromptSpec>& all, const std::string& id) {
  for (const auto& p : all)
    if (p.id == id) return p;
  throw InputError(fmt::format("no prompt '{}'", id));  // the config's validation names it first
}

std::vector<std::unique_ptr<Stage>> InterventionsPart::variant_stages(const checkpoint::Inputs& inputs,
                                                                      const checkpoint::ResolvedModel& m) const {
  std::vector<std::unique_ptr<Stage>> out;
  out.push_back(make_intervene_stage(section_, inputs, m));
  if (section_.eval) out.push_back(make_intervene_eval_stage(section_, inputs, m));
  return out;
}

std::vector<std::string> InterventionsPart::input_problems(const checkpoint::Inputs&) const {
  return section_.eval ? evaluation::question_set_problems(*section_.eval, "interventions.eval") : std::vector<std::string>{};
}

void InterventionsPart::check_indices(const checkpoint::Inputs& inputs, const ModelSpec& spec,
                                      const checkpoint::ResolvedModel& m) const {
  const checkpoint::IndexChecks check(spec, m);
  for (const auto& [name, e] : section_.entries) {
    const std::string key = "interventions.entries." + name;
    SINKLAB_INPUT_CHECK(!e.kv || spec.rotary, "{}.kv: a streaming KV cache re-positions the kept keys (StreamingLLM), "
                        "which needs RoPE: {} ({}) has learned positions", key, m.display_name, spec.model_type);
    for (std::size_t i = 0; i < e.ablate.size(); ++i) {
      const Ablation& a = e.ablate[i];
      const std::string at = fmt::format("{}.ablate[{}]", key, i);
      check.site(a.site, at + ".site");
      for (auto l : a.layers) check.layer(l, at + ".layers");
      for (auto h : a.heads) check.head(h, a.site, at + ".heads");
    }
  }
  for (std::size_t i = 0; i < section_.patching.size(); ++i) {
    const PatchingSpec& p = section_.patching[i];
    const std::string key = fmt::format("interventions.patching[{}]", i);
    check.site(p.site, key + ".site");
    for (auto l : p.layers) check.layer(l, key + ".layers");
  }
  for (std::size_t i = 0; i < section_.heads.size(); ++i) {
    check.layer(section_.heads[i].layer, fmt::format("interventions.heads[{}].layer", i));
    check.head(section_.heads[i].head, "pattern", fmt::format("interventions.heads[{}].head", i));
  }
  // Last, because it tokenizes: the prompts one-pass runs read within the context. With a
  // streamed (kv) entry a selected prompt may be longer: only the streamed entries read it.
  const bool streams = std::any_of(section_.entries.begin(), section_.entries.end(),
                                   [](const auto& entry) { return entry.second.kv.has_value(); });
  std::set<std::string> referenced;
  for (const auto& [name, e] : section_.entries)
    if (!e.reference.empty()) referenced.insert(e.reference);
  for (const auto& p : section_.patching) referenced.insert(p.clean), referenced.insert(p.corrupted);
  std::vector<checkpoint::PromptSpec> must_fit;
  for (const auto& p : inputs.prompts)
    if (referenced.count(p.id) || (!streams && std::find(section_.prompts.begin(), section_.prompts.end(), p.id) !=
                                                   section_.prompts.end()) ||
        (!streams && section_.prompts.empty()))
      must_fit.push_back(p);
  check.prompt_lengths(must_fit);
}

namespace {

// exp(mean NLL) over the entries of `nll` whose target is in `keep`; NaN when none is.
double perplexity_over(const std::vector<double>& nll, const std::vector<double>& targets, const std::set<std::int64_t>& keep) {
  double sum = 0;
  std::int64_t n = 0;
  for (std::size_t i = 0; i < nll.size(); ++i)
    if (keep.count(std::int64_t(targets[i]))) sum += nll[i], ++n;
  return n > 0 ? std::exp(sum / double(n)) : NAN;
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  std::size_t n = 0;
  for (double x : v)
    if (std::isfinite(x)) s += x, ++n;
  return n ? s / double(n) : NAN;
}

}  // namespace

void InterventionsPart::report(const RunView& run, const checkpoint::Inputs& inputs, const std::string& dir,
                               nlohmann::ordered_json& summary) const {
  nlohmann::ordered_json& js = summary["interventions"];
  js["metrics"] = {
      {"perplexity", "exp(mean NLL) over the text positions every run of the prompt scores (dropping the first "
                     "token leaves one fewer)"},
      {"alpha0", "mean over queries of a head's attention to position 0 (the first-token share; sinklab's alpha_0)"},
      {"sink_rate_text_start", "first_token: insert: the Sink-epsilon share for attention to the text's first token, "
                               "now at position 1"},
      {"sink_rate", fmt::format("Sink-epsilon: share of heads with alpha0 > {} (Gu et al. 2024)", section_.sink_epsilon)},
      {"max_activation", "largest |resid_post| over layers and positions"},
      {"massive_activations", fmt::format("count over layers and positions of resid_post entries with |x| > {} and > {}x "
                                          "their token's median |x| (Sun et al. 2024: 100 and 1000)",
                                          section_.massive.abs, section_.massive.ratio)}};
  if (section_.eval)
    js["metrics"]["accuracy"] = "few-shot multiple-choice accuracy (micro: over all questions), scored as the eval "
                                "section does (lm-evaluation-harness's MMLU format)";
  const auto prompts = selected_prompts(section_, inputs.prompts);
  for (const auto& m : inputs.models) {
    const std::string base = "/" + checkpoint::stage_names::intervene(m.variant);
    const auto entries = run.read_strings(base + "/entries");
    nlohmann::ordered_json& vj = js["variants"][m.variant];
    // Per entry, averaged over the prompts: the bars (NLL, not perplexity, averages across texts).
    std::map<std::string, std::vector<double>> ppl, rate, act, massive_by;
    std::map<std::string, std::vector<std::vector<double>>> head_share;  // entry -> per head ref -> prompts
    std::vector<plot::LinePlot> kv;  // per prompt: the running mean NLL of the clean and the streamed runs
    bool any_streamed = false;
    for (const auto& p : prompts) {
      const std::string g = base + "/prompts/" + p.id;
      kv.push_back({p.id + ": NLL vs position", "text position", "mean NLL so far (nats)", false, false, {}});
      // Past the context only streamed entries ran: its numbers stay out of the bars, which
      // compare every entry on the same prompts.
      const bool streamed_only = run.attr(g, "one_pass_runs").has_value();
      if (streamed_only) kv.back().series.push_back({"clean (past the context: not run)", {}, {}, false});  // colours as elsewhere
      std::set<std::int64_t> common;  // text positions every run scores
      bool first = true;
      for (const auto& e : entries) {
        if (!run.has(g + "/" + e + "/targets")) continue;  // a prompt past the context: streamed entries only
        auto t = to_doubles(run.read(g + "/" + e + "/targets"));
        std::set<std::int64_t> these;
        for (double x : t) these.insert(std::int64_t(x));
        if (first) common = these, first = false;
        else {
          std::set<std::int64_t> both;
          std::set_intersection(common.begin(), common.end(), these.begin(), these.end(), std::inserter(both, both.end()));
          common = both;
        }
      }
      for (const auto& e : entries) {
        const std::string eg = g + "/" + e;
        if (!run.has(eg + "/targets")) continue;
        auto nll = to_doubles(run.read(eg + "/nll")), targets = to_doubles(run.read(eg + "/targets"));
        nlohmann::ordered_json ej;
        ej["perplexity"] = perplexity_over(nll, targets, common);
        ej["scored_tokens"] = std::int64_t(common.size());
        ej["mean_nll"] = std::log(ej["perplexity"].get<double>());
        if (!streamed_only) ppl[e].push_back(ej["mean_nll"].get<double>());
        if (run.has(eg + "/alpha0")) {
          auto alpha0 = run.read(eg + "/alpha0");  // [L, H]
          const double r = (alpha0 > section_.sink_epsilon).to(at::kDouble).mean().item<double>();
          ej["sink_rate"] = r;
          rate[e].push_back(r);
          if (run.has(eg + "/alpha0_text"))  // first_token: insert: is the text's first token still the sink?
            ej["sink_rate_text_start"] = (run.read(eg + "/alpha0_text") > section_.sink_epsilon).to(at::kDouble).mean().item<double>();
          auto top = run.read(eg + "/top_activation");  // [L, 3]
          const std::int64_t l = top.select(1, 2).abs().argmax().item<std::int64_t>();
          ej["max_activation"] = {{"layer", l}, {"position", std::int64_t(top[l][0].item<double>())},
                                  {"dimension", std::int64_t(top[l][1].item<double>())},
                                  {"value", top[l][2].item<double>()},
                                  {"median_abs", run.read(eg + "/abs_median")[l].item<double>()}};
          act[e].push_back(std::abs(top[l][2].item<double>()));
          const double massive = run.read(eg + "/massive_count").sum().item<double>();
          ej["massive_activations"] = std::int64_t(massive);
          massive_by[e].push_back(massive);
          if (auto dims = run.attr(eg, "ablated_dims")) ej["ablated_dims"] = std::get<std::vector<std::int64_t>>(*dims);
          auto& shares = head_share[e];
          shares.resize(section_.heads.size());
          for (std::size_t i = 0; i < section_.heads.size(); ++i) {
            const double a = alpha0[section_.heads[i].layer][section_.heads[i].head].item<double>();
            ej["heads"][fmt::format("L{}H{}", section_.heads[i].layer, section_.heads[i].head)]["alpha0"] = a;
            shares[i].push_back(a);
          }
        } else {  // streamed: the policy and the NLL curve
          any_streamed = true;
          ej["kv"] = {{"policy", std::get<std::string>(*run.attr(eg + "/nll", "policy"))},
                      {"sink_tokens", std::get<std::int64_t>(*run.attr(eg + "/nll", "sink_tokens"))},
                      {"window", std::get<std::int64_t>(*run.attr(eg + "/nll", "window"))}};
        }
        if (!run.has(eg + "/alpha0") || e == "clean") {
          std::vector<double> x, y;
          double sum = 0;
          for (std::size_t i = 0; i < nll.size(); ++i) {
            sum += nll[i];
            x.push_back(targets[i]);
            y.push_back(sum / double(i + 1));
          }
          kv.back().series.push_back({e, x, y, false});
        }
        vj["prompts"][p.id][e] = ej;
      }
    }
    // The bars: each effect per entry, mean over prompts, against the clean run's value.
    auto chart = [&](const std::string& title, const std::string& y, std::map<std::string, std::vector<double>>& by) {
      plot::BarChart c{title, y, {}, {}, {}};
      for (const auto& e : entries) {
        c.labels.push_back(e);
        c.values.push_back(by.count(e) ? mean_of(by[e]) : NAN);
      }
      if (by.count("clean")) c.reference = mean_of(by["clean"]);
      return c;
    };
    std::vector<plot::BarChart> charts{chart("Mean NLL (log perplexity)", "nats per token", ppl),
                                       chart(fmt::format("Sink rate (alpha0 > {})", section_.sink_epsilon),
                                             "share of heads", rate),
                                       chart("Largest activation", "max |resid_post|", act),
                                       chart("Massive activations", "count (all layers)", massive_by)};
    if (section_.eval) {  // accuracy per k, from intervene_eval.V
      const std::string eb = "/" + checkpoint::stage_names::intervene_eval(m.variant);
      for (auto k : section_.eval->shots) {
        std::map<std::string, std::vector<double>> acc;
        for (const auto& e : run.read_strings(eb + "/entries")) {
          const std::string kg = fmt::format("{}/{}/k{}", eb, e, k);
          const double a = std::get<double>(*run.attr(kg, "acc_micro"));
          acc[e].push_back(a);
          vj["eval"]["k"][std::to_string(k)][e] = {
              {"accuracy", a}, {"questions", run.read(kg + "/answer").size(0)},
              {"scoring", std::get<std::string>(*run.attr(eb + "/" + e, "scoring"))}};
        }
        charts.push_back(chart(fmt::format("{}-shot accuracy", k), "accuracy", acc));
      }
    }
    for (std::size_t i = 0; i < section_.heads.size(); ++i) {
      std::map<std::string, std::vector<double>> by;
      for (auto& [e, shares] : head_share) by[e] = shares[i];
      charts.push_back(chart(fmt::format("L{}H{} attention to position 0", section_.heads[i].layer,
                                         section_.heads[i].head), "alpha0", by));
    }
    plot::render_bar_chart_grid(charts, std::min<int>(int(charts.size()), 2),
                                fmt::format("Interventions on {} (mean over {} prompt{})", m.variant, prompts.size(),
                                            prompts.size() == 1 ? "" : "s"),
                                dir + "/interventions_" + m.variant);
    if (any_streamed)
      plot::render_line_plot_grid(kv, std::min<int>(int(kv.size()), 2), "KV-cache policies on " + m.variant,
                                  dir + "/kv_policies_" + m.variant);
  }
  report_patching(run, inputs, dir, js);
}

// Each patching grid: the normalized logit difference per (layer, position or head), variants
// side by side; the clean and corrupted differences and the strongest cell in the summary.
void InterventionsPart::report_patching(const RunView& run, const checkpoint::Inputs& inputs, const std::string& dir,
                                        nlohmann::ordered_json& js) const {
  for (const auto& p : section_.patching) {
    std::vector<plot::Heatmap> maps;
    for (const auto& m : inputs.models) {
      const std::string g = "/" + checkpoint::stage_names::intervene(m.variant) + "/patching/" + p.name;
      const at::Tensor normalized = run.read(g + "/normalized");  // [L, C]
      const auto layers = run.read(g + "/layers");
      const bool by_head = std::get<std::string>(*run.attr(g, "columns")) == "head";
      plot::Heatmap map;
      map.title = m.variant;
      map.x_label = by_head ? "head" : "position (corrupted prompt)";
      map.y_label = "layer";
      map.colorbar_label = "normalized logit diff";
      map.rows = int(normalized.size(0));
      map.cols = int(normalized.size(1));
      map.values = to_doubles(normalized.reshape({-1}));
      for (std::int64_t i = 0; i < layers.size(0); ++i) map.row_labels.push_back(std::to_string(layers[i].item<std::int64_t>()));
      if (by_head)
        for (int j = 0; j < map.cols; ++j) map.col_labels.push_back(std::to_string(j));
      else
        map.col_labels = plot::token_labels(run.read_strings(g + "/corrupted_tokens"), std::size_t(map.cols));
      map.annotate = map.rows * map.cols <= 200;
      maps.push_back(map);
      const std::int64_t best = normalized.reshape({-1}).argmax().item<std::int64_t>();
      js["patching"][p.name][m.variant] = {
          {"clean_logit_diff", std::get<double>(*run.attr(g, "clean_logit_diff"))},
          {"corrupted_logit_diff", std::get<double>(*run.attr(g, "corrupted_logit_diff"))},
          {"clean_answer_prob", std::get<double>(*run.attr(g, "clean_answer_prob"))},
          {"corrupted_answer_prob", std::get<double>(*run.attr(g, "corrupted_answer_prob"))},
          {"answer_token", std::get<std::string>(*run.attr(g, "answer_token"))},
          {"wrong_token", std::get<std::string>(*run.attr(g, "wrong_token"))},
          {"strongest", {{"layer", layers[best / map.cols].item<std::int64_t>()},
                         {by_head ? "head" : "position", best % map.cols},
                         {"normalized", normalized.reshape({-1})[best].item<double>()},
                         {"answer_prob", run.read(g + "/answer_prob").reshape({-1})[best].item<double>()}}}};
    }
    plot::render_heatmap_grid(maps, std::min<int>(int(maps.size()), 2),
                              fmt::format("Activation patching '{}': {} of '{}' into '{}'", p.name, p.site, p.clean,
                                          p.corrupted),
                              dir + "/patching_" + p.name);
  }
}

}  // namespace sinklab::interventions
