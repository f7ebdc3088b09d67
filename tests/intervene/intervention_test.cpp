// Interventions by hand-checkable cases: an edit that is the identity changes nothing; a zeroed
// dimension is zero in the site and reaches what reads it exactly as the zeroed input would;
// patching a prompt's run into itself is the identity and patching another prompt's resid_post at
// the last block gives that prompt's logits; a knocked-out head contributes nothing.
#include <ATen/ATen.h>

#include "tests/support/catch.h"

#include "framework/eval/perplexity.h"
#include "framework/intervene/intervention.h"
#include "framework/model/transformer_lm.h"
#include "framework/util/error.h"
#include "tests/model/tiny_checkpoint.h"
#include "tests/support/temp_dir.h"

using namespace sinklab;

namespace {

at::Tensor ids_of(std::vector<std::int64_t> v) { return at::tensor(v, at::kLong).unsqueeze(0); }

}  // namespace

TEST_CASE("an identity edit, scale 1 or patching a run into itself changes nothing", "[intervene]") {
  test::TempDir dir;
  for (const char* type : {"llama", "gpt_neox", "gemma2"}) {
    INFO(type);
    auto ckpt = test::write_tiny_checkpoint(dir, type, 41, at::kFloat);
    auto model = TransformerLM::load(ckpt.dir);
    const at::Tensor ids = ids_of({3, 1, 4, 1, 5, 9, 2});
    const at::Tensor clean = model.forward(ids);
    HookPoints identity = HookPoints::none();
    for (const auto& site : hook_sites())
      if (site.short_name != "result" && computes_site(model.spec(), site))
        for (int l = 0; l < (site.per_block ? 2 : 1); ++l)
          identity.edit(site.full_name(site.per_block ? l : -1), [](const at::Tensor& v) { return v.clone(); });
    CHECK(at::equal(model.forward(ids, identity), clean));
    HookPoints unit = HookPoints::none();
    add_ablation(Ablation{"resid_mid", {}, {}, {}, {}, "scale", 1.0}, 2, unit);
    CHECK(at::equal(model.forward(ids, unit), clean));
    // Patching: record every site of this run, patch all of them back in.
    HookPoints record = HookPoints::all();
    model.forward(ids, record);
    std::map<std::string, at::Tensor> source;
    for (const auto& [name, value] : record.cache())
      if (name.find("hook_result") == std::string::npos) source.emplace(name, value);
    HookPoints patched = HookPoints::none();
    add_patch(source, {}, patched);
    CHECK(at::equal(model.forward(ids, patched), clean));
  }
}

TEST_CASE("a zeroed dimension is zero in its site and reaches the next site as a zeroed input", "[intervene]") {
  test::TempDir dir;
  auto ckpt = test::write_tiny_checkpoint(dir, "llama", 42, at::kFloat);
  auto model = TransformerLM::load(ckpt.dir);
  const at::Tensor ids = ids_of({7, 2, 8, 2, 8, 1});
  // Zero MLP unit 5 of layer 1 at position 0: mlp_out there is W_down without column 5, elsewhere unchanged.
  HookPoints clean = HookPoints::only({hook_name(1, "post"), hook_name(1, "mlp_out")});
  model.forward(ids, clean);
  HookPoints edited = HookPoints::only({hook_name(1, "post"), hook_name(1, "mlp_out")});
  add_ablation(Ablation{"post", {1}, {}, {0}, {5}, "zero", 0}, 2, edited);
  model.forward(ids, edited);
  const at::Tensor post = edited.at(hook_name(1, "post"));  // [1, T, I]
  CHECK(post[0][0][5].item<double>() == 0.0);
  CHECK(at::equal(post.narrow(1, 1, 5), clean.at(hook_name(1, "post")).narrow(1, 1, 5)));
  at::Tensor want_input = clean.at(hook_name(1, "post")).clone();
  want_input[0][0][5] = 0;
  const at::Tensor want = at::matmul(want_input, ckpt.logical.at("down.1").t());
  CHECK((edited.at(hook_name(1, "mlp_out")) - want).abs().max().item<double>() < 1e-5);
  // "set" writes the value; out-of-range indices are named.
  HookPoints set = HookPoints::only({hook_name(0, "resid_pre")});
  add_ablation(Ablation{"resid_pre", {0}, {}, {}, {3}, "set", 2.5}, 2, set);
  model.forward(ids, set);
  CHECK(set.at(hook_name(0, "resid_pre")).select(2, 3).eq(2.5).all().item<bool>());
  HookPoints bad = HookPoints::none();
  add_ablation(Ablation{"resid_pre", {0}, {}, {}, {32}, "zero", 0}, 2, bad);
  CHECK_THROWS_WITH(model.forward(ids, bad), Catch::Contains("asks for index 32 of axis 2, which has 32"));
  HookPoints layer = HookPoints::none();
  CHECK_THROWS_WITH(add_ablation(Ablation{"resid_pre", {2}, {}, {}, {}, "zero", 0}, 2, layer),
                    Catch::Contains("asks for layer 2: the model has layers 0..1"));
  HookPoints result = HookPoints::none();
  CHECK_THROWS_WITH(add_ablation(Ablation{"result", {0}, {}, {}, {}, "zero", 0}, 2, result), Catch::Contains("intervene on z"));
}

