#pragma once
// Config of the Theorem 4.1 experiment (paper Section 4): the `theorem41:` section.
#include <cmath>
#include <string>
#include <vector>

#include "framework/config/fields.h"
#include "framework/model/averaging_task.h"

namespace sinklab::theorem41 {

// The random sequences: the averaging task plus how many to draw.
struct SequenceData : AveragingTask {
  int count = 2048;
  template <class V>
  void fields(V& v) {
    v("count", count, "number of sequences", Check::between(1, 1e7));
    AveragingTask::fields(v);
  }
};

// Theorem 4.1's parameters: W_Q2 W_K2^T = [[0, b], [0, d]] with d > 0; s_num = 0 in the theorem.
struct ModelParams {
  double b = 1.0;
  double d = 1.0;
  double s_num = 0.0;
  template <class V>
  void fields(V& v) {
    v("b", b, "W_Q2 W_K2 entry (0,1); any real");
    v("d", d, "W_Q2 W_K2 entry (1,1); the theorem needs d > 0", Check::greater_than(0));
    v("s_num", s_num, "number coordinate of the [SEP] embedding (0 in the theorem)");
  }
};

struct Grid {
  double start = 1.0;
  double stop = 30.0;
  int num = 30;
  std::string scale = "linear";
  template <class V>
  void fields(V& v) {
    v("start", start, "first value");
    v("stop", stop, "last value");
    v("num", num, "number of values", Check::between(1, 100000));
    v("scale", scale, "spacing", Check::one_of({"linear", "log"}));
  }
  void validate(const Decoder& d) const {
    if (scale == "log" && (start <= 0 || stop <= 0)) d.fail("start", "a log grid needs start and stop > 0");
  }
  std::vector<double> values() const {
    std::vector<double> out;
    for (int i = 0; i < num; ++i) {
      double f = num == 1 ? 0.0 : double(i) / (num - 1);
      out.push_back(scale == "log" ? start * std::pow(stop / start, f) : start + f * (stop - start));
    }
    return out;
  }
};

// One sequence drawn for the layer-1 attention figure (the paper's Figure 6).
struct ExampleSequence {
  int length = 16;
  int sep_position = 6;  // t, 1-based as in the paper
  double s_tag = 20.0;
  template <class V>
  void fields(V& v) {
    v("length", length, "T", Check::between(2, 512));
    v("sep_position", sep_position, "t, 1-based", Check::at_least(1));
    v("s_tag", s_tag, "s_tag of the figure", Check::greater_than(0));
  }
  void validate(const Decoder& d) const {
    if (sep_position >= length) d.fail("sep_position", fmt::format("must be < length ({})", length));
  }
};

struct Config {
  SequenceData data;
  ModelParams model;
  Grid s_tag;
  ExampleSequence example;
  int batch_size = 256;
  template <class V>
  void fields(V& v) {
    v("data", data, "random sequences");
    v("model", model, "the theorem's parameters");
    v("s_tag", s_tag, "grid of s_tag values");
    v("example", example, "the sequence drawn in the attention figure");
    v("batch_size", batch_size, "sequences per forward pass", Check::between(1, 1 << 20));
  }
};

}  // namespace sinklab::theorem41
