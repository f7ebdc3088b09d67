#pragma once
// The added tokens of a tokenizer.json ("added_tokens"): found in the text before anything
// else, as tokenizers' AddedVocabulary does. Tokens with normalized=false are matched on the
// raw text; the stretches between them are normalized, and then tokens with normalized=true are
// matched on that (by their own normalized form). Leftmost-longest matching; single_word,
// lstrip and rstrip as tokenizers defines them (Unicode \w and \s).
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace sinklab {

class Normalizer;

struct AddedToken {
  std::string content;
  std::int64_t id;
  bool special, lstrip, rstrip, normalized, single_word;
  std::string form = {};  // what is matched: content, or its normalized form (set by AddedTokens)
};

// A stretch of the input after added-token extraction: normalized text (id -1) or a token.
struct Segment {
  std::string text;
  std::int64_t id;
  bool at_origin;  // normalized text whose first character is the input's first
};

class AddedTokens {
 public:
  AddedTokens(std::vector<AddedToken> tokens, const Normalizer& normalizer);
  // Appends the segments of `text` to `out`; `normalizer` normalizes the text between tokens.
  void extract(const std::string& text, const Normalizer& normalizer, std::vector<Segment>& out) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  // A byte trie of token contents (leftmost-longest search).
  struct Trie {
    struct Node {
      std::vector<std::pair<unsigned char, int>> children;  // sorted by byte
      int token = -1;                                       // index into tokens_ ending here
    };
    std::vector<Node> nodes{1};
    bool first_byte[256] = {};
    void insert(const std::string& s, int token);
    // The longest token starting at text[i], or -1.
    int longest_at(const std::string& text, std::size_t i, std::size_t& length) const;
  };
  // Splits `text` at the tokens of `trie`: (start, end, token index or -1), covering it.
  struct Hit {
    std::size_t start, end;
    int token;
  };
  std::vector<Hit> find(const std::string& text, const Trie& trie) const;
  std::vector<AddedToken> tokens_;
  Trie raw_, normalized_;
};

}  // namespace sinklab
