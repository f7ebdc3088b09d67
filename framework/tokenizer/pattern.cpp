#define PCRE2_CODE_UNIT_WIDTH 8
#include "framework/tokenizer/pattern.h"

#include <pcre2.h>

#include <algorithm>

#include "framework/util/error.h"
#include "framework/util/utf8.h"

namespace sinklab {
namespace {

// Oniguruma's Unicode classes, where PCRE2's (with UCP) differ: \s adds U+0085 to Z and the
// ASCII controls; \w is letters, marks, numbers and connector punctuation; \h is a hex digit.
const char* kSpace = R"(\t-\r\x{85}\p{Z})";
const char* kWord = R"(\p{L}\p{M}\p{N}\p{Pc})";

std::string onig_to_pcre2(const std::string& p) {
  std::string out;
  bool in_class = false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char e = p[++i];
      const char* set = e == 's' || e == 'S' ? kSpace : e == 'w' || e == 'W' ? kWord : e == 'h' ? "0-9a-fA-F" : nullptr;
      const bool negated = e == 'S' || e == 'W';
      if (set == nullptr || (negated && in_class)) {  // a negated class inside a class keeps PCRE2's meaning
        out += c;
        out += e;
      } else if (in_class) {
        out += set;
      } else {
        out += negated ? "[^" : "[";
        out += set;
        out += ']';
      }
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];  // a leading ] is literal
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

}  // namespace

Regex::Regex(const std::string& pattern) {
  const std::string translated = onig_to_pcre2(pattern);
  int error = 0;
  PCRE2_SIZE offset = 0;
  // Oniguruma's Ruby syntax makes ^ and $ line anchors: PCRE2's MULTILINE.
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.c_str()), translated.size(),
                        PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE, &error, &offset, nullptr);
  if (code_ == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    throw InputError(fmt::format("tokenizer pattern '{}' does not compile at offset {}: {}", pattern, offset,
                                 reinterpret_cast<const char*>(message)));
  }
  pcre2_jit_compile(static_cast<pcre2_code*>(code_), PCRE2_JIT_COMPLETE);  // a speed-up when available
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

std::vector<Span> Regex::find_matches(const std::string& text) const {
  if (text.empty()) return {{0, 0, false}};
  auto* code = static_cast<pcre2_code*>(code_);
  // One match-data block per thread and pattern would do; per call it is one small allocation.
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
  std::vector<Span> spans;
  std::size_t prev = 0, search = 0;
  bool have_last = false;
  std::size_t last_match_end = 0;
  while (search <= text.size()) {
    // The text was validated once by the tokenizer; without NO_UTF_CHECK PCRE2 would re-check
    // the whole subject on every call (quadratic on long texts).
    const int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), search,
                               PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc < 0) break;
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const std::size_t start = ov[0], end = ov[1];
    if (start == end && have_last && start == last_match_end) {  // Oniguruma skips this one
      search = start < text.size() ? start + utf8::length_of(static_cast<unsigned char>(text[start])) : text.size() + 1;
      continue;
    }
    if (start != prev) spans.push_back({prev, start, false});
    spans.push_back({start, end, true});
    prev = search = end;
    have_last = true;
    last_match_end = end;
  }
  pcre2_match_data_free(md);
  if (prev != text.size()) spans.push_back({prev, text.size(), false});
  return spans;
}

Pattern Pattern::regex(const std::string& pattern) {
  Pattern p;
  p.regex_ = std::make_shared<const Regex>(pattern);
  return p;
}

Pattern Pattern::literal(const std::string& text) {
  SINKLAB_INPUT_CHECK(!text.empty(), "a tokenizer pattern is the empty string; give the text to split or replace at");
  Pattern p;
  p.literal_ = text;
  return p;
}

Pattern Pattern::characters(std::function<bool(char32_t)> is_delimiter) {
  Pattern p;
  p.is_delimiter_ = std::move(is_delimiter);
  return p;
}

std::vector<Span> Pattern::find_matches(const std::string& text) const {
  if (regex_) return regex_->find_matches(text);
  if (text.empty()) return {{0, 0, false}};
  std::vector<Span> spans;
  std::size_t prev = 0;
  if (!literal_.empty()) {
    for (std::size_t hit; (hit = text.find(literal_, prev)) != std::string::npos;) {
      if (hit != prev) spans.push_back({prev, hit, false});
      spans.push_back({hit, hit + literal_.size(), true});
      prev = hit + literal_.size();
    }
  } else {
    // Every delimiter character is a match of its own.
    for (std::size_t i = 0; i < text.size();) {
      const std::size_t at = i;
      if (is_delimiter_(utf8::next(text, i))) {
        if (at != prev) spans.push_back({prev, at, false});
        spans.push_back({at, i, true});
        prev = i;
      }
    }
  }
  if (prev != text.size()) spans.push_back({prev, text.size(), false});
  return spans;
}

SplitBehavior split_behavior(const std::string& name) {
  if (name == "Removed") return SplitBehavior::Removed;
  if (name == "Isolated") return SplitBehavior::Isolated;
  if (name == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (name == "Contiguous") return SplitBehavior::Contiguous;
  throw InputError(fmt::format("split behavior '{}' is not one of Removed, Isolated, MergedWithPrevious, "
                               "MergedWithNext, Contiguous",
                               name));
}

std::vector<std::pair<std::size_t, std::size_t>> split_spans(std::vector<Span> spans, SplitBehavior behavior,
                                                             bool invert) {
  if (invert)
    for (auto& s : spans) s.is_match = !s.is_match;
  std::vector<std::pair<std::size_t, std::size_t>> pieces;
  pieces.reserve(spans.size());
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::Isolated:
      for (const auto& s : spans) pieces.emplace_back(s.start, s.end);
      break;
    case SplitBehavior::Removed:
      for (const auto& s : spans)
        if (!s.is_match) pieces.emplace_back(s.start, s.end);
      break;
    case SplitBehavior::Contiguous:  // runs of matches, and runs of the rest, each one piece
      for (const auto& s : spans) {
        if (s.is_match == previous_match && !pieces.empty()) pieces.back().second = s.end;
        else pieces.emplace_back(s.start, s.end);
        previous_match = s.is_match;
      }
      break;
    case SplitBehavior::MergedWithPrevious:  // a match joins the piece before it
      for (const auto& s : spans) {
        if (s.is_match && !previous_match && !pieces.empty()) pieces.back().second = s.end;
        else pieces.emplace_back(s.start, s.end);
        previous_match = s.is_match;
      }
      break;
    case SplitBehavior::MergedWithNext:  // a match joins the piece after it
      for (auto s = spans.rbegin(); s != spans.rend(); ++s) {
        if (s->is_match && !previous_match && !pieces.empty()) pieces.back().first = s->start;
        else pieces.emplace_back(s->start, s->end);
        previous_match = s->is_match;
      }
      std::reverse(pieces.begin(), pieces.end());
      break;
  }
  std::vector<std::pair<std::size_t, std::size_t>> non_empty;
  non_empty.reserve(pieces.size());
  for (const auto& p : pieces)
    if (p.second > p.first) non_empty.push_back(p);
  return non_empty;
}

}  // namespace sinklab
