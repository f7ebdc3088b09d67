#pragma once
// The BPE model of a tokenizer.json, as tokenizers' BPE: vocabulary, ranked merges applied
// lowest rank first (leftmost on ties) with a heap, so a word of n characters costs O(n log n)
// - SentencePiece-style tokenizers hand a whole line or document to BPE as one word -
// byte_fallback (<0xAB> symbols for characters outside the vocabulary), unk_token / fuse_unk,
// ignore_merges, continuing_subword_prefix and end_of_word_suffix. A cache keeps short words.
#include <cstdint>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <unordered_map>
#include <vector>

namespace sinklab {

class BpeModel {
 public:
  // `model` is the tokenizer.json "model" object (type BPE).
  explicit BpeModel(const nlohmann::json& model);
  // Appends the ids of one word (already normalized, pre-tokenized and byte-mapped) to `out`.
  void encode(const std::string& word, std::vector<std::int64_t>& out) const;
  const std::unordered_map<std::string, std::int64_t>& vocab() const { return vocab_; }

 private:
  // The word's symbols before merging: a vocabulary id per character, byte-fallback ids,
  // unknown-token ids; characters none of these cover are dropped, as tokenizers drops them.
  void symbols(const std::string& word, std::vector<std::int64_t>& out) const;
  void merge(std::vector<std::int64_t>& symbols) const;
  std::int64_t char_id(const std::string& word, std::size_t start, std::size_t end, bool first, bool last) const;

  std::unordered_map<std::string, std::int64_t> vocab_;
  std::unordered_map<char32_t, std::int64_t> single_char_;  // one-character tokens, for the common case
  struct Merge {
    std::uint32_t rank;
    std::int64_t merged;  // id of the merged symbol
  };
  std::unordered_map<std::uint64_t, Merge> merges_;  // (left id << 32 | right id) -> merge
  std::int64_t byte_ids_[256];                       // <0xAB> ids, or -1 (byte_fallback)
  bool byte_fallback_ = false, ignore_merges_ = false, fuse_unk_ = false;
  std::int64_t unk_id_ = -1;
  std::string unk_token_, prefix_, suffix_;
  mutable std::unordered_map<std::string, std::vector<std::int64_t>> cache_;  // word -> ids
  mutable std::mutex cache_mutex_;
};

}  // namespace sinklab
