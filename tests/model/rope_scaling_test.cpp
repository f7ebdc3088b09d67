// RoPE scaling (rope_type linear, dynamic, llama3, longrope) against the published formulas computed
// element by element in double precision, and through the model: a scaling that changes
// nothing gives the default logits, one that changes the frequencies changes them.
#include <ATen/ATen.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "framework/io/atomic_file.h"
#include "framework/model/rope.h"
#include "framework/model/transformer_lm.h"
#include "tests/model/tiny_checkpoint.h"
#include "tests/support/catch.h"
#include "tests/support/temp_dir.h"

using namespace sinklab;

namespace {

const at::TensorOptions kFloat = at::TensorOptions().dtype(at::kFloat);

double base_frequency(double theta, int i, int dim) { return std::pow(theta, -2.0 * i / dim); }

// Llama 3.1's scaling as its reference code states it.
double llama3_frequency(double f, double factor, double low, double high, double old_context) {
  const double wavelen = 2 * M_PI / f;
  if (wavelen < old_context / high) return f;
  if (wavelen > old_context / low) return f / factor;
  const double smooth = (old_context / wavelen - low) / (high - low);
  return (1 - smooth) * f / factor + smooth * f;
}

ModelSpec spec_with(const test::TempDir& dir, const std::string& name, const nlohmann::json& rope_scaling) {
  nlohmann::json cfg{{"model_type", "llama"},   {"vocab_size", 11},      {"hidden_size", 16},
                     {"intermediate_size", 24}, {"num_hidden_layers", 1}, {"num_attention_heads", 2},
                     {"max_position_embeddings", 64}, {"rope_scaling", rope_scaling}};
  return ModelSpec::from_config_json(dir.write(name + ".json", cfg.dump()));
}

}  // namespace

TEST_CASE("RoPE scaling follows the llama3, linear and dynamic formulas", "[model][rope]") {
  // Llama 3.1 8B's parameters.
  RopeScaling llama3;
  llama3.type = "llama3";
  llama3.factor = 8, llama3.low_freq_factor = 1, llama3.high_freq_factor = 4, llama3.original_max_positions = 8192;
  const int dim = 128;
  const at::Tensor got = rope_inverse_frequencies(500000.0, dim, llama3, 0, kFloat);
  const at::Tensor plain = rope_inverse_frequencies(500000.0, dim, RopeScaling{}, 0, kFloat);
  REQUIRE(got.sizes() == at::IntArrayRef{dim / 2});
  int kept = 0, divided = 0, blended = 0;
  for (int i = 0; i < dim / 2; ++i) {
    const double f = base_frequency(500000.0, i, dim);
    const double want = llama3_frequency(f, 8, 1, 4, 8192);
    CHECK(std::abs(got[i].item<double>() - want) <= 2e-6 * want);
    CHECK(std::abs(plain[i].item<double>() - f) <= 2e-6 * f);
    const double wavelen = 2 * M_PI / f;
    kept += wavelen < 2048, divided += wavelen > 8192, blended += wavelen >= 2048 && wavelen <= 8192;
  }
  CHECK(kept > 0);  // the three regimes all occur at these parameters
  CHECK(divided > 0);
  CHECK(blended > 0);
  CHECK(got[0].item<float>() == plain[0].item<float>());              // high frequency: unchanged
  CHECK(got[dim / 2 - 1].item<float>() == plain[dim / 2 - 1].item<float>() / 8.0f);  // low: divided

  const at::Tensor base8 = rope_inverse_frequencies(10000.0, 8, RopeScaling{}, 0, kFloat);
  RopeScaling linear;
  linear.type = "linear", linear.factor = 4;
  CHECK(at::equal(rope_inverse_frequencies(10000.0, 8, linear, 0, kFloat), base8 / 4.0));

  RopeScaling dynamic;
  dynamic.type = "dynamic", dynamic.factor = 2, dynamic.max_positions = 64;
  CHECK(at::equal(rope_inverse_frequencies(10000.0, 8, dynamic, 40, kFloat), base8));  // within the context: unchanged
  const at::Tensor grown = rope_inverse_frequencies(10000.0, 8, dynamic, 256, kFloat);
  const double new_base = 10000.0 * std::pow(2.0 * 256 / 64 - 1.0, 8.0 / 6.0);
  for (int i = 0; i < 4; ++i) CHECK(std::abs(grown[i].item<double>() - base_frequency(new_base, i, 8)) <= 2e-6 * base_frequency(new_base, i, 8));
}

