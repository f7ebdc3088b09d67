#include "framework/model/model_spec.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "framework/hooks/hook_sites.h"
#include "framework/io/atomic_file.h"
#include "framework/model/family.h"
#include "framework/model/families/registry.h"
#include "framework/util/error.h"
#include "framework/util/strings.h"

namespace sinklab {
namespace {

// config.json read through a family's key names. A null value counts as absent: transformers
// writes null for "the default".
class ConfigJson {
 public:
  ConfigJson(const nlohmann::json& j, const std::string& path) : j_(j), path_(path) {}
  bool has(const std::string& key) const { return !key.empty() && j_.contains(key) && !j_[key].is_null(); }
  bool is_null(const std::string& key) const { return !key.empty() && j_.contains(key) && j_[key].is_null(); }
  template <class T>
  T need(const std::string& key) const {
    SINKLAB_INPUT_CHECK(has(key), "'{}' has no '{}'", path_, key);
    return j_[key].get<T>();
  }
  template <class T>
  T get(const std::string& key, T fallback) const {
    return has(key) ? j_[key].get<T>() : fallback;
  }
  // A value whose default applies when the key is absent and which an explicit null switches off.
  std::optional<double> optional(const std::string& key, std::optional<double> absent) const {
    if (is_null(key)) return std::nullopt;
    return has(key) ? std::optional<double>(j_[key].get<double>()) : absent;
  }
  const nlohmann::json& raw(const std::string& key) const { return j_[key]; }
  const nlohmann::json& object(const std::string& key) const {
    static const nlohmann::json empty = nlohmann::json::object();
    return has(key) && j_[key].is_object() ? j_[key] : empty;
  }

