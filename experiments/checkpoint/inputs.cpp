#include "experiments/checkpoint/inputs.h"

#include "experiments/checkpoint/stage_names.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "framework/io/atomic_file.h"
#include "framework/io/checkpoint_dir.h"
#include "framework/util/error.h"
#include "framework/util/system.h"
#include "framework/util/utf8.h"

namespace fs = std::filesystem;

namespace sinklab::checkpoint {

void PromptSpec::validate(const Decoder& d) const {
  if (text.empty() == file.empty()) d.fail("text", "give exactly one of `text` (the prompt) or `file` (a text file)");
  bool safe = std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
  if (!safe) d.fail("id", fmt::format("'{}' must use only letters, digits, '-' and '_' (it names HDF5 groups and figures)", id));
  if (text.find('\0') != std::string::npos)
    d.fail("text", fmt::format("has a NUL byte at byte {}: prompts are stored as text, which ends there",
                               text.find('\0')));
  if (!file.empty() && !fs::is_regular_file(resolve_data_path(file)))
    d.fail("file", fmt::format("no prompt file '{}' (relative paths are tried against the current directory and "
                               "the sinklab checkout {})", file, source_dir()));
}

void check_unique_ids(const std::vector<PromptSpec>& prompts, const Decoder& d, const std::string& key) {
  std::set<std::string> seen;
  for (const auto& p : prompts)
    if (!seen.insert(p.id).second) d.fail(key, fmt::format("prompt id '{}' is used twice", p.id));
}

std::string prompt_text(const PromptSpec& prompt) {
  if (!prompt.text.empty()) return prompt.text;
  std::string text = read_file(resolve_data_path(prompt.file));
  SINKLAB_INPUT_CHECK(utf8::invalid_at(text) < 0, "prompt file '{}' is not valid UTF-8 (byte {})", prompt.file,
                      utf8::invalid_at(text));
  // Stored as a C string in run.h5, the text would end at a NUL while offsets point past it.
  SINKLAB_INPUT_CHECK(text.find('\0') == std::string::npos, "prompt file '{}' has a NUL byte at byte {}: prompts are "
                      "stored as text, which ends there; remove it", prompt.file, text.find('\0'));
  // A text file's final newline is an editor convention, not part of the prompt.
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

std::vector<std::pair<std::string, VariantSpec>> ordered_variants(const std::map<std::string, VariantSpec>& variants) {
  std::vector<std::pair<std::string, VariantSpec>> out(variants.begin(), variants.end());
  if (out.empty()) out.emplace_back("dense", VariantSpec{});
  std::stable_partition(out.begin(), out.end(), [](const auto& v) { return v.first == "dense"; });
  return out;
}

ResolvedModel resolve_model(const ModelSection& model, const std::string& variant, const VariantSpec& spec) {
  ResolvedModel r;
  r.variant = variant;
  r.dir = resolve_data_path(spec.path.empty() ? model.path : spec.path);
  r.own_path = !spec.path.empty();
  r.offload = model.offload;
  r.dtype = spec.dtype.empty() ? model.dtype : spec.dtype;
  if (spec.prune) r.source_stage = stage_names::prune(variant);
  if (spec.ablate_lowrank) r.source_stage = stage_names::ablate(variant);
  r.display_name = !model.name.empty() && spec.path.empty() ? model.name : fs::path(r.dir).lexically_normal().filename().string();
  if (r.display_name.empty()) r.display_name = fs::path(r.dir).lexically_normal().parent_path().filename().string();
  return r;
}

at::ScalarType ResolvedModel::scalar_type() const {
  if (dtype == "bfloat16") return at::kBFloat16;
  if (dtype == "float16") return at::kHalf;
  return at::kFloat;
}

std::string ResolvedModel::problem() const {
  const std::string who = own_path ? "variants." + variant + ".path" : "model.path";
  const bool models_unset = std::getenv("SINKLAB_MODELS") == nullptr;
  if (!fs::is_directory(dir))
    return fmt::format("{}: no checkpoint directory '{}' (expected the HuggingFace checkpoint '{}': config.json, "
                       "*.safetensors, tokenizer.json). Download it there, set SINKLAB_MODELS to the folder holding it{}, "
                       "or pass {}=/path/to/it",
                       who, dir, fs::path(dir).filename().string(), models_unset ? " (it is not set now)" : "", who);
  for (const char* f : {"config.json", "tokenizer.json"})
    if (!fs::is_regular_file(fs::path(dir) / f))
      return fmt::format("{}: '{}' has no {} (a HuggingFace checkpoint directory needs config.json, *.safetensors "
                         "and tokenizer.json)", who, dir, f);
  return "";
}

std::vector<std::string> ResolvedModel::files() const {
  if (!source_stage.empty()) return {};  // the upstream stage's key covers the checkpoint
  std::vector<std::string> out{(fs::path(dir) / "config.json").string(), (fs::path(dir) / "tokenizer.json").string()};
  CheckpointDir ckpt(dir);
  for (const auto& f : ckpt.files()) out.push_back(f);
  if (fs::exists(fs::path(dir) / "model.safetensors.index.json"))
    out.push_back((fs::path(dir) / "model.safetensors.index.json").string());
  return out;
}

std::string ResolvedModel::checkpoint_dir(const StageContext& ctx) const {
  return source_stage.empty() ? dir : ctx.upstream_artifact(source_stage, "");
}

std::vector<std::string> prompt_files(const std::vector<PromptSpec>& prompts) {
  std::vector<std::string> out;
  for (const auto& p : prompts)
    if (p.text.empty() && !p.file.empty()) out.push_back(resolve_data_path(p.file));
  return out;
}

std::vector<std::string> model_and_prompt_files(const ResolvedModel& model, const std::vector<PromptSpec>& prompts) {
  auto files = model.files();
  for (auto& f : prompt_files(prompts)) files.push_back(std::move(f));
  return files;
}

nlohmann::ordered_json prompt_reads(const std::vector<PromptSpec>& prompts) {
  auto out = nlohmann::ordered_json::array();
  for (const auto& p : prompts) out.push_back({{"id", p.id}, {"text", prompt_text(p)}, {"max_tokens", p.max_tokens}});
  return out;
}

}  // namespace sinklab::checkpoint
