#pragma once
// Saving an edited (pruned) model as a HuggingFace checkpoint directory that sinklab and
// transformers both load: model.safetensors with every tensor of the source checkpoint under
// its own name, in its own dtype (pruned weights as dense tensors with zeros), and every other
// file of the source (config.json, tokenizer files, generation config) copied.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

namespace sinklab {

class LanguageModel;

void save_hf_checkpoint(const LanguageModel& model, const std::string& source_dir, const std::string& out_dir,
                        const std::map<std::string, std::string>& metadata = {});

class PrunedBlockStore;

// The same checkpoint assembled without holding the model whole: the store's block files become
// shards 1..L (hard links where the file system allows, else copies), shard L+1 holds the
// tensors outside the blocks (and whatever the source has that the model does not hold), then
// model.safetensors.index.json and the source's other files. Every block must be in the store.
void save_sharded_checkpoint(const LanguageModel& model, const PrunedBlockStore& blocks, const std::string& source_dir,
                             const std::string& out_dir, const std::map<std::string, std::string>& metadata = {});

}  // namespace sinklab
