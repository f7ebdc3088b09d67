// `sinklab tokenize`: token ids of one text, or of every line of a file (a corpus in one
// process: the tokenizer loads once).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "experiments/cli/commands.h"
#include "experiments/cli/options.h"
#include "framework/tokenizer/tokenizer.h"
#include "framework/util/error.h"
#include "framework/util/strings.h"
#include "framework/util/utf8.h"

namespace fs = std::filesystem;

namespace sinklab::cli {

std::string tokenizer_json(const std::string& dir_or_file) {
  const fs::path p(dir_or_file);
  if (p.extension() == ".json") {
    SINKLAB_INPUT_CHECK(fs::is_regular_file(p), "'{}' does not exist", dir_or_file);
    return p.string();
  }
  const std::string json = (p / "tokenizer.json").string();
  SINKLAB_INPUT_CHECK(fs::exists(json), "'{}' has no tokenizer.json (give a checkpoint directory or a tokenizer.json)",
                      dir_or_file);
  return json;
}

namespace {

// Every line of `path` ("-": standard input), checked as UTF-8 (or as JSON strings) before any
// output, so a bad line stops the command with nothing written.
std::vector<std::string> read_texts(const std::string& path, bool json_lines) {
  std::ifstream file;
  if (path != "-") {
    file.open(path, std::ios::binary);
    SINKLAB_INPUT_CHECK(file.good(), "--file '{}' cannot be read", path);
  }
  std::istream& in = path == "-" ? std::cin : file;
  std::vector<std::string> texts;
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    if (!json_lines) {
      const long bad = utf8::invalid_at(line);
      SINKLAB_INPUT_CHECK(bad < 0, "line {} of '{}' is not valid UTF-8 (byte {}); convert the file to UTF-8", n, path, bad);
      texts.push_back(std::move(line));
      continue;
    }
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(fmt::format("line {} of '{}' is not JSON: {}", n, path, e.what()));
    }
    if (j.is_object() && j.contains("text")) j = j["text"];
    SINKLAB_INPUT_CHECK(j.is_string(), "line {} of '{}' is neither a JSON string nor an object with \"text\"", n, path);
    texts.push_back(j.get<std::string>());
  }
  return texts;
}

}  // namespace

int tokenize_command(const std::vector<std::string>& args) {
  po::options_description desc("sinklab tokenize options");
  desc.add_options()("no-special", "do not add the post-processor's special tokens (e.g. <s>)")(
      "file,f", po::value<std::string>(), "tokenize every line of FILE ('-': standard input); ids per line out")(
      "jsonl", "with --file: each line is a JSON string or {\"text\": ...}, and each output line {\"ids\": [...]}");
  po::variables_map vm;
  const std::string usage =
      "usage: sinklab tokenize TOKENIZER TEXT\n       sinklab tokenize TOKENIZER --file FILE [--jsonl]\n\n"
      "Token ids of TEXT, or of each line of FILE, with TOKENIZER (a checkpoint directory or a tokenizer.json).";
  if (!parse_command(args, desc, usage, vm, {"TOKENIZER", "TEXT"})) return 0;
  const bool special = !vm.count("no-special");
  const auto rest = rest_arguments(vm);
  const std::string short_usage = usage.substr(0, usage.find("\n\n"));
  if (vm.count("file")) {
    SINKLAB_INPUT_CHECK(rest.empty(), "give either TEXT or --file, not both;\n{}", short_usage);
    const bool json_lines = vm.count("jsonl") > 0;
    const auto texts = read_texts(vm["file"].as<std::string>(), json_lines);
    auto tok = Tokenizer::from_file(tokenizer_json(first_argument(vm)));
    std::string out;
    for (const auto& text : texts) {
      const auto ids = tok.encode(text, special);
      out += json_lines ? fmt::format("{{\"ids\": [{}]}}\n", fmt::join(ids, ", ")) : fmt::format("{}\n", fmt::join(ids, " "));
      if (out.size() > (1 << 20)) std::cout << out, out.clear();
    }
    std::cout << out << std::flush;
    return 0;
  }
  SINKLAB_INPUT_CHECK(!vm.count("jsonl"), "--jsonl needs --file");
  SINKLAB_INPUT_CHECK(rest.size() == 1, "give the text to tokenize as one argument, or --file;\n{}", short_usage);
  auto tok = Tokenizer::from_file(tokenizer_json(first_argument(vm)));
  auto ids = tok.encode(rest[0], special);
  std::cout << "ids    [" << fmt::format("{}", fmt::join(ids, ", ")) << "]\n";
  std::vector<std::string> tokens;
  for (auto id : ids) tokens.push_back(nlohmann::json(tok.id_to_token(id)).dump());
  std::cout << "tokens [" << join(tokens, ", ") << "]\n";
  return 0;
}

}  // namespace sinklab::cli
