#include "framework/model/model_spec.h"

#include <algorithm>
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
  template <class T>
  T need(const std::string& key) const {
    SINKLAB_INPUT_CHECK(has(key), "'{}' has no '{}'", path_, key);
    return j_[key].get<T>();
  }
  template <class T>
  T get(const std::string& key, T fallback) const {
    return has(key) ? j_[key].get<T>() : fallback;
  }
  const nlohmann::json& object(const std::string& key) const {
    static const nlohmann::json empty = nlohmann::json::object();
    return has(key) && j_[key].is_object() ? j_[key] : empty;
  }

 private:
  const nlohmann::json& j_;
  const std::string& path_;
};

// RoPE's base, rotated fraction and scaling: newer transformers write rope_parameters
// {rope_type, rope_theta, partial_rotary_factor, factor, ...}, older ones top-level keys and a
// rope_scaling object {rope_type (or type), factor, ...} for scaled variants.
void read_rope(const ConfigJson& c, const ConfigKeys& keys, const std::string& path, ModelSpec& s) {
  const nlohmann::json& rope = c.object("rope_parameters");
  s.rope_theta = rope.value("rope_theta", c.get("rope_theta", keys.rope_theta_default));
  s.partial_rotary_factor = rope.value("partial_rotary_factor", c.get("partial_rotary_factor", 1.0));
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
  SINKLAB_INPUT_CHECK(r.type == "default" || r.type == "linear" || r.type == "dynamic" || r.type == "llama3",
                      "'{}': rope_type '{}' is not supported yet ({})", path, r.type, kRopeTypes);
  SINKLAB_INPUT_CHECK(r.factor > 0, "'{}': {}.factor {} must be positive", path, where, r.factor);
  SINKLAB_INPUT_CHECK(s.partial_rotary_factor > 0 && s.partial_rotary_factor <= 1 && s.rotary_dim() % 2 == 0,
                      "'{}': partial_rotary_factor {} must rotate an even number of the {} head dims", path,
                      s.partial_rotary_factor, s.head_dim);
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
  SINKLAB_INPUT_CHECK(s.num_heads > 0 && s.num_kv_heads > 0 && s.num_heads % s.num_kv_heads == 0,
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
  s.norm_eps = c.get(k.norm_eps, k.norm_eps_default);
  s.hidden_act = c.get(k.activation, k.activation_default);
  SINKLAB_INPUT_CHECK(std::find(k.activations.begin(), k.activations.end(), s.hidden_act) != k.activations.end(),
                      "'{}': {} '{}' is not supported for {} ({})", path, k.activation, s.hidden_act, f.model_type,
                      join(k.activations, ", "));
  s.tie_word_embeddings = c.get("tie_word_embeddings", k.tie_default);
  s.attention_bias = c.get(k.attention_bias, false);
  s.mlp_bias = c.get(k.mlp_bias, false);
  for (const auto& flag : k.refused_flags)
    SINKLAB_INPUT_CHECK(!c.get(flag, false), "'{}': {} true is not supported for {} yet", path, flag, f.model_type);
  s.rotary = f.positions == Positions::rotary;
  if (s.rotary) read_rope(c, k, path, s);
  else s.max_positions = c.need<std::int64_t>(k.max_positions);
  if (c.has(k.sliding_window)) s.sliding_window = c.need<std::int64_t>(k.sliding_window);
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

bool computes_site(const ModelSpec& spec, const HookSite& site) {
  switch (site.needs) {
    case SiteNeeds::rotary_positions: return spec.rotary;
    case SiteNeeds::learned_positions: return !spec.rotary;
    case SiteNeeds::gated_mlp: return spec.family && spec.family->mlp == MlpKind::gated;
    case SiteNeeds::qk_norm: return spec.family && spec.family->qk_norm != QkNorm::none;
    case SiteNeeds::nothing: break;
  }
  return true;
}

}  // namespace sinklab
