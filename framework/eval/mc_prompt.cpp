#include "framework/eval/mc_prompt.h"

#include <algorithm>

#include "framework/util/error.h"
#include "framework/util/strings.h"

namespace sinklab {

std::string mc_description(const std::string& subject) {
  std::string s = subject;
  std::replace(s.begin(), s.end(), '_', ' ');
  return "The following are multiple choice questions (with answers) about " + s + ".\n\n";
}

std::string mc_doc_text(const McItem& item) {
  std::string out = trim(item.question);
  for (std::size_t i = 0; i < item.choices.size(); ++i) out += "\n" + std::string(1, char('A' + i)) + ". " + item.choices[i];
  return out + "\nAnswer:";
}

std::string mc_continuation(int choice) { return std::string(" ") + char('A' + choice); }

std::string mc_shared_prefix(const std::string& subject, const std::vector<McItem>& dev, int shots) {
  SINKLAB_INPUT_CHECK(shots <= int(dev.size()), "{} shots asked for, subject '{}' has {} dev items", shots, subject,
                      dev.size());
  std::string out = mc_description(subject);
  for (int i = 0; i < shots; ++i) out += mc_doc_text(dev[std::size_t(i)]) + mc_continuation(dev[std::size_t(i)].answer) + "\n\n";
  return out;
}

std::string mc_context(const std::string& subject, const std::vector<McItem>& dev, int shots, const McItem& item) {
  return mc_shared_prefix(subject, dev, shots) + mc_doc_text(item);
}

}  // namespace sinklab
