#include "framework/model/toy_averaging.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "framework/io/safetensors.h"
#include "framework/util/error.h"
#include "framework/util/strings.h"

namespace sinklab {

std::vector<std::pair<std::string, std::vector<std::int64_t>>> toy_parameter_shapes(const ToyModelSpec& s) {
  if (s.is_2d())
    return {{"W_V1", {2, 2}}, {"W_Q2", {2, 2}}, {"W_K2", {2, 2}}, {"W_V2", {2, 1}}, {"s_num", {}}, {"s_tag", {}}};
  const int64_t D = s.d_model, F = 4 * s.d_model;
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> out{
      {"embed.number_direction", {D}}, {"embed.number_bias", {D}}, {"embed.sep", {D}}};
  for (int l = 0; l < s.layers; ++l) {
    std::string p = "layers." + std::to_string(l) + ".";
    if (s.norm) out.push_back({p + "attn_norm.weight", {D}});
    for (const char* m : {"q_proj", "k_proj", "v_proj", "o_proj"}) out.push_back({p + "attn." + m + ".weight", {D, D}});
    if (s.mlp) {
      if (s.norm) out.push_back({p + "mlp_norm.weight", {D}});
      out.push_back({p + "mlp.up_proj.weight", {F, D}});
      out.push_back({p + "mlp.down_proj.weight", {D, F}});
    }
  }
  if (s.norm) out.push_back({"final_norm.weight", {D}});
  out.push_back({"head.weight", {1, D}});
  out.push_back({"head.bias", {1}});
  return out;
}

ToyModel ToyModel::initialize(const ToyModelSpec& spec, std::uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const double std = spec.init_std > 0 ? spec.init_std : spec.is_2d() ? 0.5 : 1.0 / std::sqrt(double(spec.d_model));
  ToyModel m;
  m.spec_ = spec;
  for (const auto& [name, shape] : toy_parameter_shapes(spec)) {
    at::Tensor t;
    if (name == "s_tag") t = at::full(shape, spec.s_tag_init);
    else if (name.find("norm") != std::string::npos) t = at::ones(shape);
    else if (name == "head.bias" || name == "embed.number_bias") t = at::zeros(shape);
    else t = at::randn(shape, gen) * std;
    m.params_.push_back({name, t.set_requires_grad(true)});
  }
  return m;
}

ToyModel ToyModel::load(const ToyModelSpec& spec, const SafetensorsFile& file) {
  ToyModel m;
  m.spec_ = spec;
  auto expected = toy_parameter_shapes(spec);
  std::vector<std::string> names;
  for (const auto& [name, shape] : expected) {
    names.push_back(name);
    SINKLAB_INPUT_CHECK(file.has(name), "{}: missing tensor '{}' for a {} model", file.path(), name, spec.kind);
    at::Tensor t = file.tensor(name).to(at::kFloat).clone();
    SINKLAB_INPUT_CHECK(t.sizes().vec() == shape, "{}: tensor '{}' has shape [{}], a {} model needs [{}]", file.path(),
                        name, fmt::join(t.sizes(), ", "), spec.kind, fmt::join(shape, ", "));
    m.params_.push_back({name, t.set_requires_grad(true)});
  }
  for (const auto& n : file.names())
    SINKLAB_INPUT_CHECK(std::find(names.begin(), names.end(), n) != names.end(),
                        "{}: unexpected tensor '{}' for a {} model (wrong spec?)", file.path(), n, spec.kind);
  return m;
}

ToyModel ToyModel::clone() const {
  ToyModel m;
  m.spec_ = spec_;
  for (const auto& [n, t] : params_) m.params_.push_back({n, t.detach().clone().set_requires_grad(t.requires_grad())});
  return m;
}

void ToyModel::save(const std::string& path, const std::map<std::string, std::string>& metadata) const {
  auto meta = metadata;
  meta["format"] = "sinklab-toy";
  meta["kind"] = spec_.kind;
  meta["spec"] = encode_value(spec_).dump();
  write_safetensors(path, params_, meta);
}

std::vector<at::Tensor> ToyModel::parameters() const {
  std::vector<at::Tensor> out;
  for (const auto& [n, t] : params_) out.push_back(t);
  return out;
}

const at::Tensor& ToyModel::param(const std::string& name) const {
  for (const auto& [n, t] : params_)
    if (n == name) return t;
  SINKLAB_CHECK(false, "toy model has no parameter '{}'", name);
  return params_.front().second;
}

ToyTrace ToyModel::forward(const AveragingBatch& batch, HookPoints* hooks) const {
  return spec_.is_2d() ? forward_2d(batch) : forward_wide(batch, hooks);
}

std::vector<LinearLayer> ToyModel::linear_layers(int layer) {
  SINKLAB_INPUT_CHECK(!spec_.is_2d(), "the toy-averaging-2d model has no linear maps to prune (use toy-averaging)");
  SINKLAB_INPUT_CHECK(layer >= 0 && layer < spec_.layers, "layer {} does not exist: the toy has layers 0..{}", layer,
                      spec_.layers - 1);
  const std::string p = "layers." + std::to_string(layer) + ".";
  auto in = [&](const char* site) { return hook_name(layer, site); };
  std::vector<LinearLayer> out{{p + "attn.q_proj", "q", param(p + "attn.q_proj.weight"), in("ln1_normalized")},
                               {p + "attn.k_proj", "k", param(p + "attn.k_proj.weight"), in("ln1_normalized")},
                               {p + "attn.v_proj", "v", param(p + "attn.v_proj.weight"), in("ln1_normalized")},
                               {p + "attn.o_proj", "o", param(p + "attn.o_proj.weight"), in("z")}};
  if (spec_.mlp) {
    out.push_back({p + "mlp.up_proj", "up", param(p + "mlp.up_proj.weight"), in("normalized")});
    out.push_back({p + "mlp.down_proj", "down", param(p + "mlp.down_proj.weight"), in("post")});
  }
  return out;
}

ToyTrace ToyModel::forward_2d(const AveragingBatch& batch) const {
  AveragingParams2d p{param("W_V1"), param("W_Q2"), param("W_K2"), param("W_V2"), param("s_num"), param("s_tag")};
  AveragingBatch b{batch.x.to(at::kFloat), batch.length, batch.sep};
  auto fw = averaging_forward(p, b);
  return ToyTrace{{fw.A1.unsqueeze(1), fw.A2.unsqueeze(1)}, {fw.H}, fw.f};
}

static at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& w) {  // x [..., D]
  return x * at::rsqrt(x.pow(2).mean(-1, true) + 1e-6) * w;
}

