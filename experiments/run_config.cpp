#include "experiments/run_config.h"

#include <algorithm>
#include <cctype>

namespace sinklab {

void RunConfig::validate(const Decoder& d) const {
  bool safe = std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
  if (!safe || name == "." || name == "..")
    d.fail("name", fmt::format("'{}' must use only letters, digits, '-', '_' and '.' (it names a directory)", name));
  if (device != "auto" && device != "cpu" && device.rfind("cuda", 0) != 0)
    d.fail("device", fmt::format("'{}' is not a device: use cpu, cuda, cuda:N or auto", device));
  if (!theorem41 && !toy_learned)
    d.fail("theorem41", "the config has no experiment section: add one, e.g. 'theorem41: {}' or 'toy_learned: {...}'");
}

}  // namespace sinklab
