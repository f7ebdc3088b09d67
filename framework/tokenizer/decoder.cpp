#include "framework/tokenizer/decoder.h"

#include <nlohmann/json.hpp>

#include "framework/tokenizer/byte_level.h"
#include "framework/tokenizer/pattern.h"
#include "framework/util/error.h"
#include "framework/util/utf8.h"

namespace sinklab {

using json = nlohmann::json;

struct Decoder::Step {
  virtual ~Step() = default;
  virtual void apply(std::vector<std::string>& tokens) const = 0;
};

namespace {

using Tokens = std::vector<std::string>;

std::string join(const Tokens& tokens) {
  std::string all;
  for (const auto& t : tokens) all += t;
  return all;
}

// Tokens of byte-level characters become their bytes (a token with any other character keeps
// its own bytes), then the whole is read as UTF-8, invalid parts becoming U+FFFD.
struct ByteLevel : Decoder::Step {
  void apply(Tokens& tokens) const override {
    std::string bytes;
    for (const auto& t : tokens)
      if (!byte_level::decode_token(t, bytes)) bytes += t;
    tokens = {utf8::lossy(bytes)};
  }
};

// The replacement character becomes a space; in the first token, with a prepend scheme, it
// is dropped instead (every occurrence, as tokenizers does).
struct Metaspace : Decoder::Step {
  std::string replacement;
  bool drop_in_first;
  void apply(Tokens& tokens) const override {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      const std::string& t = tokens[i];
      for (std::size_t k = 0; k < t.size();) {
        if (t.compare(k, replacement.size(), replacement) == 0) {
          if (!(i == 0 && drop_in_first)) out += ' ';
          k += replacement.size();
        } else {
          out += t[k++];
        }
      }
      tokens[i] = std::move(out);
    }
  }
};

struct Replace : Decoder::Step {
  std::unique_ptr<Pattern> pattern;
  std::string content;
  void apply(Tokens& tokens) const override {
    for (auto& t : tokens) {
      std::string out;
      for (const Span& s : pattern->find_matches(t)) {
        if (s.is_match) out += content;
        else out.append(t, s.start, s.end - s.start);
      }
      t = std::move(out);
    }
  }
};

// Runs of <0xAB> tokens become bytes; a run that is not valid UTF-8 becomes one U+FFFD per byte.
struct ByteFallback : Decoder::Step {
  static int byte_of(const std::string& t) {
    if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
    auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
    const int hi = hex(t[3]), lo = hex(t[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
  }
  void apply(Tokens& tokens) const override {
    Tokens out;
    std::string bytes;
    std::size_t count = 0;
    auto flush = [&] {
      if (count == 0) return;
      if (utf8::invalid_at(bytes) < 0) out.push_back(bytes);
      else
        for (std::size_t k = 0; k < count; ++k) out.push_back("\xEF\xBF\xBD");
      bytes.clear();
      count = 0;
    };
    for (auto& t : tokens) {
      const int b = byte_of(t);
      if (b >= 0) {
        bytes += char(b);
        ++count;
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    tokens = std::move(out);
  }
};

struct Fuse : Decoder::Step {
  void apply(Tokens& tokens) const override { tokens = {join(tokens)}; }
};

// Removes up to `start` leading and `stop` trailing copies of one character from each token.
struct Strip : Decoder::Step {
  std::string content;
  int start, stop;
  void apply(Tokens& tokens) const override {
    for (auto& t : tokens) {
      std::size_t begin = 0, end = t.size();
      for (int k = 0; k < start && t.compare(begin, content.size(), content) == 0 && begin < end; ++k)
        begin += content.size();
      for (int k = 0; k < stop && end >= begin + content.size() &&
                      t.compare(end - content.size(), content.size(), content) == 0;
           ++k)
        end -= content.size();
      t = t.substr(begin, end - begin);
    }
  }
};

// The end-of-word suffix becomes a space, except in the last token.
struct BpeSuffix : Decoder::Step {
  std::string suffix;
  void apply(Tokens& tokens) const override {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      const std::string with = i + 1 == tokens.size() ? "" : " ";
      std::string out;
      const std::string& t = tokens[i];
      for (std::size_t k = 0; k < t.size();) {
        if (!suffix.empty() && t.compare(k, suffix.size(), suffix) == 0) out += with, k += suffix.size();
        else out += t[k++];
      }
      tokens[i] = std::move(out);
    }
  }
};

std::string one_character(const json& j, const char* key) {
  const std::string c = j.at(key).get<std::string>();
  SINKLAB_INPUT_CHECK(!c.empty() && utf8::length_of(static_cast<unsigned char>(c[0])) == c.size(),
                      "decoder {} '{}' is not one character", key, c);
  return c;
}

void collect(const json& j, std::vector<std::unique_ptr<Decoder::Step>>& steps) {
  const std::string type = j.value("type", "");
  if (type == "Sequence") {
    for (const auto& d : j.at("decoders")) collect(d, steps);
  } else if (type == "ByteLevel") {
    steps.push_back(std::make_unique<ByteLevel>());
  } else if (type == "Metaspace") {
    auto m = std::make_unique<Metaspace>();
    m->replacement = one_character(j, "replacement");
    std::string scheme = j.value("prepend_scheme", "always");
    if (j.contains("add_prefix_space") && j["add_prefix_space"].is_boolean() && !j["add_prefix_space"].get<bool>())
      scheme = "never";
    m->drop_in_first = scheme != "never";
    steps.push_back(std::move(m));
  } else if (type == "Replace") {
    auto r = std::make_unique<Replace>();
    const json& p = j.at("pattern");
    r->pattern = std::make_unique<Pattern>(p.contains("Regex") ? Pattern::regex(p.at("Regex").get<std::string>())
                                                               : Pattern::literal(p.at("String").get<std::string>()));
    r->content = j.at("content").get<std::string>();
    steps.push_back(std::move(r));
  } else if (type == "ByteFallback") {
    steps.push_back(std::make_unique<ByteFallback>());
  } else if (type == "Fuse") {
    steps.push_back(std::make_unique<Fuse>());
  } else if (type == "Strip") {
    auto s = std::make_unique<Strip>();
    s->content = one_character(j, "content");
    s->start = j.value("start", 0);
    s->stop = j.value("stop", 0);
    steps.push_back(std::move(s));
  } else if (type == "BPEDecoder") {
    auto b = std::make_unique<BpeSuffix>();
    b->suffix = j.value("suffix", "</w>");
    steps.push_back(std::move(b));
  } else {
    throw InputError(fmt::format("decoder '{}' is not supported (ByteLevel, Metaspace, Replace, ByteFallback, Fuse, "
                                 "Strip, BPEDecoder, Sequence)",
                                 type));
  }
}

}  // namespace

Decoder::Decoder(const json& j) : present_(!j.is_null()) {
  if (present_) collect(j, steps_);
}
Decoder::~Decoder() = default;
Decoder::Decoder(Decoder&&) noexcept = default;
Decoder& Decoder::operator=(Decoder&&) noexcept = default;

std::string Decoder::decode(std::vector<std::string> tokens) const {
  if (!present_) {
    std::string out;
    for (std::size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
    return out;
  }
  for (const auto& step : steps_) step->apply(tokens);
  return join(tokens);
}

}  // namespace sinklab