TEST_CASE("a knocked-out head adds nothing to attn_out; patching the last resid_post gives the source's logits",
          "[intervene]") {
  test::TempDir dir;
  auto ckpt = test::write_tiny_checkpoint(dir, "qwen2", 43, at::kFloat);  // o has no bias: a zero z adds exactly nothing
  auto model = TransformerLM::load(ckpt.dir);
  const at::Tensor ids = ids_of({4, 4, 6, 1, 9, 3});
  HookPoints clean = HookPoints::only({hook_name(0, "result"), hook_name(0, "attn_out")});
  model.forward(ids, clean);
  HookPoints knocked = HookPoints::only({hook_name(0, "attn_out"), hook_name(0, "pattern")});
  add_ablation(Ablation{"z", {0}, {2}, {}, {}, "zero", 0}, 2, knocked);
  model.forward(ids, knocked);
  const at::Tensor result = clean.at(hook_name(0, "result"));  // [1, T, H, D]
  const at::Tensor want = result.sum(2) - result.select(2, 2);
  CHECK((knocked.at(hook_name(0, "attn_out")) - want).abs().max().item<double>() < 1e-5);

  // The source prompt's last residual stream patched into the target's run: the source's logits.
  const at::Tensor source_ids = ids_of({8, 1, 2, 7, 7, 5});
  HookPoints source = HookPoints::only({hook_name(1, "resid_post")});
  const at::Tensor source_logits = model.forward(source_ids, source);
  HookPoints patch = HookPoints::none();
  add_patch(source.cache(), {}, patch);
  CHECK(at::equal(model.forward(ids, patch), source_logits));
  // At position 3 only: that position's logits are the source's, the others the target's.
  HookPoints at3 = HookPoints::none();
  add_patch(source.cache(), {3}, at3);
  const at::Tensor mixed = model.forward(ids, at3), target = model.forward(ids);
  CHECK(at::equal(mixed.select(1, 3), source_logits.select(1, 3)));
  CHECK(at::equal(mixed.narrow(1, 0, 3), target.narrow(1, 0, 3)));
  // A source of another length is named.
  HookPoints wrong = HookPoints::none();
  HookPoints longer = HookPoints::only({hook_name(1, "resid_post")});
  model.forward(ids_of({1, 2, 3}), longer);
  add_patch(longer.cache(), {}, wrong);
  CHECK_THROWS_WITH(model.forward(ids, wrong), Catch::Contains("the source run's [1, 3, 32] is not the target's [1, 6, 32]"));
}

