#pragma once
// Pruning the trainable toy (toy-averaging) the way prune_model prunes a language model:
// layer by layer, each layer calibrated on the averaging task through the already pruned
// layers before it (the toy is two or three layers deep, so it simply reruns the forward pass).
#include "framework/model/averaging_task.h"
#include "framework/prune/prune_model.h"

namespace sinklab {

class ToyModel;

PruneReport prune_toy(ToyModel& model, const AveragingBatch& calibration, const PruneConfig& config);

}  // namespace sinklab
