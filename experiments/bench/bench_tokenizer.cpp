// Tokenizer throughput, the sinklab side of scripts/bench_tokenizer.sh (tests/tokenizer/
// hf_tokenize.js times HuggingFace tokenizers the same way):
//   bench_tokenizer TOKENIZER_JSON TEXT_FILE lines|document REPEATS
// lines: every line of the file encoded on its own; document: the whole file as one text.
// Prints the best wall seconds of REPEATS runs and the token count. One thread; each run loads
// the tokenizer afresh, so its word cache starts empty (as a new corpus would find it).
#include <chrono>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "framework/io/atomic_file.h"
#include "framework/tokenizer/tokenizer.h"
#include "framework/util/error.h"
#include "framework/util/strings.h"

int main(int argc, char** argv) {
  using namespace sinklab;
  try {
    SINKLAB_INPUT_CHECK(argc == 5, "usage: bench_tokenizer TOKENIZER_JSON TEXT_FILE lines|document REPEATS");
    const std::string mode = argv[3];
    SINKLAB_INPUT_CHECK(mode == "lines" || mode == "document", "mode '{}': use lines or document", mode);
    const int repeats = std::stoi(argv[4]);
    const std::string text = read_file(argv[2]);
    std::vector<std::string> inputs = mode == "document" ? std::vector<std::string>{text} : split(text, '\n');
    double best = std::numeric_limits<double>::infinity();
    std::size_t count = 0;
    for (int r = 0; r < repeats; ++r) {
      const auto tok = Tokenizer::from_file(argv[1]);
      const auto t0 = std::chrono::steady_clock::now();
      count = 0;
      for (const auto& s : inputs) count += tok.encode(s, false).size();
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::cout << best << " " << count << "\n";
    return 0;
  } catch (const Error& e) {
    std::cerr << "bench_tokenizer: " << e.what() << "\n";
    return e.exit_code();
  }
}
