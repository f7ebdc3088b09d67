#include "experiments/catch_tag_release/config.h"

#include "framework/hooks/hook_sites.h"
#include "framework/util/error.h"

namespace sinklab::catch_tag_release {
namespace {

// The site a config names, or a config error at the `site` key.
const HookSite* checked_site(const std::string& site, const Decoder& d) {
  try {
    return &hook_site(site);
  } catch (const InputError& e) {
    d.fail("site", e.what());
    return nullptr;
  }
}

}  // namespace

void Probe::validate(const Decoder& d) const {
  const HookSite* s = checked_site(site, d);
  if (!s) return;
  if (!s->per_block)
    d.fail("site", fmt::format("'{}' is a model-level site; probes keep per-block sites (blocks.<l>.*), e.g. "
                               "resid_pre of layer 0 for the embedding", site));
  if (!heads.empty() && !s->has_heads())
    d.fail("heads", fmt::format("site '{}' has no head axis ({}); remove `heads`", site, s->shape));
}

void PcaSpec::validate(const Decoder& d) const {
  const HookSite* s = checked_site(site, d);
  if (!s) return;
  if (!s->per_block) d.fail("site", fmt::format("'{}' is a model-level site; PCA colours per-block sites", site));
  if (s->attention_map)
    d.fail("site", fmt::format("'{}' is an attention map, not token vectors; PCA colours vectors such as result, z, "
                               "resid_mid or normalized", site));
  if (s->has_heads() && head < 0) d.fail("head", fmt::format("site '{}' is per head: give `head`", site));
  if (!s->has_heads() && head >= 0) d.fail("head", fmt::format("site '{}' has no heads; remove `head`", site));
}

std::string PcaSpec::display_name() const {
  if (!name.empty()) return name;
  return fmt::format("{}_L{}{}_{}", hook_site(site).short_name, layer, head >= 0 ? fmt::format("H{}", head) : "", prompt);
}

}  // namespace sinklab::catch_tag_release
