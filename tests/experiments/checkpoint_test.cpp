// The checkpoint experiment's shared sections: checkpoint resolution and its messages, variant
// order, tokenized prompts whose pieces and offsets describe the decoded text exactly, and the
// checks against a checkpoint's config.json before anything runs. (The model pool's one load
// per variant is checked where stages run: catch_tag_release_test, pruning_test.)
#include "tests/support/catch.h"
#include <filesystem>

#include "experiments/checkpoint/inputs.h"
#include "experiments/checkpoint/prompt_tokens.h"
#include "experiments/experiments.h"
#include "framework/util/error.h"
#include "framework/io/atomic_file.h"
#include "framework/tokenizer/tokenizer.h"
#include "framework/plot/panels.h"
#include "tests/support/shared_dir.h"
#include "tests/support/temp_dir.h"
#include "tests/support/skip.h"

using namespace sinklab;
using namespace sinklab::checkpoint;
using sinklab::plot::token_label;
using Catch::Contains;

TEST_CASE("a missing checkpoint is reported with the expected name and the fixes", "[experiments][checkpoint]") {
  test::TempDir dir;
  ModelSection m;
  m.path = dir / "models/Phi-3-medium-4k-instruct";
  auto r = resolve_model(m, "dense", {});
  CHECK(r.display_name == "Phi-3-medium-4k-instruct");
  CHECK_THAT(r.problem(), Contains("model.path") && Contains("'Phi-3-medium-4k-instruct'") && Contains("SINKLAB_MODELS"));
  std::filesystem::create_directories(m.path);
  write_file_atomic(m.path + "/config.json", "{}");
  CHECK_THAT(r.problem(), Contains("tokenizer.json"));
  VariantSpec other;
  other.path = dir / "elsewhere";
  other.dtype = "bfloat16";
  auto v = resolve_model(m, "pruned", other);
  CHECK(v.scalar_type() == at::kBFloat16);
  CHECK_THAT(v.problem(), Contains("variants.pruned.path"));
}

TEST_CASE("variants: dense first, then by name; dense alone by default", "[experiments][checkpoint]") {
  auto order = ordered_variants({{"wanda", {}}, {"dense", {}}, {"oats", {}}});
  REQUIRE(order.size() == 3);
  CHECK(order[0].first == "dense");
  CHECK(order[1].first == "oats");
  CHECK(order[2].first == "wanda");
  auto none = ordered_variants({});
  REQUIRE(none.size() == 1);
  CHECK(none[0].first == "dense");
}

TEST_CASE("prompt pieces concatenate to the decoded text and offsets index it", "[experiments][checkpoint]") {
  auto shared = test::shared_dir();
  if (!shared) {
    SINKLAB_SKIP("../shared not found (set SINKLAB_SHARED to the folder with golden/ and models/)");
  }
  auto tok = Tokenizer::from_file(*shared + "/models/tiny-phi3/tokenizer.json");
  // Byte-fallback characters (emoji), newlines, and the <s> the post-processor adds.
  for (std::string text : {std::string("It is a truth universally acknowledged."), std::string("caf\xc3\xa9 \xf0\x9f\x8d\xb5 tea\n\nnext"),
                           std::string("  leading spaces")}) {
    auto p = tokenize_prompt(tok, text, 0);
    CHECK(p.ids == tok.encode(text));
    REQUIRE(p.pieces.size() == p.ids.size());
    REQUIRE(p.offsets.size() == 2 * p.ids.size());
    std::string joined;
    for (std::size_t t = 0; t < p.pieces.size(); ++t) {
      CHECK(p.offsets[2 * t] == std::int64_t(joined.size()));
      joined += p.pieces[t];
      CHECK(p.offsets[2 * t + 1] == std::int64_t(joined.size()));
    }
    CHECK(joined == p.decoded);
    CHECK(p.pieces.front() == "<s>");
  }
  auto cut = tokenize_prompt(tok, "It is a truth universally acknowledged.", 3);
  CHECK(cut.ids.size() == 3);
  CHECK(token_label("\n\nabc") == "\\n\\nabc");
  CHECK(token_label("abcdefghijklmnop", 5) == "abcd\u2026");
}

// The definition tokenize_prompt implements in blocks: token t ends where decode(ids[0..t])
// stops agreeing with decode(ids) (backed off to a character boundary) - one decode per prefix.
std::vector<std::int64_t> prefix_offsets(const Tokenizer& tok, const std::vector<std::int64_t>& ids) {
  const std::string full = tok.decode(ids, false);
  std::vector<std::int64_t> offsets;
  std::size_t end = 0;
  for (std::size_t t = 0; t < ids.size(); ++t) {
    const std::string partial = tok.decode({ids.begin(), ids.begin() + std::ptrdiff_t(t + 1)}, false);
    std::size_t agree = 0;
    while (agree < partial.size() && agree < full.size() && partial[agree] == full[agree]) ++agree;
    while (agree > 0 && agree < full.size() && (static_cast<unsigned char>(full[agree]) & 0xC0) == 0x80) --agree;
    offsets.push_back(std::int64_t(end));
    end = std::max(end, agree);
    offsets.push_back(std::int64_t(end));
  }
  return offsets;
}

