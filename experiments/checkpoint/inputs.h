#pragma once
// The config sections every part of the checkpoint experiment shares: `model:` (the checkpoint
// directory and dtype), `prompts:` (inline text or files) and `variants:` (one model per
// variant; figures put them side by side), and each variant resolved to what loads it.
#include <ATen/core/Tensor.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "framework/config/fields.h"
#include "framework/prune/prune_config.h"
#include "framework/runner/stage.h"

namespace sinklab::checkpoint {

struct ModelSection {
  std::string path;  // a HuggingFace checkpoint directory (config.json, *.safetensors, tokenizer.json)
  std::string dtype = "float32";
  std::string name;  // shown in figure titles; default: the directory's name
  bool offload = false;
  template <class V>
  void fields(V& v) {
    v("path", path, "HuggingFace checkpoint directory; relative paths: current dir, then the sinklab checkout",
      Check::required_non_empty());
    v("dtype", dtype, "weights and activations: float32, bfloat16 (CPU and GPU), float16 (GPU only)",
      Check::one_of({"float32", "bfloat16", "float16"}));
    v("name", name, "model name in figure titles (default: the directory's name)");
    v("offload", offload, "GPU: keep the weights in host memory and move one block at a time onto the device (a model "
      "larger than the GPU); the CPU always reads blocks from the checkpoint's mapping as they run");
  }
};

struct PromptSpec {
  std::string id;
  std::string text;
  std::string file;
  int max_tokens = 0;
  template <class V>
  void fields(V& v) {
    v("id", id, "name of the prompt in run.h5 and figure names", Check::required_non_empty());
    v("text", text, "the prompt itself (or give `file`)");
    v("file", file, "a UTF-8 text file holding the prompt (or give `text`)");
    v("max_tokens", max_tokens, "keep only the first N tokens (0 = all)", Check::at_least(0));
  }
  void validate(const Decoder& d) const;
};

// The paper's Fig. 4 intervention: the low-rank terms OATS kept, removed from some matrices.
struct LowRankAblation {
  std::vector<std::int64_t> layers;
  std::vector<std::string> matrices{"q", "k", "v"};
  template <class V>
  void fields(V& v) {
    v("layers", layers, "0-based layers whose low-rank terms are zeroed (empty = all)", Check::at_least(0));
    v("matrices", matrices, "which maps: q, k, v, o, gate, up, down (gpt2: fc, proj)");
  }
};

// A variant of the configured model. Empty (`dense: {}`) is the model as it is.
struct VariantSpec {
  std::string path;   // another checkpoint directory instead of model.path
  std::string dtype;  // another dtype instead of model.dtype
  std::optional<PruneConfig> prune;
  std::string from;
  std::optional<LowRankAblation> ablate_lowrank;
  template <class V>
  void fields(V& v) {
    v("path", path, "use this checkpoint directory instead of model.path");
    v("dtype", dtype, "use this dtype instead of model.dtype", Check::one_of({"", "float32", "bfloat16", "float16"}));
    v("prune", prune, "prune model.path with {method, sparsity, pattern, ...}; needs `calibration` (except magnitude)");
    v("from", from, "the (oats) variant an ablation starts from");
    v("ablate_lowrank", ablate_lowrank, "zero the low-rank terms of `from`'s OATS model in these layers/matrices");
  }
};

// Everything needed to load one variant's model, resolved. A pruned or ablated variant's
// checkpoint is the artifact directory of `source_stage` (known when that stage has run).
struct ResolvedModel {
  std::string variant, dir, dtype, display_name;
  std::string source_stage;
  bool own_path = false;  // the variant names its own checkpoint (variants.V.path)
  bool offload = false;   // model.offload: blocks move onto the GPU one at a time
  at::ScalarType scalar_type() const;
  // Files whose fingerprints key every stage that runs the model.
  std::vector<std::string> files() const;
  // The stage that makes this variant's checkpoint, if any (an upstream of every stage using it).
  std::vector<std::string> upstream() const { return source_stage.empty() ? std::vector<std::string>{} : std::vector<std::string>{source_stage}; }
  // "" when the directory holds a loadable checkpoint, else what is missing and how to fix it.
  std::string problem() const;
  // The directory to load: `dir`, or the source stage's artifacts (a pruned or ablated variant).
  std::string checkpoint_dir(const StageContext& ctx) const;
  // What the cache key of a stage that runs this variant depends on besides files() and
  // upstream(): the checkpoint enters through its files' fingerprints, not its path.
  nlohmann::ordered_json reads() const { return {{"variant", variant}, {"dtype", dtype}}; }
};

// Variants in display order: "dense" first, then by name; {dense: {}} when none are given.
std::vector<std::pair<std::string, VariantSpec>> ordered_variants(const std::map<std::string, VariantSpec>& variants);
ResolvedModel resolve_model(const ModelSection& model, const std::string& variant, const VariantSpec& spec);

// The prompt's text (reading `file`, resolved like every config path).
std::string prompt_text(const PromptSpec& prompt);
void check_unique_ids(const std::vector<PromptSpec>& prompts, const Decoder& d, const std::string& key);
// What a stage that runs these prompts reads of them (ids, texts, limits), for its cache key.
nlohmann::ordered_json prompt_reads(const std::vector<PromptSpec>& prompts);
// The files those prompts are read from: a stage's input files, so provenance fingerprints them
// (what `archive rerun` looks for) - their text is in the key already.
std::vector<std::string> prompt_files(const std::vector<PromptSpec>& prompts);
// A stage's input files: the model's and the prompts' files.
std::vector<std::string> model_and_prompt_files(const ResolvedModel& model, const std::vector<PromptSpec>& prompts);

}  // namespace sinklab::checkpoint
