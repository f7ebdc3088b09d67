// Tokenizers against HuggingFace tokenizers: 330 strings each (prose, code, whitespace runs,
// unicode, emoji, control characters) for Llama 3, GPT-2 and tiny-phi3.
#include "tests/support/catch.h"
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "framework/tokenizer/tokenizer.h"
#include "framework/util/error.h"
#include "tests/support/shared_dir.h"
#include "tests/support/temp_dir.h"
#include "tests/support/skip.h"

using namespace sinklab;

namespace {

void check_golden(const Tokenizer& tok, const std::string& golden_path) {
  std::ifstream in(golden_path);
  std::string line;
  int lines = 0, bad_ids = 0, bad_plain = 0, bad_decode = 0;
  while (std::getline(in, line)) {
    auto g = nlohmann::json::parse(line);
    const std::string text = g["text"];
    ++lines;
    if (tok.encode(text, true) != g["ids"].get<std::vector<std::int64_t>>()) {
      if (++bad_ids <= 3) UNSCOPED_INFO("ids differ for " << nlohmann::json(text).dump());
    }
    bad_plain += tok.encode(text, false) != g["ids_no_special"].get<std::vector<std::int64_t>>();
    // The goldens decode the ids without the template's tokens, keeping special tokens that the
    // text itself contained (decode(ids_no_special, skip_special_tokens=False)).
    const std::string decoded = tok.decode(g["ids_no_special"].get<std::vector<std::int64_t>>(), false);
    if (decoded != g["decoded"].get<std::string>()) {
      if (++bad_decode <= 3)
        WARN("decode differs: got " << nlohmann::json(decoded).dump() << " want " << g["decoded"].dump());
    }
  }
  INFO(golden_path << ": " << lines << " strings");
  CHECK(lines == 330);
  CHECK(bad_ids == 0);
  CHECK(bad_plain == 0);
  CHECK(bad_decode == 0);
}

std::string gunzip(const std::string& gz, const test::TempDir& dir) {
  std::string out = dir / "tokenizer.json";
  REQUIRE(std::system(("gzip -dc '" + gz + "' > '" + out + "'").c_str()) == 0);
  return out;
}

}  // namespace

TEST_CASE("tokenizers match HuggingFace on every golden string", "[tokenizer][parity]") {
  auto shared = test::shared_dir();
  if (!shared) {
    SINKLAB_SKIP("../shared not found (set SINKLAB_SHARED)");
  }
  const std::string g = *shared + "/golden/tokenizers/";
  SECTION("tiny-phi3: SentencePiece-style BPE with byte fallback") {
    check_golden(Tokenizer::from_file(*shared + "/models/tiny-phi3/tokenizer.json"), g + "tinyphi3_golden.jsonl");
  }
  SECTION("GPT-2: byte-level BPE") {
    test::TempDir dir;
    check_golden(Tokenizer::from_file(gunzip(g + "gpt2_tokenizer.json.gz", dir)), g + "gpt2_golden.jsonl");
  }
  SECTION("Llama 3: regex split + byte-level BPE, 256 added tokens") {
    test::TempDir dir;
    check_golden(Tokenizer::from_file(gunzip(g + "llama3_tokenizer.json.gz", dir)), g + "llama3_golden.jsonl");
  }
}

TEST_CASE("malformed tokenizer.json and invalid UTF-8 are clear input errors", "[tokenizer][bad-input]") {
  test::TempDir dir;
  CHECK_THROWS_WITH(Tokenizer::from_file(dir.write("a.json", "{\"model\": ")), Catch::Contains("not valid JSON"));
  CHECK_THROWS_WITH(Tokenizer::from_file(dir.write("b.json", "{\"model\": {\"type\": \"WordPiece\"}}")),
                    Catch::Contains("WordPiece") && Catch::Contains("not supported"));
  CHECK_THROWS_WITH(Tokenizer::from_file(dir.write("c.json", "{\"model\": {\"type\": \"BPE\"}}")),
                    Catch::Contains("malformed tokenizer.json"));
  auto ok = Tokenizer::from_file(dir.write(
      "d.json", R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}})"));
  CHECK(ok.encode("abab") == std::vector<std::int64_t>{2, 2});
  CHECK(ok.decode({2, 1}) == "ab b");  // without a decoder tokenizers joins tokens with spaces
  // A vocabulary id tokenizers could not hold (u32) is refused at load, not used as an index.
  for (const char* id : {"-1", "4294967296", "1.5", "\"2\""}) {
    INFO(id);
    const std::string text = std::string(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": )") + id +
                             R"(}, "merges": []}})";
    CHECK_THROWS_WITH(Tokenizer::from_file(dir.write("neg.json", text)),
                      Catch::Contains("gives token 'b' the id") && Catch::Contains("0..4294967295"));
  }
  // Overlong, surrogate, past U+10FFFF, truncated, stray continuation: each an error, never a guess.
  for (const std::string bad : {"a\xff", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ab\xe2\x82",
                                "\x80", "a\xf0\x9f\x98"})
    CHECK_THROWS_WITH(ok.encode(bad), Catch::Contains("not valid UTF-8"));
  // A component sinklab lacks, or a merge naming a token the vocabulary lacks, is named at load.
  CHECK_THROWS_WITH(Tokenizer::from_file(dir.write("e.json", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
      "normalizer": {"type": "Precompiled", "precompiled_charsmap": ""}})")),
                    Catch::Contains("normalizer 'Precompiled' is not supported"));
  CHECK_THROWS_WITH(Tokenizer::from_file(dir.write("f.json", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}})")),
                    Catch::Contains("missing from the vocabulary ('b')"));
  CHECK_THROWS_WITH(Tokenizer::from_file(dir.write("g.json", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
      "truncation": {"max_length": 8}})")),
                    Catch::Contains("\"truncation\"") && Catch::Contains("set it to null"));
  CHECK_THROWS_WITH(ok.decode({7}), Catch::Contains("outside the vocabulary"));
}
