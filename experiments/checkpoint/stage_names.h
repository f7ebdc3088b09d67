#pragma once
// The stage names of the checkpoint experiment, in one place: stages find each other (and
// variants their checkpoints) by these names, and run.h5 has one group per stage.
#include <string>

namespace sinklab::checkpoint::stage_names {

inline const char* const calibrate = "calibrate";  // calibration windows, shared by the pruned variants
inline std::string prune(const std::string& variant) { return "prune." + variant; }    // the pruned checkpoint
inline std::string ablate(const std::string& variant) { return "ablate." + variant; }  // OATS without low rank
inline std::string hook(const std::string& variant) { return "hook." + variant; }      // probed hook sites
inline std::string metrics(const std::string& variant) { return "metrics." + variant; }  // sinks, outliers, spectra
inline const char* const pca = "pca";              // PCA colourings of every variant
inline std::string eval(const std::string& variant) { return "eval." + variant; }      // few-shot accuracy, perplexity
inline std::string intervene(const std::string& variant) { return "intervene." + variant; }  // interventions' effects
inline std::string intervene_eval(const std::string& variant) { return "intervene_eval." + variant; }  // ... on few-shot accuracy
inline const char* const experiment = "checkpoint";  // its report stage is "checkpoint.report"

}  // namespace sinklab::checkpoint::stage_names
