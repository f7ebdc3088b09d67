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
#include "experiments/interventions/clean_runs.h"
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

// The ids an entry runs on, what each decodes to, and for each NLL it produces the text
// position it scores.
struct EntryInput {
  std::vector<std::int64_t> ids;
  std::vector<std::string> pieces;    // [T] the text each id adds (token selectors match these)
  std::vector<std::int64_t> targets;  // nll[i] scores text token targets[i]
  std::int64_t text_start = 0;        // the position of text token 0 (1 after first_token: insert)
};

EntryInput entry_input(const InterventionSpec& e, const checkpoint::TokenizedPrompt& text, const Tokenizer& tok,
                       const std::string& prompt_id) {
  EntryInput in;
  in.ids = text.ids;
  in.pieces = text.pieces;
  std::int64_t shift = 1;  // nll[i] predicts ids[i + 1]
  if (e.first_token == "drop") {
    SINKLAB_INPUT_CHECK(text.ids.size() >= 3, "prompt '{}' has {} tokens: first_token: drop needs at least 3", prompt_id,
                        text.ids.size());
    in.ids.erase(in.ids.begin());
    in.pieces.erase(in.pieces.begin());
    shift = 2;
  } else if (e.first_token == "replace") {
    in.ids[0] = first_token_id(e, tok);
    in.pieces[0] = tok.decode({in.ids[0]}, false);
  } else if (e.first_token == "insert") {
    // The inserted token predicts text token 0 (which no other run scores); then as the text.
    in.ids.insert(in.ids.begin(), first_token_id(e, tok));
    in.pieces.insert(in.pieces.begin(), tok.decode({in.ids[0]}, false));
    shift = 0;
    in.text_start = 1;
  }
  for (std::size_t i = 0; i + 1 < in.ids.size(); ++i) in.targets.push_back(std::int64_t(i) + shift);
  return in;
}

