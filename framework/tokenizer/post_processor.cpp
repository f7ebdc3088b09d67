#include "framework/tokenizer/post_processor.h"

#include <nlohmann/json.hpp>

#include "framework/util/error.h"

namespace sinklab {

using json = nlohmann::json;

PostProcessor::PostProcessor(const json& j) {
  if (!j.is_null()) collect(j);
}

void PostProcessor::collect(const json& j) {
  const std::string type = j.value("type", "");
  if (type == "Sequence") {
    for (const auto& p : j.at("processors")) collect(p);
  } else if (type == "ByteLevel") {
    // Offsets only.
  } else if (type == "TemplateProcessing") {
    Wrap w;
    bool seen_sequence = false;
    for (const auto& item : j.at("single")) {
      if (item.contains("Sequence")) {
        SINKLAB_INPUT_CHECK(!seen_sequence, "TemplateProcessing 'single' names the sequence twice");
        seen_sequence = true;
        continue;
      }
      const std::string name = item.at("SpecialToken").at("id").get<std::string>();
      SINKLAB_INPUT_CHECK(j.at("special_tokens").contains(name),
                          "TemplateProcessing uses special token '{}', which its special_tokens lack", name);
      for (const auto& id : j["special_tokens"][name].at("ids"))
        (seen_sequence ? w.after : w.before).push_back(id.get<std::int64_t>());
    }
    SINKLAB_INPUT_CHECK(seen_sequence, "TemplateProcessing 'single' has no Sequence item");
    wraps_.push_back(std::move(w));
  } else if (type == "BertProcessing" || type == "RobertaProcessing") {
    // "cls": ["[CLS]", 101], "sep": ["[SEP]", 102]
    wraps_.push_back(Wrap{{j.at("cls").at(1).get<std::int64_t>()}, {j.at("sep").at(1).get<std::int64_t>()}});
  } else {
    throw InputError(fmt::format("post-processor '{}' is not supported (TemplateProcessing, BertProcessing, "
                                 "RobertaProcessing, ByteLevel, Sequence)",
                                 type));
  }
}

std::vector<std::int64_t> PostProcessor::apply(std::vector<std::int64_t> ids) const {
  for (const Wrap& w : wraps_) {
    std::vector<std::int64_t> out(w.before);
    out.insert(out.end(), ids.begin(), ids.end());
    out.insert(out.end(), w.after.begin(), w.after.end());
    ids = std::move(out);
  }
  return ids;
}

}  // namespace sinklab
