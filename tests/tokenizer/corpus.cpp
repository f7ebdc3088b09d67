#include "tests/tokenizer/corpus.h"

#include <unicode/uchar.h>
#include <unicode/uscript.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "framework/util/utf8.h"

namespace fs = std::filesystem;

namespace sinklab::test {
namespace {

// splitmix64: the same numbers on every platform (std distributions are not).
struct Rng {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return std::size_t(next() % n); }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }
};

std::string cp(char32_t c) {
  std::string s;
  utf8::append(s, c);
  return s;
}

std::vector<std::string> lines_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line))
    if (utf8::invalid_at(line) < 0) out.push_back(line);
  return out;
}

// Files under `dir` whose names pass `keep`, sorted (the same order everywhere).
std::vector<fs::path> files_under(const fs::path& dir, bool (*keep)(const fs::path&), std::size_t limit) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (it->is_regular_file(ec) && keep(it->path())) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  if (out.size() > limit) out.resize(limit);
  return out;
}

// Stretches of 1-3 consecutive lines from `files`, until `want` texts.
void add_stretches(const std::vector<fs::path>& files, std::size_t want, Rng& rng, std::vector<std::string>& out,
                   std::size_t& count) {
  for (const auto& f : files) {
    const auto lines = lines_of(f);
    for (std::size_t i = 0; i < lines.size() && count < want;) {
      const std::size_t n = 1 + rng.below(3);
      std::string text;
      for (std::size_t k = 0; k < n && i < lines.size(); ++k, ++i) text += (k ? "\n" : "") + lines[i];
      if (rng.below(8) == 0) text += "\n";
      out.push_back(text);
      ++count;
    }
    if (count >= want) return;
  }
}

// Assigned characters of ICU's Unicode by script, general category and so on.
struct Repertoire {
  std::map<int, std::vector<char32_t>> by_script;
  std::vector<char32_t> marks, digits, other_numbers, whitespace, controls, symbols, punctuation, emoji;
  Repertoire() {
    UVersionInfo limit{14, 0, 0, 0};  // no newer than PCRE2's and Oniguruma's tables (Unicode 14)
    for (char32_t c = 0; c < 0x110000; ++c) {
      const int8_t t = u_charType(UChar32(c));
      if (t == U_UNASSIGNED || t == U_SURROGATE || t == U_PRIVATE_USE_CHAR) continue;
      UVersionInfo age;
      u_charAge(UChar32(c), age);
      if (std::lexicographical_compare(limit, limit + 4, age, age + 4)) continue;
      UErrorCode err = U_ZERO_ERROR;
      const int script = uscript_getScript(UChar32(c), &err);
      if (u_hasBinaryProperty(UChar32(c), UCHAR_WHITE_SPACE)) whitespace.push_back(c);
      if (t == U_CONTROL_CHAR) controls.push_back(c);
      else if (t == U_NON_SPACING_MARK || t == U_ENCLOSING_MARK || t == U_COMBINING_SPACING_MARK) marks.push_back(c);
      else if (t == U_DECIMAL_DIGIT_NUMBER) digits.push_back(c);
      else if (t == U_LETTER_NUMBER || t == U_OTHER_NUMBER) other_numbers.push_back(c);
      else if (u_ispunct(UChar32(c))) punctuation.push_back(c);
      else if (t >= U_MATH_SYMBOL && t <= U_OTHER_SYMBOL) symbols.push_back(c);
      if (u_hasBinaryProperty(UChar32(c), UCHAR_EMOJI_PRESENTATION)) emoji.push_back(c);
      if (u_isalpha(UChar32(c)) && U_SUCCESS(err) && script > USCRIPT_INHERITED) by_script[script].push_back(c);
    }
  }
};

