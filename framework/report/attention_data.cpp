#include "framework/report/attention_data.h"

#include <ATen/ATen.h>

#include <cmath>
#include <regex>

#include "framework/io/hdf5_store.h"

namespace sinklab::report {

nlohmann::json attention_view_data(const std::string& run_h5, int max_tokens) {
  constexpr int kScale = 10000;  // weights to 1e-4
  nlohmann::json data{{"prompts", nlohmann::json::object()}, {"maps", nlohmann::json::array()}};
  Hdf5File file(run_h5, Hdf5File::Mode::read);
  static const std::regex pattern(R"(^/hook\.([^/]+)/prompts/([^/]+)/blocks\.(\d+)\.attn\.hook_pattern$)");
  for (const auto& info : file.datasets()) {
    std::smatch m;
    if (!std::regex_match(info.path, m, pattern) || info.shape.size() != 3) continue;
    const std::string variant = m[1], prompt = m[2];
    const std::string group = info.path.substr(0, info.path.rfind('/'));
    if (!file.has(group + "/tokens")) continue;
    auto tokens = file.read_strings(group + "/tokens");
    at::Tensor weights = file.read(info.path).to(at::kFloat).contiguous();  // [heads, T, T]
    const int64_t full = weights.size(1), n = std::min<int64_t>(full, max_tokens);
    std::vector<int64_t> heads;
    if (auto it = info.attrs.find("heads"); it != info.attrs.end()) {
      if (auto v = std::get_if<std::vector<int64_t>>(&it->second)) heads = *v;
      if (auto v = std::get_if<int64_t>(&it->second)) heads = {*v};
    }
    if (int64_t(heads.size()) != weights.size(0)) {  // unlabelled: heads in order
      heads.clear();
      for (int64_t h = 0; h < weights.size(0); ++h) heads.push_back(h);
    }
    if (!data["prompts"].contains(prompt)) {
      tokens.resize(std::size_t(std::min<int64_t>(int64_t(tokens.size()), n)));
      data["prompts"][prompt] = {{"tokens", tokens}};
    }
    for (int64_t h = 0; h < weights.size(0); ++h) {
      const float* w = weights[h].data_ptr<float>();
      std::vector<int> tri;
      tri.reserve(std::size_t(n * (n + 1) / 2));
      for (int64_t q = 0; q < n; ++q)
        for (int64_t k = 0; k <= q; ++k) tri.push_back(int(std::lround(double(w[q * full + k]) * kScale)));
      data["maps"].push_back({{"variant", variant},
                              {"prompt", prompt},
                              {"layer", std::stoi(m[3])},
                              {"head", heads[std::size_t(h)]},
                              {"n", n},
                              {"cropped", full > n ? full : 0},
                              {"scale", kScale},
                              {"w", std::move(tri)}});
    }
  }
  return data;
}

}  // namespace sinklab::report
