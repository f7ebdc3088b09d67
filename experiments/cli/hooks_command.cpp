// `sinklab hooks`: the hook site table (framework/hooks/hook_sites.cpp) - what probes and PCA can
// name, with each site's shape and meaning.
#include <fmt/format.h>

#include <iostream>

#include "experiments/cli/commands.h"
#include "framework/hooks/hook_sites.h"
#include "framework/util/error.h"

namespace sinklab::cli {

int hooks_command(const std::vector<std::string>& args) {
  const std::string usage = "usage: sinklab hooks\n\nEvery hook site, TransformerLens names and semantics: the short name "
                            "configs write, the full name\n(blocks.<layer>. is the block prefix), the shape of one "
                            "sequence's value and what it is.";
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << usage << "\n";
    return 0;
  }
  SINKLAB_INPUT_CHECK(args.empty(), "unexpected argument '{}': sinklab hooks takes none", args.front());
  std::cout << fmt::format("{:<15} {:<32} {:<22} {}\n", "site", "full name", "shape", "meaning");
  for (const auto& s : hook_sites()) {
    std::string note;
    if (s.needs == SiteNeeds::rotary_positions) note = " (rotary models only)";
    if (s.needs == SiteNeeds::learned_positions) note = " (learned-position models only)";
    if (s.needs == SiteNeeds::gated_mlp) note = " (gated-MLP models only)";
    std::cout << fmt::format("{:<15} {:<32} {:<22} {}{}\n", s.short_name, s.per_block ? "blocks.<l>." + s.long_name : s.long_name,
                             s.shape, s.meaning, note);
  }
  std::cout << "\npos: token position; head / kv_head: query / key-value heads (grouped-query attention); layers and heads "
               "are 0-based.\n";
  return 0;
}

}  // namespace sinklab::cli
