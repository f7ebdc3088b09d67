#pragma once
// Pre-tokenization of a tokenizer.json: regex splits (PCRE2 with Unicode properties, since the
// patterns use \p{L}, \p{N} and look-ahead) and the byte-level mapping of GPT-2 style tokenizers.
#include <memory>
#include <string>
#include <vector>

namespace sinklab {

class RegexSplitter {
 public:
  explicit RegexSplitter(const std::string& pattern);
  ~RegexSplitter();
  RegexSplitter(const RegexSplitter&) = delete;
  RegexSplitter& operator=(const RegexSplitter&) = delete;
  // "Isolated" behaviour: every match is a piece, and so is every stretch between matches.
  std::vector<std::string> split(const std::string& text) const;

 private:
  void* code_;  // pcre2_code*
};

// GPT-2's byte-to-character table: every byte maps to a printable character, so BPE works on
// text; byte_level_encode maps bytes -> characters, byte_level_decode the way back.
std::string byte_level_encode(const std::string& bytes);
std::string byte_level_decode(const std::string& text);

// GPT-2's own split pattern, used by ByteLevel pre-tokenizers with use_regex.
extern const char* kGpt2SplitPattern;

}  // namespace sinklab