TEST_CASE("config.json's rope_scaling and rope_parameters are read; wrong ones are named", "[model][rope][bad-input]") {
  test::TempDir dir;
  auto s = spec_with(dir, "llama31", {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                                      {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}});
  CHECK(s.rope_scaling.type == "llama3");
  CHECK(s.rope_scaling.original_max_positions == 8192);
  CHECK(spec_with(dir, "old-linear", {{"type", "linear"}, {"factor", 2.0}}).rope_scaling.factor == 2.0);
  CHECK(spec_with(dir, "dynamic", {{"type", "dynamic"}, {"factor", 2.0}}).rope_scaling.max_positions == 64);
  CHECK(spec_with(dir, "null", nullptr).rope_scaling.type == "default");
  CHECK_THROWS_WITH(spec_with(dir, "no-factor", {{"rope_type", "linear"}}), Catch::Contains("needs rope_scaling.factor"));
  CHECK_THROWS_WITH(spec_with(dir, "yarn", {{"rope_type", "yarn"}, {"factor", 4.0}}),
                    Catch::Contains("rope_type 'yarn' is not supported yet"));
  CHECK_THROWS_WITH(spec_with(dir, "inverted", {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 4.0},
                                                {"high_freq_factor", 1.0}, {"original_max_position_embeddings", 8192}}),
                    Catch::Contains("high_freq_factor > low_freq_factor"));
}

TEST_CASE("scaled RoPE reaches the model's logits", "[model][rope]") {
  test::TempDir dir;
  auto ckpt = test::write_tiny_checkpoint(dir, "llama", 5, at::kFloat);
  const std::string config_path = ckpt.dir + "/config.json";
  const auto original = nlohmann::json::parse(read_file(config_path));
  at::manual_seed(3);
  const at::Tensor ids = at::randint(0, ckpt.vocab, {2, 40}, at::kLong);
  auto logits_with = [&](const nlohmann::json& scaling) {
    auto cfg = original;
    cfg["max_position_embeddings"] = 64;
    cfg["rope_scaling"] = scaling;
    write_file_atomic(config_path, cfg.dump());
    return TransformerLM::load(ckpt.dir).forward(ids);
  };
  const at::Tensor plain = logits_with(nullptr);
  // Scalings that leave the frequencies as they are: dynamic within its context, llama3 with factor 1.
  CHECK(at::equal(logits_with({{"rope_type", "dynamic"}, {"factor", 2.0}}), plain));
  const at::Tensor unit = logits_with({{"rope_type", "llama3"}, {"factor", 1.0}, {"low_freq_factor", 1.0},
                                       {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 16}});
  CHECK((unit - plain).abs().max().item<double>() < 1e-5);
  // Ones that change them change the logits (head_dim 8: wavelengths 6.3 to 6283 positions).
  for (const nlohmann::json& scaling :
       {nlohmann::json{{"rope_type", "linear"}, {"factor", 2.0}},
        nlohmann::json{{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0},
                       {"original_max_position_embeddings", 16}}}) {
    INFO(scaling.dump());
    CHECK((logits_with(scaling) - plain).abs().max().item<double>() > 1e-3);
  }
}

