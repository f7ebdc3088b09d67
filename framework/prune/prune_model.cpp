#include "framework/prune/prune_model.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <chrono>
#include <map>
#include <set>

#include "framework/io/scratch_tensor.h"
#include "framework/model/language_model.h"
#include "framework/prune/block_store.h"
#include "framework/prune/methods.h"
#include "framework/util/error.h"
#include "framework/util/memory.h"

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

PrunedLayerRecord prune_linear(LinearLayer& lin, LinearStats stats, const PruneConfig& cfg, std::int64_t layer) {
  const MethodInfo& method = prune_method(cfg.method);
  auto m0 = std::chrono::steady_clock::now();
  auto w = lin.weight.to(at::kFloat, /*non_blocking=*/false, /*copy=*/true);  // never an alias of the weight
  SINKLAB_CHECK(stats.tokens() > 0 || !method.needs_calibration, "{} needs calibration statistics", cfg.method);
  PrunedMatrix p = method.run(w, std::move(stats), cfg);
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

std::vector<PrunedLayerRecord> prune_linears(std::vector<LinearLayer>& linears, std::map<std::string, LinearStats>& stats,
                                             const PruneConfig& cfg, std::int64_t layer) {
  std::map<std::string, int> users;  // maps still to prune per input
  for (const auto& lin : linears) ++users[lin.input];
  std::vector<PrunedLayerRecord> records;
  for (auto& lin : linears) {
    LinearStats mine;
    if (auto it = stats.find(lin.input); it != stats.end()) {
      if (--users[lin.input] > 0) {
        mine = it->second;  // shares the tensors: a consuming method copies them
      } else {
        mine = std::move(it->second);
        stats.erase(it);
      }
    }
    records.push_back(prune_linear(lin, std::move(mine), cfg, layer));
  }
  return records;
}

PruneReport prune_model(LanguageModel& model, const at::Tensor& ids, const PruneConfig& cfg, int batch,
                        const std::function<void(std::int64_t)>& on_block, const PrunedBlockStore* store,
                        const std::string& scratch_dir) {
  at::NoGradGuard no_grad;
  const MethodInfo& method = prune_method(cfg.method);
  const std::int64_t layers = model.spec().num_layers, N = ids.size(0);
  PruneReport report;
  report.calibration_tokens = ids.numel();
  // The residual stream entering the current block [N, T, D], one tensor (in memory, or in a
  // scratch file); each batch of it is replaced by its output as it leaves a block, so one
  // stream is all there is - for one-shot too, whose next input is the dense block's output,
  // computed by the statistics pass before any map is pruned.
  at::Tensor stream;
  auto each_batch = [&](const std::function<void(at::Tensor)>& f) {
    for (std::int64_t i = 0; i < N; i += batch) f(stream.narrow(0, i, std::min<std::int64_t>(batch, N - i)));
  };
  HookPoints none = HookPoints::none();
  auto through_block = [&](std::int64_t l, HookPoints& hooks) {
    each_batch([&](at::Tensor h) { h.copy_(model.run_block(l, h, hooks)); });
  };
  if ((method.needs_calibration || cfg.sequential) && N > 0) {
    for (std::int64_t i = 0; i < N; i += batch) {
      at::Tensor h = model.embed(ids.narrow(0, i, std::min<std::int64_t>(batch, N - i)));  // [b, T, D]
      if (!stream.defined()) {
        std::vector<std::int64_t> sizes{N, h.size(1), h.size(2)};
        stream = scratch_dir.empty() || !h.device().is_cpu() ? at::empty(sizes, h.options())
                                                             : scratch_tensor(scratch_dir, sizes, h.scalar_type());
      }
      stream.narrow(0, i, h.size(0)).copy_(h);
    }
  }

  for (std::int64_t l = 0; l < layers; ++l) {
    auto t0 = std::chrono::steady_clock::now();
    AnonymousPeak block_peak;
    const bool more = l + 1 < layers && stream.defined();
    if (store && store->has(l)) {  // finished by an earlier run: restore it, carry the stream on
      const bool one_shot = !cfg.sequential;
      if (one_shot && more) through_block(l, none);  // one-shot streams take the dense block's output
      auto [records, seconds] = store->restore(l, model);
      if (!one_shot && more) through_block(l, none);
      for (auto& r : records) report.matrices.push_back(std::move(r));
      report.block_seconds.push_back(seconds);
      report.block_peak_bytes.push_back(double(block_peak.peak()));
      ++report.restored_blocks;
      model.release_block_memory(l);
      if (on_block) on_block(l);
      continue;
    }
    auto linears = model.linear_layers(l);
    std::map<std::string, LinearStats> stats;
    if (method.needs_calibration) {
      stats = input_statistics(linears, method.needs_hessian);
      HookPoints hooks = filling(stats);
      if (cfg.sequential) each_batch([&](at::Tensor h) { model.run_block(l, h, hooks); });
      else through_block(l, hooks);  // the dense output is the next block's input
    } else if (!cfg.sequential && more) {
      through_block(l, none);
    }
    const std::size_t first = report.matrices.size();
    for (auto& r : prune_linears(linears, stats, cfg, l)) report.matrices.push_back(std::move(r));
    // The block as it will be saved (the file's dtype): what later blocks calibrate on is what
    // the checkpoint holds, and a resumed run continues from exactly these values.
    model.assign_checkpoint_tensors(model.checkpoint_tensors(l));
    if (cfg.sequential && more) through_block(l, none);  // the stream for the next block: through the pruned block
    report.block_seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (store) {
      store->save(l, model, {report.matrices.begin() + std::ptrdiff_t(first), report.matrices.end()},
                  report.block_seconds.back());
      model.release_block_memory(l);  // saved: its edited pages go, and the factors (S's pattern is
      for (auto it = report.matrices.begin() + std::ptrdiff_t(first); it != report.matrices.end(); ++it)
        it->lowrank_u = it->lowrank_v = it->keep = at::Tensor();  // a byte per weight) stay on disk
    }
    report.block_peak_bytes.push_back(double(block_peak.peak()));  // saving included
    if (on_block) on_block(l);
  }
  return report;
}

}  // namespace sinklab
