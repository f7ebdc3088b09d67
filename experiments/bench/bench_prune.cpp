// Benchmark of the pruning methods on one synthetic layer (a weight with a decaying spectrum
// plus a few large entries, inputs with outlier features): seconds (best of 2) per method at 50%, the
// output error ||(W - W') X|| / ||W X||, and OATS with exact vs randomized SVD (time and the
// relative reconstruction error ||W D - S - L|| / ||W D||), as ratios against exact OATS in the
// same process. Usage: bench_prune [OUTxIN] [ITERATIONS] [cpu|cuda] [OVERSAMPLING] [POWER_ITERATIONS]
// [METHODS] (randomized SVD settings; METHODS a comma list, default all). Run by scripts/bench_prune.sh.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <string>

#include "framework/prune/methods.h"
#include "framework/util/system.h"
#include "framework/util/threads.h"

using namespace sinklab;

int main(int argc, char** argv) {
  configure_memory_allocator();
  configure_threads(0);
  std::int64_t out = 1024, in = 1024;
  if (argc > 1) std::sscanf(argv[1], "%ldx%ld", &out, &in);
  const int iterations = argc > 2 ? std::atoi(argv[2]) : 20;
  const c10::Device device(argc > 3 ? argv[3] : "cpu");
  const int oversampling = argc > 4 ? std::atoi(argv[4]) : PruneConfig{}.oversampling;
  const int power_iterations = argc > 5 ? std::atoi(argv[5]) : PruneConfig{}.power_iterations;
  const std::string methods = argc > 6 ? argv[6] : "magnitude,wanda,sparsegpt,oats,oats-randomized";
  at::manual_seed(0);
  const auto opts = at::TensorOptions().dtype(at::kFloat).device(device);
  const std::int64_t k = std::min(out, in);
  auto u = std::get<0>(at::linalg_qr(at::randn({out, k}, opts))), v = std::get<0>(at::linalg_qr(at::randn({in, k}, opts)));
  auto w = at::matmul(u * at::exp(-at::arange(k, opts) / (k / 8.0)), v.t()) + 0.02 * at::randn({out, in}, opts);
  auto x = at::randn({2048, in}, opts) * at::exp(at::randn({in}, opts));  // outlier features
  LinearStats stats(in, true);
  stats.add(x);
  auto reference = at::matmul(x, w.t());
  // For scripts/bench_prune.sh --reference-*: the same layer, byte for byte, for the reference code.
  if (const char* dump = std::getenv("SINKLAB_BENCH_LAYER_DIR")) {
    for (const auto& [name, t] : {std::pair<const char*, at::Tensor>{"w", w}, {"x", x}}) {
      const at::Tensor c = t.to(at::kCPU).contiguous();
      std::FILE* f = std::fopen((std::string(dump) + "/" + name + ".f32").c_str(), "wb");
      if (!f || std::fwrite(c.data_ptr<float>(), sizeof(float), std::size_t(c.numel()), f) != std::size_t(c.numel()) ||
          std::fclose(f) != 0) {
        std::fprintf(stderr, "cannot write %s/%s.f32\n", dump, name);
        return 2;
      }
    }
  }
  std::printf("layer %ldx%ld on %s, %d threads, 50%% sparsity, OATS %d iterations, rank ratio 0.25, randomized SVD "
              "oversampling %d, %d power iterations\n", out, in, device.str().c_str(), at::get_num_threads(), iterations,
              oversampling, power_iterations);
  std::printf("%-22s %10s %16s %16s\n", "method", "seconds", "output error", "recon error");
  double oats_exact_seconds = 0, oats_exact_error = 0;
  for (std::string method : {"magnitude", "wanda", "sparsegpt", "oats", "oats-randomized"}) {
    if (("," + methods + ",").find("," + method + ",") == std::string::npos) continue;
    PruneConfig cfg;
    cfg.oversampling = oversampling;
    cfg.power_iterations = power_iterations;
    cfg.method = method == "oats-randomized" ? "oats" : method;
    cfg.svd = method == "oats-randomized" ? "randomized" : "exact";
    cfg.iterations = iterations;
    cfg.damp = 0.1;
    PrunedMatrix r;
    double seconds = INFINITY;
    for (int rep = 0; rep < 2; ++rep) {  // best of 2: the first run also pays for first-touch allocations
      auto t0 = std::chrono::steady_clock::now();
      r = prune_method(cfg.method).run(w, stats, cfg);
      (void)r.weight.sum().item<double>();  // waits for the device
      seconds = std::min(seconds, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    double output = (at::matmul(x, r.weight.t()) - reference).norm().item<double>() / reference.norm().item<double>();
    double recon = r.objective.empty() ? NAN : r.objective.back();
    if (method == "oats") oats_exact_seconds = seconds, oats_exact_error = recon;
    std::printf("%-22s %10.3f %16.5f %16.5f\n", method.c_str(), seconds, output, recon);
    if (method == "oats-randomized" && oats_exact_seconds > 0)
      std::printf("randomized / exact OATS: time %.3f, reconstruction error %.4f\n", seconds / oats_exact_seconds,
                  recon / oats_exact_error);
  }
  return 0;
}
