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

TransformerLM TransformerLM::load(const std::string& dir, at::ScalarType dtype, double convert_whole_below) {
  TransformerLM m;
  m.spec_ = ModelSpec::from_config_json((std::filesystem::path(dir) / "config.json").string());
  m.dtype_ = dtype;
  const Family& f = m.family();
  CheckpointDir ckpt(dir);
  const std::vector<CheckpointTensor> layout = checkpoint_layout(f, m.spec_);
  const std::string& prefix = f.optional_prefix, &first = layout.front().name;
  m.drop_prefix_ = !prefix.empty() && !ckpt.has(first) && starts_with(first, prefix) && ckpt.has(first.substr(prefix.size()));
  m.check_shapes(ckpt, layout);
  m.block_tensors_.assign(std::size_t(m.spec_.num_layers), {});
  for (const auto& t : layout) {
    const std::string name = m.stored_name(t.name);
    const at::ScalarType file_dtype = ckpt.tensor(name).scalar_type();
    m.index_[name] = m.stored_.size();
    if (t.layer >= 0) m.block_tensors_[std::size_t(t.layer)].push_back(m.stored_.size());
    m.stored_.push_back({name, ckpt.tensor(name, t.shape, file_dtype), at::Tensor(), file_dtype, t.layer});  // no copy
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
  m.blocks_.assign(std::size_t(m.spec_.num_layers), Block{});
  m.resident_.assign(std::size_t(m.spec_.num_layers), false);
  double converted = 0;  // bytes of the blocks' copies in the compute dtype (0: they are the mapping)
  for (const auto& s : m.stored_)
    if (s.layer >= 0 && s.file_dtype != dtype) converted += double(s.mapped.numel()) * double(c10::elementSize(dtype));
  m.convert_whole_ = converted < convert_whole_below || converted == 0;
  m.bind_outside();
  if (m.convert_whole_)
    for (std::int64_t l = 0; l < m.spec_.num_layers; ++l) m.make_resident(l);
  return m;
}

std::string TransformerLM::stored_name(const std::string& family_name) const {
  const std::string& prefix = family().optional_prefix;
  return drop_prefix_ && starts_with(family_name, prefix) ? family_name.substr(prefix.size()) : family_name;
}

at::Tensor TransformerLM::compute_form(const at::Tensor& mapped) const {
  return mapped.to(device_, dtype_);  // the mapping itself when dtype and device are the file's
}

at::Tensor TransformerLM::weight_view(const Lookup& find, Role role, std::int64_t layer) const {
  const Family& f = family();
  const LinearMap* lin = f.linear(role);
  SINKLAB_CHECK(lin, "{} has no linear map {}", f.model_type, role_name(role));
  at::Tensor w;  // as stored: [out, in], or [in, out] in Conv1D layout
  if (const FusedMap* fused = f.fused_with(role)) {
    const std::int64_t out_axis = f.layout == Layout::conv1d ? 1 : 0;
    w = find(stored_name(layer_name(fused->name, layer) + ".weight"))
            .narrow(out_axis, part_offset(*fused, role, spec_), role_shape(role, spec_)[0]);
  } else {
    w = find(stored_name(layer_name(lin->name, layer) + ".weight"));
  }
  return f.layout == Layout::conv1d ? w.t() : w;
}

at::Tensor TransformerLM::bias_view(const Lookup& find, Role role, std::int64_t layer) const {
  const Family& f = family();
  if (!f.has_bias(role, spec_)) return at::Tensor();
  if (const FusedMap* fused = f.fused_with(role))
    return find(stored_name(layer_name(fused->name, layer) + ".bias"))
        .narrow(0, part_offset(*fused, role, spec_), role_shape(role, spec_)[0]);
  return find(stored_name(layer_name(f.linear(role)->name, layer) + ".bias"));
}

TransformerLM::Block TransformerLM::bind_block(const Lookup& find, std::int64_t l) const {
  const Family& f = family();
  auto whole = [&](Role role, const char* suffix) { return find(stored_name(layer_name(f.tensor(role)->name, l) + suffix)); };
  auto norm = [&](Role role) {
    return Norm{whole(role, ".weight"), f.norm == NormKind::layer ? whole(role, ".bias") : at::Tensor()};
  };
  auto linear = [&](Role role) { return f.linear(role) ? Linear{weight_view(find, role, l), bias_view(find, role, l)} : Linear{}; };
  auto norm_if_named = [&](Role role) { return f.tensor(role) ? norm(role) : Norm{}; };
  Block b;
  b.attn_norm = norm_if_named(Role::attn_norm);
  b.mlp_norm = norm_if_named(Role::mlp_norm);
  b.post_attn_norm = norm_if_named(Role::post_attn_norm);
  b.post_mlp_norm = norm_if_named(Role::post_mlp_norm);
  if (f.qk_norm != QkNorm::none) {
    b.q_norm = Norm{whole(Role::q_norm, ".weight"), at::Tensor()};
    b.k_norm = Norm{whole(Role::k_norm, ".weight"), at::Tensor()};
  }
  b.qkv = linear(Role::qkv);
  b.q = linear(Role::q);
  b.k = linear(Role::k);
  b.v = linear(Role::v);
  b.o = linear(Role::o);
  b.mlp_in = linear(Role::mlp_in);
  b.mlp_up = linear(Role::mlp_up);
  b.mlp_out = linear(Role::mlp_out);
  return b;
}

const at::Tensor& TransformerLM::resident(const std::string& name) const {
  auto it = index_.find(name);
  SINKLAB_CHECK(it != index_.end() && stored_[it->second].resident.defined(), "{} model holds no resident tensor '{}'",
                spec_.model_type, name);
  return stored_[it->second].resident;
}

void TransformerLM::bind_outside() {
  const Family& f = family();
  for (auto& s : stored_)
    if (s.layer == -1) s.resident = compute_form(s.mapped);
  const Lookup find = resident_lookup();
  auto whole = [&](Role role, const char* suffix = ".weight") {
    return find(stored_name(layer_name(f.tensor(role)->name, 0) + suffix));
  };
  token_embed_ = whole(Role::token_embed);
  pos_embed_ = f.positions == Positions::learned ? whole(Role::pos_embed) : at::Tensor();
  final_norm_ = {whole(Role::final_norm), f.norm == NormKind::layer ? whole(Role::final_norm, ".bias") : at::Tensor()};
  lm_head_ = spec_.tie_word_embeddings ? token_embed_ : whole(Role::lm_head);
}

const TransformerLM::Block& TransformerLM::weights(std::int64_t layer, Block& scratch) const {
  if (resident_[std::size_t(layer)]) return blocks_[std::size_t(layer)];
  std::map<std::string, at::Tensor> converted;  // this block's tensors, for this use only
  for (std::size_t i : block_tensors_[std::size_t(layer)]) converted[stored_[i].name] = compute_form(stored_[i].mapped);
  scratch = bind_block([&](const std::string& name) -> const at::Tensor& { return converted.at(name); }, layer);
  return scratch;  // its views keep the converted storage alive
}

void TransformerLM::make_resident(std::int64_t layer) {
  if (resident_[std::size_t(layer)]) return;
  for (std::size_t i : block_tensors_[std::size_t(layer)]) stored_[i].resident = compute_form(stored_[i].mapped);
  blocks_[std::size_t(layer)] = bind_block(resident_lookup(), layer);
  resident_[std::size_t(layer)] = true;
}

void TransformerLM::evict(std::int64_t layer) {
  for (std::size_t i : block_tensors_[std::size_t(layer)]) stored_[i].resident = at::Tensor();
  blocks_[std::size_t(layer)] = Block{};
  resident_[std::size_t(layer)] = false;
}

void TransformerLM::to(c10::Device device, bool offload_blocks) {
  // Edited blocks keep their edits: they move as they are, the others start again from the file.
  std::vector<bool> edited = resident_;
  std::vector<std::vector<at::Tensor>> kept(resident_.size());
  for (std::int64_t l = 0; l < spec_.num_layers; ++l)
    if (edited[std::size_t(l)])
      for (std::size_t i : block_tensors_[std::size_t(l)]) kept[std::size_t(l)].push_back(stored_[i].resident.to(device));
  device_ = device;
  bind_outside();
  const bool all_resident = !offload_blocks && (!device.is_cpu() || convert_whole_);
  for (std::int64_t l = 0; l < spec_.num_layers; ++l) {
    evict(l);
    if (!all_resident && !edited[std::size_t(l)]) continue;
    make_resident(l);
    if (edited[std::size_t(l)]) {
      std::size_t j = 0;
      for (std::size_t i : block_tensors_[std::size_t(l)]) stored_[i].resident.copy_(kept[std::size_t(l)][j++]);
    }
  }
}

void TransformerLM::check_layer(std::int64_t layer) const {
  SINKLAB_INPUT_CHECK(layer >= 0 && layer < spec_.num_layers, "layer {} does not exist: the model has layers 0..{}",
                      layer, spec_.num_layers - 1);
}

AttentionWeights TransformerLM::attention_weights(std::int64_t layer) const {
  check_layer(layer);
  Block scratch;
  const Block& b = weights(layer, scratch);
  if (b.qkv.weight.defined()) {  // GPT-NeoX: rows [H, 3, hd] -> q, k, v [H*hd, D] each (copies)
    const std::int64_t H = spec_.num_heads, hd = spec_.head_dim;
    auto parts = b.qkv.weight.view({H, 3, hd, spec_.hidden_size});
    auto part = [&](std::int64_t j) { return parts.select(1, j).reshape({H * hd, spec_.hidden_size}); };
    return {part(0), part(1), part(2), b.o.weight};
  }
  return {b.q.weight, b.k.weight, b.v.weight, b.o.weight};
}

std::vector<LinearLayer> TransformerLM::linear_layers(std::int64_t layer) {
  check_layer(layer);
  make_resident(layer);  // edits must last: they write into the resident copy
  const Lookup find = resident_lookup();
  std::vector<LinearLayer> out;
  for (const auto& lin : family().linears)
    out.push_back({stored_name(layer_name(lin.name, layer)), lin.kind, weight_view(find, lin.role, layer),
                   hook_name(int(layer), input_site(lin.role))});
  return out;
}

namespace {
// A stored tensor as the checkpoint holds it: its (edited) resident copy or the mapping.
at::Tensor as_saved(const at::Tensor& resident, const at::Tensor& mapped, at::ScalarType file_dtype) {
  return resident.defined() ? resident.to(at::kCPU).to(file_dtype) : mapped;
}
}  // namespace

std::vector<std::pair<std::string, at::Tensor>> TransformerLM::checkpoint_tensors() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& s : stored_) out.emplace_back(s.name, as_saved(s.resident, s.mapped, s.file_dtype));
  return out;
}

