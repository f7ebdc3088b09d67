#pragma once
// Few-shot multiple choice as lm-evaluation-harness scores MMLU, written into a run's HDF5 group:
// shared by the eval stage (every variant) and the interventions' eval stage (every variant
// under every intervention).
#include <functional>
#include <string>
#include <vector>

#include "experiments/evaluation/config.h"
#include "framework/eval/loglikelihood.h"
#include "framework/eval/mc_dataset.h"
#include "framework/io/hdf5_store.h"

namespace sinklab {
class LanguageModel;
class Progress;
class Tokenizer;
}  // namespace sinklab

namespace sinklab::evaluation {

// How an intervention changes the scoring; the default is the plain model.
struct McRunOptions {
  // Adds the editors of a forward pass over `ids` to `hooks`: with naive scoring once per request
  // (its context and continuation), with prefix scoring once for every pass (ids empty).
  std::function<void(const std::vector<std::int64_t>& ids, HookPoints& hooks)> add_hooks;
  // Edits each request's tokens (e.g. the first token dropped or replaced) before scoring.
  std::function<void(EncodedRequest&)> edit_request;
  // One pass over context + continuation per choice, whatever spec.scoring says: editors that
  // pick positions see the request's own positions, not a pass after a cached prefix.
  bool naive = false;
};

// Per k of spec.shots, under `group` + "k<k>/": loglikelihood [N, 4], answer, prediction and
// subject [N], correct and total per subject [S]; attributes acc_micro, acc_macro, seconds,
// questions_per_second, tokens_reused, tokens_computed. Also `group` + "subjects" [S].
// `progress` advances once per question and k.
void score_multiple_choice(const LanguageModel& model, const Tokenizer& tokenizer, const EvalSpec& spec,
                           const std::vector<McSubject>& subjects, Hdf5File& out, const std::string& group,
                           Progress& progress, const McRunOptions& options = {});

}  // namespace sinklab::evaluation
