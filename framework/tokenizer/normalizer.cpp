#include "framework/tokenizer/normalizer.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "framework/tokenizer/byte_level.h"
#include "framework/tokenizer/pattern.h"
#include "framework/tokenizer/unicode.h"
#include "framework/util/error.h"
#include "framework/util/utf8.h"

namespace sinklab {
namespace {

using json = nlohmann::json;

enum class Kind { NFC, NFD, NFKC, NFKD, Lowercase, Strip, StripAccents, Prepend, Replace, Nmt, ByteLevel };

// Keeps the characters `keep` accepts; reports whether the first one went.
template <class Keep>
bool filter(std::string& s, Keep keep) {
  std::string out;
  out.reserve(s.size());
  bool first_removed = false;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t at = i;
    if (keep(utf8::next(s, i))) out.append(s, at, i - at);
    else if (at == 0) first_removed = true;
  }
  s = std::move(out);
  return first_removed;
}

// Nmt's map (SentencePiece's nmt_nfkc without the NFKC): drops some controls, spaces others.
bool nmt_drops(char32_t c) {
  return (c >= 0x01 && c <= 0x08) || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F || c == 0x8F || c == 0x9F;
}
bool nmt_spaces(char32_t c) {
  return c == 0x09 || c == 0x0A || c == 0x0C || c == 0x0D || c == 0x1680 || (c >= 0x200B && c <= 0x200F) ||
         c == 0x2028 || c == 0x2029 || c == 0x2581 || c == 0xFEFF || c == 0xFFFD;
}

}  // namespace

struct Normalizer::Step {
  explicit Step(Kind k) : kind(k) {}
  Kind kind;
  bool left = false, right = false;  // Strip
  std::string text;                  // Prepend: the prefix; Replace: the replacement
  std::shared_ptr<Pattern> pattern;  // Replace
};

static void collect(const json& j, std::vector<Normalizer::Step>& steps);

Normalizer::Normalizer(const json& j) {
  if (!j.is_null()) collect(j, steps_);
}
Normalizer::~Normalizer() = default;
Normalizer::Normalizer(Normalizer&&) noexcept = default;
Normalizer& Normalizer::operator=(Normalizer&&) noexcept = default;

static void collect(const json& j, std::vector<Normalizer::Step>& steps) {
  const std::string type = j.value("type", "");
  using Step = Normalizer::Step;
  if (type == "Sequence") {
    for (const auto& n : j.at("normalizers")) collect(n, steps);
  } else if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
    steps.push_back(Step(type == "NFC" ? Kind::NFC : type == "NFD" ? Kind::NFD : type == "NFKC" ? Kind::NFKC : Kind::NFKD));
  } else if (type == "Lowercase") {
    steps.push_back(Step(Kind::Lowercase));
  } else if (type == "Strip") {
    Step s{Kind::Strip};
    s.left = j.value("strip_left", true);
    s.right = j.value("strip_right", true);
    steps.push_back(std::move(s));
  } else if (type == "StripAccents") {
    steps.push_back(Step(Kind::StripAccents));
  } else if (type == "Prepend") {
    Step s{Kind::Prepend};
    s.text = j.at("prepend").get<std::string>();
    steps.push_back(std::move(s));
  } else if (type == "Replace") {
    Step s{Kind::Replace};
    const json& p = j.at("pattern");
    s.pattern = std::make_shared<Pattern>(p.contains("Regex") ? Pattern::regex(p.at("Regex").get<std::string>())
                                                              : Pattern::literal(p.at("String").get<std::string>()));
    s.text = j.at("content").get<std::string>();
    steps.push_back(std::move(s));
  } else if (type == "Nmt") {
    steps.push_back(Step(Kind::Nmt));
  } else if (type == "ByteLevel") {
    steps.push_back(Step(Kind::ByteLevel));
  } else {
    throw InputError(fmt::format("normalizer '{}' is not supported (NFC, NFD, NFKC, NFKD, Lowercase, Strip, "
                                 "StripAccents, Prepend, Replace, Nmt, ByteLevel, Sequence)",
                                 type));
  }
}

void Normalizer::apply(std::string& s, bool& starts_at_origin) const {
  for (const Step& step : steps_) {
    if (s.empty()) return;  // every step maps the empty string to itself (Prepend included)
    switch (step.kind) {
      case Kind::NFC: s = unicode::normalize(s, unicode::Form::NFC); break;
      case Kind::NFD: s = unicode::normalize(s, unicode::Form::NFD); break;
      case Kind::NFKC: s = unicode::normalize(s, unicode::Form::NFKC); break;
      case Kind::NFKD: s = unicode::normalize(s, unicode::Form::NFKD); break;
      case Kind::Lowercase: {
        std::string out;
        out.reserve(s.size());
        for (std::size_t i = 0; i < s.size();) unicode::append_lowercase(out, utf8::next(s, i));
        s = std::move(out);
        break;
      }
      case Kind::Strip: {
        const std::size_t begin = step.left ? unicode::whitespace_run_end(s, 0) : 0;
        const std::size_t end = step.right ? std::max(begin, unicode::whitespace_run_start(s, s.size())) : s.size();
        if (begin > 0) starts_at_origin = false;
        s = s.substr(begin, end - begin);
        break;
      }
      case Kind::StripAccents:
        if (filter(s, [](char32_t c) { return !unicode::is_mark(c); })) starts_at_origin = false;
        break;
      case Kind::Prepend: s = step.text + s; break;
      case Kind::Replace: {
        std::string out;
        out.reserve(s.size());
        for (const Span& span : step.pattern->find_matches(s)) {
          if (!span.is_match) out.append(s, span.start, span.end - span.start);
          else {
            out += step.text;
            if (span.start == 0 && step.text.empty() && span.end > 0) starts_at_origin = false;
          }
        }
        s = std::move(out);
        break;
      }
      case Kind::Nmt: {
        if (filter(s, [](char32_t c) { return !nmt_drops(c); })) starts_at_origin = false;
        std::string out;
        out.reserve(s.size());
        for (std::size_t i = 0; i < s.size();) {
          const char32_t c = utf8::next(s, i);
          utf8::append(out, nmt_spaces(c) ? U' ' : c);
        }
        s = std::move(out);
        break;
      }
      case Kind::ByteLevel: s = byte_level::encode(s); break;
    }
  }
}

}  // namespace sinklab
