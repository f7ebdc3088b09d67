#include "tests/model/reference_forward.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

namespace sinklab::test {
namespace {

using at::Tensor;

struct Reference {
  const TinyCheckpoint& c;
  std::string type;
  bool gemma() const { return type == "gemma2" || type == "gemma3_text"; }
  Tensor w(const std::string& key) const { return c.logical.at(key).to(at::kDouble); }
  bool has(const std::string& key) const { return c.logical.count(key) > 0; }

  // RMSNorm over the last axis; Gemma scales by (1 + w).
  Tensor rms(const Tensor& x, const std::string& key) const {
    const Tensor normed = x / (x.pow(2).mean(-1, true) + 1e-5).sqrt();
    return normed * (gemma() ? w(key) + 1 : w(key));
  }
  // "attn_norm.0" -> "attn_norm_bias.0", "final_norm" -> "final_norm_bias"
  static std::string bias_of(const std::string& key) {
    const auto dot = key.find('.');
    return dot == std::string::npos ? key + "_bias" : key.substr(0, dot) + "_bias" + key.substr(dot);
  }
  Tensor layer_norm(const Tensor& x, const std::string& key) const {
    const Tensor mean = x.mean(-1, true), var = (x - mean).pow(2).mean(-1, true);
    return (x - mean) / (var + 1e-5).sqrt() * w(key) + w(bias_of(key));
  }
  Tensor norm(const Tensor& x, const std::string& key) const { return type == "gpt_neox" ? layer_norm(x, key) : rms(x, key); }
  Tensor linear(const Tensor& x, const std::string& key) const {
    Tensor y = at::matmul(x, w(key).t());
    return has(bias_of(key)) ? y + w(bias_of(key)) : y;
  }

  bool sliding(std::int64_t l) const {
    if (type == "mistral") return true;
    if (gemma()) return l == 0;  // gemma2: even layers; gemma3_text here: pattern 2
    return false;
  }
  // x [B, T, heads, hd] rotated at positions 0..T-1: pairs (i, i + rd/2) of the first rd dims.
  Tensor rope(const Tensor& x, std::int64_t l) const {
    const std::int64_t T = x.size(1), hd = x.size(3), rd = std::int64_t(double(hd) * c.partial_rotary), half = rd / 2;
    double theta = c.rope_theta, divide = 1.0;
    if (type == "gemma3_text") theta = sliding(l) ? c.rope_local_theta : c.rope_theta, divide = sliding(l) ? 1.0 : c.rope_linear_factor;
    Tensor out = x.clone();
    for (std::int64_t t = 0; t < T; ++t)
      for (std::int64_t i = 0; i < half; ++i) {
        const double angle = double(t) * std::pow(theta, -2.0 * double(i) / double(rd)) / divide;
        const Tensor a = x.select(1, t).select(-1, i), b = x.select(1, t).select(-1, i + half);
        out.select(1, t).select(-1, i).copy_(a * std::cos(angle) - b * std::sin(angle));
        out.select(1, t).select(-1, i + half).copy_(b * std::cos(angle) + a * std::sin(angle));
      }
    return out;
  }

  Tensor attention(const Tensor& x, std::int64_t l) const {
    const std::string n = "." + std::to_string(l);
    const std::int64_t B = x.size(0), T = x.size(1), H = c.heads, KV = c.kv_heads, hd = c.head_dim;
    Tensor q = linear(x, "q" + n), k = linear(x, "k" + n), v = linear(x, "v" + n).view({B, T, KV, hd});
    if (type == "olmo2") q = rms(q, "q_norm" + n), k = rms(k, "k_norm" + n);
    q = q.view({B, T, H, hd}), k = k.view({B, T, KV, hd});
    if (type == "qwen3" || type == "gemma3_text") q = rms(q, "q_norm" + n), k = rms(k, "k_norm" + n);
    q = rope(q, l), k = rope(k, l);
    const double scale = 1.0 / std::sqrt(c.query_pre_attn_scalar > 0 ? c.query_pre_attn_scalar : double(hd));
    Tensor z = at::zeros({B, T, H, hd}, x.options());
    for (std::int64_t h = 0; h < H; ++h) {
      const std::int64_t g = h / (H / KV);  // its key/value head
      Tensor scores = at::einsum("btd,bsd->bts", {q.select(2, h), k.select(2, g)}) * scale;  // [B, T, T]
      if (c.attn_softcap > 0) scores = at::tanh(scores / c.attn_softcap) * c.attn_softcap;
      for (std::int64_t i = 0; i < T; ++i)
        for (std::int64_t j = 0; j < T; ++j)
          if (j > i || (sliding(l) && i - j >= c.sliding_window))
            scores.select(1, i).select(1, j).fill_(-std::numeric_limits<double>::infinity());
      z.select(2, h).copy_(at::matmul(at::softmax(scores, -1), v.select(2, g)));
    }
    return linear(z.reshape({B, T, H * hd}), "o" + n);
  }

  Tensor mlp(const Tensor& x, std::int64_t l) const {
    const std::string n = "." + std::to_string(l);
    if (type == "gpt_neox") return linear(at::gelu(linear(x, "fc" + n)), "proj" + n);
    const Tensor gate = linear(x, "gate" + n);
    const Tensor act = gemma() ? at::gelu(gate, "tanh") : at::silu(gate);
    return linear(act * linear(x, "up" + n), "down" + n);
  }

  Tensor logits(const Tensor& ids) const {
    const std::int64_t B = ids.size(0), T = ids.size(1), D = c.d_model;
    Tensor h = w("token_embed").index_select(0, ids.reshape({-1})).view({B, T, D});
    if (gemma()) h = h * std::sqrt(double(D));
    for (std::int64_t l = 0; l < c.layers; ++l) {
      const std::string n = "." + std::to_string(l);
      if (type == "gpt_neox") {  // parallel: both sublayers read the block's input
        h = h + attention(norm(h, "attn_norm" + n), l) + mlp(norm(h, "mlp_norm" + n), l);
      } else if (type == "olmo2") {  // post-norm
        h = h + rms(attention(h, l), "post_attn_norm" + n);
        h = h + rms(mlp(h, l), "post_mlp_norm" + n);
      } else if (gemma()) {  // sandwich
        h = h + rms(attention(rms(h, "attn_norm" + n), l), "post_attn_norm" + n);
        h = h + rms(mlp(rms(h, "mlp_norm" + n), l), "post_mlp_norm" + n);
      } else {
        h = h + attention(rms(h, "attn_norm" + n), l);
        h = h + mlp(rms(h, "mlp_norm" + n), l);
      }
    }
    Tensor out = at::matmul(norm(h, "final_norm"), (gemma() ? w("token_embed") : w("lm_head")).t());
    if (c.final_softcap > 0) out = at::tanh(out / c.final_softcap) * c.final_softcap;
    return out;
  }
};

}  // namespace

at::Tensor reference_logits(const TinyCheckpoint& c, const std::string& model_type, const at::Tensor& ids) {
  return Reference{c, model_type}.logits(ids);
}

}  // namespace sinklab::test
