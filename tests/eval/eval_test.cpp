// Few-shot evaluation against hand-written references: the harness's prompt strings byte for
// byte, its continuation encoding, log-likelihoods from a plain forward pass, prefix reuse equal
// to naive scoring, CSV edge cases, the three question layouts, and perplexity.
#include <ATen/ATen.h>

#include "tests/support/catch.h"
#include <filesystem>
#include <nlohmann/json.hpp>

#include "framework/eval/csv.h"
#include "framework/eval/loglikelihood.h"
#include "framework/eval/mc_dataset.h"
#include "framework/eval/mc_prompt.h"
#include "framework/eval/perplexity.h"
#include "framework/io/atomic_file.h"
#include "framework/io/safetensors.h"
#include "framework/model/language_model.h"
#include "framework/tokenizer/tokenizer.h"
#include "framework/util/error.h"
#include "tests/support/process.h"
#include "tests/support/shared_dir.h"
#include "tests/support/temp_dir.h"
#include "tests/support/skip.h"

using namespace sinklab;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

McItem item(const std::string& q, std::vector<std::string> c, int a) { return {"", q, std::move(c), a}; }

// A random 2-layer llama checkpoint (weights only matter for equality checks).
std::string random_llama(const test::TempDir& dir) {
  at::manual_seed(11);
  const std::int64_t D = 32, V = 40, H = 4, hd = 8, I = 48;
  std::vector<std::pair<std::string, at::Tensor>> w{{"model.embed_tokens.weight", at::randn({V, D})},
                                                    {"model.norm.weight", at::ones({D})},
                                                    {"lm_head.weight", at::randn({V, D}) * 0.3}};
  for (int l = 0; l < 2; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    w.push_back({p + "input_layernorm.weight", at::ones({D})});
    w.push_back({p + "post_attention_layernorm.weight", at::ones({D})});
    for (const char* m : {"q_proj", "k_proj", "v_proj"}) w.push_back({p + "self_attn." + m + ".weight", at::randn({H * hd, D}) * 0.3});
    w.push_back({p + "self_attn.o_proj.weight", at::randn({D, H * hd}) * 0.3});
    w.push_back({p + "mlp.gate_proj.weight", at::randn({I, D}) * 0.3});
    w.push_back({p + "mlp.up_proj.weight", at::randn({I, D}) * 0.3});
    w.push_back({p + "mlp.down_proj.weight", at::randn({D, I}) * 0.3});
  }
  fs::create_directories(dir / "llama");
  write_file_atomic(dir / "llama/config.json",
                    nlohmann::json{{"model_type", "llama"}, {"vocab_size", V}, {"hidden_size", D}, {"intermediate_size", I},
                                   {"num_hidden_layers", 2}, {"num_attention_heads", H}, {"num_key_value_heads", H}}
                        .dump());
  write_safetensors(dir / "llama/model.safetensors", w);
  return dir / "llama";
}

}  // namespace

TEST_CASE("prompts are byte-identical to lm-evaluation-harness's MMLU format at 0, 1 and 5 shots", "[eval][prompt]") {
  std::vector<McItem> dev;
  for (int i = 0; i < 5; ++i) dev.push_back(item(" Q" + std::to_string(i) + "? ", {"a", "b", "c", "d"}, i % 4));
  auto q = item("What is 2+2?\n", {"3", "4", "5", "22"}, 1);
  CHECK(mc_context("high_school_math", dev, 0, q) ==
        "The following are multiple choice questions (with answers) about high school math.\n\n"
        "What is 2+2?\nA. 3\nB. 4\nC. 5\nD. 22\nAnswer:");
  CHECK(mc_context("high_school_math", dev, 1, q) ==
        "The following are multiple choice questions (with answers) about high school math.\n\n"
        "Q0?\nA. a\nB. b\nC. c\nD. d\nAnswer: A\n\n"
        "What is 2+2?\nA. 3\nB. 4\nC. 5\nD. 22\nAnswer:");
  const std::string five = mc_context("x", dev, 5, q);
  CHECK(five.rfind("Q4?\nA. a\nB. b\nC. c\nD. d\nAnswer: A\n\nWhat is 2+2?", std::string::npos) != std::string::npos);
  CHECK(five.find("Q3?\nA. a\nB. b\nC. c\nD. d\nAnswer: D\n\nQ4?") != std::string::npos);
  CHECK(mc_continuation(2) == " C");
  CHECK_THROWS_AS(mc_context("x", dev, 6, q), InputError);
}

