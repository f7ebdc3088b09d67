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
// Decodes `s`, replacing each invalid sequence by U+FFFD (as Rust's from_utf8_lossy does).
std::string lossy(const std::string& s);

}  // namespace sinklab::utf8