TEST_CASE("prompt offsets read in blocks equal decoding every prefix, for byte-level and byte-fallback tokenizers",
          "[experiments][checkpoint]") {
  auto shared = test::shared_dir();
  if (!shared) {
    SINKLAB_SKIP("../shared not found (set SINKLAB_SHARED to the folder with golden/ and models/)");
  }
  test::TempDir dir;
  std::vector<std::string> files = {*shared + "/models/tiny-phi3/tokenizer.json"};
  for (const char* name : {"gpt2", "llama3"}) {
    const std::string out = dir / (std::string(name) + ".json");
    REQUIRE(std::system(("gzip -dc '" + *shared + "/golden/tokenizers/" + name + "_tokenizer.json.gz' > '" + out + "'").c_str()) == 0);
    files.push_back(out);
  }
  // Several blocks of 32 tokens, with characters split over tokens (CJK, emoji, combining
  // marks) at and across block boundaries, runs of spaces and newlines.
  std::string text;
  for (int i = 0; i < 12; ++i)
    text += "It is a truth universally acknowledged,  that caf\xc3\xa9 \xf0\x9f\x8d\xb5\xf0\x9f\x8d\xb5 "
            "\xe6\x9d\xb1\xe4\xba\xac\xe9\x83\xbd e\xcc\x81\n\n\t" + std::to_string(i * 7919) + " ";
  for (const auto& file : files) {
    INFO(file);
    auto tok = Tokenizer::from_file(file);
    auto p = tokenize_prompt(tok, text, 0);
    REQUIRE(p.ids.size() > 200);
    const auto expected = prefix_offsets(tok, p.ids);
    std::size_t first = 0;
    while (first < expected.size() && first < p.offsets.size() && expected[first] == p.offsets[first]) ++first;
    INFO("first difference at offset entry " << first << " of " << expected.size());
    CHECK(p.offsets == expected);
    auto cut = tokenize_prompt(tok, text, 97);  // a last block that is not full
    CHECK(cut.offsets == prefix_offsets(tok, cut.ids));
  }
}

// A site the model does not compute (TransformerLens has no rot_q in GPT-2 either), or a head it
// does not have, is refused from config.json alone - before any stage loads the checkpoint.
TEST_CASE("sites and heads a checkpoint does not have are refused before a run", "[experiments][checkpoint][bad-input]") {
  test::TempDir dir;
  dir.write("gpt2/config.json", R"({"model_type": "gpt2", "vocab_size": 64, "n_embd": 16, "n_layer": 2, "n_head": 2,
                                     "n_positions": 32})");
  // The smallest tokenizer the prompt-length check can read: "hi" is two tokens.
  dir.write("gpt2/tokenizer.json", R"({"model": {"type": "BPE", "vocab": {"h": 0, "i": 1}, "merges": []}})");
  auto problems = [&](const std::string& probes) {
    auto config = dir.write("c.yaml", "name: c\nmodel: {path: " + (dir / "gpt2") + "}\nprompts: [{id: p, text: hi}]\n"
                                      "probes: " + probes + "\n");
    auto experiments = experiments_for(load_config<RunConfig>(config, {}).value);
    try {
      experiments.front()->input_problems();
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK_THAT(problems("[{site: rot_q, layers: [0]}]"), Contains("has no site 'rot_q'") && Contains("rotary"));
  CHECK_THAT(problems("[{site: pre_linear, layers: [0]}]"), Contains("has no site 'pre_linear'"));
  CHECK_THAT(problems("[{site: k, layers: [0], heads: [2]}]"), Contains("head 2 does not exist") && Contains("key/value"));
  CHECK_THAT(problems("[{site: pattern, layers: [2]}]"), Contains("layer 2 does not exist") && Contains("0..1"));
  CHECK(problems("[{site: q, layers: [1], heads: [1]}, {site: pre, layers: [0]}]") == "accepted");
}

TEST_CASE("a prompt file with a NUL byte is refused: run.h5 would store the text only up to it", "[experiments][checkpoint][bad-input]") {
  test::TempDir dir;
  auto file = dir.write("nul.txt", std::string("before\0after", 12));
  checkpoint::PromptSpec p;
  p.id = "p";
  p.file = file;
  CHECK_THROWS_WITH(checkpoint::prompt_text(p), Catch::Contains("NUL byte at byte 6"));
}
