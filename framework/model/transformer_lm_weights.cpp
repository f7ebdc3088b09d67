// TransformerLM's weights: loading a checkpoint as it is stored, the [out, in] views the block
// computes with, moving, and handing the stored tensors back for saving.
#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "framework/io/checkpoint_dir.h"
#include "framework/io/safetensors.h"
#include "framework/model/transformer_lm.h"
#include "framework/util/error.h"
#include "framework/util/log.h"
#include "framework/util/strings.h"

namespace sinklab {
namespace {

// Where `role` starts along its fused tensor's output axis.
std::int64_t part_offset(const FusedMap& fused, Role role, const ModelSpec& spec) {
  std::int64_t offset = 0;
  for (Role part : fused.parts) {
    if (part == role) break;
    offset += role_shape(part, spec)[0];
  }
  return offset;
}

// The hook site whose value is a linear map's input (pruning's calibration statistics).
const char* input_site(Role role) {
  switch (role) {
    case Role::o: return "z";
    case Role::mlp_in:
    case Role::mlp_up: return "normalized";
    case Role::mlp_out: return "post";
    default: return "ln1_normalized";  // q, k, v
  }
}

}  // namespace

// Every shape is checked before any tensor is converted, and all mismatches are named at once: a
// wrong config.json size usually shows in several tensors, and which ones tells which size it is.
void TransformerLM::check_shapes(const CheckpointDir& ckpt, const std::vector<CheckpointTensor>& layout) const {
  std::vector<std::string> wrong;
  for (const auto& t : layout) {
    const std::string name = stored_name(t.name);
    if (!ckpt.has(name)) continue;  // loading names it, with the closest names the checkpoint has
    const auto& shape = ckpt.info(name).shape;
    if (shape != t.shape)
      wrong.push_back(fmt::format("tensor '{}' has shape [{}], config.json implies [{}]", name, fmt::join(shape, ", "),
                                  fmt::join(t.shape, ", ")));
  }
  if (wrong.empty()) return;
  const std::size_t shown = std::min<std::size_t>(wrong.size(), 4);
  throw InputError(fmt::format("{}: {}{}", ckpt.dir(), join({wrong.begin(), wrong.begin() + std::ptrdiff_t(shown)}, "; "),
                               wrong.size() > shown ? fmt::format("; and {} more", wrong.size() - shown) : ""));
}

TransformerLM TransformerLM::load(const std::string& dir, at::ScalarType dtype) {
  TransformerLM m;
  m.spec_ = ModelSpec::from_config_json((std::filesystem::path(dir) / "config.json").string());
  const Family& f = m.family();
  CheckpointDir ckpt(dir);
  const std::vector<CheckpointTensor> layout = checkpoint_layout(f, m.spec_);
  const std::string& prefix = f.optional_prefix, &first = layout.front().name;
  m.drop_prefix_ = !prefix.empty() && !ckpt.has(first) && starts_with(first, prefix) && ckpt.has(first.substr(prefix.size()));
  m.check_shapes(ckpt, layout);
  for (const auto& t : layout) {
    const std::string name = m.stored_name(t.name);
    const at::ScalarType file_dtype = ckpt.tensor(name).scalar_type();  // a view of the mapping, no copy
    m.index_[name] = m.stored_.size();
    m.stored_.push_back({name, ckpt.tensor(name, t.shape, dtype), file_dtype, t.layer});
  }
  std::set<std::string> ignorable;
  for (const auto& pattern : f.ignored)
    for (std::int64_t l = 0; l < m.spec_.num_layers; ++l) ignorable.insert(m.stored_name(layer_name(pattern, l)));
  if (m.spec_.tie_word_embeddings)  // some checkpoints store the tied head too; transformers ignores it
    ignorable.insert(m.stored_name(f.tensor(Role::lm_head)->name + ".weight"));
  std::vector<std::string> unused;
  for (const auto& n : ckpt.unused())
    if (!ignorable.count(n)) unused.push_back(n);
  if (!unused.empty())
    log::warn("{}: {} tensors not used by a {} model: {}", dir, unused.size(), f.model_type, join(unused, ", "));
  m.bind_views();
  return m;
}

std::string TransformerLM::stored_name(const std::string& family_name) const {
  const std::string& prefix = family().optional_prefix;
  return drop_prefix_ && starts_with(family_name, prefix) ? family_name.substr(prefix.size()) : family_name;
}

const at::Tensor& TransformerLM::stored(const std::string& name) const {
  auto it = index_.find(name);
  SINKLAB_CHECK(it != index_.end(), "{} model holds no tensor '{}'", spec_.model_type, name);
  return stored_[it->second].tensor;
}

at::Tensor TransformerLM::weight_view(Role role, std::int64_t layer) const {
  const Family& f = family();
  const LinearMap* lin = f.linear(role);
  SINKLAB_CHECK(lin, "{} has no linear map {}", f.model_type, role_name(role));
  at::Tensor w;  // as stored: [out, in], or [in, out] in Conv1D layout
  if (const FusedMap* fused = f.fused_with(role)) {
    const std::int64_t out_axis = f.layout == Layout::conv1d ? 1 : 0;
    w = stored(stored_name(layer_name(fused->name, layer) + ".weight"))
            .narrow(out_axis, part_offset(*fused, role, spec_), role_shape(role, spec_)[0]);
  } else {
    w = stored(stored_name(layer_name(lin->name, layer) + ".weight"));
  }
  return f.layout == Layout::conv1d ? w.t() : w;
}

at::Tensor TransformerLM::bias_view(Role role, std::int64_t layer) const {
  const Family& f = family();
  if (!f.has_bias(role, spec_)) return at::Tensor();
  if (const FusedMap* fused = f.fused_with(role))
    return stored(stored_name(layer_name(fused->name, layer) + ".bias"))
        .narrow(0, part_offset(*fused, role, spec_), role_shape(role, spec_)[0]);
  return stored(stored_name(layer_name(f.linear(role)->name, layer) + ".bias"));
}

void TransformerLM::bind_views() {
  const Family& f = family();
  auto whole = [&](Role role, std::int64_t layer, const char* suffix) {
    return stored(stored_name(layer_name(f.tensor(role)->name, layer) + suffix));
  };
  auto norm = [&](Role role, std::int64_t layer) {
    return Norm{whole(role, layer, ".weight"), f.norm == NormKind::layer ? whole(role, layer, ".bias") : at::Tensor()};
  };
  auto linear = [&](Role role, std::int64_t layer) {
    return f.linear(role) ? Linear{weight_view(role, layer), bias_view(role, layer)} : Linear{};
  };
  token_embed_ = whole(Role::token_embed, 0, ".weight");
  pos_embed_ = f.positions == Positions::learned ? whole(Role::pos_embed, 0, ".weight") : at::Tensor();
  final_norm_ = norm(Role::final_norm, 0);
  lm_head_ = spec_.tie_word_embeddings ? token_embed_ : whole(Role::lm_head, 0, ".weight");
  blocks_.clear();
  for (std::int64_t l = 0; l < spec_.num_layers; ++l) {
    Block b;
    b.attn_norm = norm(Role::attn_norm, l);
    b.mlp_norm = norm(Role::mlp_norm, l);
    b.q = linear(Role::q, l);
    b.k = linear(Role::k, l);
    b.v = linear(Role::v, l);
    b.o = linear(Role::o, l);
    b.mlp_in = linear(Role::mlp_in, l);
    b.mlp_up = linear(Role::mlp_up, l);
    b.mlp_out = linear(Role::mlp_out, l);
    blocks_.push_back(std::move(b));
  }
}

void TransformerLM::to(c10::Device device) {
  for (auto& s : stored_) s.tensor = s.tensor.to(device);
  bind_views();  // the old views still point at the old device's storage
}

void TransformerLM::check_layer(std::int64_t layer) const {
  SINKLAB_INPUT_CHECK(layer >= 0 && layer < spec_.num_layers, "layer {} does not exist: the model has layers 0..{}",
                      layer, spec_.num_layers - 1);
}

AttentionWeights TransformerLM::attention_weights(std::int64_t layer) const {
  check_layer(layer);
  const Block& b = blocks_[std::size_t(layer)];
  return {b.q.weight, b.k.weight, b.v.weight, b.o.weight};
}

std::vector<LinearLayer> TransformerLM::linear_layers(std::int64_t layer) {
  check_layer(layer);
  std::vector<LinearLayer> out;
  for (const auto& lin : family().linears)
    out.push_back({stored_name(layer_name(lin.name, layer)), lin.kind, weight_view(lin.role, layer),
                   hook_name(int(layer), input_site(lin.role))});
  return out;
}

std::vector<std::pair<std::string, at::Tensor>> TransformerLM::checkpoint_tensors() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& s : stored_) out.emplace_back(s.name, s.tensor.to(s.file_dtype));
  return out;
}

