#pragma once
// GPT-2's byte-to-character table: every byte maps to a printable character, so byte-level BPE
// works on text. Used by the ByteLevel normalizer, pre-tokenizer and decoder.
#include <string>

namespace sinklab::byte_level {

// Each byte of `bytes` as its character (UTF-8), appended to `out`.
void append_encoded(std::string& out, const std::string& bytes, std::size_t start, std::size_t end);
inline std::string encode(const std::string& bytes) {
  std::string out;
  append_encoded(out, bytes, 0, bytes.size());
  return out;
}
// The bytes of a token whose every character is in the table; false (and `out` untouched)
// when one is not - tokenizers then keeps the token's own bytes.
bool decode_token(const std::string& token, std::string& out);

}  // namespace sinklab::byte_level
