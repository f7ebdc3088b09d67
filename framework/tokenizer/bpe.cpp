#include "framework/tokenizer/bpe.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "framework/util/error.h"
#include "framework/util/utf8.h"

namespace sinklab {

using json = nlohmann::json;

static std::uint64_t pair_key(std::int64_t a, std::int64_t b) { return (std::uint64_t(a) << 32) | std::uint64_t(b); }

static std::string optional_string(const json& model, const char* key) {
  return model.contains(key) && model[key].is_string() ? model[key].get<std::string>() : std::string();
}

BpeModel::BpeModel(const json& model) {
  const std::string type = model.value("type", "BPE");
  SINKLAB_INPUT_CHECK(type == "BPE", "model type '{}' is not supported (BPE only: every current decoder LM uses it)", type);
  SINKLAB_INPUT_CHECK(model.value("dropout", json()).is_null() || model["dropout"].get<double>() == 0.0,
                      "BPE dropout {} makes tokenization random; set it to null for a model's own tokenizer",
                      model["dropout"].dump());
  for (const auto& [tok, id] : model.at("vocab").items()) {
    // tokenizers keeps ids as u32; anything else would index outside every table built from them.
    SINKLAB_INPUT_CHECK(id.is_number_integer() && id.get<std::int64_t>() >= 0 && id.get<std::int64_t>() <= 0xffffffffLL,
                        "model.vocab gives token '{}' the id {}: ids are integers in 0..4294967295", tok, id.dump());
    vocab_.emplace(tok, id.get<std::int64_t>());
  }
  byte_fallback_ = model.value("byte_fallback", false);
  ignore_merges_ = model.value("ignore_merges", false);
  fuse_unk_ = model.value("fuse_unk", false);
  unk_token_ = optional_string(model, "unk_token");
  prefix_ = optional_string(model, "continuing_subword_prefix");
  suffix_ = optional_string(model, "end_of_word_suffix");
  if (!unk_token_.empty()) {
    auto it = vocab_.find(unk_token_);
    if (it != vocab_.end()) unk_id_ = it->second;
  }
  for (const auto& [tok, id] : vocab_) {
    if (tok.empty() || utf8::length_of(static_cast<unsigned char>(tok[0])) != tok.size()) continue;
    std::size_t i = 0;
    single_char_.emplace(utf8::next(tok, i), id);
  }
  for (int b = 0; b < 256; ++b) {
    auto it = vocab_.find(fmt::format("<0x{:02X}>", b));
    byte_ids_[b] = it == vocab_.end() ? -1 : it->second;
  }
  // Merges name tokens; a later merge of the same pair replaces an earlier one (tokenizers
  // builds a map). The merged token drops the right part's continuing_subword_prefix.
  std::uint32_t rank = 0;
  for (const auto& mj : model.at("merges")) {
    std::string a, b;
    if (mj.is_array()) {
      a = mj.at(0).get<std::string>();
      b = mj.at(1).get<std::string>();
    } else {
      const auto s = mj.get<std::string>();
      const auto sp = s.find(' ');
      SINKLAB_INPUT_CHECK(sp != std::string::npos, "merge '{}' is not 'left right'", s);
      a = s.substr(0, sp);
      b = s.substr(sp + 1);
    }
    const std::string merged = a + (b.compare(0, prefix_.size(), prefix_) == 0 ? b.substr(prefix_.size()) : b);
    auto ia = vocab_.find(a), ib = vocab_.find(b), im = vocab_.find(merged);
    SINKLAB_INPUT_CHECK(ia != vocab_.end() && ib != vocab_.end() && im != vocab_.end(),
                        "merge {} of '{}' + '{}' names a token missing from the vocabulary ('{}')", rank, a, b,
                        ia == vocab_.end() ? a : ib == vocab_.end() ? b : merged);
    merges_[pair_key(ia->second, ib->second)] = Merge{rank++, im->second};
  }
}

std::int64_t BpeModel::char_id(const std::string& word, std::size_t start, std::size_t end, bool first,
                               bool last) const {
  const bool plain = (first || prefix_.empty()) && (!last || suffix_.empty());
  if (plain) {
    std::size_t i = start;
    auto it = single_char_.find(utf8::next(word, i));
    return it == single_char_.end() ? -1 : it->second;
  }
  std::string s = (first ? std::string() : prefix_) + word.substr(start, end - start) + (last ? suffix_ : std::string());
  auto it = vocab_.find(s);
  return it == vocab_.end() ? -1 : it->second;
}

void BpeModel::symbols(const std::string& word, std::vector<std::int64_t>& out) const {
  bool pending_unk = false;
  for (std::size_t i = 0; i < word.size();) {
    const std::size_t start = i;
    i += utf8::length_of(static_cast<unsigned char>(word[i]));
    const std::int64_t id = char_id(word, start, i, start == 0, i == word.size());
    if (id >= 0) {
      if (pending_unk) out.push_back(unk_id_), pending_unk = false;
      out.push_back(id);
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (std::size_t k = start; k < i; ++k) all = all && byte_ids_[static_cast<unsigned char>(word[k])] >= 0;
      if (all) {
        // A byte symbol does not flush a pending unknown: tokenizers adds it after them.
        for (std::size_t k = start; k < i; ++k) out.push_back(byte_ids_[static_cast<unsigned char>(word[k])]);
        continue;
      }
    }
    if (unk_token_.empty()) continue;  // no unk_token: tokenizers drops the character
    SINKLAB_INPUT_CHECK(unk_id_ >= 0, "the text has '{}', which needs unk_token '{}', but the vocabulary lacks it",
                        word.substr(start, i - start), unk_token_);
    if (pending_unk && !fuse_unk_) out.push_back(unk_id_);
    pending_unk = true;
  }
  if (pending_unk) out.push_back(unk_id_);
}

namespace {

// A 4-ary min-heap of 64-bit keys: shallower than a binary heap and one word per entry, which
// matters for the million candidates of a whole document handed to BPE as one word.
class QuaternaryHeap {
 public:
  explicit QuaternaryHeap(std::size_t capacity) { keys_.reserve(capacity); }
  bool empty() const { return keys_.empty(); }
  void push(std::uint64_t key) {
    std::size_t i = keys_.size();
    keys_.push_back(key);
    while (i > 0) {
      const std::size_t parent = (i - 1) / 4;
      if (keys_[parent] <= key) break;
      keys_[i] = keys_[parent];
      i = parent;
    }
    keys_[i] = key;
  }
  std::uint64_t pop() {
    const std::uint64_t top = keys_[0], last = keys_.back();
    keys_.pop_back();
    const std::size_t n = keys_.size();
    if (n == 0) return top;
    std::size_t i = 0;
    for (;;) {
      const std::size_t first = 4 * i + 1;
      if (first >= n) break;
      std::size_t best = first;
      for (std::size_t c = first + 1; c < first + 4 && c < n; ++c)
        if (keys_[c] < keys_[best]) best = c;
      if (last <= keys_[best]) break;
      keys_[i] = keys_[best];
      i = best;
    }
    keys_[i] = last;
    return top;
  }