std::vector<std::pair<std::string, at::Tensor>> TransformerLM::checkpoint_tensors(std::int64_t layer) const {
  if (layer != -1) check_layer(layer);
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& s : stored_)
    if (s.layer == layer) out.emplace_back(s.name, s.tensor.to(s.file_dtype));
  return out;
}

void TransformerLM::assign_checkpoint_tensors(const std::vector<std::pair<std::string, at::Tensor>>& tensors) {
  for (const auto& [name, t] : tensors) {
    auto it = index_.find(name);
    SINKLAB_INPUT_CHECK(it != index_.end(), "a {} model has no tensor '{}'", spec_.model_type, name);
    at::Tensor& dst = stored_[it->second].tensor;
    SINKLAB_INPUT_CHECK(dst.sizes() == t.sizes(), "tensor '{}' is [{}], the model's is [{}]", name,
                        fmt::join(t.sizes(), ", "), fmt::join(dst.sizes(), ", "));
    dst.copy_(t);  // in place: the views the block computes with see it
  }
}

std::size_t TransformerLM::release_block_memory(std::int64_t layer) {
  check_layer(layer);
  std::size_t released = 0;
  for (const auto& s : stored_)
    if (s.layer == layer) released += discard_mapped_writes(s.tensor);
  return released;
}

}  // namespace sinklab
