#pragma once
// The normalizer of a tokenizer.json, applied to each stretch of text between added tokens:
// NFC / NFD / NFKC / NFKD (ICU), Lowercase, Strip, StripAccents, Prepend, Replace (String or
// Regex), Nmt, ByteLevel, and Sequence of these. Anything else is an InputError naming it.
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace sinklab {

class Pattern;

class Normalizer {
 public:
  // `j` is the tokenizer.json "normalizer" value (null: no normalization).
  explicit Normalizer(const nlohmann::json& j);
  ~Normalizer();
  Normalizer(Normalizer&&) noexcept;
  Normalizer& operator=(Normalizer&&) noexcept;

  // Normalizes `text` in place. `starts_at_origin` stays true while the first character still
  // comes from the first character of the original text (Metaspace's prepend_scheme "first"
  // asks); a step that removes leading characters clears it.
  void apply(std::string& text, bool& starts_at_origin) const;
  bool empty() const { return steps_.empty(); }

  struct Step;  // one normalizer of the (flattened) sequence

 private:
  std::vector<Step> steps_;
};

}  // namespace sinklab
