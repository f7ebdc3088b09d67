// Benchmark of the HuggingFace path on a checkpoint directory (default ../shared/models/tiny-phi3):
// forward throughput at batch 1 and 8 with and without attention-pattern capture, tokenizer
// throughput, and peak memory of loading against the size of the weights. Ratios are against
// the baseline measured in the same process. Run through scripts/bench_model.sh.
#include <ATen/ATen.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "framework/io/checkpoint_dir.h"
#include "framework/model/language_model.h"
#include "framework/tokenizer/tokenizer.h"
#include "framework/util/error.h"
#include "framework/util/system.h"
#include "framework/util/threads.h"

namespace fs = std::filesystem;
using namespace sinklab;

static long peak_rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

template <class F>
static double median_seconds(int runs, F&& f) {
  std::vector<double> t;
  f();  // warm-up
  for (int i = 0; i < runs; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

int main(int argc, char** argv) {
  try {
    configure_memory_allocator();
    const std::string dir = argc > 1 ? argv[1] : std::string(source_dir()) + "/../shared/models/tiny-phi3";
    const int threads = configure_threads(0);
    std::uintmax_t weight_bytes = 0;
    for (const auto& f : CheckpointDir(dir).files()) weight_bytes += fs::file_size(f);
    long rss0 = peak_rss_kib();
    auto model_ptr = load_language_model(dir, at::kFloat);
    auto& model = *model_ptr;
    long rss1 = peak_rss_kib();
    std::cout << fmt::format("checkpoint {} ({} threads)\n", dir, threads);
    std::cout << fmt::format("load: peak RSS +{:.1f} MiB for {:.1f} MiB of weights on disk ({} -> float32: x{:.2f})\n",
                             (rss1 - rss0) / 1024.0, weight_bytes / 1048576.0, "stored dtype",
                             (rss1 - rss0) * 1024.0 / double(weight_bytes));

    const int64_t T = 512;
    at::manual_seed(0);
    for (int64_t B : {1, 8}) {
      auto ids = at::randint(0, model.spec().vocab_size, {B, T}, at::kLong);
      double plain = median_seconds(5, [&] { model.forward(ids); });
      std::set<std::string> sites;
      for (int l = 0; l < model.spec().num_layers; ++l) sites.insert(hook_name(l, "pattern"));
      double capture = median_seconds(5, [&] {
        HookPoints hooks = HookPoints::only(sites);
        model.forward(ids, hooks);
      });
      std::cout << fmt::format("forward batch {} x {}: {:.0f} tokens/s; with every attention pattern captured "
                               "{:.0f} tokens/s (time ratio {:.2f})\n",
                               B, T, B * T / plain, B * T / capture, capture / plain);
    }

    const std::string tokenizer = argc > 2 ? argv[2] : dir + "/tokenizer.json";
    auto tok = Tokenizer::from_file(tokenizer);
    std::string text;
    const std::string para =
        "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want "
        "of a wife. However little known the feelings or views of such a man may be on his first entering a "
        "neighbourhood, this truth is so well fixed in the minds of the surrounding families. 1234 + 5678 = 6912; "
        "naïve café, emoji 🙂 and tabs\t\tand\nnew lines.\n";
    for (int i = 0; text.size() < (4u << 20); ++i) text += para + std::to_string(i) + " ";
    std::size_t tokens = 0;
    double secs = median_seconds(3, [&] { tokens = tok.encode(text).size(); });
    std::cout << fmt::format("tokenizer {}: {:.1f} MB/s ({:.2f} MB -> {} tokens)\n", tokenizer, text.size() / 1e6 / secs,
                             text.size() / 1e6, tokens);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_model: " << e.what() << "\n";
    return 1;
  }
}
