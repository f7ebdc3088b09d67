#pragma once
// UTF-8 helpers for tokenizers: validation, code-point splitting and encoding.
#include <cstdint>
#include <string>
#include <vector>

namespace sinklab::utf8 {

// Byte offset of the first invalid sequence, or -1 when `s` is valid UTF-8.
long invalid_at(const std::string& s);
// The code points of valid UTF-8 `s`, each as its own UTF-8 string.
std::vector<std::string> characters(const std::string& s);
std::string encode(std::uint32_t code_point);
void append(std::string& out, char32_t code_point);
// The code point that starts at s[i] of valid UTF-8 `s`; advances `i` past it.
char32_t next(const std::string& s, std::size_t& i);
// Byte length of the sequence that starts with `lead` in valid UTF-8.
inline std::size_t length_of(unsigned char lead) { return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4; }
// Decodes `s` as Rust's String::from_utf8_lossy does: each maximal invalid subpart (the longest
// prefix of a would-be sequence that is still valid, at least one byte) becomes one U+FFFD.
std::string lossy(const std::string& s);

}  // namespace sinklab::utf8
