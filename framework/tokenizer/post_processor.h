#pragma once
// The post-processor of a tokenizer.json, applied when special tokens are asked for: the
// single-sequence template of TemplateProcessing, BertProcessing ([CLS] A [SEP]) and
// RobertaProcessing (<s> A </s>); ByteLevel changes only offsets, which sinklab does not keep.
// Sequence applies them in order.
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <vector>

namespace sinklab {

class PostProcessor {
 public:
  explicit PostProcessor(const nlohmann::json& j);  // the "post_processor" value, or null
  // The ids of one sequence with the template's special tokens around them.
  std::vector<std::int64_t> apply(std::vector<std::int64_t> ids) const;

 private:
  // Each template: ids before the sequence and after it.
  struct Wrap {
    std::vector<std::int64_t> before, after;
  };
  std::vector<Wrap> wraps_;
  void collect(const nlohmann::json& j);
};

}  // namespace sinklab
