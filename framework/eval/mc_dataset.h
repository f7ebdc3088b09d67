#pragma once
// Multiple-choice question sets, by subject, with the few-shot pool (dev) and the scored
// questions (test). Three layouts:
//   mmlu     a directory with dev/<subject>_dev.csv and test/<subject>_test.csv (no header;
//            question, A, B, C, D, answer letter)
//   jsonl    one {"question", "choices": [...], "answer": index or letter, "subject",
//            "split": "dev"|"test"} per line (split defaults to test)
//   hamexam  the US amateur-radio pools of Debian's hamexam package (/usr/share/hamexam/{T,G,E}/
//            one file per question: "ID (ANSWER)", the question, "A. ..." to "D. ..."); each pool
//            is a subject, its first 5 questions by ID are the dev set
#include <map>
#include <string>
#include <vector>

namespace sinklab {

struct McItem {
  std::string id, question;
  std::vector<std::string> choices;
  int answer = 0;  // index into choices
};

struct McSubject {
  std::string name;
  std::vector<McItem> dev, test;
};

// `subjects` empty = all; `limit` > 0 keeps the first `limit` test items per subject.
std::vector<McSubject> load_mc_dataset(const std::string& kind, const std::string& path,
                                       const std::vector<std::string>& subjects = {}, int limit = 0);

}  // namespace sinklab
