// Interventions by hand-checkable cases: an edit that is the identity changes nothing; a zeroed
// dimension is zero in the site and reaches what reads it exactly as the zeroed input would;
// patching a prompt's run into itself is the identity and patching another prompt's resid_post at
// the last block gives that prompt's logits; a knocked-out head contributes nothing.
#include <ATen/ATen.h>

#include "tests/support/catch.h"

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
