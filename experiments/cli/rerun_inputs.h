#pragma once
// The inputs an archived run read, found again by their fingerprints, and its resolved config
// pointed at where they were found (for `sinklab archive rerun`).
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace sinklab {
class StageCache;
}

namespace sinklab::cli {

struct RecordedInput {
  std::string path;    // as the archived run named it (relative to its working directory, or absolute)
  std::string sha256;  // what it held then
  std::vector<std::string> stages;
};

struct LocatedInput {
  RecordedInput recorded;
  std::string found;  // a local file with the same SHA-256
};

// provenance.json's input_files, one entry per (path, sha256).
std::vector<RecordedInput> recorded_inputs(const nlohmann::json& provenance);

// Finds every input by its SHA-256: at its recorded path (as it is, then against the archived
// run's working directory and the sinklab checkout), then under each of `roots` by ever shorter
// tails of that path (/home/a/models/Phi-3/model.safetensors is looked for as
// ROOT/home/a/models/Phi-3/..., ROOT/a/models/Phi-3/..., ..., ROOT/Phi-3/model.safetensors,
// ROOT/model.safetensors). Hashes go through `fingerprints` (remembered for the rerun itself).
// One InputError naming every input that is missing or different, with the SHA-256 it must have.
std::vector<LocatedInput> locate_inputs(const std::vector<RecordedInput>& inputs, const std::string& working_dir,
                                        const std::vector<std::string>& roots, const StageCache& fingerprints);

struct Redirect {
  std::string key, was, now;  // a dotted config key, its archived value and the local one
};
// Rewrites every string of `config` that names a recorded input file, or a directory that holds
// recorded inputs (a checkpoint directory, a calibration folder), to where they were found.
// InputError when the files of one directory were found in different places.
std::vector<Redirect> redirect_config_paths(nlohmann::ordered_json& config, const std::vector<LocatedInput>& inputs);

}  // namespace sinklab::cli
