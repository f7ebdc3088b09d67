// The three Theorem 4.1 stages. All numbers are float64 so that exp(s_tag^2)-sized scores stay
// finite through the (max-subtracting) softmax even at s_tag = 30.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "experiments/theorem41/experiment.h"
#include "framework/model/averaging_task.h"
#include "framework/report/attention_data.h"
#include "framework/util/progress.h"

namespace sinklab::theorem41 {
namespace {

const auto f64 = at::TensorOptions().dtype(at::kDouble);

class SequencesStage : public Stage {
 public:
  SequencesStage(SequenceData data, std::int64_t seed) : data_(std::move(data)), seed_(seed) {}
  std::string name() const override { return "theorem41.sequences"; }
  int version() const override { return 1; }
  nlohmann::ordered_json reads() const override { return {{"seed", seed_}, {"data", encode_value(data_)}}; }

  void run(StageContext& ctx) const override {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(uint64_t(seed_));
    auto [x, length, sep] = sample_averaging_batch(data_, data_.count, gen);
    auto& out = ctx.output();
    out.write("x", x, {{"meaning", std::string("numbers x_i, [N, max_length]; 0 at [SEP] and padding")}});
    out.write("length", length, {{"meaning", std::string("T per sequence, [N]")}});
    out.write("sep", sep, {{"meaning", std::string("0-based [SEP] index t-1, [N]")}});
  }

 private:
  SequenceData data_;
  std::int64_t seed_;
};

// Sums of the mechanism's measures over sequences, for one s_tag.
struct Totals {
  std::vector<double> errors;
  double catch_sum = 0, catch_min = INFINITY, catch_count = 0;
  double tag_after = 0, tag_before = 0, n_after = 0, n_before = 0;
  double abs_after[2] = {0, 0}, abs_before[2] = {0, 0};
  double rel_before = 0, rel_sep = 0, rel_after = 0, rel_after_min = INFINITY, uniform_dev = 0;
};

void accumulate(Totals& t, const AveragingForward& fw, const AveragingBatch& b) {
  const int64_t T = b.x.size(1);
  auto pos = at::arange(T, b.x.options().dtype(at::kLong)).unsqueeze(0);  // [1, T]
  auto sep = b.sep.unsqueeze(1), len = b.length.unsqueeze(1);
  auto after = (pos.gt(sep) & pos.lt(len)).to(at::kDouble);              // [B, T] tokens i > t
  auto before = pos.lt(sep).to(at::kDouble);                             // [B, T] tokens i < t
  auto at_sep = pos.eq(sep).to(at::kDouble);

  auto err = (fw.f - averaging_target(b)).abs().cpu();
  t.errors.insert(t.errors.end(), err.data_ptr<double>(), err.data_ptr<double>() + err.numel());

  // catch: A1[i, t] for i > t
  auto to_sep = fw.A1.gather(2, b.sep.view({-1, 1, 1}).expand({-1, T, 1})).squeeze(2);  // [B, T]
  t.catch_sum += (to_sep * after).sum().item<double>();
  t.catch_count += after.sum().item<double>();
  t.catch_min = std::min(t.catch_min, to_sep.masked_fill(after.eq(0), INFINITY).min().item<double>());

  // tag: the second coordinate of h_i, and mean |h_d| per dimension, after vs before [SEP]
  auto h_tag = fw.H.select(2, 1);
  t.tag_after += (h_tag * after).sum().item<double>();
  t.tag_before += (h_tag * before).sum().item<double>();
  t.n_after += after.sum().item<double>();
  t.n_before += before.sum().item<double>();
  for (int d = 0; d < 2; ++d) {
    auto h = fw.H.select(2, d).abs();
    t.abs_after[d] += (h * after).sum().item<double>();
    t.abs_before[d] += (h * before).sum().item<double>();
  }

  // release: layer-2 attention of the last token over j < t, j = t, j > t
  auto mass_after = (fw.A2_last * after).sum(1);  // [B]
  t.rel_before += (fw.A2_last * before).sum().item<double>();
  t.rel_sep += (fw.A2_last * at_sep).sum().item<double>();
  t.rel_after += mass_after.sum().item<double>();
  t.rel_after_min = std::min(t.rel_after_min, mass_after.min().item<double>());
  auto uniform = 1.0 / (b.length - 1 - b.sep).to(at::kDouble).unsqueeze(1);  // [B, 1]
  t.uniform_dev = std::max(t.uniform_dev, ((fw.A2_last - uniform).abs() * after).max().item<double>());
}

class SweepStage : public Stage {
 public:
  explicit SweepStage(Config config) : c_(std::move(config)) {}
  std::string name() const override { return "theorem41.sweep"; }
  int version() const override { return 1; }
  nlohmann::ordered_json reads() const override {
    return {{"model", encode_value(c_.model)}, {"s_tag", encode_value(c_.s_tag)}, {"batch_size", c_.batch_size}};
  }
  std::vector<std::string> upstream() const override { return {"theorem41.sequences"}; }

