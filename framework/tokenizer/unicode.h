#pragma once
// The Unicode facts HuggingFace tokenizers relies on, from ICU (Debian's libicu, Unicode 15)
// rather than hand-written tables: normalization forms, character classes as Rust's `char`
// methods define them, and the full (one-to-many) lowercase mapping. Where tokenizers' crates
// carry older tables (normalization and StripAccents: Unicode 9.0; Punctuation: 8.0), ICU is
// restricted to the characters of that version, so newer ones behave as they do there.
#include <string>

namespace sinklab::unicode {

enum class Form { NFC, NFD, NFKC, NFKD };
// `s` (valid UTF-8) in normalization form `form`.
std::string normalize(const std::string& s, Form form);

bool is_whitespace(char32_t c);   // White_Space (Rust char::is_whitespace, Rust regex \s)
bool is_numeric(char32_t c);      // general category Nd, Nl or No (Rust char::is_numeric)
bool is_punctuation(char32_t c);  // ASCII punctuation or Unicode 8.0's P* (tokenizers' is_punc)
bool is_mark(char32_t c);         // Unicode 9.0's M* (what StripAccents removes)
bool is_word(char32_t c);         // Rust regex \w: Alphabetic, M*, Nd, Pc, Join_Control
// Valid UTF-8 `s`: the code point that ends at byte `end` (> 0); where the run of whitespace
// that ends at `end` begins; where the run that starts at `start` ends.
char32_t character_before(const std::string& s, std::size_t end);
std::size_t whitespace_run_start(const std::string& s, std::size_t end);
std::size_t whitespace_run_end(const std::string& s, std::size_t start);

// Appends the full lowercase mapping of one code point, without context (Rust char::to_lowercase).
void append_lowercase(std::string& out, char32_t c);

}  // namespace sinklab::unicode