class InterveneStage : public Stage {
 public:
  InterveneStage(Section section, std::vector<PromptSpec> prompts, std::vector<PromptSpec> all_prompts,
                 ResolvedModel model, std::shared_ptr<checkpoint::ModelPool> pool)
      : section_(std::move(section)), prompts_(std::move(prompts)), all_prompts_(std::move(all_prompts)),
        model_(std::move(model)), pool_(std::move(pool)) {}
  std::string name() const override { return checkpoint::stage_names::intervene(model_.variant); }
  int version() const override { return 1; }
  nlohmann::ordered_json reads() const override {
    auto s = encode_value(section_);
    s.erase("heads");  // only the report reads them
    s.erase("eval");   // intervene_eval.V's
    // References and patching read prompts the section may not select: all of them are keyed.
    return {{"model", model_.reads()}, {"prompts", checkpoint::prompt_reads(all_prompts_)},
            {"selected", section_.prompts}, {"interventions", s}};
  }
  std::vector<std::string> input_files() const override { return checkpoint::model_and_prompt_files(model_, all_prompts_); }
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
      const bool streamed_only = s.context_length > 0 && T > double(s.context_length);  // no one-pass runs
      StageCost pass;
      checkpoint::add_forward(pass, s, dt, 1, T);
      if (!streamed_only) {
        c.activations = std::max(c.activations, pass.activations);
        c.flops += pass.flops;  // the clean run
        c.hooks = std::max(c.hooks, double(s.num_heads) * T * T * 4 + 2 * T * double(s.hidden_size) * 4);
      }
      const double per_token = 2 * double(s.num_layers * s.num_kv_heads * s.head_dim) * checkpoint::dtype_bytes(dt);
      for (const auto& [name, e] : section_.entries) {
        if (!e.kv) {
          if (!streamed_only) c.flops += pass.flops;
          continue;
        }
        const double kept = e.kv->policy == "full" ? T : std::min(T, double(e.kv->window + e.kv->sink_tokens));
        StageCost step;
        checkpoint::add_forward(step, s, dt, 1, 1, kept);
        c.flops += step.flops * T;
        c.kv_cache = std::max(c.kv_cache, kept * per_token);
      }
    }
    // A patching grid: the clean run recording the site, the corrupted run, one pass per cell.
    for (const auto& grid : section_.patching) {
      const double T = double(checkpoint::prompt_length(model_.dir, prompt_named(all_prompts_, grid.clean)));
      const HookSite& site = hook_site(grid.site);
      const double rows = !site.per_block ? 1 : grid.layers.empty() ? double(s.num_layers) : double(grid.layers.size());
      const double cols = !site.has_heads() ? T : double(site.heads == HeadKind::key_value ? s.num_kv_heads : s.num_heads);
      StageCost pass;
      checkpoint::add_forward(pass, s, dt, 1, T);
      c.activations = std::max(c.activations, pass.activations);
      c.flops += pass.flops * (rows * cols + 2);
      c.hooks = std::max(c.hooks, rows * T * T * double(s.num_heads) * 4);  // at most: every layer's pattern
    }
    c.fit = "prompts[].max_tokens or interventions.prompts, interventions.entries.*.kv.window, "
            "interventions.patching[].layers, model.dtype: bfloat16";
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
    Progress progress(name(), std::int64_t(prompts_.size()) * steps + std::int64_t(section_.patching.size()));
    for (const auto& prompt : prompts_) {
      auto tp = checkpoint::tokenize_prompt(*lm.tokenizer, checkpoint::prompt_text(prompt), prompt.max_tokens);
      SINKLAB_INPUT_CHECK(tp.ids.size() >= 2, "prompt '{}' has {} token(s): interventions need at least 2", prompt.id,
                          tp.ids.size());
      const std::string g = "prompts/" + prompt.id;
      checkpoint::write_prompt_tokens(out, g, tp);
      // Past the context only the streamed entries read a prompt (the part's checks allow it
      // only then): a cache keeps its positions in range, a one-pass run would not.
      const bool streamed_only = spec.context_length > 0 && std::int64_t(tp.ids.size()) > spec.context_length;
      if (streamed_only)
        out.set_attr("/" + g, "one_pass_runs",
                     fmt::format("skipped: {} tokens, past the context of {}", tp.ids.size(), spec.context_length));
      ReferenceRuns references;  // this prompt's: their values are as large as a site of every layer
      std::vector<std::int64_t> massive_dims;  // of the clean run, which comes first
      for (const auto& [entry, e] : runs) {
        if (streamed_only && !e.kv) {
          progress.advance();
          continue;
        }
        const EntryInput in = entry_input(e, tp, *lm.tokenizer, prompt.id);
        const std::string eg = g + "/" + entry;
        std::vector<Ablation> applied;
        const auto& reference = reference_run(lm, e, prompt, references);
        for (const auto& a : e.ablate)
          if (auto by_tokens = at_tokens(a, in.pieces))
            if (auto resolved = at_dims(*by_tokens, massive_dims)) applied.push_back(*resolved);
        if (e.kv) {
          streamed(*lm.model, e, applied, in, out, eg);
        } else {
          auto found = one_pass(*lm.model, applied, reference, in, out, eg);
          if (entry == "clean") massive_dims = found;
        }
        std::vector<std::int64_t> positions, dims;  // what the token and massive-dim selectors found, for the record
        for (const auto& a : applied) positions.insert(positions.end(), a.positions.begin(), a.positions.end());
        if (!positions.empty()) out.set_attr("/" + eg, "ablated_positions", positions);
        if (e.reads_massive_dims()) {
          for (const auto& a : applied) dims.insert(dims.end(), a.dims.begin(), a.dims.end());
          out.set_attr("/" + eg, "ablated_dims", dims.empty() ? std::vector<std::int64_t>{-1} : dims);
        }
        out.set_attr("/" + eg, "ablations_applied", std::int64_t(applied.size()));
        const auto N = std::int64_t(in.targets.size());
        out.write(eg + "/targets", at::tensor(in.targets, f64.dtype(at::kLong)),
                  meaning("the prompt token (0-based, in /" + g + "/input_ids) each nll entry scores, [N]"));
        out.set_attr("/" + eg, "first_token", e.first_token);
        out.set_attr("/" + eg, "scored_tokens", N);
        progress.advance(e.kv ? 4 : 1);
      }
    }
    for (const auto& grid : section_.patching) {
      patch_grid(lm, grid, out);
      progress.advance();
    }
    out.set_attr("/", "sink_epsilon", section_.sink_epsilon);
    out.write("layers", at::arange(L, f64.dtype(at::kLong)), meaning("layers of alpha0 and the activations, [L]"));
    out.set_attr("/", "heads", H);
    progress.finish();
  }

 private:
  // Reference runs of one prompt's entries, by reference prompt and sites: entries that share
  // them run the reference once.
  using ReferenceRuns = std::map<std::string, std::map<std::string, at::Tensor>>;

  // The clean run of the entry's reference prompt (default: this prompt) at every site its mean
  // and resample ablations edit; empty when none does.
  const std::map<std::string, at::Tensor>& reference_run(const checkpoint::LoadedModel& lm, const InterventionSpec& e,
                                                         const PromptSpec& prompt, ReferenceRuns& done) const {
    static const std::map<std::string, at::Tensor> none;
    if (!e.reads_reference()) return none;
    const PromptSpec& ref = e.reference.empty() ? prompt : prompt_named(all_prompts_, e.reference);
    const std::set<std::string> names = ablated_site_names(e, lm.model->spec().num_layers);
    std::string key = ref.id;
    for (const auto& n : names) key += "|" + n;
    if (auto it = done.find(key); it != done.end()) return it->second;
    const auto ids = checkpoint::prompt_ids(*lm.tokenizer, checkpoint::prompt_text(ref), ref.max_tokens);
    return done[key] = record_clean(*lm.model, ids, names);
  }

  // One patching grid: the corrupted run's logit difference with the clean value of the site
  // patched in at one (layer, position) - or (layer, head), all positions - at a time.
  void patch_grid(const checkpoint::LoadedModel& lm, const PatchingSpec& p, Hdf5File& out) const {
    const LanguageModel& model = *lm.model;
    const ModelSpec& spec = model.spec();
    const HookSite& site = hook_site(p.site);
    auto tokenized = [&](const std::string& id) {
      const PromptSpec& prompt = prompt_named(all_prompts_, id);
      return checkpoint::tokenize_prompt(*lm.tokenizer, checkpoint::prompt_text(prompt), prompt.max_tokens);
    };
    const auto clean = tokenized(p.clean), corrupted = tokenized(p.corrupted);
    const std::string key = "interventions.patching '" + p.name + "'";
    SINKLAB_INPUT_CHECK(clean.ids.size() == corrupted.ids.size(), "{}: the clean prompt '{}' has {} tokens, the "
                        "corrupted '{}' {}: patching needs prompts of one length (`sinklab tokenize` shows them)", key,
                        p.clean, clean.ids.size(), p.corrupted, corrupted.ids.size());
    // The answer's first token that is not blank: SentencePiece encodes " Mary" as "▁", "▁Mary".
    auto token_of = [&](const std::string& text) {
      for (auto id : lm.tokenizer->encode(text, false)) {
        const std::string piece = lm.tokenizer->decode({id}, false);
        if (piece.find_first_not_of(" \t\n") != std::string::npos) return id;
      }
      throw InputError(fmt::format("{}: '{}' encodes to no token that is not blank", key, text));
    };
    const std::int64_t answer = token_of(p.answer), wrong = token_of(p.wrong);
    SINKLAB_INPUT_CHECK(answer != wrong, "{}: answer '{}' and wrong '{}' begin with the same token", key, p.answer, p.wrong);
    std::vector<std::int64_t> layers = p.layers;
    if (!site.per_block) layers = {-1};
    else if (layers.empty())
      for (std::int64_t l = 0; l < spec.num_layers; ++l) layers.push_back(l);
    std::set<std::string> names;
    for (auto l : layers) names.insert(site.full_name(int(l)));
    auto ids_of = [](const std::vector<std::int64_t>& v) { return at::tensor(v, f64.dtype(at::kLong)).unsqueeze(0); };
    // At the last position: logit(answer) - logit(wrong), and p(answer).
    auto score = [&](const at::Tensor& logits) {  // [1, T, V]
      const at::Tensor last = logits[0][logits.size(1) - 1].to(at::kCPU).to(at::kDouble);
      return std::make_pair((last[answer] - last[wrong]).item<double>(), at::softmax(last, -1)[answer].item<double>());
    };
    HookPoints record = HookPoints::only(names);
    const auto [clean_diff, clean_prob] = score(model.forward(ids_of(clean.ids), record));
    const auto [corrupted_diff, corrupted_prob] = score(model.forward(ids_of(corrupted.ids)));
    const bool by_head = site.has_heads();
    const std::int64_t cols = by_head ? (site.heads == HeadKind::key_value ? spec.num_kv_heads : spec.num_heads)
                                      : std::int64_t(corrupted.ids.size());
    auto grid = at::zeros({std::int64_t(layers.size()), cols}, f64), prob = at::zeros_like(grid);
    for (std::size_t i = 0; i < layers.size(); ++i) {
      const std::string name = site.full_name(int(layers[i]));
      for (std::int64_t j = 0; j < cols; ++j) {
        HookPoints hooks = HookPoints::none();
        const std::vector<std::int64_t> at{j}, all;
        add_patch({{name, record.at(name)}}, by_head ? all : at, hooks, by_head ? at : all);
        const auto [diff, p_answer] = score(model.forward(ids_of(corrupted.ids), hooks));
        grid[std::int64_t(i)][j] = diff;
        prob[std::int64_t(i)][j] = p_answer;
      }
    }
    const std::string g = "patching/" + p.name;
    const double span = clean_diff - corrupted_diff;
    out.write(g + "/logit_diff", grid,
              meaning(fmt::format("logit(answer) - logit(wrong) at the last position with the clean {} patched in, "
                                  "[layer, {}]", site.short_name, by_head ? "head" : "position")));
    out.write(g + "/normalized", (grid - corrupted_diff) / span,
              meaning("(patched - corrupted) / (clean - corrupted) logit difference: 1 = the clean run's, 0 = the "
                      "corrupted run's, [layer, " + std::string(by_head ? "head" : "position") + "]"));
    out.write(g + "/answer_prob", prob,
              meaning(fmt::format("p(answer) at the last position with the clean {} patched in, [layer, {}]", site.short_name,
                                  by_head ? "head" : "position")));
    out.set_attr("/" + g, "clean_answer_prob", clean_prob);
    out.set_attr("/" + g, "corrupted_answer_prob", corrupted_prob);
    out.write(g + "/layers", at::tensor(layers, f64.dtype(at::kLong)), meaning("the grid's rows (-1: a model-level site), [L]"));
    out.write_strings(g + "/corrupted_tokens", corrupted.pieces, meaning("the corrupted prompt's tokens, [T]"));
    out.set_attr("/" + g, "clean_logit_diff", clean_diff);
    out.set_attr("/" + g, "corrupted_logit_diff", corrupted_diff);
    out.set_attr("/" + g, "answer_token", lm.tokenizer->decode({answer}, false));
    out.set_attr("/" + g, "wrong_token", lm.tokenizer->decode({wrong}, false));
    out.set_attr("/" + g, "columns", std::string(by_head ? "head" : "position"));
  }

  // Returns the dims of resid_post's massive activations at any layer, ascending.
  std::vector<std::int64_t> one_pass(const LanguageModel& model, const std::vector<Ablation>& ablations,
                                     const std::map<std::string, at::Tensor>& reference, const EntryInput& in,
                                     Hdf5File& out, const std::string& g) const {
    const ModelSpec& spec = model.spec();
    const std::int64_t L = spec.num_layers, H = spec.num_heads;
    auto alpha0 = at::full({L, H}, NAN, f64), alpha_text = at::full({L, H}, NAN, f64);
    auto top = at::zeros({L, 3}, f64), median = at::zeros({L}, f64), massive = at::zeros({L}, f64.dtype(at::kLong));
    std::set<std::int64_t> massive_dims;
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
        const at::Tensor scores = sink_scores(value[0].to(at::kCPU).to(at::kFloat)).to(at::kDouble);  // [H, T]
        alpha0[l].copy_(scores.select(-1, 0));
        alpha_text[l].copy_(scores.select(-1, in.text_start));
        return;
      }
      auto x = value[0].to(at::kCPU).to(at::kDouble);  // [T, D]
      auto mag = x.abs();
      const std::int64_t flat = mag.argmax().item<std::int64_t>(), D = x.size(1);
      top[l][0] = double(flat / D);
      top[l][1] = double(flat % D);
      top[l][2] = x.view({-1})[flat].item<double>();
      median[l] = mag.median().item<double>();
      massive[l] = add_massive_dims(x, section_.massive, massive_dims);
    });
    for (const auto& a : ablations) add_ablation(a, L, hooks, reference);
    const auto ids = at::tensor(in.ids, f64.dtype(at::kLong));
    auto lp = at::log_softmax(model.forward(ids.unsqueeze(0), hooks)[0].to(at::kCPU).to(at::kDouble), -1);  // [T, V]
    const std::int64_t T = ids.size(0);
    auto nll = -lp.narrow(0, 0, T - 1).gather(1, ids.narrow(0, 1, T - 1).unsqueeze(1)).squeeze(1);  // [T - 1]
    out.write(g + "/nll", nll, meaning("-log p(token | the tokens before it) in nats, [N]"));
    out.write(g + "/alpha0", alpha0, meaning("mean over queries of the attention paid to position 0, [layer, head]"));
    if (in.text_start != 0)
      out.write(g + "/alpha0_text", alpha_text,
                meaning("mean over queries of the attention paid to the text's first token (after the inserted one), "
                        "[layer, head]"));
    out.write(g + "/top_activation", top, meaning("largest |x| of resid_post: (position, dimension, value), [layer, 3]"));
    out.write(g + "/abs_median", median, meaning("median |x| of resid_post, [layer]"));
    out.write(g + "/massive_count", massive,
              {{"meaning", std::string("massive activations of resid_post (|x| > abs and > ratio x its token's median "
                                       "|x|, Sun et al.), [layer]")},
               {"abs", section_.massive.abs},
               {"ratio", section_.massive.ratio}});
    return {massive_dims.begin(), massive_dims.end()};
  }

  void streamed(const LanguageModel& model, const InterventionSpec& e, const std::vector<Ablation>& ablations,
                const EntryInput& in, Hdf5File& out, const std::string& g) const {
    std::optional<StreamingPolicy> policy;
    if (e.kv->policy != "full") policy = StreamingPolicy{e.kv->policy == "sinks" ? e.kv->sink_tokens : 0, e.kv->window};
    HookPoints hooks = HookPoints::none();
    for (const auto& a : ablations) add_ablation(a, model.spec().num_layers, hooks);
    auto nll = streaming_nll(model, in.ids, policy, hooks);
    out.write(g + "/nll", at::tensor(nll, f64),
              {{"meaning", std::string("-log p(token | what the KV cache kept of the tokens before it) in nats, [N]")},
               {"policy", e.kv->policy},
               {"sink_tokens", policy ? policy->sink_tokens : std::int64_t(0)},
               {"window", policy ? policy->window : std::int64_t(0)}});
  }

  Section section_;
  std::vector<PromptSpec> prompts_, all_prompts_;
  ResolvedModel model_;
  std::shared_ptr<checkpoint::ModelPool> pool_;
};

}  // namespace

std::unique_ptr<Stage> make_intervene_stage(const Section& section, const checkpoint::Inputs& inputs,
                                            const ResolvedModel& model) {
  return std::make_unique<InterveneStage>(section, selected_prompts(section, inputs.prompts), inputs.prompts, model,
                                          inputs.pool);
}

}  // namespace sinklab::interventions
