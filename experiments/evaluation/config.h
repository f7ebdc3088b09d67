#pragma once
// The `eval:` section: few-shot multiple choice (MMLU as lm-evaluation-harness scores it) and
// perplexity, for every variant of the model (paper Fig. 3).
#include <optional>
#include <string>
#include <vector>

#include "framework/config/fields.h"

namespace sinklab::evaluation {

struct PerplexitySpec {
  std::string path;
  int window = 512;
  int stride = 256;
  int max_tokens = 0;
  template <class V>
  void fields(V& v) {
    v("path", path, "text file, .jsonl/.json(.gz) with a text field, or a directory of them", Check::required_non_empty());
    v("window", window, "tokens per forward pass", Check::between(2, 1 << 20));
    v("stride", stride, "tokens between window starts (each window scores only new tokens)", Check::between(1, 1 << 20));
    v("max_tokens", max_tokens, "score only the first N tokens of the joined text (0 = all)", Check::at_least(0));
  }
};

struct EvalSpec {
  std::string task = "mmlu";
  std::string data;
  std::vector<std::int64_t> shots{0};
  std::vector<std::string> subjects;
  int limit = 0;
  bool add_bos = false;
  std::string scoring = "prefix";
  int batch_size = 1;
  std::optional<PerplexitySpec> perplexity;
  template <class V>
  void fields(V& v) {
    v("task", task, "mmlu (dev/ and test/ CSVs), jsonl, or hamexam (Debian's amateur-radio pools)",
      Check::one_of({"mmlu", "jsonl", "hamexam"}));
    v("data", data, "the question set: MMLU directory, JSONL file, or /usr/share/hamexam");
    v("shots", shots, "few-shot counts k (the first k dev items of each subject)", Check::between(0, 64));
    v("subjects", subjects, "subjects to score (empty = all)");
    v("limit", limit, "score at most this many questions per subject (0 = all)", Check::at_least(0));
    v("add_bos", add_bos, "prepend the tokenizer's BOS; lm-evaluation-harness's HF models do not by default");
    v("scoring", scoring, "prefix (KV cache of the shared few-shot prefix) or naive (one pass per choice)",
      Check::one_of({"prefix", "naive"}));
    // On 2 CPU cores batching did not pay (tiny-phi3, k = 5: 1 -> 33.1, 4 -> 31.9, 16 -> 25.5
    // questions/s: padding costs more than the larger matmuls gain); GPUs are where it should.
    v("batch_size", batch_size, "questions per forward pass (prefix scoring; left-padded after the cache)",
      Check::between(1, 4096));
    v("perplexity", perplexity, "perplexity of a text: {path, window, stride, max_tokens}");
  }
  void validate(const Decoder& d) const {
    if (!perplexity && data.empty()) d.fail("data", "give the question set (or only `perplexity`)");
    if (perplexity && perplexity->stride > perplexity->window) d.fail("perplexity", "stride must be <= window");
  }
};

}  // namespace sinklab::evaluation
