#include "framework/report/attention_data.h"

#include <ATen/ATen.h>

#include <cmath>


namespace sinklab::report {

namespace {

constexpr int kScale = 10000;  // weights to 1e-4

// One [heads, T, T] (or [T, T]) causal map per head into data["maps"], cropped to n tokens.
void add_maps(nlohmann::json& data, const std::string& variant, const std::string& prompt, std::int64_t layer,
              at::Tensor weights, std::vector<int64_t> heads, int max_tokens) {
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

std::string string_attr(const Attrs& attrs, const std::string& name) {
  auto it = attrs.find(name);
  return it == attrs.end() ? "" : attr_to_string(it->second);
}

std::vector<int64_t> heads_attr(const Attrs& attrs) {
  auto it = attrs.find("heads");
  if (it == attrs.end()) return {};
  if (auto v = std::get_if<std::vector<int64_t>>(&it->second)) return *v;
  if (auto v = std::get_if<int64_t>(&it->second)) return {*v};
  return {};
}

}  // namespace

Attrs attention_map_attributes(const std::string& variant, const std::string& prompt, std::int64_t layer,
                               const std::string& tokens_dataset) {
  return {{"view", std::string("attention")}, {"variant", variant}, {"prompt", prompt}, {"layer", layer},
          {"tokens", tokens_dataset}};
}

nlohmann::json attention_view_data(const std::string& run_h5, int max_tokens) {
  nlohmann::json data{{"prompts", nlohmann::json::object()}, {"maps", nlohmann::json::array()}};
  Hdf5File file(run_h5, Hdf5File::Mode::read);
  for (const auto& info : file.datasets()) {
    if (string_attr(info.attrs, "view") != "attention") continue;
    const auto dims = info.shape.size();
    const std::string tokens_path = info.path.substr(0, info.path.rfind('/') + 1) + string_attr(info.attrs, "tokens");
    if ((dims != 2 && dims != 3) || info.shape[dims - 1] != info.shape[dims - 2] || !file.has(tokens_path)) continue;
    auto tokens = file.read_strings(tokens_path);
    if (int64_t(tokens.size()) != info.shape.back()) continue;
    const std::string prompt = string_attr(info.attrs, "prompt");
    if (!data["prompts"].contains(prompt)) {
      tokens.resize(std::min<std::size_t>(tokens.size(), std::size_t(max_tokens)));
      data["prompts"][prompt] = {{"tokens", tokens}};
    }
    const auto layer = std::get<std::int64_t>(info.attrs.at("layer"));
    add_maps(data, string_attr(info.attrs, "variant"), prompt, layer, file.read(info.path), heads_attr(info.attrs), max_tokens);
  }
  return data;
}

}  // namespace sinklab::report