TEST_CASE("longrope: short factors within the original context, long beyond; cos and sin scaled", "[model][rope]") {
  test::TempDir dir;
  // head_dim 8: four frequencies, each divided by its own factor.
  const nlohmann::json scaling{{"rope_type", "longrope"}, {"short_factor", {1.0, 1.5, 2.0, 4.0}},
                               {"long_factor", {2.0, 3.0, 5.0, 9.0}}};
  nlohmann::json cfg{{"model_type", "phi3"},          {"vocab_size", 11},      {"hidden_size", 16},
                     {"intermediate_size", 24},       {"num_hidden_layers", 1}, {"num_attention_heads", 2},
                     {"max_position_embeddings", 64}, {"original_max_position_embeddings", 16}, {"rope_scaling", scaling}};
  const ModelSpec s = ModelSpec::from_config_json(dir.write("longrope.json", cfg.dump()));
  REQUIRE(s.rope_scaling.type == "longrope");
  CHECK(s.rope_scaling.original_max_positions == 16);
  // factor = 64 / 16 = 4: sqrt(1 + ln 4 / ln 16) = sqrt(1.5)
  CHECK(s.rope_scaling.attention_factor == Approx(std::sqrt(1.5)));
  const double shorts[] = {1.0, 1.5, 2.0, 4.0}, longs[] = {2.0, 3.0, 5.0, 9.0};
  const at::Tensor within = rope_inverse_frequencies(10000.0, 8, s.rope_scaling, 16, kFloat);
  const at::Tensor beyond = rope_inverse_frequencies(10000.0, 8, s.rope_scaling, 17, kFloat);
  for (int i = 0; i < 4; ++i) {
    const double f = base_frequency(10000.0, i, 8);
    CHECK(std::abs(within[i].item<double>() - f / shorts[i]) <= 2e-6 * f);
    CHECK(std::abs(beyond[i].item<double>() - f / longs[i]) <= 2e-6 * f);
  }
  cfg["rope_scaling"]["long_factor"] = {2.0, 3.0};
  CHECK_THROWS_WITH(ModelSpec::from_config_json(dir.write("short.json", cfg.dump())),
                    Catch::Contains("long_factor with 4 numbers"));
  cfg["rope_scaling"]["long_factor"] = {2.0, 3.0, 5.0, 9.0};
  cfg["rope_scaling"]["attention_factor"] = 1.25;  // given: used as it is
  CHECK(ModelSpec::from_config_json(dir.write("given.json", cfg.dump())).rope_scaling.attention_factor == 1.25);
}

TEST_CASE("longrope reaches the logits: unit factors and attention factor give the default RoPE", "[model][rope]") {
  test::TempDir dir;
  auto ckpt = test::write_tiny_checkpoint(dir, "phi3", 6, at::kFloat);  // rotates half of head_dim 8: 2 frequencies
  const std::string config_path = ckpt.dir + "/config.json";
  const auto original = nlohmann::json::parse(read_file(config_path));
  at::manual_seed(4);
  const at::Tensor ids = at::randint(0, ckpt.vocab, {1, 12}, at::kLong);
  auto logits_with = [&](const nlohmann::json& scaling) {
    auto cfg = original;
    cfg.erase("rope_parameters");
    cfg["rope_theta"] = ckpt.rope_theta;
    cfg["partial_rotary_factor"] = ckpt.partial_rotary;
    cfg["max_position_embeddings"] = 32;
    cfg["original_max_position_embeddings"] = 8;
    cfg["rope_scaling"] = scaling;
    write_file_atomic(config_path, cfg.dump());
    return TransformerLM::load(ckpt.dir).forward(ids);
  };
  const at::Tensor plain = logits_with(nullptr);
  auto longrope = [](double f, double attention) {
    return nlohmann::json{{"rope_type", "longrope"}, {"short_factor", {f, f}}, {"long_factor", {f, f}}, {"attention_factor", attention}};
  };
  CHECK((logits_with(longrope(1.0, 1.0)) - plain).abs().max().item<double>() < 1e-5);
  CHECK((logits_with(longrope(1.0, 1.3)) - plain).abs().max().item<double>() > 1e-3);  // cos, sin scaled
  CHECK((logits_with(longrope(3.0, 1.0)) - plain).abs().max().item<double>() > 1e-3);  // frequencies divided
}
