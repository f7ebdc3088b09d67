#include "experiments/catch_tag_release/config.h"

#include "framework/hooks/hook_points.h"
#include "framework/util/error.h"

namespace sinklab::catch_tag_release {

static bool site_ends_with(const std::string& site, const std::vector<std::string>& suffixes) {
  const std::string full = hook_name(0, site);
  for (const auto& s : suffixes)
    if (full.size() >= s.size() && full.compare(full.size() - s.size(), s.size(), s) == 0) return true;
  return false;
}

bool is_per_head_site(const std::string& site) {
  return site_ends_with(site, {"attn.hook_q", "attn.hook_k", "attn.hook_v", "attn.hook_z", "attn.hook_result",
                               "attn.hook_pattern", "attn.hook_attn_scores"});
}
bool is_attention_map_site(const std::string& site) {
  return site_ends_with(site, {"attn.hook_pattern", "attn.hook_attn_scores"});
}

static void check_site(const std::string& site, const Decoder& d) {
  try {
    hook_name(0, site);
  } catch (const InputError& e) {
    d.fail("site", e.what());
  }
}

void Probe::validate(const Decoder& d) const {
  check_site(site, d);
  if (!heads.empty() && !is_per_head_site(site))
    d.fail("heads", fmt::format("site '{}' has no head dimension; remove `heads`", site));
}

void PcaSpec::validate(const Decoder& d) const {
  check_site(site, d);
  if (is_attention_map_site(site))
    d.fail("site", fmt::format("'{}' is an attention map, not token vectors; PCA colours vectors such as result, z, "
                               "resid_mid or normalized", site));
  if (is_per_head_site(site) && head < 0) d.fail("head", fmt::format("site '{}' is per head: give `head`", site));
  if (!is_per_head_site(site) && head >= 0) d.fail("head", fmt::format("site '{}' has no heads; remove `head`", site));
}

std::string PcaSpec::display_name() const {
  if (!name.empty()) return name;
  std::string short_site = hook_name(0, site).substr(std::string("blocks.0.").size());
  for (const char* prefix : {"attn.hook_", "ln2.hook_", "hook_"})
    if (short_site.rfind(prefix, 0) == 0) short_site = short_site.substr(std::string(prefix).size());
  return fmt::format("{}_L{}{}_{}", short_site, layer, head >= 0 ? fmt::format("H{}", head) : "", prompt);
}

}  // namespace sinklab::catch_tag_release
