#include "framework/model/families/registry.h"

#include "framework/util/error.h"
#include "framework/util/strings.h"

namespace sinklab {

// One per file in this folder. A new family: its file, its declaration here and its row below.
const Family& llama_family();
const Family& mistral_family();
const Family& qwen2_family();
const Family& qwen3_family();
const Family& phi3_family();
const Family& gpt2_family();
const Family& gpt_neox_family();
const Family& olmo2_family();
const Family& gemma2_family();
const Family& gemma3_family();

const std::vector<const Family*>& all_families() {
  static const std::vector<const Family*> families{
      &llama_family(),  &mistral_family(),  &qwen2_family(), &qwen3_family(),  &phi3_family(),
      &gpt2_family(),   &gpt_neox_family(), &olmo2_family(), &gemma2_family(), &gemma3_family(),
  };
  return families;
}

const Family& find_family(const std::string& model_type) {
  std::vector<std::string> types;
  for (const Family* f : all_families()) {
    if (f->model_type == model_type) return *f;
    types.push_back(f->model_type);
  }
  throw InputError(fmt::format("model_type '{}' is not supported; supported: {}{}", model_type, join(types, ", "),
                               did_you_mean(model_type, types)));
}

}  // namespace sinklab
