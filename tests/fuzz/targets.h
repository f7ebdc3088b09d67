#pragma once
// The fuzz targets (issue 21): each feeds bytes to one of sinklab's readers of untrusted files.
// A reader may refuse its input with an InputError (that is what it is for); anything else - a
// crash, a sanitizer report, another exception, a hang - is a finding. The same targets run as
// libFuzzer binaries (scripts/fuzz.sh) and, over the committed corpus, as a ctest entry.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sinklab::fuzz {

// Names of the targets, for the replay and for scripts/fuzz.sh.
const std::vector<std::string>& target_names();
// Runs target `name` on `data`; returns normally when the reader accepted or refused the input.
void run_target(const std::string& name, const std::uint8_t* data, std::size_t size);

}  // namespace sinklab::fuzz