 private:
  std::vector<std::uint64_t> keys_;
};

}  // namespace

// Repeatedly merges the adjacent pair with the lowest rank (leftmost on ties), over a linked
// list of symbols with a heap of candidates keyed (rank << 32 | left position); a candidate
// made stale by an earlier merge is skipped when popped.
void BpeModel::merge(std::vector<std::int64_t>& sym) const {
  if (sym.size() < 2) return;
  const int n = int(sym.size());
  std::vector<int> prev(sym.size()), next(sym.size());
  for (int i = 0; i < n; ++i) prev[i] = i - 1, next[i] = i + 1 < n ? i + 1 : -1;
  std::vector<char> alive(sym.size(), 1);
  QuaternaryHeap heap(sym.size());
  auto push = [&](int a) {
    if (a < 0 || next[a] < 0) return;
    auto it = merges_.find(pair_key(sym[a], sym[next[a]]));
    if (it != merges_.end()) heap.push((std::uint64_t(it->second.rank) << 32) | std::uint32_t(a));
  };
  for (int i = 0; i + 1 < n; ++i) push(i);
  while (!heap.empty()) {
    const std::uint64_t key = heap.pop();
    const std::uint32_t rank = std::uint32_t(key >> 32);
    const int a = int(key & 0xFFFFFFFFu);
    if (!alive[a] || next[a] < 0) continue;
    const int b = next[a];
    auto it = merges_.find(pair_key(sym[a], sym[b]));
    if (it == merges_.end() || it->second.rank != rank) continue;  // stale
    sym[a] = it->second.merged;
    alive[b] = 0;
    next[a] = next[b];
    if (next[b] >= 0) prev[next[b]] = a;
    push(prev[a]);
    push(a);
  }
  std::size_t w = 0;
  for (int i = 0; i >= 0; i = next[i]) sym[w++] = sym[i];
  sym.resize(w);
}

void BpeModel::encode(const std::string& word, std::vector<std::int64_t>& out) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    auto whole = vocab_.find(word);
    if (whole != vocab_.end()) return out.push_back(whole->second);
  }
  const bool cacheable = word.size() < 256;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto hit = cache_.find(word);
    if (hit != cache_.end()) {
      out.insert(out.end(), hit->second.begin(), hit->second.end());
      return;
    }
  }
  std::vector<std::int64_t> ids;
  ids.reserve(word.size());
  symbols(word, ids);
  merge(ids);
  out.insert(out.end(), ids.begin(), ids.end());
  if (!cacheable) return;
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() < 200000) cache_.emplace(word, std::move(ids));
}

}  // namespace sinklab