  void run(StageContext& ctx) const override {
    const auto& in = ctx.input("theorem41.sequences");
    auto dev = ctx.device();
    AveragingBatch all{in.read("x").to(dev), in.read("length").to(dev), in.read("sep").to(dev)};
    const int64_t N = all.x.size(0), S = c_.s_tag.num;
    const auto grid = c_.s_tag.values();
    const int64_t batches = (N + c_.batch_size - 1) / c_.batch_size;

    std::vector<double> err_mean, err_max, catch_mean, catch_min, tag_after, tag_before, outlier_ratio;
    std::vector<double> rel_before, rel_sep, rel_after, rel_after_min, uniform_dev, abs_after, abs_before;
    std::vector<int64_t> outlier_dim;
    std::vector<double> errors;  // [S, N]
    Progress progress("theorem41.sweep", S * batches);
    for (int64_t s = 0; s < S; ++s) {
      auto params = AveragingParams2d::theorem41(c_.model.b, c_.model.d, grid[s], dev, c_.model.s_num);
      Totals t;
      for (int64_t start = 0; start < N; start += c_.batch_size) {
        int64_t len = std::min<int64_t>(c_.batch_size, N - start);
        AveragingBatch b{all.x.narrow(0, start, len), all.length.narrow(0, start, len), all.sep.narrow(0, start, len)};
        // Trim padding beyond this batch's longest sequence.
        int64_t T = b.length.max().item<int64_t>();
        b.x = b.x.narrow(1, 0, T);
        accumulate(t, averaging_forward(params, b), b);
        progress.advance();
      }
      double sum = 0, mx = 0;
      for (double e : t.errors) sum += e, mx = std::max(mx, e);
      err_mean.push_back(sum / N);
      err_max.push_back(mx);
      errors.insert(errors.end(), t.errors.begin(), t.errors.end());
      catch_mean.push_back(t.catch_sum / t.catch_count);
      catch_min.push_back(t.catch_min);
      tag_after.push_back(t.tag_after / t.n_after);
      tag_before.push_back(t.n_before > 0 ? t.tag_before / t.n_before : NAN);
      double ratio[2];
      for (int d = 0; d < 2; ++d) {
        abs_after.push_back(t.abs_after[d] / t.n_after);
        abs_before.push_back(t.abs_before[d] / std::max(1.0, t.n_before));
        ratio[d] = abs_after.back() / abs_before.back();
      }
      outlier_dim.push_back(ratio[1] > ratio[0] ? 1 : 0);
      outlier_ratio.push_back(std::max(ratio[0], ratio[1]));
      rel_before.push_back(t.rel_before / N);
      rel_sep.push_back(t.rel_sep / N);
      rel_after.push_back(t.rel_after / N);
      rel_after_min.push_back(t.rel_after_min);
      uniform_dev.push_back(t.uniform_dev);
    }
    progress.finish();

    auto& out = ctx.output();
    auto vec = [](const std::vector<double>& v) { return at::tensor(v, f64); };
    auto str = [](const char* s) { return Attrs{{"meaning", std::string(s)}}; };
    out.write("s_tag", vec(grid), str("s_tag values, [S]"));
    out.write("error_mean", vec(err_mean), str("mean over sequences of |f(x) - mean(x_{t+1..T})|, [S]"));
    out.write("error_max", vec(err_max), str("max over sequences of |f(x) - mean(x_{t+1..T})|, [S]"));
    out.write("errors", vec(errors).view({S, N}), str("|f(x) - target| per s_tag and sequence, [S, N]"));
    out.write("catch_mass_mean", vec(catch_mean), str("mean A1[i, t] over tokens i > t (catch), [S]"));
    out.write("catch_mass_min", vec(catch_min), str("min A1[i, t] over tokens i > t, [S]"));
    out.write("tag_after_mean", vec(tag_after), str("mean tag coordinate h_i[1] for i > t, [S]"));
    out.write("tag_before_mean", vec(tag_before), str("mean tag coordinate h_i[1] for i < t, [S]"));
    out.write("abs_h_after", vec(abs_after).view({S, 2}), str("mean |h_i[d]| for i > t, [S, dim]"));
    out.write("abs_h_before", vec(abs_before).view({S, 2}), str("mean |h_i[d]| for i < t, [S, dim]"));
    out.write("outlier_dim", at::tensor(outlier_dim, f64.dtype(at::kLong)),
              str("dimension with the largest after/before ratio of mean |h| (1 = tag), [S]"));
    out.write("outlier_ratio", vec(outlier_ratio), str("that ratio, [S]"));
    out.write("release_before", vec(rel_before), str("mean A2[T, j] mass over j < t, [S]"));
    out.write("release_sep", vec(rel_sep), str("mean A2[T, t] ([SEP]), [S]"));
    out.write("release_after", vec(rel_after), str("mean A2[T, j] mass over j > t, [S]"));
    out.write("release_after_min", vec(rel_after_min), str("min over sequences of A2 mass over j > t, [S]"));
    out.write("uniform_max_dev", vec(uniform_dev), str("max |A2[T, j] - 1/(T - t)| over j > t and sequences, [S]"));
  }