// StreamingLLM's cache by identities: a window as long as the text is full attention. With a
// window of 1 every token is computed seeing the sinks and itself at position sink_tokens, so
// each streamed NLL is the last NLL of the sequence (sinks, token) in one ordinary pass. (With a
// longer window the kept recent tokens were computed with the context they had then, which no
// shorter ordinary pass reproduces: only the window-1 identity is exact.)
TEST_CASE("a streamed KV cache: full and a long window equal one pass; sinks + window equal the kept tokens run alone",
          "[intervene][kv]") {
  test::TempDir dir;
  const std::vector<std::int64_t> tokens{3, 1, 4, 1, 5, 9, 2, 6, 5, 3};
  const auto T = std::int64_t(tokens.size());
  for (const char* type : {"llama", "gpt_neox", "gemma2", "qwen3"}) {
    INFO(type);
    auto ckpt = test::write_tiny_checkpoint(dir, type, 44, at::kFloat);
    auto model = TransformerLM::load(ckpt.dir);
    // -log p(tokens[t + 1] | seq) where seq ends with tokens[t]: one ordinary pass.
    auto last_nll = [&](const std::vector<std::int64_t>& seq, std::int64_t next) {
      auto lp = at::log_softmax(model.forward(ids_of(seq))[0][std::int64_t(seq.size()) - 1].to(at::kDouble), -1);
      return -lp[next].item<double>();
    };
    HookPoints none = HookPoints::none();
    const auto one_pass = at::log_softmax(model.forward(ids_of(tokens))[0].to(at::kDouble), -1);
    const auto full = streaming_nll(model, tokens, std::nullopt, none);
    const auto wide = streaming_nll(model, tokens, StreamingPolicy{0, T}, none);
    const auto wide_sinks = streaming_nll(model, tokens, StreamingPolicy{4, T - 4}, none);
    REQUIRE(full.size() == std::size_t(T - 1));
    for (std::int64_t t = 0; t + 1 < T; ++t) {
      const double want = -one_pass[t][tokens[std::size_t(t + 1)]].item<double>();
      CHECK(std::abs(full[std::size_t(t)] - want) < 1e-4);
      CHECK(std::abs(wide[std::size_t(t)] - want) < 1e-4);
      CHECK(std::abs(wide_sinks[std::size_t(t)] - want) < 1e-4);
    }
    const auto alone = streaming_nll(model, tokens, StreamingPolicy{0, 1}, none);
    const auto sinks2 = streaming_nll(model, tokens, StreamingPolicy{2, 1}, none);
    for (std::int64_t t = 0; t + 1 < T; ++t) {
      const auto i = std::size_t(t);
      CHECK(std::abs(alone[i] - last_nll({tokens[i]}, tokens[i + 1])) < 1e-4);
      std::vector<std::int64_t> kept;  // the first 2 tokens, then token t
      for (std::int64_t j = 0; j <= t; ++j)
        if (j < 2 || j == t) kept.push_back(tokens[std::size_t(j)]);
      CHECK(std::abs(sinks2[i] - last_nll(kept, tokens[i + 1])) < 1e-4);
    }
  }
  auto gpt2 = test::write_tiny_checkpoint(dir, "gpt2", 45, at::kFloat);
  auto learned = TransformerLM::load(gpt2.dir);
  HookPoints none = HookPoints::none();
  CHECK_THROWS_WITH(streaming_nll(learned, tokens, StreamingPolicy{1, 2}, none), Catch::Contains("needs RoPE"));
}

