#include "tests/fuzz/targets.h"

#include <unistd.h>

#include <ATen/ATen.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <map>

#include "framework/config/node.h"
#include "framework/io/hdf5_store.h"
#include "framework/io/run_archive.h"
#include "framework/io/safetensors.h"
#include "framework/model/model_spec.h"
#include "framework/tokenizer/tokenizer.h"
#include "framework/util/error.h"

namespace sinklab::fuzz {
namespace {

// The input as a file named `name` in a private directory: the readers take paths.
std::string as_file(const std::string& name, const std::uint8_t* data, std::size_t size) {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/sinklab-fuzz-XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    return std::string(made ? made : "/tmp");
  }();
  const std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), std::streamsize(size));
  return path;
}

void config_yaml(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  ConfigNode node = parse_config_text(text, "fuzz.yaml");
  apply_override(node, "a.b=" + text.substr(0, 64));
}

void tokenizer_json(const std::uint8_t* data, std::size_t size) {
  auto tok = Tokenizer::from_file(as_file("tokenizer.json", data, size));
  auto ids = tok.encode("Hello, world! \xc3\xa9t\xc3\xa9 <s> 123\n\tend", true);
  tok.decode(ids, false);
  for (auto id : ids) tok.id_to_token(id);
}

void safetensors(const std::uint8_t* data, std::size_t size) {
  SafetensorsFile f(as_file("model.safetensors", data, size));
  for (const auto& name : f.names()) {
    auto t = f.tensor(name);  // a view of the mapping: its extent must lie in the file
    if (t.numel() > 0 && t.is_floating_point()) t.to(at::kDouble).sum();
  }
}

void config_json(const std::uint8_t* data, std::size_t size) {
  ModelSpec::from_config_json(as_file("config.json", data, size));
}

void archive(const std::uint8_t* data, std::size_t size) { verify_archive(as_file("run.tar.gz", data, size)); }

void hdf5_entry(const std::uint8_t* data, std::size_t size) {
  Hdf5File f(as_file("entry.h5", data, size), Hdf5File::Mode::read);
  for (const auto& d : f.datasets()) {
    if (d.dtype == "string") f.read_strings(d.path);
    else f.read(d.path);
    f.attrs(d.path);
  }
  f.attrs("/");
}

const std::map<std::string, std::function<void(const std::uint8_t*, std::size_t)>>& targets() {
  static const std::map<std::string, std::function<void(const std::uint8_t*, std::size_t)>> t{
      {"config_yaml", config_yaml}, {"tokenizer_json", tokenizer_json}, {"safetensors", safetensors},
      {"config_json", config_json}, {"archive", archive},               {"hdf5_entry", hdf5_entry}};
  return t;
}

}  // namespace

const std::vector<std::string>& target_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& [name, f] : targets()) n.push_back(name);
    return n;
  }();
  return names;
}

void run_target(const std::string& name, const std::uint8_t* data, std::size_t size) {
  try {
    targets().at(name)(data, size);
  } catch (const InputError&) {
    // refused, with a message: the reader did its job
  }
}

}  // namespace sinklab::fuzz
