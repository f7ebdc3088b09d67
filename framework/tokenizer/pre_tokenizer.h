#pragma once
// The pre-tokenizer of a tokenizer.json: cuts normalized text into the words BPE sees.
// Split (String or Regex pattern, every behavior, invert), ByteLevel (with and without its
// regex), Metaspace (prepend schemes always / first / never, split), Digits, Punctuation,
// Whitespace, WhitespaceSplit, CharDelimiterSplit, and Sequence of these.
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace sinklab {

// One word on its way to the model.
struct Piece {
  std::string text;
  bool at_origin;  // it starts where the original text starts (Metaspace "first" asks)
};

class PreTokenizer {
 public:
  // `j` is the tokenizer.json "pre_tokenizer" value (null: the whole text is one word).
  explicit PreTokenizer(const nlohmann::json& j);
  ~PreTokenizer();
  PreTokenizer(PreTokenizer&&) noexcept;
  PreTokenizer& operator=(PreTokenizer&&) noexcept;

  // Replaces `pieces` by the words they split into (never empty ones).
  void apply(std::vector<Piece>& pieces) const;

  struct Step;  // one pre-tokenizer of the (flattened) sequence

 private:
  std::vector<std::unique_ptr<Step>> steps_;
};

}  // namespace sinklab