TEST_CASE("clamp bounds a site; mean and resample take a reference run's values; tokens select positions; a patch "
          "can be one head's", "[intervene]") {
  test::TempDir dir;
  auto ckpt = test::write_tiny_checkpoint(dir, "llama", 46, at::kFloat);
  auto model = TransformerLM::load(ckpt.dir);
  const at::Tensor ids = ids_of({5, 2, 7, 2, 9, 4});
  const std::string pre1 = hook_name(1, "resid_pre");
  HookPoints clean = HookPoints::only({pre1, hook_name(0, "z")});
  model.forward(ids, clean);
  const at::Tensor x = clean.at(pre1);  // [1, T, D]

  HookPoints clamped = HookPoints::only({pre1});
  add_ablation(Ablation{"resid_pre", {1}, {}, {}, {}, "clamp", 0.05}, 2, clamped);
  model.forward(ids, clamped);
  CHECK(at::equal(clamped.at(pre1), x.clamp(-0.05, 0.05)));

  // mean: position 2 and 4 become the reference's mean over positions; the rest stay.
  HookPoints reference = HookPoints::only({pre1});
  model.forward(ids_of({8, 8, 1, 3}), reference);
  HookPoints mean = HookPoints::only({pre1});
  add_ablation(Ablation{"resid_pre", {1}, {}, {2, 4}, {}, "mean", 0}, 2, mean, reference.cache());
  model.forward(ids, mean);
  const at::Tensor ref_mean = reference.at(pre1)[0].mean(0);  // [D]
  CHECK((mean.at(pre1)[0][2] - ref_mean).abs().max().item<double>() < 1e-6);
  CHECK((mean.at(pre1)[0][4] - ref_mean).abs().max().item<double>() < 1e-6);
  CHECK(at::equal(mean.at(pre1)[0][3], x[0][3]));
  // resample everywhere is patching the reference run in; a reference of another length is named.
  HookPoints same_length = HookPoints::only({pre1});
  model.forward(ids_of({1, 1, 2, 3, 5, 8}), same_length);
  HookPoints resampled = HookPoints::none(), patched = HookPoints::none();
  add_ablation(Ablation{"resid_pre", {1}, {}, {}, {}, "resample", 0}, 2, resampled, same_length.cache());
  add_patch(same_length.cache(), {}, patched);
  CHECK(at::equal(model.forward(ids, resampled), model.forward(ids, patched)));
  HookPoints short_ref = HookPoints::none();
  add_ablation(Ablation{"resid_pre", {1}, {}, {}, {}, "resample", 0}, 2, short_ref, reference.cache());
  CHECK_THROWS_WITH(model.forward(ids, short_ref), Catch::Contains("is not the target's"));
  HookPoints no_ref = HookPoints::none();
  CHECK_THROWS_WITH(add_ablation(Ablation{"resid_pre", {1}, {}, {}, {}, "mean", 0}, 2, no_ref),
                    Catch::Contains("needs a reference run"));

  // Token selectors: the positions whose text matches, added to the given ones; none found and
  // no positions: nothing to edit (not everything).
  Ablation dots{"resid_pre", {1}, {}, {}, {}, "zero", 0, {"."}};
  const std::vector<std::string> pieces{"<s>", "a", ".", "b", ".", "c"};
  CHECK(at_tokens(dots, pieces)->positions == std::vector<std::int64_t>{2, 4});
  CHECK(at_tokens(dots, pieces)->tokens.empty());
  CHECK_FALSE(at_tokens(Ablation{"resid_pre", {}, {}, {}, {}, "zero", 0, {"?"}}, pieces).has_value());
  CHECK(at_tokens(Ablation{"resid_pre", {}, {}, {0, 4}, {}, "zero", 0, {"."}}, pieces)->positions ==
        std::vector<std::int64_t>{0, 2, 4});

  // One head's z patched: that head is the source's, the others the target's.
  HookPoints source = HookPoints::only({hook_name(0, "z")});
  model.forward(ids_of({1, 1, 2, 3, 5, 8}), source);
  HookPoints head = HookPoints::only({hook_name(0, "z")});
  add_patch(source.cache(), {}, head, {1});
  model.forward(ids, head);
  const at::Tensor z = head.at(hook_name(0, "z"));  // [1, T, H, hd]
  CHECK(at::equal(z.select(2, 1), source.at(hook_name(0, "z")).select(2, 1)));
  CHECK(at::equal(z.select(2, 0), clean.at(hook_name(0, "z")).select(2, 0)));
}
