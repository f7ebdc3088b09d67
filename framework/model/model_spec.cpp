#include "framework/model/model_spec.h"

#include <nlohmann/json.hpp>

#include "framework/io/atomic_file.h"
#include "framework/util/error.h"
#include "framework/util/strings.h"

namespace sinklab {

const std::vector<std::string>& ModelSpec::supported_types() {
  static const std::vector<std::string> types{"llama", "mistral", "qwen2", "phi3", "gpt2"};
  return types;
}

ModelSpec ModelSpec::from_config_json(const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("'{}' is not valid JSON: {}", path, e.what()));
  }
  ModelSpec s;
  auto need = [&](const char* key) -> const nlohmann::json& {
    SINKLAB_INPUT_CHECK(j.contains(key) && !j[key].is_null(), "'{}' has no '{}'", path, key);
    return j[key];
  };
  try {
    s.model_type = need("model_type").get<std::string>();
    const auto& types = supported_types();
    SINKLAB_INPUT_CHECK(std::find(types.begin(), types.end(), s.model_type) != types.end(),
                        "'{}': model_type '{}' is not supported; supported: {}", path, s.model_type, join(types, ", "));
    s.vocab_size = need("vocab_size").get<std::int64_t>();
    if (s.model_type == "gpt2") {
      // GPT-2 names its sizes differently and has learned positions, LayerNorm and GELU.
      s.hidden_size = need("n_embd").get<std::int64_t>();
      s.num_layers = need("n_layer").get<std::int64_t>();
      s.num_heads = s.num_kv_heads = need("n_head").get<std::int64_t>();
      s.head_dim = s.hidden_size / s.num_heads;
      s.intermediate_size = j.contains("n_inner") && !j["n_inner"].is_null() ? j["n_inner"].get<std::int64_t>() : 4 * s.hidden_size;
      s.max_positions = need("n_positions").get<std::int64_t>();
      s.rms_norm_eps = j.value("layer_norm_epsilon", 1e-5);
      s.hidden_act = j.value("activation_function", std::string("gelu_new"));
      s.tie_word_embeddings = j.value("tie_word_embeddings", true);
      SINKLAB_INPUT_CHECK(s.hidden_act == "gelu_new", "'{}': activation_function '{}' is not supported (gelu_new)",
                          path, s.hidden_act);
      return s;
    }
    s.hidden_size = need("hidden_size").get<std::int64_t>();
    s.intermediate_size = need("intermediate_size").get<std::int64_t>();
    s.num_layers = need("num_hidden_layers").get<std::int64_t>();
    s.num_heads = need("num_attention_heads").get<std::int64_t>();
    s.num_kv_heads = j.value("num_key_value_heads", s.num_heads);
    s.head_dim = j.contains("head_dim") && !j["head_dim"].is_null() ? j["head_dim"].get<std::int64_t>()
                                                                    : s.hidden_size / s.num_heads;
    s.rms_norm_eps = j.value("rms_norm_eps", 1e-6);
    s.tie_word_embeddings = j.value("tie_word_embeddings", false);
    s.attention_bias = s.model_type == "qwen2" || j.value("attention_bias", false);
    s.hidden_act = j.value("hidden_act", std::string("silu"));
    // Newer transformers write rope_parameters {rope_theta, partial_rotary_factor, rope_type}.
    const nlohmann::json rope = j.value("rope_parameters", nlohmann::json::object());
    s.rope_theta = rope.value("rope_theta", j.value("rope_theta", 10000.0));
    s.partial_rotary_factor = rope.value("partial_rotary_factor", j.value("partial_rotary_factor", 1.0));
    std::string rope_type = rope.value("rope_type", std::string("default"));
    SINKLAB_INPUT_CHECK(rope_type == "default", "'{}': rope_type '{}' is not supported yet (only 'default')", path,
                        rope_type);
    if (j.contains("sliding_window") && !j["sliding_window"].is_null() && j.value("use_sliding_window", true))
      s.sliding_window = j["sliding_window"].get<std::int64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("'{}': a field has the wrong type: {}", path, e.what()));
  }
  SINKLAB_INPUT_CHECK(s.num_heads > 0 && s.num_kv_heads > 0 && s.num_heads % s.num_kv_heads == 0,
                      "'{}': num_attention_heads ({}) must be a multiple of num_key_value_heads ({})", path,
                      s.num_heads, s.num_kv_heads);
  SINKLAB_INPUT_CHECK(s.hidden_act == "silu", "'{}': hidden_act '{}' is not supported (silu only)", path, s.hidden_act);
  return s;
}

}  // namespace sinklab
