#pragma once
// The BPE model of a tokenizer.json: vocabulary, ranked merges, optional byte fallback
// (<0xAB> tokens for characters outside the vocabulary) and unknown-token handling.
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace sinklab {

class BpeModel {
 public:
  BpeModel(std::unordered_map<std::string, std::int64_t> vocab, const std::vector<std::pair<std::string, std::string>>& merges,
           bool byte_fallback, bool ignore_merges, std::string unk_token, bool fuse_unk);
  // Appends the ids of one pre-token (already normalised and byte-mapped) to `out`.
  void encode(const std::string& word, std::vector<std::int64_t>& out) const;
  const std::unordered_map<std::string, std::int64_t>& vocab() const { return vocab_; }

 private:
  std::vector<std::string> merge(const std::string& word) const;
  std::unordered_map<std::string, std::int64_t> vocab_;
  std::unordered_map<std::string, int> ranks_;  // "left\x01right" -> rank
  bool byte_fallback_, ignore_merges_, fuse_unk_;
  std::string unk_token_;
  mutable std::unordered_map<std::string, std::vector<std::int64_t>> cache_;  // word -> ids
  mutable std::mutex cache_mutex_;
};

}  // namespace sinklab