 private:
  const nlohmann::json& j_;
  const std::string& path_;
};

// longrope, as transformers' _compute_longrope_parameters: a divisor per frequency, short ones
// up to original_max_position_embeddings tokens and long ones beyond, and cos / sin scaled by
// sqrt(1 + ln(factor) / ln(original)) with factor = max_position_embeddings / original (unless
// attention_factor is given).
void read_longrope(const ConfigJson& c, const nlohmann::json& scaling, const std::string& where, const std::string& path,
                   ModelSpec& s) {
  RopeScaling& r = s.rope_scaling;
  const std::size_t half = std::size_t(s.rotary_dim() / 2);
  for (const auto& [key, out] : {std::pair<const char*, std::vector<double>*>{"short_factor", &r.short_factor},
                                 {"long_factor", &r.long_factor}}) {
    SINKLAB_INPUT_CHECK(scaling.contains(key) && scaling[key].is_array() && scaling[key].size() == half,
                        "'{}': longrope needs {}.{} with {} numbers (rotary dims / 2)", path, where, key, half);
    for (const auto& v : scaling[key]) {
      SINKLAB_INPUT_CHECK(v.is_number() && v.get<double>() > 0, "'{}': {}.{} holds a non-positive or non-number value",
                          path, where, key);
      out->push_back(v.get<double>());
    }
  }
  const std::int64_t max_positions = c.need<std::int64_t>("max_position_embeddings");
  r.original_max_positions = c.has("original_max_position_embeddings")
                                 ? c.need<std::int64_t>("original_max_position_embeddings")
                                 : scaling.value("original_max_position_embeddings", max_positions);
  double factor = c.has("original_max_position_embeddings") ? double(max_positions) / double(r.original_max_positions)
                                                            : scaling.value("factor", 1.0);
  r.factor = factor;
  if (scaling.contains("attention_factor") && scaling["attention_factor"].is_number())
    r.attention_factor = scaling["attention_factor"].get<double>();
  else
    r.attention_factor = factor <= 1.0 ? 1.0 : std::sqrt(1.0 + std::log(factor) / std::log(double(r.original_max_positions)));
}

// RoPE's base, rotated fraction and scaling: newer transformers write rope_parameters
// {rope_type, rope_theta, partial_rotary_factor, factor, ...}, older ones top-level keys and a
// rope_scaling object {rope_type (or type), factor, ...} for scaled variants.
void read_rope(const ConfigJson& c, const ConfigKeys& keys, const std::string& path, ModelSpec& s) {
  // Gemma 3 in newer transformers: one parameter set per layer type.
  const nlohmann::json& params = c.object("rope_parameters");
  const bool per_type = params.contains("full_attention") && params["full_attention"].is_object();
  const nlohmann::json& rope = per_type ? params["full_attention"] : params;
  if (per_type && params.contains("sliding_attention") && params["sliding_attention"].is_object())
    s.rope_local_theta = params["sliding_attention"].value("rope_theta", 10000.0);
  s.rope_theta = rope.value("rope_theta", c.get("rope_theta", c.get(keys.rope_theta_alias, keys.rope_theta_default)));
  s.partial_rotary_factor = rope.value(
      "partial_rotary_factor", c.get("partial_rotary_factor", c.get(keys.partial_rotary_alias, keys.partial_rotary_default)));
  const nlohmann::json& scaling = rope.contains("rope_type") ? rope : c.object("rope_scaling");
  RopeScaling& r = s.rope_scaling;
  r.type = scaling.value("rope_type", scaling.value("type", std::string("default")));
  const std::string where = &scaling == &rope ? "rope_parameters" : "rope_scaling";
  auto need = [&](const char* key) {
    SINKLAB_INPUT_CHECK(scaling.contains(key) && scaling[key].is_number(), "'{}': rope_type '{}' needs {}.{}", path,
                        r.type, where, key);
    return scaling[key].get<double>();
  };
  if (r.type == "linear" || r.type == "dynamic" || r.type == "llama3") r.factor = need("factor");
  if (r.type == "llama3") {
    r.low_freq_factor = need("low_freq_factor");
    r.high_freq_factor = need("high_freq_factor");
    r.original_max_positions = std::int64_t(need("original_max_position_embeddings"));
    SINKLAB_INPUT_CHECK(r.high_freq_factor > r.low_freq_factor && r.low_freq_factor > 0,
                        "'{}': llama3 rope needs high_freq_factor > low_freq_factor > 0 (got {} and {})", path,
                        r.high_freq_factor, r.low_freq_factor);
  }
  if (r.type == "dynamic") r.max_positions = c.need<std::int64_t>("max_position_embeddings");
  if (r.type == "longrope") read_longrope(c, scaling, where, path, s);
  SINKLAB_INPUT_CHECK(r.type == "default" || r.type == "linear" || r.type == "dynamic" || r.type == "llama3" ||
                          r.type == "longrope",
                      "'{}': rope_type '{}' is not supported yet ({})", path, r.type, kRopeTypes);
  SINKLAB_INPUT_CHECK(r.factor > 0, "'{}': {}.factor {} must be positive", path, where, r.factor);
  SINKLAB_INPUT_CHECK(s.partial_rotary_factor > 0 && s.partial_rotary_factor <= 1 && s.rotary_dim() % 2 == 0,
                      "'{}': partial_rotary_factor {} must rotate an even number of the {} head dims", path,
                      s.partial_rotary_factor, s.head_dim);
}

// The attention window and which layers use it: config.json's layer_types list
// ("sliding_attention" / "full_attention", newer transformers) when it has one, else the family's
// rule. Qwen2/3 slide only with use_sliding_window, from max_window_layers (default 28) on.
void read_sliding_window(const ConfigJson& c, const Family& f, const std::string& path, ModelSpec& s) {
  const ConfigKeys& k = f.config;
  if (!c.has(k.sliding_window)) return;
  if (k.sliding_layers == SlidingLayers::from_max_window_layers && !c.get("use_sliding_window", false)) return;
  const std::int64_t window = c.need<std::int64_t>(k.sliding_window);
  SINKLAB_INPUT_CHECK(window > 0, "'{}': {} must be positive (or null: no window), got {}", path, k.sliding_window, window);
  s.sliding_window = window;
  const auto L = std::size_t(s.num_layers);
  s.sliding_layers.assign(L, true);
  if (c.has("layer_types")) {
    const nlohmann::json& types = c.raw("layer_types");
    SINKLAB_INPUT_CHECK(types.is_array() && types.size() == L, "'{}': layer_types must list {} layers", path, L);
    for (std::size_t l = 0; l < L; ++l) {
      const std::string t = types[l].is_string() ? types[l].get<std::string>() : "";
      SINKLAB_INPUT_CHECK(t == "sliding_attention" || t == "full_attention",
                          "'{}': layer_types[{}] is '{}', expected sliding_attention or full_attention", path, l, t);
      s.sliding_layers[l] = t == "sliding_attention";
    }
    return;
  }
  const std::int64_t from = c.get<std::int64_t>("max_window_layers", 28), every = c.get<std::int64_t>("sliding_window_pattern", 6);
  SINKLAB_INPUT_CHECK(every > 0, "'{}': sliding_window_pattern must be positive, got {}", path, every);
  for (std::size_t l = 0; l < L; ++l) {
    const auto i = std::int64_t(l);
    switch (k.sliding_layers) {
      case SlidingLayers::all: break;
      case SlidingLayers::from_max_window_layers: s.sliding_layers[l] = i >= from; break;
      case SlidingLayers::even: s.sliding_layers[l] = i % 2 == 0; break;
      case SlidingLayers::all_but_every_nth: s.sliding_layers[l] = (i + 1) % every != 0; break;
    }
  }
}

ModelSpec read_spec(const ConfigJson& c, const Family& f, const std::string& path) {
  const ConfigKeys& k = f.config;
  ModelSpec s;
  s.family = &f;
  s.model_type = f.model_type;
  s.vocab_size = c.need<std::int64_t>("vocab_size");
  s.hidden_size = c.need<std::int64_t>(k.hidden_size);
  s.num_layers = c.need<std::int64_t>(k.num_layers);
  s.num_heads = c.need<std::int64_t>(k.num_heads);
  s.num_kv_heads = c.get(k.num_kv_heads, s.num_heads);
  // Every size a shape is made of: positive (a zero divides, a negative wraps into huge shapes).
  auto positive = [&](const std::string& key, std::int64_t value) {
    SINKLAB_INPUT_CHECK(value > 0, "'{}': {} must be a positive integer, got {}", path, key, value);
  };
  positive("vocab_size", s.vocab_size);
  positive(k.hidden_size, s.hidden_size);
  positive(k.num_layers, s.num_layers);
  positive(k.num_heads, s.num_heads);
  positive(k.num_kv_heads.empty() ? "the key/value heads" : k.num_kv_heads, s.num_kv_heads);
  SINKLAB_INPUT_CHECK(s.num_heads % s.num_kv_heads == 0,
                      "'{}': {} ({}) must be a multiple of {} ({})", path, k.num_heads, s.num_heads,
                      k.num_kv_heads.empty() ? "the key/value heads" : k.num_kv_heads, s.num_kv_heads);
  if (c.has(k.head_dim)) {
    s.head_dim = c.need<std::int64_t>(k.head_dim);
  } else {
    SINKLAB_INPUT_CHECK(s.hidden_size % s.num_heads == 0, "'{}': {} ({}) is not a multiple of {} ({})", path,
                        k.hidden_size, s.hidden_size, k.num_heads, s.num_heads);
    s.head_dim = s.hidden_size / s.num_heads;
  }
  s.intermediate_size = k.intermediate_factor > 0 ? c.get(k.intermediate_size, k.intermediate_factor * s.hidden_size)
                                                  : c.need<std::int64_t>(k.intermediate_size);
  positive(k.head_dim.empty() ? "head_dim" : k.head_dim, s.head_dim);
  positive(k.intermediate_size, s.intermediate_size);
  s.norm_eps = c.get(k.norm_eps, k.norm_eps_default);
  SINKLAB_INPUT_CHECK(std::isfinite(s.norm_eps) && s.norm_eps >= 0, "'{}': {} must be >= 0, got {}", path, k.norm_eps,
                      s.norm_eps);
  s.hidden_act = c.get(k.activation, k.activation_default);
  SINKLAB_INPUT_CHECK(std::find(k.activations.begin(), k.activations.end(), s.hidden_act) != k.activations.end(),
                      "'{}': {} '{}' is not supported for {} ({})", path, k.activation, s.hidden_act, f.model_type,
                      join(k.activations, ", "));
  s.tie_word_embeddings = c.get("tie_word_embeddings", k.tie_default);
  s.attention_bias = c.get(k.attention_bias, k.attention_bias_default);
  s.mlp_bias = c.get(k.mlp_bias, false);
  for (const auto& flag : k.refused_flags)
    SINKLAB_INPUT_CHECK(!c.get(flag, false), "'{}': {} true is not supported for {} yet", path, flag, f.model_type);
  s.rotary = f.positions == Positions::rotary;
  if (s.rotary) {
    read_rope(c, k, path, s);
    SINKLAB_INPUT_CHECK(std::isfinite(s.rope_theta) && s.rope_theta > 0, "'{}': the RoPE base rope_theta must be positive, got {}",
                        path, s.rope_theta);
  } else {
    s.max_positions = c.need<std::int64_t>(k.max_positions);
    positive(k.max_positions, s.max_positions);
  }
  s.context_length = s.rotary ? c.get<std::int64_t>("max_position_embeddings", 0) : s.max_positions;
  read_sliding_window(c, f, path, s);
  if (!k.rope_local_theta.empty() && s.rope_local_theta == 0) s.rope_local_theta = c.get(k.rope_local_theta, 10000.0);
  SINKLAB_INPUT_CHECK(k.rope_local_theta.empty() || (std::isfinite(s.rope_local_theta) && s.rope_local_theta > 0),
                      "'{}': {} must be positive, got {}", path, k.rope_local_theta, s.rope_local_theta);
  if (c.has(k.query_scale)) s.query_pre_attn_scalar = c.need<double>(k.query_scale);
  s.attn_softcap = c.optional(k.attn_softcap, k.attn_softcap_default);
  s.final_softcap = c.optional(k.final_softcap, k.final_softcap_default);
  for (const auto& [name, cap] : {std::pair<const std::string&, const std::optional<double>&>{k.attn_softcap, s.attn_softcap},
                                  {k.final_softcap, s.final_softcap}})
    SINKLAB_INPUT_CHECK(!cap || *cap > 0, "'{}': {} must be positive (or null: none), got {}", path, name, *cap);
  SINKLAB_INPUT_CHECK(s.query_pre_attn_scalar >= 0, "'{}': {} must be positive, got {}", path, k.query_scale,
                      s.query_pre_attn_scalar);
  s.parallel_residual = !k.parallel_residual.empty() && c.get(k.parallel_residual, true);
  return s;
}

}  // namespace

ModelSpec ModelSpec::from_config_json(const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("'{}' is not valid JSON: {}", path, e.what()));
  }
  const ConfigJson c(j, path);
  try {
    const std::string type = c.need<std::string>("model_type");
    const Family* family = nullptr;
    try {
      family = &find_family(type);
    } catch (const InputError& e) {
      throw InputError(fmt::format("'{}': {}", path, e.what()));
    }
    return read_spec(c, *family, path);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("'{}': a field has the wrong type: {}", path, e.what()));
  }
}

double ModelSpec::attention_scale() const {
  return 1.0 / std::sqrt(query_pre_attn_scalar > 0 ? query_pre_attn_scalar : double(head_dim));
}

bool computes_site(const ModelSpec& spec, const HookSite& site) {
  switch (site.needs) {
    case SiteNeeds::rotary_positions: return spec.rotary;
    case SiteNeeds::learned_positions: return !spec.rotary;
    case SiteNeeds::gated_mlp: return spec.family && spec.family->mlp == MlpKind::gated;
    case SiteNeeds::qk_norm: return spec.family && spec.family->qk_norm != QkNorm::none;
    case SiteNeeds::sequential_residual: return !spec.parallel_residual;
    case SiteNeeds::nothing: break;
  }
  return true;
}

}  // namespace sinklab