ToyTrace ToyModel::forward_wide(const AveragingBatch& batch, HookPoints* hooks) const {
  const auto& s = spec_;
  at::Tensor x = batch.x.to(at::kFloat);  // [N, T]
  const int64_t N = x.size(0), T = x.size(1), D = s.d_model, H = s.heads, dh = D / H;
  auto pos = at::arange(T, x.options().dtype(at::kLong)).unsqueeze(0);
  auto is_sep = pos.eq(batch.sep.unsqueeze(1)).unsqueeze(-1);                                   // [N, T, 1]
  auto numbers = x.unsqueeze(-1) * param("embed.number_direction") + param("embed.number_bias");  // [N, T, D]
  at::Tensor h = at::where(is_sep, param("embed.sep").expand({N, T, D}), numbers);
  auto causal = at::ones({T, T}, x.options().dtype(at::kBool)).tril().logical_not();

  ToyTrace trace;
  for (int l = 0; l < s.layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    // Each site's value flows on through hooks->pass: recorded (calibration) and editable
    // (interventions), under the language models' site names and shapes.
    auto site = [&](const char* name, const at::Tensor& t) { return hooks ? hooks->pass(hook_name(l, name), t) : t; };
    at::Tensor a_in = site("ln1_normalized", s.norm ? rms_norm(h, param(p + "attn_norm.weight")) : h);
    auto heads = [&](const char* proj) {  // [N, H, T, dh]
      return at::matmul(a_in, param(p + "attn." + proj + ".weight").t()).view({N, T, H, dh}).transpose(1, 2);
    };
    auto q = heads("q_proj"), k = heads("k_proj"), v = heads("v_proj");
    auto scores = at::matmul(q, k.transpose(2, 3)) / std::sqrt(double(dh));  // [N, H, T, T]
    auto A = site("pattern", at::softmax(scores.masked_fill(causal, -INFINITY), -1));
    auto z = site("z", at::matmul(A, v).transpose(1, 2)).reshape({N, T, D});  // [N, T, H, dh] at the site
    h = h + at::matmul(z, param(p + "attn.o_proj.weight").t());
    if (s.mlp) {
      at::Tensor m_in = site("normalized", s.norm ? rms_norm(h, param(p + "mlp_norm.weight")) : h);
      auto up = site("post", at::gelu(at::matmul(m_in, param(p + "mlp.up_proj.weight").t())));
      h = h + at::matmul(up, param(p + "mlp.down_proj.weight").t());
    }
    h = site("resid_post", h);
    trace.attention.push_back(A);
    trace.resid.push_back(h);
  }
  auto last = (batch.length - 1).view({N, 1, 1}).expand({N, 1, D});
  at::Tensor h_last = h.gather(1, last).squeeze(1);  // [N, D]
  if (s.norm) h_last = rms_norm(h_last, param("final_norm.weight"));
  trace.output = (at::matmul(h_last, param("head.weight").t()) + param("head.bias")).squeeze(-1);
  return trace;
}

std::vector<NamedMatrix> ToyModel::qk_matrices() const {
  if (spec_.is_2d()) return {{"layer1.W_QK", 1, 0, at::matmul(param("W_Q2"), param("W_K2").t())}};
  std::vector<NamedMatrix> out;
  const int64_t dh = spec_.d_model / spec_.heads;
  for (int l = 0; l < spec_.layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".attn.";
    for (int h = 0; h < spec_.heads; ++h) {
      auto wq = param(p + "q_proj.weight").narrow(0, h * dh, dh), wk = param(p + "k_proj.weight").narrow(0, h * dh, dh);
      // score(x_i, x_j) = x_i^T (Wq_h^T Wk_h) x_j: the bilinear form of the head, [D, D], rank <= d_head
      out.push_back({fmt::format("layer{}.head{}.W_QK", l, h), l, h, at::matmul(wq.t(), wk)});
    }
  }
  return out;
}

std::vector<NamedMatrix> ToyModel::value_matrices() const {
  if (spec_.is_2d()) return {{"layer0.W_V", 0, -1, param("W_V1")}, {"layer1.W_V", 1, -1, param("W_V2")}};
  std::vector<NamedMatrix> out;
  for (int l = 0; l < spec_.layers; ++l)
    out.push_back({fmt::format("layer{}.W_V", l), l, -1, param("layers." + std::to_string(l) + ".attn.v_proj.weight")});
  return out;
}

}  // namespace sinklab
