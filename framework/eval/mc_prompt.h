#pragma once
// Multiple-choice prompts exactly as lm-evaluation-harness builds MMLU's (the "mmlu" task
// group's default template):
//   description  "The following are multiple choice questions (with answers) about {subject}.\n\n"
//                (underscores in the subject become spaces)
//   doc text     question.strip() + "\nA. " + A + "\nB. " + B + ... + "\nAnswer:"
//   shot         doc text + " " + answer letter; shots are the first k dev items
//   context      description + shots joined by "\n\n" + "\n\n" + doc text (k = 0: description + doc text)
//   continuations " A", " B", ... ; the prediction is the one with the largest log-likelihood
#include <string>
#include <vector>

#include "framework/eval/mc_dataset.h"

namespace sinklab {

std::string mc_description(const std::string& subject);
std::string mc_doc_text(const McItem& item);
// The part every question of a subject shares at k shots (description + shots + delimiter).
std::string mc_shared_prefix(const std::string& subject, const std::vector<McItem>& dev, int shots);
std::string mc_context(const std::string& subject, const std::vector<McItem>& dev, int shots, const McItem& item);
std::string mc_continuation(int choice);  // " A", " B", ...

}  // namespace sinklab
