#include "framework/tokenizer/pre_tokenizer.h"

#include <nlohmann/json.hpp>

#include "framework/tokenizer/byte_level.h"
#include "framework/tokenizer/pattern.h"
#include "framework/tokenizer/unicode.h"
#include "framework/util/error.h"
#include "framework/util/utf8.h"

namespace sinklab {

using json = nlohmann::json;

struct PreTokenizer::Step {
  virtual ~Step() = default;
  // Appends the words `in` splits into to `out`.
  virtual void split(Piece& in, std::vector<Piece>& out) const = 0;
};

namespace {

// GPT-2's split pattern, which ByteLevel uses when use_regex is set.
const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

void emit(const Piece& in, const std::vector<std::pair<std::size_t, std::size_t>>& ranges, std::vector<Piece>& out) {
  for (const auto& [start, end] : ranges)
    out.push_back(Piece{in.text.substr(start, end - start), in.at_origin && start == 0});
}

struct Split : PreTokenizer::Step {
  Pattern pattern;
  SplitBehavior behavior;
  bool invert;
  Split(Pattern p, SplitBehavior b, bool inv) : pattern(std::move(p)), behavior(b), invert(inv) {}
  void split(Piece& in, std::vector<Piece>& out) const override {
    emit(in, split_spans(pattern.find_matches(in.text), behavior, invert), out);
  }
};

struct ByteLevel : PreTokenizer::Step {
  bool add_prefix_space;
  std::unique_ptr<Pattern> regex;  // null without use_regex
  void split(Piece& in, std::vector<Piece>& out) const override {
    if (add_prefix_space && in.text[0] != ' ') in.text.insert(0, 1, ' ');
    auto map = [&](std::size_t start, std::size_t end) {
      Piece p{std::string(), in.at_origin && start == 0};
      p.text.reserve((end - start) * 2);
      byte_level::append_encoded(p.text, in.text, start, end);
      out.push_back(std::move(p));
    };
    if (!regex) return map(0, in.text.size());
    for (const auto& [start, end] : split_spans(regex->find_matches(in.text), SplitBehavior::Isolated)) map(start, end);
  }
};

struct Metaspace : PreTokenizer::Step {
  std::string replacement;
  std::unique_ptr<Pattern> at_replacement;  // where split_words cuts, built once
  std::string scheme;  // always / first / never
  bool split_words;
  void split(Piece& in, std::vector<Piece>& out) const override {
    std::string s;
    s.reserve(in.text.size() + replacement.size());
    for (char c : in.text) {
      if (c == ' ') s += replacement;
      else s += c;
    }
    const bool starts = s.compare(0, replacement.size(), replacement) == 0;
    if (!starts && (scheme == "always" || (scheme == "first" && in.at_origin))) s.insert(0, replacement);
    Piece p{std::move(s), in.at_origin};
    if (!split_words) return out.push_back(std::move(p));
    emit(p, split_spans(at_replacement->find_matches(p.text), SplitBehavior::MergedWithNext), out);
  }
};

// Runs of word characters and runs of other non-space characters; whitespace goes (Rust
// regex \w+|[^\w\s]+, which tokenizers' Whitespace keeps).
struct Whitespace : PreTokenizer::Step {
  void split(Piece& in, std::vector<Piece>& out) const override {
    const std::string& s = in.text;
    std::size_t start = 0;
    int run = 0;  // 0 none, 1 word, 2 other
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    for (std::size_t i = 0; i < s.size();) {
      const std::size_t at = i;
      const char32_t c = utf8::next(s, i);
      const int kind = unicode::is_word(c) ? 1 : unicode::is_whitespace(c) ? 0 : 2;
      if (kind != run) {
        if (run != 0) ranges.emplace_back(start, at);
        start = at;
        run = kind;
      }
    }
    if (run != 0) ranges.emplace_back(start, s.size());
    emit(in, ranges, out);
  }
};

std::unique_ptr<PreTokenizer::Step> characters(bool (*is)(char32_t), SplitBehavior behavior) {
  return std::make_unique<Split>(Pattern::characters(is), behavior, false);
}

void collect(const json& j, std::vector<std::unique_ptr<PreTokenizer::Step>>& steps) {
  const std::string type = j.value("type", "");
  if (type == "Sequence") {
    for (const auto& p : j.at("pretokenizers")) collect(p, steps);
  } else if (type == "Split") {
    const json& p = j.at("pattern");
    Pattern pattern = p.contains("Regex") ? Pattern::regex(p.at("Regex").get<std::string>())
                                          : Pattern::literal(p.at("String").get<std::string>());
    steps.push_back(std::make_unique<Split>(std::move(pattern), split_behavior(j.at("behavior").get<std::string>()),
                                            j.value("invert", false)));
  } else if (type == "ByteLevel") {
    auto b = std::make_unique<ByteLevel>();
    b->add_prefix_space = j.value("add_prefix_space", true);
    if (j.value("use_regex", true)) b->regex = std::make_unique<Pattern>(Pattern::regex(kGpt2Pattern));
    steps.push_back(std::move(b));
  } else if (type == "Metaspace") {
    auto m = std::make_unique<Metaspace>();
    m->replacement = j.at("replacement").get<std::string>();
    SINKLAB_INPUT_CHECK(!m->replacement.empty() &&
                            utf8::length_of(static_cast<unsigned char>(m->replacement[0])) == m->replacement.size(),
                        "Metaspace replacement '{}' is not one character", m->replacement);
    m->at_replacement = std::make_unique<Pattern>(Pattern::literal(m->replacement));
    m->scheme = j.value("prepend_scheme", "always");
    // Older files say add_prefix_space instead; false means never.
    if (j.contains("add_prefix_space") && j["add_prefix_space"].is_boolean() && !j["add_prefix_space"].get<bool>())
      m->scheme = "never";
    SINKLAB_INPUT_CHECK(m->scheme == "always" || m->scheme == "first" || m->scheme == "never",
                        "Metaspace prepend_scheme '{}' is not always, first or never", m->scheme);
    m->split_words = j.value("split", true);
    steps.push_back(std::move(m));
  } else if (type == "Digits") {
    steps.push_back(characters(unicode::is_numeric, j.value("individual_digits", false) ? SplitBehavior::Isolated
                                                                                        : SplitBehavior::Contiguous));
  } else if (type == "Punctuation") {
    steps.push_back(characters(unicode::is_punctuation, split_behavior(j.value("behavior", "Isolated"))));
  } else if (type == "Whitespace") {
    steps.push_back(std::make_unique<Whitespace>());
  } else if (type == "WhitespaceSplit") {
    steps.push_back(characters(unicode::is_whitespace, SplitBehavior::Removed));
  } else if (type == "BertPreTokenizer") {
    steps.push_back(characters(unicode::is_whitespace, SplitBehavior::Removed));
    steps.push_back(characters(unicode::is_punctuation, SplitBehavior::Isolated));
  } else if (type == "CharDelimiterSplit") {
    const std::string d = j.at("delimiter").get<std::string>();
    std::size_t i = 0;
    const char32_t delimiter = d.empty() ? 0 : utf8::next(d, i);
    SINKLAB_INPUT_CHECK(!d.empty() && i == d.size(), "CharDelimiterSplit delimiter '{}' is not one character", d);
    steps.push_back(std::make_unique<Split>(Pattern::characters([delimiter](char32_t c) { return c == delimiter; }),
                                            SplitBehavior::Removed, false));
  } else {
    throw InputError(fmt::format("pre-tokenizer '{}' is not supported (Split, ByteLevel, Metaspace, Digits, "
                                 "Punctuation, Whitespace, WhitespaceSplit, BertPreTokenizer, CharDelimiterSplit, "
                                 "Sequence)",
                                 type));
  }
}

}  // namespace

PreTokenizer::PreTokenizer(const json& j) {
  if (!j.is_null()) collect(j, steps_);
}
PreTokenizer::~PreTokenizer() = default;
PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;

void PreTokenizer::apply(std::vector<Piece>& pieces) const {
  std::vector<Piece> next;
  for (const auto& step : steps_) {
    next.clear();
    next.reserve(pieces.size() * 2);
    for (Piece& p : pieces) step->split(p, next);
    // A step may leave empty words (ByteLevel of nothing); tokenizers drops them after each step.
    pieces.clear();
    for (Piece& p : next)
      if (!p.text.empty()) pieces.push_back(std::move(p));
  }
}

}  // namespace sinklab
