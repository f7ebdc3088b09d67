#pragma once
// The tokenizer conformance corpus, built the same way on every Debian machine:
//   prose  - stretches of 1-3 lines (newlines kept) of the license texts and copyright files
//            Debian ships (/usr/share/common-licenses, /usr/share/doc/*/copyright);
//   code   - stretches of C headers (/usr/include) and Python modules (/usr/lib/python3*);
//   whole documents - a few files as one text each (long-word BPE);
//   generated Unicode edge cases (fixed seed): words of every script ICU knows, combining
//            marks in and out of canonical order, Hangul jamo, emoji with ZWJ / skin tones /
//            flags / keycaps, every whitespace character and runs of them, digits of every
//            script and runs of ASCII digits, controls, special-casing letters, and the
//            added tokens of the tokenizers under test inside and around words.
#include <string>
#include <vector>

namespace sinklab::test {

struct TokenizerCorpus {
  std::vector<std::string> texts;
  std::size_t prose = 0, code = 0, documents = 0, generated = 0;
};

// At least `min_texts` texts; `added_tokens` are strings to embed (special tokens).
TokenizerCorpus tokenizer_corpus(std::size_t min_texts, const std::vector<std::string>& added_tokens);

}  // namespace sinklab::test
