#pragma once
// The stages of the catch-tag-release part (see part.h).
#include <memory>
#include <vector>

#include "experiments/catch_tag_release/config.h"
#include "experiments/checkpoint/part.h"

namespace sinklab::catch_tag_release {

std::unique_ptr<Stage> make_hook_stage(const Config& config, const checkpoint::Inputs& inputs,
                                       const checkpoint::ResolvedModel& model);
std::unique_ptr<Stage> make_metrics_stage(const MetricsSpec& metrics, const checkpoint::Inputs& inputs,
                                          const checkpoint::ResolvedModel& model);
std::unique_ptr<Stage> make_pca_stage(const std::vector<PcaSpec>& pca, const std::vector<checkpoint::ResolvedModel>& models);

}  // namespace sinklab::catch_tag_release
