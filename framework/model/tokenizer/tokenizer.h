#pragma once
// Tokenizers from HuggingFace `tokenizer.json` (written here; Debian has no tokenizer library).
// Supported: BPE models (byte-level GPT-2 / Llama 3 / Qwen, and SentencePiece-style with byte
// fallback as in Llama 2 and Phi-3), added and special tokens matched before anything else,
// normalizers Prepend / Replace, pre-tokenizers Split (regex) / ByteLevel, post-processors
// TemplateProcessing / ByteLevel, decoders ByteLevel / Replace / ByteFallback / Fuse / Strip.
// Anything else is an InputError naming the component, never a silent difference.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace sinklab {

class BpeModel;
class RegexSplitter;

class Tokenizer {
 public:
  static Tokenizer from_file(const std::string& path);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // `add_special_tokens` applies the post-processor's template (e.g. a leading <s>).
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
