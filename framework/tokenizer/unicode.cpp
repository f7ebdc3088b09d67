#include "framework/tokenizer/unicode.h"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/uniset.h>
#include <unicode/uchar.h>
#include <unicode/ustring.h>

#include <mutex>

#include "framework/util/error.h"
#include "framework/util/utf8.h"

namespace sinklab::unicode {

// The characters of a Unicode version (Age <= version): tables for the crates tokenizers uses.
static icu::UnicodeSet* assigned_by(const char* pattern) {
  UErrorCode status = U_ZERO_ERROR;
  auto* set = new icu::UnicodeSet(icu::UnicodeString(pattern, -1, US_INV), status);  // lives as long as the process
  SINKLAB_CHECK(U_SUCCESS(status), "ICU set {}: {}", pattern, u_errorName(status));
  set->freeze();
  return set;
}
static const icu::UnicodeSet& unicode8() {
  static const icu::UnicodeSet* set = assigned_by("[:age=8.0:]");
  return *set;
}
static const icu::UnicodeSet& unicode9() {
  static const icu::UnicodeSet* set = assigned_by("[:age=9.0:]");
  return *set;
}

// tokenizers normalizes with the crate unicode-normalization-alignments, whose tables are
// Unicode 9.0: characters assigned later pass through unchanged (and block reordering and
// composition, as unknown starters do). ICU restricted to Unicode 9.0 does the same.
static const icu::Normalizer2& normalizer(Form form) {
  static const icu::Normalizer2* forms[4] = {};
  static std::once_flag once;
  std::call_once(once, [] {
    const icu::UnicodeSet& v9 = unicode9();
    for (int f = 0; f < 4; ++f) {
      UErrorCode status = U_ZERO_ERROR;
      const icu::Normalizer2* base = f == 0   ? icu::Normalizer2::getNFCInstance(status)
                                     : f == 1 ? icu::Normalizer2::getNFDInstance(status)
                                     : f == 2 ? icu::Normalizer2::getNFKCInstance(status)
                                              : icu::Normalizer2::getNFKDInstance(status);
      SINKLAB_CHECK(U_SUCCESS(status) && base != nullptr, "ICU has no normalizer: {}", u_errorName(status));
      forms[f] = new icu::FilteredNormalizer2(*base, v9);  // lives as long as the process
    }
  });
  return *forms[int(form)];
}

std::string normalize(const std::string& s, Form form) {
  const icu::Normalizer2& n = normalizer(form);
  UErrorCode status = U_ZERO_ERROR;
  icu::StringPiece piece(s.data(), int32_t(s.size()));
  // Most text is already normalized; the check is a fast scan without a copy.
  if (n.isNormalizedUTF8(piece, status) && U_SUCCESS(status)) return s;
  status = U_ZERO_ERROR;
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  icu::StringByteSink<std::string> sink(&out);
  n.normalizeUTF8(0, piece, sink, nullptr, status);
  SINKLAB_CHECK(U_SUCCESS(status), "ICU normalization failed: {}", u_errorName(status));
  return out;
}

bool is_whitespace(char32_t c) { return u_isUWhiteSpace(UChar32(c)); }

bool is_numeric(char32_t c) {
  const int8_t t = u_charType(UChar32(c));
  return t == U_DECIMAL_DIGIT_NUMBER || t == U_LETTER_NUMBER || t == U_OTHER_NUMBER;
}

// The crate unicode_categories that tokenizers' Punctuation uses has Unicode 8.0's table, in
// which U+166D and U+111C9 were still punctuation.
bool is_punctuation(char32_t c) {
  const bool ascii_punct = (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
                           (c >= 0x7B && c <= 0x7E);
  if (ascii_punct || c == 0x166D || c == 0x111C9) return true;
  return u_ispunct(UChar32(c)) && unicode8().contains(UChar32(c));
}

static bool is_mark_now(char32_t c) {
  const int8_t t = u_charType(UChar32(c));
  return t == U_NON_SPACING_MARK || t == U_ENCLOSING_MARK || t == U_COMBINING_SPACING_MARK;
}

// Unicode 9.0's marks (tokenizers' StripAccents table): U+1CF2 and U+1CF3 were still marks,
// U+111C9 was punctuation.
bool is_mark(char32_t c) {
  if (c == 0x1CF2 || c == 0x1CF3) return true;
  if (c == 0x111C9) return false;
  return is_mark_now(c) && unicode9().contains(UChar32(c));
}

bool is_word(char32_t c) {
  const int8_t t = u_charType(UChar32(c));
  return u_hasBinaryProperty(UChar32(c), UCHAR_ALPHABETIC) || is_mark_now(c) || t == U_DECIMAL_DIGIT_NUMBER ||
         t == U_CONNECTOR_PUNCTUATION || u_hasBinaryProperty(UChar32(c), UCHAR_JOIN_CONTROL);
}

static std::size_t start_of_character_before(const std::string& s, std::size_t end) {
  std::size_t at = end - 1;
  while (at > 0 && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80) --at;
  return at;
}

char32_t character_before(const std::string& s, std::size_t end) {
  std::size_t at = start_of_character_before(s, end);
  return utf8::next(s, at);
}

std::size_t whitespace_run_start(const std::string& s, std::size_t end) {
  while (end > 0) {
    const std::size_t at = start_of_character_before(s, end);
    std::size_t i = at;
    if (!is_whitespace(utf8::next(s, i))) break;
    end = at;
  }
  return end;
}

std::size_t whitespace_run_end(const std::string& s, std::size_t start) {
  while (start < s.size()) {
    std::size_t i = start;
    if (!is_whitespace(utf8::next(s, i))) break;
    start = i;
  }
  return start;
}

void append_lowercase(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += char(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return;
  }
  UChar src[2], dst[8];
  int32_t src_len = 0;
  U16_APPEND_UNSAFE(src, src_len, UChar32(c));
  UErrorCode status = U_ZERO_ERROR;
  // One code point alone: ICU's context rules (final sigma) see no neighbours, as Rust's don't.
  const int32_t n = u_strToLower(dst, 8, src, src_len, "", &status);
  SINKLAB_CHECK(U_SUCCESS(status), "ICU lowercase failed: {}", u_errorName(status));
  for (int32_t i = 0; i < n;) {
    UChar32 cp;
    U16_NEXT_UNSAFE(dst, i, cp);
    utf8::append(out, char32_t(cp));
  }
}

}  // namespace sinklab::unicode
