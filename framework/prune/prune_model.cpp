#include "framework/prune/prune_model.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <chrono>
#include <map>
#include <set>

#include "framework/model/language_model.h"
#include "framework/prune/block_store.h"
#include "framework/prune/methods.h"
#include "framework/util/error.h"

namespace sinklab {

std::map<std::string, LinearStats> input_statistics(const std::vector<LinearLayer>& linears, bool hessian) {
  std::map<std::string, LinearStats> stats;
  for (const auto& lin : linears) stats.try_emplace(lin.input, lin.weight.size(1), hessian);
  return stats;
}

HookPoints filling(std::map<std::string, LinearStats>& stats) {
  std::set<std::string> inputs;
  for (const auto& [name, s] : stats) inputs.insert(name);
  return HookPoints::streaming(inputs, [&stats](const std::string& name, const at::Tensor& x) {
    auto& s = stats.at(name);
    s.add(x.reshape({-1, s.features()}));  // z [B, T, H, hd] -> [B*T, H*hd]
  });
}

PrunedLayerRecord prune_linear(LinearLayer& lin, const LinearStats* stats, const PruneConfig& cfg, std::int64_t layer) {
  const MethodInfo& method = prune_method(cfg.method);
  auto m0 = std::chrono::steady_clock::now();
  auto w = lin.weight.to(at::kFloat, /*non_blocking=*/false, /*copy=*/true);  // never an alias of the weight
  static const LinearStats none;
  SINKLAB_CHECK(stats || !method.needs_calibration, "{} needs calibration statistics", cfg.method);
  PrunedMatrix p = method.run(w, stats ? *stats : none, cfg);
  lin.weight.copy_(p.weight.to(lin.weight.scalar_type()));
  PrunedLayerRecord rec;
  rec.name = lin.name;
  rec.kind = lin.kind;
  rec.layer = layer;
  rec.rows = w.size(0);
  rec.cols = w.size(1);
  rec.zeros = lin.weight.eq(0).sum().item<std::int64_t>();
  rec.parameters = p.parameters;
  rec.rank = p.lowrank_u.defined() ? p.lowrank_u.size(1) : 0;
  rec.relative_error = (w - lin.weight.to(at::kFloat)).norm().item<double>() / std::max(w.norm().item<double>(), 1e-300);
  rec.objective = p.objective;
  rec.lowrank_u = p.lowrank_u;
  rec.lowrank_v = p.lowrank_v;
  if (p.lowrank_u.defined()) rec.keep = p.keep;
  rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - m0).count();
  return rec;
}

PruneReport prune_model(LanguageModel& model, const at::Tensor& ids, const PruneConfig& cfg, int batch,
                        const std::function<void(std::int64_t)>& on_block, const PrunedBlockStore* store) {
  at::NoGradGuard no_grad;
  const MethodInfo& method = prune_method(cfg.method);
  const std::int64_t layers = model.spec().num_layers;
  PruneReport report;
  // The residual stream entering the current block, per calibration batch.
  std::vector<at::Tensor> stream;
  if (method.needs_calibration || cfg.sequential)
    for (std::int64_t i = 0; i < ids.size(0); i += batch)
      stream.push_back(model.embed(ids.narrow(0, i, std::min<std::int64_t>(batch, ids.size(0) - i))));
  report.calibration_tokens = ids.numel();

  for (std::int64_t l = 0; l < layers; ++l) {
    auto t0 = std::chrono::steady_clock::now();
    HookPoints none = HookPoints::none();
    if (store && store->has(l)) {  // finished by an earlier run: restore it, carry the stream on
      const bool one_shot = !cfg.sequential && !stream.empty();
      if (one_shot && l + 1 < layers)  // one-shot streams take the dense block's output
        for (auto& h : stream) h = model.run_block(l, h, none);
      auto [records, seconds] = store->restore(l, model);
      if (!one_shot && l + 1 < layers)
        for (auto& h : stream) h = model.run_block(l, h, none);
      for (auto& r : records) report.matrices.push_back(std::move(r));
      report.block_seconds.push_back(seconds);
      ++report.restored_blocks;
      model.release_block_memory(l);
      if (on_block) on_block(l);
      continue;
    }
    auto linears = model.linear_layers(l);
    std::map<std::string, LinearStats> stats;
    std::vector<at::Tensor> dense_out;
    if (method.needs_calibration) {
      stats = input_statistics(linears, method.needs_hessian);
      HookPoints hooks = filling(stats);
      for (const auto& h : stream) {
        auto out = model.run_block(l, h, hooks);
        if (!cfg.sequential) dense_out.push_back(out);
      }
    }
    const std::size_t first = report.matrices.size();
    for (auto& lin : linears)
      report.matrices.push_back(prune_linear(lin, method.needs_calibration ? &stats.at(lin.input) : nullptr, cfg, l));
    // The block as it will be saved (the file's dtype): what later blocks calibrate on is what
    // the checkpoint holds, and a resumed run continues from exactly these values.
    model.assign_checkpoint_tensors(model.checkpoint_tensors(l));
    // The stream for the next block: through the pruned block (sequential) or the dense one.
    if (l + 1 < layers && !stream.empty()) {
      if (!cfg.sequential && !dense_out.empty()) {
        stream = std::move(dense_out);
      } else {
        for (auto& h : stream) h = model.run_block(l, h, none);
      }
    }
    report.block_seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (store) {
      store->save(l, model, {report.matrices.begin() + std::ptrdiff_t(first), report.matrices.end()},
                  report.block_seconds.back());
      model.release_block_memory(l);  // saved: its edited pages go, and the factors (S's pattern is
      for (auto it = report.matrices.begin() + std::ptrdiff_t(first); it != report.matrices.end(); ++it)
        it->lowrank_u = it->lowrank_v = it->keep = at::Tensor();  // a byte per weight) stay on disk
    }
    if (on_block) on_block(l);
  }
  return report;
}

}  // namespace sinklab
