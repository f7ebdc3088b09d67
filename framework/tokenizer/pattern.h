#pragma once
// Where a pattern occurs in a text, and how a split behaviour turns those places into pieces:
// the semantics of HuggingFace tokenizers' Pattern::find_matches and NormalizedString::split,
// shared by the Split / Digits / Punctuation / Whitespace / Metaspace pre-tokenizers and the
// Replace normalizer and decoder.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sinklab {

// A stretch [start, end) of the text, in bytes; the spans of one text cover it in order.
struct Span {
  std::size_t start, end;
  bool is_match;
};

// A regular expression with Oniguruma's meaning, which tokenizers uses: compiled by PCRE2
// (Unicode properties, look-ahead, JIT) after rewriting the escapes whose Unicode classes
// differ between the two (\s includes U+0085, \w includes marks and every number); ^ and $
// match at line ends, as in Oniguruma's Ruby syntax.
class Regex {
 public:
  explicit Regex(const std::string& pattern);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  // Every match and every stretch between matches, as Oniguruma's find_iter reports them
  // (empty matches included, except one right where the previous match ended).
  std::vector<Span> find_matches(const std::string& text) const;

 private:
  void* code_;  // pcre2_code*
};

// What a Split-style pre-tokenizer searches for: a regex, a literal string or a character class.
class Pattern {
 public:
  static Pattern regex(const std::string& pattern);
  static Pattern literal(const std::string& text);  // non-empty
  static Pattern characters(std::function<bool(char32_t)> is_delimiter);
  std::vector<Span> find_matches(const std::string& text) const;

 private:
  std::shared_ptr<const Regex> regex_;
  std::string literal_;
  std::function<bool(char32_t)> is_delimiter_;
};

// What happens to the matches when a text is split at them.
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };
// The behaviour a tokenizer.json names ("Removed", "Isolated", ...); InputError for another.
SplitBehavior split_behavior(const std::string& name);

// The non-empty pieces [start, end) that `behavior` makes of `spans`; `invert` swaps which
// spans count as matches first.
std::vector<std::pair<std::size_t, std::size_t>> split_spans(std::vector<Span> spans, SplitBehavior behavior,
                                                             bool invert = false);

}  // namespace sinklab
