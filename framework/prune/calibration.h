#pragma once
// Calibration token windows (the paper: 128 sequences x 2048 tokens of C4 shard 0). Documents
// come from a text file (one document), a JSON-lines file with a text field (.jsonl, and C4's
// .json; either may be gzip-compressed), or a directory of such files (sorted by name). The
// documents are shuffled with the seed, tokenized one by one until twice the needed tokens are
// there (so a 300 MB shard is not tokenized whole), joined, and `samples` windows are drawn at
// seeded random offsets; each window starts with the tokenizer's BOS when it adds one.
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "framework/config/fields.h"

namespace sinklab {

class Tokenizer;

struct CalibrationConfig {
  std::string path;
  int samples = 128;
  int seq_len = 2048;
  std::int64_t seed = 0;
  std::string text_field = "text";
  int batch_size = 8;
  std::string spill = "auto";
  template <class V>
  void fields(V& v) {
    v("path", path, "text file, JSON-lines file (.jsonl/.json, optionally .gz) or a directory of them",
      Check::required_non_empty());
    v("samples", samples, "number of windows (paper: 128)", Check::between(1, 1 << 20));
    v("seq_len", seq_len, "tokens per window (paper: 2048)", Check::between(2, 1 << 20));
    v("seed", seed, "seed of the document order and window offsets", Check::at_least(0));
    v("text_field", text_field, "the JSON field holding a document's text", Check::required_non_empty());
    // Attention holds batch x heads x seq_len^2 scores at once: 8 x 2048-token windows of
    // Phi-3-medium need ~19 GiB, 1 needs ~2.3 GiB (sinklab plan shows it).
    v("batch_size", batch_size, "windows per forward pass while pruning (memory grows with it)",
      Check::between(1, 1 << 16));
    // The stream [samples, seq_len, hidden] entering each block: 128 x 2048 windows of
    // Phi-3-medium in bfloat16 are 2.5 GiB. In a scratch file its pages are the kernel's to
    // write out when memory runs short; the values are the same either way.
    v("spill", spill, "the calibration stream in a scratch file in the cache: auto (when the prune stage's "
      "estimate exceeds the memory budget), always, never", Check::one_of({"auto", "always", "never"}));
  }
};

// The files a calibration path stands for, sorted (and their fingerprints key the stage).
std::vector<std::string> calibration_files(const std::string& path);
// Every document in those files, in file order.
std::vector<std::string> load_documents(const std::string& path, const std::string& text_field = "text");
// [samples, seq_len] int64 token windows.
at::Tensor draw_calibration_windows(const Tokenizer& tokenizer, const std::vector<std::string>& documents,
                                    const CalibrationConfig& config);

}  // namespace sinklab
