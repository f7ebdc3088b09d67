#include "framework/model/tokenizer/bpe.h"

#include <fmt/format.h>

#include <climits>

#include "framework/util/error.h"
#include "framework/util/utf8.h"

namespace sinklab {

static std::string pair_key(const std::string& a, const std::string& b) { return a + '\x01' + b; }

BpeModel::BpeModel(std::unordered_map<std::string, std::int64_t> vocab,
                   const std::vector<std::pair<std::string, std::string>>& merges, bool byte_fallback,
                   bool ignore_merges, std::string unk_token, bool fuse_unk)
    : vocab_(std::move(vocab)), byte_fallback_(byte_fallback), ignore_merges_(ignore_merges), fuse_unk_(fuse_unk),
      unk_token_(std::move(unk_token)) {
  for (std::size_t r = 0; r < merges.size(); ++r) ranks_.emplace(pair_key(merges[r].first, merges[r].second), int(r));
}

// Repeatedly merges the adjacent pair with the lowest rank (leftmost on ties), as tokenizers does.
std::vector<std::string> BpeModel::merge(const std::string& word) const {
  std::vector<std::string> symbols = utf8::characters(word);
  while (symbols.size() > 1) {
    int best = INT_MAX;
    std::size_t at = 0;
    for (std::size_t i = 0; i + 1 < symbols.size(); ++i) {
      auto it = ranks_.find(pair_key(symbols[i], symbols[i + 1]));
      if (it != ranks_.end() && it->second < best) best = it->second, at = i;
    }
    if (best == INT_MAX) break;
    symbols[at] += symbols[at + 1];
    symbols.erase(symbols.begin() + std::ptrdiff_t(at) + 1);
  }
  return symbols;
}

void BpeModel::encode(const std::string& word, std::vector<std::int64_t>& out) const {
  if (word.empty()) return;
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto hit = cache_.find(word);
    if (hit != cache_.end()) {
      out.insert(out.end(), hit->second.begin(), hit->second.end());
      return;
    }
  }
  std::vector<std::int64_t> ids;
  auto whole = vocab_.find(word);
  if (ignore_merges_ && whole != vocab_.end()) {
    ids.push_back(whole->second);
  } else {
    bool last_was_unk = false;
    for (const auto& symbol : merge(word)) {
      auto it = vocab_.find(symbol);
      if (it != vocab_.end()) {
        ids.push_back(it->second);
        last_was_unk = false;
      } else if (byte_fallback_) {
        for (unsigned char c : symbol) {
          auto b = vocab_.find(fmt::format("<0x{:02X}>", c));
          SINKLAB_INPUT_CHECK(b != vocab_.end(), "tokenizer has byte_fallback but no token <0x{:02X}>", c);
          ids.push_back(b->second);
        }
        last_was_unk = false;
      } else {
        auto unk = vocab_.find(unk_token_);
        SINKLAB_INPUT_CHECK(unk != vocab_.end(), "text has '{}', which the vocabulary cannot represent (no unk_token)", symbol);
        if (!(fuse_unk_ && last_was_unk)) ids.push_back(unk->second);
        last_was_unk = true;
      }
    }
  }
  out.insert(out.end(), ids.begin(), ids.end());
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() < 200000) cache_.emplace(word, std::move(ids));
}

}  // namespace sinklab
