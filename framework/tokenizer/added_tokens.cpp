#include "framework/tokenizer/added_tokens.h"

#include <algorithm>

#include "framework/tokenizer/normalizer.h"
#include "framework/tokenizer/unicode.h"
#include "framework/util/utf8.h"

namespace sinklab {

void AddedTokens::Trie::insert(const std::string& s, int token) {
  int node = 0;
  for (unsigned char c : s) {
    auto& ch = nodes[std::size_t(node)].children;
    auto it = std::lower_bound(ch.begin(), ch.end(), std::make_pair(c, -1));
    if (it == ch.end() || it->first != c) {
      const int fresh = int(nodes.size());
      it = ch.insert(it, {c, fresh});
      nodes.emplace_back();  // invalidates `ch`, not `fresh`
      node = fresh;
    } else {
      node = it->second;
    }
  }
  nodes[std::size_t(node)].token = token;
  first_byte[static_cast<unsigned char>(s[0])] = true;
}

int AddedTokens::Trie::longest_at(const std::string& text, std::size_t i, std::size_t& length) const {
  int node = 0, best = -1;
  for (std::size_t k = i; k < text.size(); ++k) {
    const auto& ch = nodes[std::size_t(node)].children;
    const unsigned char c = static_cast<unsigned char>(text[k]);
    auto it = std::lower_bound(ch.begin(), ch.end(), std::make_pair(c, -1));
    if (it == ch.end() || it->first != c) break;
    node = it->second;
    if (nodes[std::size_t(node)].token >= 0) best = nodes[std::size_t(node)].token, length = k + 1 - i;
  }
  return best;
}

AddedTokens::AddedTokens(std::vector<AddedToken> tokens, const Normalizer& normalizer) : tokens_(std::move(tokens)) {
  for (std::size_t t = 0; t < tokens_.size(); ++t) {
    AddedToken& a = tokens_[t];
    a.form = a.content;
    if (a.content.empty()) continue;  // tokenizers ignores empty tokens
    if (!a.normalized) {
      raw_.insert(a.content, int(t));
      continue;
    }
    bool origin = true;
    normalizer.apply(a.form, origin);
    if (!a.form.empty()) normalized_.insert(a.form, int(t));
  }
}

std::vector<AddedTokens::Hit> AddedTokens::find(const std::string& text, const Trie& trie) const {
  std::vector<Hit> hits;
  std::size_t done = 0;  // end of the last token taken
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!trie.first_byte[static_cast<unsigned char>(text[i])]) continue;
    std::size_t length = 0;
    const int t = trie.longest_at(text, i, length);
    if (t < 0) continue;
    std::size_t start = i, stop = i + length;
    const std::size_t match_end = stop;  // the search resumes here, whatever rstrip takes
    const AddedToken& a = tokens_[std::size_t(t)];
    if (a.single_word) {
      const bool word_before = start > 0 && unicode::is_word(unicode::character_before(text, start));
      std::size_t after = stop;
      const bool word_after = stop < text.size() && unicode::is_word(utf8::next(text, after));
      // Not a word of its own: skipped, and the search goes on after it as Aho-Corasick does.
      if (word_before || word_after) {
        i = stop - 1;
        continue;
      }
    }
    if (a.lstrip) start = std::max(unicode::whitespace_run_start(text, start), done);
    if (a.rstrip) stop = unicode::whitespace_run_end(text, stop);
    if (done < start) hits.push_back({done, start, -1});
    hits.push_back({start, stop, t});
    done = stop;
    i = match_end - 1;
  }
  if (done < text.size()) hits.push_back({done, text.size(), -1});
  return hits;
}

void AddedTokens::extract(const std::string& text, const Normalizer& normalizer, std::vector<Segment>& out) const {
  for (const Hit& raw : find(text, raw_)) {
    if (raw.token >= 0) {
      out.push_back({std::string(), tokens_[std::size_t(raw.token)].id, false});
      continue;
    }
    std::string piece = text.substr(raw.start, raw.end - raw.start);
    bool origin = raw.start == 0;
    normalizer.apply(piece, origin);
    for (const Hit& n : find(piece, normalized_)) {
      if (n.token >= 0) out.push_back({std::string(), tokens_[std::size_t(n.token)].id, false});
      else out.push_back({piece.substr(n.start, n.end - n.start), -1, origin && n.start == 0});
    }
  }
}

}  // namespace sinklab
