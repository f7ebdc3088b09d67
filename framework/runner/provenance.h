#pragma once
// Provenance: everything needed to tell how a run's numbers were made (build_provenance lists the
// fields). Written as provenance.json and as attributes of run.h5's root group.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "framework/runner/runner.h"

namespace sinklab {

struct ProvenanceInput {
  std::vector<std::string> command_line;
  nlohmann::ordered_json resolved_config;
  std::string config_hash;
  std::vector<std::string> config_files;
  std::string started, finished;
  double seconds = 0.0;
  std::vector<StageRecord> stages;
  std::string device;
  int threads = 0;
  std::int64_t seed = 0;
};

nlohmann::ordered_json build_provenance(const ProvenanceInput& in);
nlohmann::ordered_json library_versions();

}  // namespace sinklab
