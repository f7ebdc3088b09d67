#define PCRE2_CODE_UNIT_WIDTH 8
#include "framework/model/tokenizer/pretokenizer.h"

#include <pcre2.h>

#include <array>
#include <unordered_map>

#include "framework/util/error.h"
#include "framework/util/utf8.h"

namespace sinklab {

const char* kGpt2SplitPattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

RegexSplitter::RegexSplitter(const std::string& pattern) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.c_str()), pattern.size(), PCRE2_UTF | PCRE2_UCP, &error,
                        &offset, nullptr);
  if (code_ == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    throw InputError(fmt::format("tokenizer split pattern does not compile at offset {}: {}", offset,
                                 reinterpret_cast<const char*>(message)));
  }
  pcre2_jit_compile(static_cast<pcre2_code*>(code_), PCRE2_JIT_COMPLETE);  // a speed-up when available
}

RegexSplitter::~RegexSplitter() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

std::vector<std::string> RegexSplitter::split(const std::string& text) const {
  std::vector<std::string> pieces;
  auto* code = static_cast<pcre2_code*>(code_);
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
  std::size_t pos = 0, last = 0;
  while (pos <= text.size()) {
    // The text was validated once by the tokenizer; without NO_UTF_CHECK PCRE2 would re-check
    // the whole subject on every call (quadratic on long texts).
    int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), pos, PCRE2_NO_UTF_CHECK, md,
                         nullptr);
    if (rc < 0) break;
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    std::size_t start = ov[0], end = ov[1];
    if (end == start) {  // an empty match: step one character on
      pos = start + (start < text.size() ? utf8::characters(text.substr(start, 4)).front().size() : 1);
      continue;
    }
    if (start > last) pieces.push_back(text.substr(last, start - last));
    pieces.push_back(text.substr(start, end - start));
    last = pos = end;
  }
  if (last < text.size()) pieces.push_back(text.substr(last));
  pcre2_match_data_free(md);
  return pieces;
}

// Printable bytes map to themselves; the others, in order, to U+0100 upwards.
static const std::array<std::string, 256>& byte_table() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      t[b] = utf8::encode(printable ? std::uint32_t(b) : std::uint32_t(next++));
    }
    return t;
  }();
  return table;
}

std::string byte_level_encode(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) out += byte_table()[c];
  return out;
}

std::string byte_level_decode(const std::string& text) {
  static const std::unordered_map<std::string, char> back = [] {
    std::unordered_map<std::string, char> m;
    for (int b = 0; b < 256; ++b) m[byte_table()[b]] = char(b);
    return m;
  }();
  std::string out;
  for (const auto& ch : utf8::characters(text)) {
    auto it = back.find(ch);
    out += it != back.end() ? std::string(1, it->second) : ch;  // added tokens pass through
  }
  return out;
}

}  // namespace sinklab
