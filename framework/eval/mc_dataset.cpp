#include "framework/eval/mc_dataset.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "framework/eval/csv.h"
#include "framework/io/atomic_file.h"
#include "framework/util/error.h"
#include "framework/util/strings.h"

namespace fs = std::filesystem;

namespace sinklab {
namespace {

int letter_index(const std::string& s, const std::string& where) {
  const std::string t = trim(s);
  SINKLAB_INPUT_CHECK(t.size() == 1 && t[0] >= 'A' && t[0] <= 'Z', "{}: answer '{}' is not a letter A-Z", where, s);
  return t[0] - 'A';
}

std::vector<McItem> read_mmlu_csv(const std::string& path) {
  std::vector<McItem> items;
  auto rows = parse_csv(read_file(path), path);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto& row = rows[r];
    const std::string where = fmt::format("{} row {}", path, r + 1);
    SINKLAB_INPUT_CHECK(row.size() == 6, "{}: {} columns, MMLU rows have 6 (question, A, B, C, D, answer)", where,
                        row.size());
    McItem it{fmt::format("{}", r), row[0], {row[1], row[2], row[3], row[4]}, letter_index(row[5], where)};
    SINKLAB_INPUT_CHECK(it.answer < 4, "{}: answer '{}' is not A-D", where, row[5]);
    items.push_back(std::move(it));
  }
  return items;
}

std::vector<McSubject> load_mmlu(const std::string& dir) {
  SINKLAB_INPUT_CHECK(fs::is_directory(fs::path(dir) / "test") && fs::is_directory(fs::path(dir) / "dev"),
                      "'{}' is not an MMLU directory: it needs dev/<subject>_dev.csv and test/<subject>_test.csv", dir);
  std::vector<McSubject> out;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(fs::path(dir) / "test")) {
    const std::string f = e.path().filename().string();
    if (f.size() > 9 && f.compare(f.size() - 9, 9, "_test.csv") == 0) names.push_back(f.substr(0, f.size() - 9));
  }
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    McSubject s{n, {}, read_mmlu_csv((fs::path(dir) / "test" / (n + "_test.csv")).string())};
    const auto dev = fs::path(dir) / "dev" / (n + "_dev.csv");
    if (fs::exists(dev)) s.dev = read_mmlu_csv(dev.string());
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<McSubject> load_jsonl(const std::string& path) {
  std::map<std::string, McSubject> by;
  std::istringstream in(read_file(path));
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (trim(line).empty()) continue;
    const std::string where = fmt::format("{}:{}", path, n);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const std::exception& e) {
      throw InputError(fmt::format("{}: not a JSON line ({})", where, e.what()));
    }
    SINKLAB_INPUT_CHECK(j.contains("question") && j.contains("choices") && j["choices"].is_array() && j.contains("answer"),
                        "{}: needs question, choices (a list) and answer", where);
    McItem it;
    it.id = std::to_string(n);
    it.question = j["question"].get<std::string>();
    for (const auto& c : j["choices"]) it.choices.push_back(c.get<std::string>());
    it.answer = j["answer"].is_number() ? j["answer"].get<int>() : letter_index(j["answer"].get<std::string>(), where);
    SINKLAB_INPUT_CHECK(it.answer >= 0 && it.answer < int(it.choices.size()), "{}: answer out of range", where);
    const std::string subject = j.value("subject", std::string("all"));
    auto& s = by[subject];
    s.name = subject;
    (j.value("split", std::string("test")) == "dev" ? s.dev : s.test).push_back(std::move(it));
  }
  std::vector<McSubject> out;
  for (auto& [n, s] : by) out.push_back(std::move(s));
  return out;
}

std::vector<McSubject> load_hamexam(const std::string& dir) {
  static const std::map<std::string, std::string> pools{{"T", "amateur radio technician"},
                                                        {"G", "amateur radio general"},
                                                        {"E", "amateur radio extra"}};
  std::vector<McSubject> out;
  for (const char* pool : {"T", "G", "E"}) {
    const fs::path p = fs::path(dir) / pool;
    SINKLAB_INPUT_CHECK(fs::is_directory(p), "'{}' has no {}/ pool: is it /usr/share/hamexam (apt-get install hamexam)?",
                        dir, pool);
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(p))
      if (e.is_regular_file()) files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    McSubject s;
    s.name = pools.at(pool);
    for (const auto& f : files) {
      auto lines = split(read_file(f), '\n');
      const std::string where = f;
      SINKLAB_INPUT_CHECK(lines.size() >= 6, "{}: expected 'ID (ANSWER)', a question and A.-D. lines", where);
      auto open = lines[0].find('('), close = lines[0].find(')');
      SINKLAB_INPUT_CHECK(open != std::string::npos && close == open + 2, "{}: first line '{}' is not 'ID (X)'", where,
                          lines[0]);
      McItem it;
      it.id = trim(lines[0].substr(0, open));
      it.answer = letter_index(lines[0].substr(open + 1, 1), where);
      // The question may span lines until the first "A. ".
      std::size_t i = 1;
      std::string question;
      for (; i < lines.size() && lines[i].rfind("A. ", 0) != 0; ++i) question += (question.empty() ? "" : " ") + trim(lines[i]);
      it.question = question;
      for (char letter = 'A'; letter <= 'D'; ++letter, ++i) {
        SINKLAB_INPUT_CHECK(i < lines.size() && lines[i].size() >= 2 && lines[i][0] == letter && lines[i][1] == '.',
                            "{}: expected a line starting '{}.'", where, letter);
        it.choices.push_back(trim(lines[i].substr(2)));
      }
      SINKLAB_INPUT_CHECK(it.answer < 4, "{}: answer is not A-D", where);
      (s.dev.size() < 5 ? s.dev : s.test).push_back(std::move(it));
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

std::vector<McSubject> load_mc_dataset(const std::string& kind, const std::string& path,
                                       const std::vector<std::string>& subjects, int limit) {
  std::vector<McSubject> all = kind == "mmlu" ? load_mmlu(path) : kind == "jsonl" ? load_jsonl(path)
                             : kind == "hamexam" ? load_hamexam(path)
                                                 : throw InputError("eval.task must be mmlu, jsonl or hamexam, not '" + kind + "'");
  std::vector<std::string> names;
  for (const auto& s : all) names.push_back(s.name);
  for (const auto& want : subjects)
    SINKLAB_INPUT_CHECK(std::find(names.begin(), names.end(), want) != names.end(), "eval.subjects: no subject '{}'{}",
                        want, did_you_mean(want, names));
  std::vector<McSubject> out;
  for (auto& s : all) {
    if (!subjects.empty() && std::find(subjects.begin(), subjects.end(), s.name) == subjects.end()) continue;
    if (limit > 0 && int(s.test.size()) > limit) s.test.resize(std::size_t(limit));
    out.push_back(std::move(s));
  }
  SINKLAB_INPUT_CHECK(!out.empty(), "{} holds no questions", path);
  return out;
}

}  // namespace sinklab