void add_generated(std::size_t want, const std::vector<std::string>& added, Rng& rng, std::vector<std::string>& out,
                   std::size_t& count) {
  static const Repertoire r;
  auto push = [&](std::string s) {
    out.push_back(std::move(s));
    ++count;
  };
  const std::vector<std::string> spaces = {" ", "  ", "\t", "\n", "\r\n", "\n\n", " \n ", "   \t", "\u00a0", "\u3000"};
  // Words of every script, with punctuation, digits and spaces between.
  for (const auto& [script, chars] : r.by_script) {
    for (int line = 0; line < 4; ++line) {
      std::string s;
      const std::size_t words = 1 + rng.below(6);
      for (std::size_t w = 0; w < words; ++w) {
        const std::size_t len = 1 + rng.below(8);
        for (std::size_t k = 0; k < len; ++k) s += cp(rng.pick(chars));
        if (rng.below(4) == 0) s += cp(rng.pick(r.marks));
        if (rng.below(5) == 0) s += cp(rng.pick(r.punctuation));
        if (rng.below(6) == 0) s += cp(rng.pick(r.digits));
        s += w + 1 < words ? rng.pick(spaces) : "";
      }
      push(s);
    }
  }
  const std::string latin = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  auto word = [&](std::size_t len) {
    std::string s;
    for (std::size_t k = 0; k < len; ++k) s += latin[rng.below(latin.size())];
    return s;
  };
  while (count < want) {
    std::string s;
    switch (rng.below(10)) {
      case 0:  // combining marks stacked on letters, in random (often non-canonical) order
        for (int k = 0, n = 1 + int(rng.below(5)); k < n; ++k) {
          s += word(1 + rng.below(3));
          for (int m = 0, nm = 1 + int(rng.below(4)); m < nm; ++m) s += cp(rng.pick(r.marks));
          s += " ";
        }
        s += "e\u0301 \u00e9 A\u030a \u212b \u1e9b\u0323 \ufb01";
        break;
      case 1:  // Hangul: precomposed syllables and conjoining jamo (NFC composes them)
        for (int k = 0, n = 1 + int(rng.below(6)); k < n; ++k) {
          s += cp(0x1100 + char32_t(rng.below(19))) + cp(0x1161 + char32_t(rng.below(21)));
          if (rng.below(2)) s += cp(0x11A8 + char32_t(rng.below(27)));
          s += rng.below(3) ? "" : cp(0xAC00 + char32_t(rng.below(11172))) + " ";
        }
        break;
      case 2: {  // emoji: presentation, ZWJ sequences, skin tones, flags, keycaps
        for (int k = 0, n = 1 + int(rng.below(6)); k < n; ++k) {
          const std::size_t kind = rng.below(5);
          if (kind == 0) s += cp(rng.pick(r.emoji));
          else if (kind == 1) s += cp(rng.pick(r.emoji)) + "\u200d" + cp(rng.pick(r.emoji)) + "\u200d" + cp(rng.pick(r.emoji));
          else if (kind == 2) s += "\U0001F44B" + cp(0x1F3FB + char32_t(rng.below(5)));
          else if (kind == 3) s += cp(0x1F1E6 + char32_t(rng.below(26))) + cp(0x1F1E6 + char32_t(rng.below(26)));
          else s += std::string(1, char('0' + rng.below(10))) + "\ufe0f\u20e3";
          s += rng.below(2) ? " " : word(rng.below(4));
        }
        break;
      }
      case 3:  // whitespace of every kind, alone and in runs, leading and trailing
        for (int k = 0, n = 1 + int(rng.below(8)); k < n; ++k) {
          if (rng.below(2)) s += word(1 + rng.below(6));
          for (int w = 0, nw = 1 + int(rng.below(4)); w < nw; ++w) s += cp(rng.pick(r.whitespace));
          if (rng.below(6) == 0) s += rng.below(2) ? "\u200b" : "\ufeff";
        }
        break;
      case 4:  // digits: ASCII runs of every length, other scripts' digits, other numbers
        for (int k = 0, n = 1 + int(rng.below(5)); k < n; ++k) {
          const std::size_t kind = rng.below(4);
          if (kind == 0) for (std::size_t d = 0, nd = 1 + rng.below(40); d < nd; ++d) s += char('0' + rng.below(10));
          else if (kind == 1) for (std::size_t d = 0, nd = 1 + rng.below(8); d < nd; ++d) s += cp(rng.pick(r.digits));
          else if (kind == 2) s += cp(rng.pick(r.other_numbers)) + cp(rng.pick(r.other_numbers));
          else s += std::to_string(rng.below(100000)) + "," + std::to_string(rng.below(1000)) + "." + std::to_string(rng.below(100));
          s += rng.pick(spaces) + (rng.below(2) ? word(3) : "");
        }
        break;
      case 5:  // controls, symbols and punctuation next to letters
        for (int k = 0, n = 1 + int(rng.below(8)); k < n; ++k) {
          const std::size_t kind = rng.below(3);
          s += cp(kind == 0 ? rng.pick(r.controls) : kind == 1 ? rng.pick(r.symbols) : rng.pick(r.punctuation));
          if (rng.below(2)) s += word(1 + rng.below(4));
        }
        break;
      case 6:  // letters with special case mappings, contractions in every case
        s = "\u0130stanbul \u0131\u0049 Stra\u00dfe \u01c5 \u1e9e \u03a3\u039f\u03a6\u039f\u03a3 \u0149 \ufb03 "
            "I'M YOU'RE it's WE'VE They'LL she'D \u017f's K\u212a ";
        s += word(rng.below(6));
        break;
      default: {  // the tokenizers' added tokens inside words, between spaces, and repeated
        if (added.empty()) {
          s = word(5);
          break;
        }
        for (int k = 0, n = 1 + int(rng.below(4)); k < n; ++k) {
          const std::size_t place = rng.below(4);
          const std::string& a = rng.pick(added);
          if (place == 0) s += word(3) + a + word(2);
          else if (place == 1) s += " " + a + " ";
          else if (place == 2) s += "  " + a + "\n" + word(4);
          else s += a + a;
        }
        break;
      }
    }
    push(s);
  }
}

bool is_license(const fs::path& p) { return true; }
bool is_copyright(const fs::path& p) { return p.filename() == "copyright"; }
bool is_header(const fs::path& p) { return p.extension() == ".h"; }
bool is_python(const fs::path& p) { return p.extension() == ".py"; }

}  // namespace

TokenizerCorpus tokenizer_corpus(std::size_t min_texts, const std::vector<std::string>& added_tokens) {
  TokenizerCorpus c;
  Rng rng{20261203};
  std::vector<fs::path> prose = files_under("/usr/share/common-licenses", is_license, 100);
  for (const auto& f : files_under("/usr/share/doc", is_copyright, 200)) prose.push_back(f);
  add_stretches(prose, min_texts * 4 / 10, rng, c.texts, c.prose);
  std::vector<fs::path> code = files_under("/usr/include", is_header, 60);
  for (const auto& dir : {"/usr/lib/python3.11", "/usr/lib/python3"})
    for (const auto& f : files_under(dir, is_python, 40)) code.push_back(f);
  add_stretches(code, min_texts * 3 / 10, rng, c.texts, c.code);
  for (const char* doc : {"/usr/share/common-licenses/GPL-3", "/usr/share/common-licenses/Apache-2.0"}) {
    std::ifstream in(doc, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!ss.str().empty()) c.texts.push_back(ss.str()), ++c.documents;
  }
  add_generated(min_texts - std::min(min_texts, c.texts.size()), added_tokens, rng, c.texts, c.generated);
  return c;
}

}  // namespace sinklab::test
