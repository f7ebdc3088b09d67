#pragma once
// Invariance checks (`checks:` in a config): stages that should give the same numbers whatever
// the CPU thread count or batch size (few-shot scoring, the metrics) are run a second time with
// another one, as a stage of their own (check.threads.<stage>, check.batch.<stage>), and every
// dataset of the rerun is compared with the stage's own output (io/result_diff.h). The largest
// relative difference goes to run.h5, provenance.json ("checks") and the report, where one above
// tolerance is a warning. lm-evaluation-harness's users find scores that move with the batch size
// by accident; here the run says so.
#include <memory>
#include <string>

#include "framework/config/fields.h"
#include "framework/io/result_diff.h"
#include "framework/runner/stage.h"

namespace sinklab {

class Runner;

struct InvarianceChecks {
  bool batch_invariance = false;
  bool thread_invariance = false;
  double tolerance = 0;  // relative; 0: archive rerun's defaults per dtype
  template <class V>
  void fields(V& v) {
    v("batch_invariance", batch_invariance, "rerun the eval stages with another batch size (1 <-> 4) and compare");
    v("thread_invariance", thread_invariance, "rerun the eval and metrics stages with another CPU thread count and compare");
    v("tolerance", tolerance, "relative tolerance of every float (0: float64 1e-5, float32 1e-4, bfloat16 1e-2)",
      Check::at_least(0));
  }
};

class InvarianceCheckStage : public Stage {
 public:
  // kind "threads": `target` itself with `threads` CPU threads; kind "batch": `variant` (the
  // target with another batch size, described by `condition`).
  InvarianceCheckStage(const Stage& target, std::unique_ptr<Stage> variant, std::string kind, std::string condition,
                       int threads, double tolerance);
  std::string name() const override { return "check." + kind_ + "." + target_.name(); }
  int version() const override { return 1; }
  nlohmann::ordered_json reads() const override;
  std::vector<std::string> upstream() const override;
  std::vector<std::string> input_files() const override { return target_.input_files(); }
  void run(StageContext& ctx) const override;

 private:
  const Stage& target_;
  std::unique_ptr<Stage> variant_;
  std::string kind_, condition_;
  int threads_;
  double tolerance_;
};

// Adds the checks `checks` asks for to every stage of `runner` that takes part (call after the
// experiments' stages are added). `threads`: the run's thread count.
void add_invariance_checks(const InvarianceChecks& checks, int threads, Runner& runner);

}  // namespace sinklab
