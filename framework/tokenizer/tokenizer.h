#pragma once
// Tokenizers from HuggingFace `tokenizer.json`, identical to HuggingFace tokenizers (checked
// id for id against its official binding on every current model family: see README.md).
// The pipeline, one file per stage: added tokens (added_tokens.h) -> normalizer
// (normalizer.h) -> pre-tokenizer (pre_tokenizer.h) -> BPE (bpe.h) -> post-processor
// (post_processor.h); decoding through decoder.h. A component sinklab lacks is an InputError
// naming it at load time, never a silent difference.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sinklab {

class Tokenizer {
 public:
  static Tokenizer from_file(const std::string& path);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // `add_special_tokens` applies the post-processor's template (e.g. a leading <s>).
  // InputError for text that is not valid UTF-8.
  std::vector<std::int64_t> encode(const std::string& text, bool add_special_tokens = true) const;
  std::string decode(const std::vector<std::int64_t>& ids, bool skip_special_tokens = true) const;
  std::int64_t vocab_size() const;
  std::string id_to_token(std::int64_t id) const;

 private:
  Tokenizer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sinklab