TEST_CASE("continuations are encoded as the harness does, for SentencePiece and byte-level tokenizers", "[eval][encode]") {
  auto shared = test::shared_dir();
  if (!shared) {
    SINKLAB_SKIP("../shared not found (set SINKLAB_SHARED to the folder with golden/ and models/)");
  }
  test::TempDir dir;
  auto gz = test::run_process({"/bin/sh", "-c", "gzip -dc " + *shared + "/golden/tokenizers/gpt2_tokenizer.json.gz > " + (dir / "gpt2.json")});
  REQUIRE(gz.exit_code == 0);
  for (const std::string& path : std::vector<std::string>{*shared + "/models/tiny-phi3/tokenizer.json", dir / "gpt2.json"}) {
    INFO(path);
    auto tok = Tokenizer::from_file(path);
    auto r = encode_pair(tok, "Question?\nAnswer:", " B", false);
    auto whole = tok.encode("Question?\nAnswer: B", false);
    std::vector<std::int64_t> joined = r.context;
    joined.insert(joined.end(), r.continuation.begin(), r.continuation.end());
    CHECK(joined == whole);
    CHECK(tok.decode(r.continuation, false).find('B') != std::string::npos);
    // A context ending in a space: the space moves into the continuation.
    auto moved = encode_pair(tok, "Question?\nAnswer: ", "B", false);
    CHECK(moved.context == r.context);
    CHECK(moved.continuation == r.continuation);
  }
}

TEST_CASE("log-likelihoods are sums of log-softmax, and prefix reuse equals naive scoring", "[eval][loglikelihood]") {
  test::TempDir dir;
  auto model = load_language_model(random_llama(dir));
  EncodedRequest r{{1, 5, 7, 9, 11, 2}, {3, 4, 5}};
  std::vector<std::int64_t> all = {1, 5, 7, 9, 11, 2, 3, 4, 5};
  auto lp = at::log_softmax(model->forward(at::tensor(all, at::kLong).unsqueeze(0))[0], -1).to(at::kDouble);
  double manual = lp[5][3].item<double>() + lp[6][4].item<double>() + lp[7][5].item<double>();
  CHECK(loglikelihood_naive(*model, r) == Approx(manual).epsilon(1e-6));

  // Choices sharing a context; the prefix matches part of it and goes past it elsewhere.
  std::vector<EncodedRequest> choices{{{1, 5, 7, 9, 11, 2}, {3}}, {{1, 5, 7, 9, 11, 2}, {8}}, {{1, 5, 7, 9, 11, 2}, {6, 6}}};
  for (std::vector<std::int64_t> prefix : {std::vector<std::int64_t>{1, 5, 7}, std::vector<std::int64_t>{1, 5, 7, 9, 11, 2},
                                           std::vector<std::int64_t>{1, 5, 13, 14}, std::vector<std::int64_t>{}}) {
    PrefixScorer scorer(*model);
    scorer.set_prefix(prefix);
    auto fast = scorer.score(choices);
    for (std::size_t i = 0; i < choices.size(); ++i) CHECK(std::abs(fast[i] - loglikelihood_naive(*model, choices[i])) < 1e-5);
  }
  PrefixScorer scorer(*model);
  scorer.set_prefix({1, 5, 7, 9});
  scorer.score(choices);
  CHECK(scorer.reused_tokens() == 4);

  // A batch of questions of different lengths (left-padded after the shared cache), one of them
  // with a two-token continuation, equals scoring each naively.
  std::vector<std::vector<EncodedRequest>> questions{
      {{{1, 5, 7, 9, 11, 2}, {3}}, {{1, 5, 7, 9, 11, 2}, {8}}},
      {{{1, 5, 7, 20, 21, 22, 23, 24}, {3}}, {{1, 5, 7, 20, 21, 22, 23, 24}, {4}}},
      {{{1, 5, 7, 30}, {6}}, {{1, 5, 7, 30}, {7}}},
      choices};
  PrefixScorer batched(*model);
  batched.set_prefix({1, 5, 7, 9, 11});
  auto scores = batched.score_batch(questions);
  REQUIRE(scores.size() == questions.size());
  for (std::size_t q = 0; q < questions.size(); ++q)
    for (std::size_t c = 0; c < questions[q].size(); ++c)
      CHECK(std::abs(scores[q][c] - loglikelihood_naive(*model, questions[q][c])) < 1e-5);
}

