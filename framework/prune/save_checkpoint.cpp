#include "framework/prune/save_checkpoint.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <set>

#include "framework/io/checkpoint_dir.h"
#include "framework/io/safetensors.h"
#include "framework/model/language_model.h"
#include "framework/util/error.h"

namespace fs = std::filesystem;

namespace sinklab {

void save_hf_checkpoint(const LanguageModel& model, const std::string& source_dir, const std::string& out_dir,
                        const std::map<std::string, std::string>& metadata) {
  fs::create_directories(out_dir);
  CheckpointDir source(source_dir);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  std::set<std::string> written;
  for (auto& [name, t] : model.checkpoint_tensors()) {
    SINKLAB_CHECK(source.has(name), "{} has no tensor '{}' to replace", source_dir, name);
    const auto dtype = source.tensor(name).scalar_type();
    tensors.emplace_back(name, t.to(at::kCPU).to(dtype));
    written.insert(name);
  }
  // Whatever the model does not hold (buffers, a tied lm_head written out) is copied as it is.
  for (const auto& name : source.names())
    if (!written.count(name)) tensors.emplace_back(name, source.tensor(name));
  write_safetensors((fs::path(out_dir) / "model.safetensors").string(), tensors, metadata);
  for (const auto& e : fs::directory_iterator(source_dir)) {
    const std::string file = e.path().filename().string();
    const bool weights = file.size() > 12 && file.rfind(".safetensors") == file.size() - 12;  // replaced above
    if (!e.is_regular_file() || weights || file == "model.safetensors.index.json")
      continue;
    fs::copy_file(e.path(), fs::path(out_dir) / file, fs::copy_options::overwrite_existing);
  }
}

}  // namespace sinklab
