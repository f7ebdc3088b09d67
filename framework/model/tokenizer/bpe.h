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
  // The word's symbols after all merges: vocabulary ids, or -1 with the text kept in `unknown`.
  std::vector<std::int64_t> merge(const std::string& word, std::vector<std::string>& unknown) const;
  std::unordered_map<std::string, std::int64_t> vocab_;
  struct Merge {
    int rank;
    std::int64_t merged;  // id of the merged symbol
  };
  std::unordered_map<std::uint64_t, Merge> merges_;  // (left id << 32 | right id) -> merge
  bool byte_fallback_, ignore_merges_, fuse_unk_;
  std::string unk_token_;
  mutable std::unordered_map<std::string, std::vector<std::int64_t>> cache_;  // word -> ids
  mutable std::mutex cache_mutex_;
};

}  // namespace sinklab