TEST_CASE("CSV: quotes, doubled quotes, commas and newlines inside fields, CRLF", "[eval][csv]") {
  auto rows = parse_csv("a,\"b, with comma\",\"say \"\"hi\"\"\"\r\n\"multi\nline\",x,\n\nlast,1,2", "t.csv");
  REQUIRE(rows.size() == 3);
  CHECK(rows[0] == std::vector<std::string>{"a", "b, with comma", "say \"hi\""});
  CHECK(rows[1] == std::vector<std::string>{"multi\nline", "x", ""});
  CHECK(rows[2] == std::vector<std::string>{"last", "1", "2"});
  CHECK_THROWS_WITH(parse_csv("ok\n\"never closed,\n", "bad.csv"), Contains("bad.csv:2"));
}

TEST_CASE("question sets in the MMLU, JSONL and hamexam layouts", "[eval][dataset]") {
  test::TempDir dir;
  dir.write("mmlu/dev/anatomy_dev.csv", "\"Which, of these?\",a,b,c,d,B\n");
  dir.write("mmlu/test/anatomy_test.csv", "q1,a,b,c,d,A\n\"q2\nsecond line\",a,b,c,d,D\nq3,a,b,c,d,C\n");
  dir.write("mmlu/test/virology_test.csv", "v1,a,b,c,d,A\n");
  auto mmlu = load_mc_dataset("mmlu", dir / "mmlu");
  REQUIRE(mmlu.size() == 2);
  CHECK(mmlu[0].name == "anatomy");
  CHECK(mmlu[0].dev.at(0).question == "Which, of these?");
  CHECK(mmlu[0].test.at(1).question == "q2\nsecond line");
  CHECK(mmlu[0].test.at(1).answer == 3);
  CHECK(load_mc_dataset("mmlu", dir / "mmlu", {"anatomy"}, 2).at(0).test.size() == 2);
  CHECK_THROWS_WITH(load_mc_dataset("mmlu", dir / "mmlu", {"anatomi"}), Contains("did you mean 'anatomy'"));
  dir.write("bad/dev/x_dev.csv", "");
  dir.write("bad/test/x_test.csv", "q,a,b,c,d\n");
  CHECK_THROWS_WITH(load_mc_dataset("mmlu", dir / "bad"), Contains("5 columns"));

  dir.write("q.jsonl", "{\"question\": \"j1\", \"choices\": [\"x\", \"y\"], \"answer\": 1, \"subject\": \"s\"}\n"
                       "{\"question\": \"j0\", \"choices\": [\"x\", \"y\"], \"answer\": \"A\", \"subject\": \"s\", \"split\": \"dev\"}\n");
  auto j = load_mc_dataset("jsonl", dir / "q.jsonl");
  REQUIRE(j.size() == 1);
  CHECK(j[0].dev.size() == 1);
  CHECK(j[0].test.at(0).answer == 1);

  for (const char* pool : {"T", "G", "E"})
    for (int i = 0; i < 7; ++i)
      dir.write(fmt::format("ham/{}/{}0A0{}", pool, pool, i),
                fmt::format("{}0A0{} (C)\nWhat is\nthe answer {}?\nA. one\nB. two\nC. three\nD. four\n", pool, i, i));
  auto ham = load_mc_dataset("hamexam", dir / "ham");
  REQUIRE(ham.size() == 3);
  CHECK(ham[0].name == "amateur radio technician");
  CHECK(ham[0].dev.size() == 5);
  CHECK(ham[0].test.size() == 2);
  CHECK(ham[0].test[0].question == "What is the answer 5?");
  CHECK(ham[0].test[0].answer == 2);
  CHECK(ham[0].test[0].choices[3] == "four");
  if (fs::is_directory("/usr/share/hamexam/T")) {  // Debian's hamexam: 1,587 questions
    std::size_t n = 0;
    for (const auto& s : load_mc_dataset("hamexam", "/usr/share/hamexam")) n += s.dev.size() + s.test.size();
    CHECK(n == 1587);
  }
}

