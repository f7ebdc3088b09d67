#include "framework/model/averaging_task.h"

#include <ATen/ATen.h>

namespace sinklab {

at::Tensor draw_numbers(const NumberDistribution& dist, at::IntArrayRef size, at::Generator& gen) {
  auto f64 = at::TensorOptions().dtype(at::kDouble);
  if (dist.kind == "uniform") return (at::rand(size, gen, f64) * 2 - 1) * dist.scale + dist.loc;
  return at::randn(size, gen, f64) * dist.scale + dist.loc;
}

std::string averaging_token_labels(int length, int sep_position) {
  std::string labels;
  for (int i = 1; i <= length; ++i)
    labels += (i > 1 ? "," : "") + (i == sep_position ? std::string("[SEP]") : "x" + std::to_string(i));
  return labels;
}

std::vector<std::string> averaging_token_texts(const at::Tensor& x, int sep_position) {
  auto values = x.to(at::kDouble).contiguous();
  const double* v = values.data_ptr<double>();
  std::vector<std::string> out;
  for (int i = 1; i <= int(values.numel()); ++i)
    out.push_back((i > 1 ? " " : "") + (i == sep_position ? std::string("[SEP]") : fmt::format("x{}={:.2f}", i, v[i - 1])));
  return out;
}

AveragingBatch sample_averaging_batch(const AveragingTask& task, std::int64_t count, at::Generator& gen) {
  auto f64 = at::TensorOptions().dtype(at::kDouble);
  auto length = at::randint(task.min_length, task.max_length + 1, {count}, gen, f64.dtype(at::kLong));
  // [SEP] index uniform over min_before .. length-1-min_after (0-based).
  auto choices = (length - task.min_before - task.min_after).to(at::kDouble);
  auto sep = (at::rand({count}, gen, f64) * choices).floor().to(at::kLong) + task.min_before;
  auto x = draw_numbers(task.numbers, {count, int64_t(task.max_length)}, gen);
  auto positions = at::arange(task.max_length, f64.dtype(at::kLong)).unsqueeze(0);
  x = x.masked_fill(positions.ge(length.unsqueeze(1)) | positions.eq(sep.unsqueeze(1)), 0.0);
  return {x, length, sep};
}

}  // namespace sinklab
