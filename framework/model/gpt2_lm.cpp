#include "framework/model/gpt2_lm.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <filesystem>

#include "framework/io/checkpoint_dir.h"
#include "framework/util/error.h"
#include "framework/util/log.h"
#include "framework/util/strings.h"

namespace sinklab {
namespace {

at::Tensor take(CheckpointDir& ckpt, const std::string& name, const std::vector<std::int64_t>& shape, at::ScalarType dtype) {
  // Older GPT-2 checkpoints have no "transformer." prefix.
  return ckpt.tensor(ckpt.has(name) ? name : name.substr(std::string("transformer.").size()), shape, dtype);
}

}  // namespace

Gpt2LM Gpt2LM::load(const std::string& dir, at::ScalarType dtype) {
  Gpt2LM m;
  m.spec_ = ModelSpec::from_config_json((std::filesystem::path(dir) / "config.json").string());
  const ModelSpec& s = m.spec_;
  SINKLAB_INPUT_CHECK(s.model_type == "gpt2", "{}: not a gpt2 checkpoint", dir);
  CheckpointDir ckpt(dir);
  m.prefix_ = ckpt.has("transformer.wte.weight") ? "transformer." : "";
  const std::int64_t D = s.hidden_size, I = s.intermediate_size;
  m.wte_ = take(ckpt, "transformer.wte.weight", {s.vocab_size, D}, dtype);
  m.wpe_ = take(ckpt, "transformer.wpe.weight", {s.max_positions, D}, dtype);
  m.lnf_w_ = take(ckpt, "transformer.ln_f.weight", {D}, dtype);
  m.lnf_b_ = take(ckpt, "transformer.ln_f.bias", {D}, dtype);
  for (std::int64_t l = 0; l < s.num_layers; ++l) {
    const std::string p = "transformer.h." + std::to_string(l) + ".";
    Block b;
    b.ln1_w = take(ckpt, p + "ln_1.weight", {D}, dtype);
    b.ln1_b = take(ckpt, p + "ln_1.bias", {D}, dtype);
    b.attn_w = take(ckpt, p + "attn.c_attn.weight", {D, 3 * D}, dtype);
    b.attn_b = take(ckpt, p + "attn.c_attn.bias", {3 * D}, dtype);
    b.proj_w = take(ckpt, p + "attn.c_proj.weight", {D, D}, dtype);
    b.proj_b = take(ckpt, p + "attn.c_proj.bias", {D}, dtype);
    b.ln2_w = take(ckpt, p + "ln_2.weight", {D}, dtype);
    b.ln2_b = take(ckpt, p + "ln_2.bias", {D}, dtype);
    b.fc_w = take(ckpt, p + "mlp.c_fc.weight", {D, I}, dtype);
    b.fc_b = take(ckpt, p + "mlp.c_fc.bias", {I}, dtype);
    b.out_w = take(ckpt, p + "mlp.c_proj.weight", {I, D}, dtype);
    b.out_b = take(ckpt, p + "mlp.c_proj.bias", {D}, dtype);
    m.blocks_.push_back(std::move(b));
  }
  std::vector<std::string> unused;
  for (const auto& n : ckpt.unused())  // the causal-mask buffers some checkpoints carry are not weights
    if (n.find("attn.bias") == std::string::npos && n.find("attn.masked_bias") == std::string::npos && n != "lm_head.weight")
      unused.push_back(n);
  if (!unused.empty()) log::warn("{}: {} tensors not used by a gpt2 model: {}", dir, unused.size(), join(unused, ", "));
  return m;
}

void Gpt2LM::to(c10::Device device) {
  for (at::Tensor* t : {&wte_, &wpe_, &lnf_w_, &lnf_b_}) *t = t->to(device);
  for (auto& b : blocks_)
    for (at::Tensor* t : {&b.ln1_w, &b.ln1_b, &b.attn_w, &b.attn_b, &b.proj_w, &b.proj_b, &b.ln2_w, &b.ln2_b, &b.fc_w,
                          &b.fc_b, &b.out_w, &b.out_b})
      *t = t->to(device);
}

AttentionWeights Gpt2LM::attention_weights(std::int64_t layer) const {
  SINKLAB_INPUT_CHECK(layer >= 0 && layer < spec_.num_layers, "layer {} does not exist: the model has layers 0..{}",
                      layer, spec_.num_layers - 1);
  const Block& b = blocks_[std::size_t(layer)];
  const std::int64_t D = spec_.hidden_size;  // Conv1D stores [in, out]: transpose to [out, in]
  return {b.attn_w.narrow(1, 0, D).t(), b.attn_w.narrow(1, D, D).t(), b.attn_w.narrow(1, 2 * D, D).t(), b.proj_w.t()};
}

at::Tensor Gpt2LM::embed_at(const at::Tensor& ids, const at::Tensor& positions) const {
  const std::int64_t B = ids.size(0), T = ids.size(1), D = spec_.hidden_size;
  return wte_.index_select(0, ids.reshape({-1})).view({B, T, D}) +
         wpe_.index_select(0, positions.reshape({-1})).view({B, T, D});
}

at::Tensor Gpt2LM::embed(const at::Tensor& ids_in) const {
  auto ids = ids_in.to(wte_.device());
  SINKLAB_INPUT_CHECK(ids.size(1) <= spec_.max_positions, "gpt2 takes at most {} positions, got {}", spec_.max_positions,
                      ids.size(1));
  auto positions = at::arange(ids.size(1), ids.options()).unsqueeze(0).expand({ids.size(0), ids.size(1)});
  return embed_at(ids, positions);
}

at::Tensor Gpt2LM::run_block(std::int64_t layer, const at::Tensor& h, HookPoints& hooks) const {
  at::NoGradGuard no_grad;
  SINKLAB_INPUT_CHECK(layer >= 0 && layer < spec_.num_layers, "layer {} does not exist: the model has layers 0..{}",
                      layer, spec_.num_layers - 1);
  auto shape_ids = at::zeros({h.size(0), h.size(1)}, h.options().dtype(at::kLong));
  return block(layer, h, make_attention_masking(shape_ids, 0, at::Tensor(), std::nullopt), hooks, nullptr);
}

at::Tensor Gpt2LM::block(std::int64_t l, at::Tensor h, const AttentionMasking& masking, HookPoints& hooks,
                         KvCache* cache) const {
  const ModelSpec& s = spec_;
  const std::int64_t B = h.size(0), T = h.size(1), D = s.hidden_size, H = s.num_heads, hd = s.head_dim;
  const Block& b = blocks_[std::size_t(l)];
  auto name = [&](const char* site) { return hook_name(int(l), site); };
  hooks.record(name("resid_pre"), h);
  auto x = at::layer_norm(h, {D}, b.ln1_w, b.ln1_b, s.rms_norm_eps);
  hooks.record(name("ln1_normalized"), x);
  auto qkv = at::addmm(b.attn_b, x.reshape({B * T, D}), b.attn_w).view({B, T, 3, H, hd});
  auto q = qkv.select(2, 0).transpose(1, 2), k = qkv.select(2, 1).transpose(1, 2), v = qkv.select(2, 2).transpose(1, 2);
  hooks.record(name("q"), q.transpose(1, 2));
  hooks.record(name("k"), k.transpose(1, 2));
  hooks.record(name("v"), v.transpose(1, 2));
  if (cache) std::tie(k, v) = cache->append(std::size_t(l), std::size_t(s.num_layers), k, v);
  auto z = attend(q, k, v, masking.blocked, hooks, int(l));  // [B, H, T, hd]
  if (hooks.wants(name("result")))
    hooks.record(name("result"), at::einsum("bhtd,hdm->bthm", {z, b.proj_w.view({H, hd, D})}));
  auto attn_out = at::addmm(b.proj_b, z.transpose(1, 2).reshape({B * T, D}), b.proj_w).view({B, T, D});
  hooks.record(name("attn_out"), attn_out);
  h = h + attn_out;
  hooks.record(name("resid_mid"), h);
  auto x2 = at::layer_norm(h, {D}, b.ln2_w, b.ln2_b, s.rms_norm_eps);
  hooks.record(name("normalized"), x2);
  auto act = at::gelu(at::matmul(x2, b.fc_w) + b.fc_b, "tanh");
  hooks.record(name("post"), act);
  auto mlp = at::matmul(act, b.out_w) + b.out_b;
  hooks.record(name("mlp_out"), mlp);
  h = h + mlp;
  hooks.record(name("resid_post"), h);
  return h;
}

at::Tensor Gpt2LM::forward(const at::Tensor& input_ids, HookPoints& hooks, KvCache* cache,
                           const at::Tensor& attention_mask_in) const {
  at::NoGradGuard no_grad;
  const ModelSpec& s = spec_;
  const auto [ids, attention_mask] = prepare_inputs(input_ids, attention_mask_in, wte_.device(), s.vocab_size);
  const std::int64_t T = ids.size(1), D = s.hidden_size;
  const std::int64_t past = cache ? cache->length() : 0;
  SINKLAB_INPUT_CHECK(past + T <= s.max_positions, "gpt2 takes at most {} positions, got {}", s.max_positions, past + T);
  AttentionMasking masking = make_attention_masking(ids, past, attention_mask, std::nullopt);
  at::Tensor h = embed_at(ids, masking.positions);
  hooks.record("hook_embed", h);
  for (std::int64_t l = 0; l < s.num_layers; ++l) h = block(l, h, masking, hooks, cache);
  auto final = at::layer_norm(h, {D}, lnf_w_, lnf_b_, s.rms_norm_eps);
  hooks.record("ln_final.hook_normalized", final);
  return at::matmul(final, wte_.t()).to(at::kFloat);
}

std::vector<LinearLayer> Gpt2LM::linear_layers(std::int64_t layer) {
  SINKLAB_INPUT_CHECK(layer >= 0 && layer < spec_.num_layers, "layer {} does not exist: the model has layers 0..{}",
                      layer, spec_.num_layers - 1);
  Block& b = blocks_[std::size_t(layer)];
  const std::int64_t D = spec_.hidden_size;
  const std::string p = prefix_ + "h." + std::to_string(layer) + ".";
  auto in = [&](const char* site) { return hook_name(int(layer), site); };
  // Conv1D stores [in, out]; the transposed views are [out, in] and write through. c_attn is
  // split into its Q, K and V column blocks, as phi3's fused qkv is.
  return {{p + "attn.c_attn.q", "q", b.attn_w.narrow(1, 0, D).t(), in("ln1_normalized")},
          {p + "attn.c_attn.k", "k", b.attn_w.narrow(1, D, D).t(), in("ln1_normalized")},
          {p + "attn.c_attn.v", "v", b.attn_w.narrow(1, 2 * D, D).t(), in("ln1_normalized")},
          {p + "attn.c_proj", "o", b.proj_w.t(), in("z")},
          {p + "mlp.c_fc", "fc", b.fc_w.t(), in("normalized")},
          {p + "mlp.c_proj", "proj", b.out_w.t(), in("post")}};
}

std::vector<std::pair<std::string, at::Tensor>> Gpt2LM::checkpoint_tensors() const {
  const std::string t = prefix_;
  std::vector<std::pair<std::string, at::Tensor>> out{{t + "wte.weight", wte_}, {t + "wpe.weight", wpe_},
                                                      {t + "ln_f.weight", lnf_w_}, {t + "ln_f.bias", lnf_b_}};
  for (std::int64_t l = 0; l < spec_.num_layers; ++l) {
    const Block& b = blocks_[std::size_t(l)];
    const std::string p = t + "h." + std::to_string(l) + ".";
    for (const auto& [n, w] : std::vector<std::pair<const char*, const at::Tensor*>>{
             {"ln_1.weight", &b.ln1_w}, {"ln_1.bias", &b.ln1_b}, {"attn.c_attn.weight", &b.attn_w},
             {"attn.c_attn.bias", &b.attn_b}, {"attn.c_proj.weight", &b.proj_w}, {"attn.c_proj.bias", &b.proj_b},
             {"ln_2.weight", &b.ln2_w}, {"ln_2.bias", &b.ln2_b}, {"mlp.c_fc.weight", &b.fc_w}, {"mlp.c_fc.bias", &b.fc_b},
             {"mlp.c_proj.weight", &b.out_w}, {"mlp.c_proj.bias", &b.out_b}})
      out.emplace_back(p + n, *w);
  }
  return out;
}

}  // namespace sinklab