std::vector<std::pair<std::string, at::Tensor>> TransformerLM::checkpoint_tensors(std::int64_t layer) const {
  if (layer != -1) check_layer(layer);
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& s : stored_)
    if (s.layer == layer) out.emplace_back(s.name, as_saved(s.resident, s.mapped, s.file_dtype));
  return out;
}

void TransformerLM::assign_checkpoint_tensors(const std::vector<std::pair<std::string, at::Tensor>>& tensors) {
  for (const auto& [name, t] : tensors) {
    auto it = index_.find(name);
    SINKLAB_INPUT_CHECK(it != index_.end(), "a {} model has no tensor '{}'", spec_.model_type, name);
    Stored& dst = stored_[it->second];
    SINKLAB_INPUT_CHECK(dst.mapped.sizes() == t.sizes(), "tensor '{}' is [{}], the model's is [{}]", name,
                        fmt::join(t.sizes(), ", "), fmt::join(dst.mapped.sizes(), ", "));
    if (dst.layer >= 0) make_resident(dst.layer);
    dst.resident.copy_(t);  // in place: the views the block computes with see it
  }
}

std::size_t TransformerLM::release_block_memory(std::int64_t layer) {
  check_layer(layer);
  std::size_t released = 0;
  for (std::size_t i : block_tensors_[std::size_t(layer)]) {
    const Stored& s = stored_[i];
    released += discard_mapped_writes(s.mapped);  // edits written into the mapping's pages
    if (s.resident.defined() && !s.resident.is_same(s.mapped)) released += s.resident.nbytes();  // a converted copy
  }
  evict(layer);
  return released;
}

}  // namespace sinklab
