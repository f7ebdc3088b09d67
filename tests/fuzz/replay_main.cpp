// The fuzz corpus as a test (ctest `fuzz_corpus`): every committed input of every target -
// seeds and the inputs of past findings - runs through its reader, which must accept or refuse
// it (InputError) and nothing else. Usage: test_fuzz_corpus CORPUS_DIR
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "tests/fuzz/targets.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: test_fuzz_corpus CORPUS_DIR\n");
    return 2;
  }
  int inputs = 0, failures = 0;
  for (const auto& name : sinklab::fuzz::target_names()) {
    const fs::path dir = fs::path(argv[1]) / name;
    if (!fs::is_directory(dir)) {
      std::fprintf(stderr, "%s: no corpus for target %s\n", dir.c_str(), name.c_str());
      ++failures;
      continue;
    }
    for (const auto& e : fs::directory_iterator(dir)) {
      std::ifstream in(e.path(), std::ios::binary);
      const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      try {
        sinklab::fuzz::run_target(name, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
        ++inputs;
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "%s: %s: not an InputError: %s\n", name.c_str(), e.path().c_str(), ex.what());
        ++failures;
      }
    }
  }
  std::printf("fuzz corpus: %d inputs, %d failures\n", inputs, failures);
  return failures == 0 && inputs > 0 ? 0 : 1;
}