 private:
  Config c_;
};

class ExampleStage : public Stage {
 public:
  ExampleStage(Config config, std::int64_t seed) : c_(std::move(config)), seed_(seed) {}
  std::string name() const override { return "theorem41.example"; }
  int version() const override { return 2; }  // 2: tokens and attention-view attributes
  nlohmann::ordered_json reads() const override {
    return {{"seed", seed_},
            {"model", encode_value(c_.model)},
            {"example", encode_value(c_.example)},
            {"numbers", encode_value(c_.data.numbers)}};
  }

  void run(StageContext& ctx) const override {
    const auto& e = c_.example;
    auto gen = at::make_generator<at::CPUGeneratorImpl>(uint64_t(seed_) + 1);
    auto x = draw_numbers(c_.data.numbers, {1, int64_t(e.length)}, gen);
    x.index_put_({0, e.sep_position - 1}, 0.0);
    AveragingBatch b{x, at::full({1}, int64_t(e.length), f64.dtype(at::kLong)),
                     at::full({1}, int64_t(e.sep_position - 1), f64.dtype(at::kLong))};
    auto params = AveragingParams2d::theorem41(c_.model.b, c_.model.d, e.s_tag, at::Device(at::kCPU), c_.model.s_num);
    auto fw = averaging_forward(params, b);
    const std::string labels = averaging_token_labels(e.length, e.sep_position);
    auto& out = ctx.output();
    out.write("x", x[0], {{"meaning", std::string("the numbers, [T]; 0 at [SEP]")}, {"token_labels", labels}});
    out.write_strings("tokens", averaging_token_texts(x[0], e.sep_position),
                      {{"meaning", std::string("each position as text (x_i=value, [SEP]), [T]")}});
    // The paper counts this layer 1; the interactive view counts layers from 0.
    Attrs a1 = report::attention_map_attributes("theorem41", "theorem41 example", 0);
    a1["meaning"] = std::string("layer-1 attention, [query, key]");
    a1["s_tag"] = e.s_tag;
    out.write("A1", fw.A1[0], a1);
    out.write("H", fw.H[0], {{"meaning", std::string("residual after layer 1, [T, 2] (number, tag)")}});
    out.write("A2_last", fw.A2_last[0], {{"meaning", std::string("layer-2 attention of token T, [key]")}});
    out.write("f", fw.f, {{"meaning", std::string("model output, [1]")}});
    out.write("target", averaging_target(b), {{"meaning", std::string("mean of x_{t+1..T}, [1]")}});
  }

 private:
  Config c_;
  std::int64_t seed_;
};

}  // namespace

std::vector<std::unique_ptr<Stage>> Theorem41Experiment::stages() const {
  std::vector<std::unique_ptr<Stage>> out;
  out.push_back(std::make_unique<SequencesStage>(config_.data, seed_));
  out.push_back(std::make_unique<SweepStage>(config_));
  out.push_back(std::make_unique<ExampleStage>(config_, seed_));
  return out;
}

}  // namespace sinklab::theorem41