TEST_CASE("perplexity with one window is exp of the mean NLL of a single forward pass", "[eval][perplexity]") {
  test::TempDir dir;
  auto model = load_language_model(random_llama(dir));
  std::vector<std::int64_t> tokens{1, 4, 9, 16, 25, 36, 8, 3, 2, 7};
  auto lp = at::log_softmax(model->forward(at::tensor(tokens, at::kLong).unsqueeze(0))[0], -1).to(at::kDouble);
  double nll = 0;
  for (std::size_t t = 1; t < tokens.size(); ++t) nll -= lp[std::int64_t(t) - 1][tokens[t]].item<double>();
  auto one = perplexity(*model, tokens, 16, 16);
  CHECK(one.tokens == 9);
  CHECK(one.perplexity() == Approx(std::exp(nll / 9)).epsilon(1e-6));
  auto sliding = perplexity(*model, tokens, 4, 2);
  CHECK(sliding.tokens == 9);  // every token but the first is scored exactly once
  CHECK(std::isfinite(sliding.perplexity()));
  CHECK_THROWS_AS(perplexity(*model, tokens, 4, 8), InputError);
}

TEST_CASE("perplexity of tiny-phi3 equals the one transformers' logits give", "[eval][perplexity]") {
  auto shared = test::shared_dir();
  if (!shared) {
    SINKLAB_SKIP("../shared not found (set SINKLAB_SHARED to the folder with golden/ and models/)");
  }
  // Golden prompt 3 has 29 tokens and logits at every position.
  SafetensorsFile golden(*shared + "/golden/tiny-phi3/golden.safetensors");
  auto ids = golden.tensor("p3.input_ids");
  auto logits = golden.tensor("p3.logits");
  REQUIRE(logits.size(0) == ids.size(0));
  auto lp = at::log_softmax(logits.to(at::kDouble), -1);
  double nll = 0;
  for (std::int64_t t = 1; t < ids.size(0); ++t) nll -= lp[t - 1][ids[t].item<std::int64_t>()].item<double>();
  const double want = std::exp(nll / double(ids.size(0) - 1));
  auto model = load_language_model(*shared + "/models/tiny-phi3");
  std::vector<std::int64_t> tokens(ids.data_ptr<std::int64_t>(), ids.data_ptr<std::int64_t>() + ids.numel());
  CHECK(perplexity(*model, tokens, 64, 64).perplexity() == Approx(want).epsilon(1e-4));
  // Sliding windows only add context-truncation differences, never skip or repeat tokens.
  auto sliding = perplexity(*model, tokens, 16, 8);
  CHECK(sliding.tokens == ids.size(0) - 1);
}
