#include "framework/model/tokenizer/bpe.h"

#include <fmt/format.h>

#include <climits>
#include <queue>
#include <tuple>

#include "framework/util/error.h"
#include "framework/util/utf8.h"

namespace sinklab {

static std::uint64_t pair_key(std::int64_t a, std::int64_t b) { return (std::uint64_t(a) << 32) | std::uint64_t(b); }

BpeModel::BpeModel(std::unordered_map<std::string, std::int64_t> vocab,
                   const std::vector<std::pair<std::string, std::string>>& merges, bool byte_fallback,
                   bool ignore_merges, std::string unk_token, bool fuse_unk)
    : vocab_(std::move(vocab)), byte_fallback_(byte_fallback), ignore_merges_(ignore_merges), fuse_unk_(fuse_unk),
      unk_token_(std::move(unk_token)) {
  // Merges work on ids; a merge whose parts or result are not in the vocabulary can never apply.
  for (std::size_t r = 0; r < merges.size(); ++r) {
    auto a = vocab_.find(merges[r].first), b = vocab_.find(merges[r].second);
    auto m = vocab_.find(merges[r].first + merges[r].second);
    if (a != vocab_.end() && b != vocab_.end() && m != vocab_.end())
      merges_.emplace(pair_key(a->second, b->second), Merge{int(r), m->second});
  }
}

// Repeatedly merges the adjacent pair with the lowest rank (leftmost on ties), as tokenizers does.
// A heap of candidate pairs over a linked list of symbols keeps this O(n log n): tokenizers
// without a pre-tokenizer (SentencePiece style) hand the whole text to BPE as one word.
std::vector<std::int64_t> BpeModel::merge(const std::string& word, std::vector<std::string>& unknown) const {
  std::vector<std::string> chars = utf8::characters(word);
  const int n = int(chars.size());
  std::vector<std::int64_t> sym(n);
  for (int i = 0; i < n; ++i) {
    auto it = vocab_.find(chars[i]);
    sym[i] = it == vocab_.end() ? -1 : it->second;
  }
  std::vector<int> prev(n), next(n);
  std::vector<bool> alive(n, true);
  for (int i = 0; i < n; ++i) prev[i] = i - 1, next[i] = i + 1 < n ? i + 1 : -1;
  using Candidate = std::tuple<int, int, int>;  // rank, left, right
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
  auto find = [&](int a, int b) -> const Merge* {
    if (sym[a] < 0 || sym[b] < 0) return nullptr;
    auto it = merges_.find(pair_key(sym[a], sym[b]));
    return it == merges_.end() ? nullptr : &it->second;
  };
  auto push = [&](int a, int b) {
    if (a < 0 || b < 0) return;
    if (const Merge* m = find(a, b)) heap.emplace(m->rank, a, b);
  };
  for (int i = 0; i + 1 < n; ++i) push(i, i + 1);
  while (!heap.empty()) {
    auto [r, a, b] = heap.top();
    heap.pop();
    // Skip candidates made stale by earlier merges.
    const Merge* m = alive[a] && alive[b] && next[a] == b ? find(a, b) : nullptr;
    if (m == nullptr || m->rank != r) continue;
    sym[a] = m->merged;
    alive[b] = false;
    next[a] = next[b];
    if (next[b] >= 0) prev[next[b]] = a;
    push(prev[a], a);
    push(a, next[a]);
  }
  std::vector<std::int64_t> out;
  for (int i = 0; i >= 0 && i < n; i = next[i]) {
    out.push_back(sym[i]);
    if (sym[i] < 0) unknown.push_back(chars[i]);
  }
  return out;
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
    std::vector<std::string> unknown;  // texts of the -1 symbols, in order
    std::size_t next_unknown = 0;
    for (std::int64_t id : merge(word, unknown)) {
      if (id >= 0) {
        ids.push_back(id);
        last_was_unk = false;
        continue;
      }
      const std::string& symbol = unknown[next_unknown++];
      if (byte_fallback_) {
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
  if (word.size() <= 256 && cache_.size() < 200000) cache_.emplace(word, std::move(ids));
}

}  // namespace sinklab
