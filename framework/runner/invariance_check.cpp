#include "framework/runner/invariance_check.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <filesystem>

#include "framework/runner/runner.h"
#include "framework/util/log.h"

namespace sinklab {
namespace {

// Sets the CPU thread count for as long as it lives.
class ThreadCount {
 public:
  explicit ThreadCount(int n) : before_(at::get_num_threads()) {
    if (n > 0) at::set_num_threads(n);
  }
  ~ThreadCount() { at::set_num_threads(before_); }

 private:
  int before_;
};

}  // namespace

InvarianceCheckStage::InvarianceCheckStage(const Stage& target, std::unique_ptr<Stage> variant, std::string kind,
                                           std::string condition, int threads, double tolerance)
    : target_(target), variant_(std::move(variant)), kind_(std::move(kind)), condition_(std::move(condition)),
      threads_(threads), tolerance_(tolerance) {}

nlohmann::ordered_json InvarianceCheckStage::reads() const {
  return {{"target", target_.reads()}, {"condition", condition_}, {"tolerance", tolerance_}};
}

std::vector<std::string> InvarianceCheckStage::upstream() const {
  auto up = target_.upstream();
  up.push_back(target_.name());  // compared with its output
  return up;
}

void InvarianceCheckStage::run(StageContext& ctx) const {
  const std::string dir = ctx.scratch_dir() + "/rerun";
  std::filesystem::create_directories(dir);
  const std::string rerun_file = dir + "/output.h5";
  {
    Hdf5File out(rerun_file, Hdf5File::Mode::create);
    StageContext inner = ctx.rerun_context(out, dir);
    ThreadCount threads(kind_ == "threads" ? threads_ : 0);
    (variant_ ? *variant_ : target_).run(inner);
    out.close();
  }
  Tolerances tolerances = Tolerances::defaults(!ctx.device().is_cpu());
  if (tolerance_ > 0) tolerances.float64 = tolerances.float32 = tolerances.half = tolerances.summary = tolerance_;
  auto diffs = diff_hdf5_files(ctx.input(target_.name()).path(), rerun_file, tolerances);
  sort_by_severity(diffs);
  std::vector<std::string> names;
  std::vector<double> relative;
  std::vector<std::int64_t> differing;
  bool ok = true;
  for (const auto& d : diffs) {
    names.push_back(d.name.substr(d.name.find(':') + 1) + (d.problem.empty() ? "" : " (" + d.problem + ")"));
    relative.push_back(d.problem.empty() ? d.relative : std::numeric_limits<double>::infinity());
    differing.push_back(d.differing);
    ok = ok && d.agrees();
  }
  auto& out = ctx.output();
  out.write_strings("datasets", names, {{"meaning", std::string("the stage's datasets, largest difference first")}});
  out.write("relative", at::tensor(relative, at::kDouble),
            {{"meaning", std::string("max |a - b| / max |a| per dataset between the stage and its rerun "
                                     "(integers: fraction of elements that differ), [datasets]")}});
  out.write("differing", at::tensor(differing, at::kLong), {{"meaning", std::string("elements that differ, [datasets]")}});
  const double worst = relative.empty() ? 0.0 : relative.front();
  out.set_attr("/", "stage", target_.name());
  out.set_attr("/", "kind", kind_);
  out.set_attr("/", "condition", condition_);
  out.set_attr("/", "max_relative", worst);
  out.set_attr("/", "worst_dataset", names.empty() ? std::string() : names.front());
  out.set_attr("/", "within_tolerance", std::int64_t(ok));
  std::filesystem::remove_all(dir);
  if (ok)
    log::info("{}: {} changes nothing beyond tolerance (largest relative difference {:.3g})", name(), condition_, worst);
  else
    log::warn("{}: {} changes {} by {:.3g} (relative), beyond tolerance", name(), condition_,
              names.empty() ? "" : names.front(), worst);
}

void add_invariance_checks(const InvarianceChecks& checks, int threads, Runner& runner) {
  if (!checks.batch_invariance && !checks.thread_invariance) return;
  const int other = threads > 1 ? 1 : 2;
  for (const Stage* s : runner.stages()) {
    if (checks.thread_invariance && s->checked_for_thread_invariance())
      runner.add(std::make_unique<InvarianceCheckStage>(*s, nullptr, "threads", fmt::format("threads {} -> {}", threads, other),
                                                        other, checks.tolerance));
    std::string condition;
    if (checks.batch_invariance)
      if (auto variant = s->rebatched(condition))
        runner.add(std::make_unique<InvarianceCheckStage>(*s, std::move(variant), "batch", condition, 0, checks.tolerance));
  }
}

}  // namespace sinklab
