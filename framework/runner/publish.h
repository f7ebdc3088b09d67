#pragma once
// Publishing a finished run into its (still partial) directory - everything `sinklab run`
// leaves besides config.resolved.yaml, run.log and report.html:
//   artifacts/<stage>/   each non-report stage's files (hard links into the cache)
//   figures/             each report stage's figures
//   summary.json         name and config hash, then each report's numbers in stage order
//   run.h5               each stage's cache entry as /<stage>, the provenance on the root
//   provenance.json      the same provenance, built once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "framework/runner/run_dir.h"
#include "framework/runner/runner.h"

namespace sinklab {

void publish_run(const RunDirectory& dir, const std::string& name, const std::vector<StageRecord>& stages,
                 const nlohmann::ordered_json& provenance);

}  // namespace sinklab
