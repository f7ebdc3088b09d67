#include "framework/prune/prune_toy.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <map>

#include "framework/model/toy_averaging.h"
#include "framework/prune/methods.h"

namespace sinklab {

PruneReport prune_toy(ToyModel& model, const AveragingBatch& calibration, const PruneConfig& cfg) {
  at::NoGradGuard no_grad;
  const MethodInfo& method = prune_method(cfg.method);
  PruneReport report;
  report.calibration_tokens = calibration.x.numel();
  const ToyModel dense = cfg.sequential ? ToyModel() : model.clone();  // one-shot calibrates on the dense toy
  for (int l = 0; l < model.spec().layers; ++l) {
    auto linears = model.linear_layers(l);
    std::map<std::string, LinearStats> stats;
    if (method.needs_calibration) {
      stats = input_statistics(linears, method.needs_hessian);
      HookPoints hooks = filling(stats);
      // Sequential: through the layers pruned so far; one-shot: through the dense copy.
      (cfg.sequential ? model : dense).forward(calibration, &hooks);
    }
    for (auto& r : prune_linears(linears, stats, cfg, l)) report.matrices.push_back(std::move(r));
    report.block_seconds.push_back(0);
    for (const auto& m : report.matrices)
      if (m.layer == l) report.block_seconds.back() += m.seconds;
  }
  return report;
}

}  // namespace sinklab
