#include "framework/report/attention_data.h"

#include <ATen/ATen.h>

#include <cmath>
#include <regex>

#include <fmt/format.h>

#include "framework/io/hdf5_store.h"
#include "framework/util/strings.h"
#include "framework/util/tensors.h"

namespace sinklab::report {

namespace {

constexpr int kScale = 10000;  // weights to 1e-4

// One [heads, T, T] (or [T, T]) causal map per head into data["maps"], cropped to n tokens.
void add_maps(nlohmann::json& data, const std::string& variant, const std::string& prompt, int layer, at::Tensor weights,
              std::vector<int64_t> heads, int max_tokens) {
  if (weights.dim() == 2) weights = weights.unsqueeze(0);
  weights = weights.to(at::kFloat).contiguous();
  const int64_t full = weights.size(1), n = std::min<int64_t>(full, max_tokens);
  if (int64_t(heads.size()) != weights.size(0)) {  // unlabelled: heads in order
    heads.clear();
    for (int64_t h = 0; h < weights.size(0); ++h) heads.push_back(h);
  }
  for (int64_t h = 0; h < weights.size(0); ++h) {
    const float* w = weights[h].data_ptr<float>();
    std::vector<int> tri;
    tri.reserve(std::size_t(n * (n + 1) / 2));
    for (int64_t q = 0; q < n; ++q)
      for (int64_t k = 0; k <= q; ++k) tri.push_back(int(std::lround(double(w[q * full + k]) * kScale)));
    data["maps"].push_back({{"variant", variant},
                            {"prompt", prompt},
                            {"layer", layer},
                            {"head", heads[std::size_t(h)]},
                            {"n", n},
                            {"cropped", full > n ? full : 0},
                            {"scale", kScale},
                            {"w", std::move(tri)}});
  }
}

std::vector<int64_t> heads_attr(const Attrs& attrs) {
  auto it = attrs.find("heads");
  if (it == attrs.end()) return {};
  if (auto v = std::get_if<std::vector<int64_t>>(&it->second)) return *v;
  if (auto v = std::get_if<int64_t>(&it->second)) return {*v};
  return {};
}

// The toys' example sequence: labels from x's `token_labels` ("x1,...,[SEP],...") with the numbers.
std::vector<std::string> toy_tokens(const Hdf5File& file, const std::string& x_path) {
  auto label = file.attr(x_path, "token_labels");
  if (!label) return {};
  const auto names = split(attr_to_string(*label), ',');
  const auto x = to_doubles(file.read(x_path));
  std::vector<std::string> tokens;
  for (std::size_t i = 0; i < names.size(); ++i)
    tokens.push_back((i ? " " : "") +  // spaced, as a model's tokens carry their own spaces
                     (names[i].front() == '[' || i >= x.size() ? names[i] : fmt::format("{}={:.2f}", names[i], x[i])));
  return tokens;
}

}  // namespace

nlohmann::json attention_view_data(const std::string& run_h5, int max_tokens) {
  nlohmann::json data{{"prompts", nlohmann::json::object()}, {"maps", nlohmann::json::array()}};
  Hdf5File file(run_h5, Hdf5File::Mode::read);
  // Model runs: /hook.<variant>/prompts/<prompt>/blocks.<L>.attn.hook_pattern [head, q, k] + tokens.
  static const std::regex hooked(R"(^/hook\.([^/]+)/prompts/([^/]+)/blocks\.(\d+)\.attn\.hook_pattern$)");
  // Toys: /<stage>/example/attention_layer<L> [head, q, k] (trained toys) or /theorem41.example/A<L>
  // [q, k], with the numbers in x beside them.
  static const std::regex toy(R"(^/([^/]+?)(\.measure)?(/example)?/(attention_layer|A)(\d+)$)");
  for (const auto& info : file.datasets()) {
    std::smatch m;
    const std::string group = info.path.substr(0, info.path.rfind('/'));
    if (std::regex_match(info.path, m, hooked) && info.shape.size() == 3 && file.has(group + "/tokens")) {
      const std::string prompt = m[2];
      if (!data["prompts"].contains(prompt)) {
        auto tokens = file.read_strings(group + "/tokens");
        tokens.resize(std::min<std::size_t>(tokens.size(), std::size_t(max_tokens)));
        data["prompts"][prompt] = {{"tokens", tokens}};
      }
      add_maps(data, m[1], prompt, std::stoi(m[3]), file.read(info.path), heads_attr(info.attrs), max_tokens);
    } else if (std::regex_match(info.path, m, toy) && (info.shape.size() == 2 || info.shape.size() == 3) &&
               info.shape.back() == info.shape[info.shape.size() - 2] && file.has(group + "/x")) {
      auto tokens = toy_tokens(file, group + "/x");
      if (int64_t(tokens.size()) != info.shape.back()) continue;
      std::string variant = m[1];
      if (variant.size() > 8 && variant.compare(variant.size() - 8, 8, ".example") == 0) variant.resize(variant.size() - 8);
      const std::string prompt = variant + " example";  // each toy draws its own sequence
      tokens.resize(std::min<std::size_t>(tokens.size(), std::size_t(max_tokens)));
      data["prompts"][prompt] = {{"tokens", tokens}};
      // attention_layer<L> is 0-based; Theorem 4.1's A<L> counts layers from 1 as the paper does.
      const int layer = std::stoi(m[5]) - (m[4] == "A" ? 1 : 0);
      add_maps(data, variant, prompt, layer, file.read(info.path), heads_attr(info.attrs), max_tokens);
    }
  }
  return data;
}

}  // namespace sinklab::report
