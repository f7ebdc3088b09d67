#pragma once
// The memory plan shared by `sinklab plan` and `sinklab run`.
#include <c10/core/Device.h>

#include <string>

#include "experiments/cli/options.h"

namespace sinklab {
class Runner;
}

namespace sinklab::cli {

// --memory-budget GIB and --ignore-memory-budget.
void add_memory_options(po::options_description& desc);
// --memory-budget in bytes, or what the machine has available now (plus what this process holds).
double memory_budget_bytes(const po::variables_map& vm);
// Prints the runner's plan (stdout when `print`, else the log) and returns the over-budget
// message ("" when every stage fits or none has an estimate).
std::string check_memory_plan(const Runner& runner, const po::variables_map& vm, c10::Device device, bool print);

}  // namespace sinklab::cli
