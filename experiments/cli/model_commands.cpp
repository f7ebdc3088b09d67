// Sanity tools for HuggingFace checkpoint directories: `sinklab model info`, `sinklab tokenize`,
// `sinklab generate`.
#include <ATen/ATen.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "experiments/cli/commands.h"
#include "experiments/cli/options.h"
#include "framework/io/atomic_file.h"
#include "framework/io/checkpoint_dir.h"
#include "framework/model/language_model.h"
#include "framework/model/tokenizer/tokenizer.h"
#include "framework/util/error.h"
#include "framework/util/hash.h"
#include "framework/util/strings.h"
#include "framework/util/threads.h"

namespace fs = std::filesystem;

namespace sinklab::cli {

static std::string tokenizer_path(const std::string& dir) {
  std::string p = (fs::path(dir) / "tokenizer.json").string();
  SINKLAB_INPUT_CHECK(fs::exists(p), "'{}' has no tokenizer.json", dir);
  return p;
}

int model_info_command(const std::vector<std::string>& args) {
  po::options_description desc("sinklab model info options");
  po::variables_map vm;
  const std::string usage = "usage: sinklab model info DIR\n\nArchitecture, sizes, dtypes, parameter count and file "
                            "fingerprints of a HuggingFace checkpoint directory.";
  if (!parse_command(args, desc, usage, vm, {"DIR", ""})) return 0;
  const std::string dir = first_argument(vm);
  ModelSpec s = ModelSpec::from_config_json((fs::path(dir) / "config.json").string());
  CheckpointDir ckpt(dir);
  std::int64_t params = 0;
  std::map<std::string, std::int64_t> by_dtype;
  for (const auto& n : ckpt.names()) {
    const auto& i = ckpt.info(n);
    std::int64_t numel = 1;
    for (auto d : i.shape) numel *= d;
    params += numel;
    by_dtype[i.dtype] += numel;
  }
  std::cout << fmt::format("model       {} ({})\n", dir, s.model_type);
  std::cout << fmt::format("layers      {}  d_model {}  heads {} (kv {})  head_dim {}  mlp {}\n", s.num_layers,
                           s.hidden_size, s.num_heads, s.num_kv_heads, s.head_dim, s.intermediate_size);
  std::cout << fmt::format("vocab       {}  tied embeddings {}\n", s.vocab_size, s.tie_word_embeddings);
  std::cout << fmt::format("rope        theta {}  rotary fraction {}  sliding window {}\n", s.rope_theta,
                           s.partial_rotary_factor, s.sliding_window ? std::to_string(*s.sliding_window) : "none");
  std::vector<std::string> dtypes;
  for (const auto& [d, n] : by_dtype) dtypes.push_back(fmt::format("{} {}", d, n));
  std::cout << fmt::format("parameters  {} ({:.2f} M; {})\n", params, params / 1e6, join(dtypes, ", "));
  std::cout << "files\n";
  for (const auto& f : ckpt.files())
    std::cout << fmt::format("  {}  {} bytes  sha256 {}\n", fs::path(f).filename().string(), fs::file_size(f), sha256_file(f));
  return 0;
}

int tokenize_command(const std::vector<std::string>& args) {
  po::options_description desc("sinklab tokenize options");
  desc.add_options()("no-special", "do not add the post-processor's special tokens (e.g. <s>)");
  po::variables_map vm;
  const std::string usage = "usage: sinklab tokenize DIR TEXT\n\nToken ids and tokens of TEXT with DIR/tokenizer.json.";
  if (!parse_command(args, desc, usage, vm, {"DIR", "TEXT"})) return 0;
  SINKLAB_INPUT_CHECK(rest_arguments(vm).size() == 1, "give the text to tokenize as one argument; {}",
                      usage.substr(0, usage.find('\n')));
  auto tok = Tokenizer::from_file(tokenizer_path(first_argument(vm)));
  auto ids = tok.encode(rest_arguments(vm)[0], !vm.count("no-special"));
  std::cout << "ids    [" << fmt::format("{}", fmt::join(ids, ", ")) << "]\n";
  std::vector<std::string> tokens;
  for (auto id : ids) tokens.push_back(nlohmann::json(tok.id_to_token(id)).dump());
  std::cout << "tokens [" << join(tokens, ", ") << "]\n";
  return 0;
}

int generate_command(const std::vector<std::string>& args) {
  po::options_description desc("sinklab generate options");
  desc.add_options()("prompt,p", po::value<std::string>(), "the prompt text")(
      "max-new,n", po::value<int>()->default_value(32), "tokens to generate at most")(
      "dtype", po::value<std::string>()->default_value("float32"), "compute dtype: float32, bfloat16, float16 (CUDA only)")(
      "device", po::value<std::string>()->default_value("auto"), "cpu | cuda | cuda:N | auto")(
      "threads", po::value<int>()->default_value(0), "CPU threads (0 = all)");
  po::variables_map vm;
  const std::string usage = "usage: sinklab generate DIR --prompt TEXT [--max-new N]\n\nGreedy decoding with the KV "
                            "cache; prints the prompt and its continuation.";
  if (!parse_command(args, desc, usage, vm, {"DIR", ""})) return 0;
  SINKLAB_INPUT_CHECK(vm.count("prompt"), "--prompt is required");
  const std::string dtype_name = vm["dtype"].as<std::string>();
  SINKLAB_INPUT_CHECK(dtype_name == "float32" || dtype_name == "bfloat16" || dtype_name == "float16",
                      "--dtype {}: use float32, bfloat16 or float16", dtype_name);
  const c10::Device device = resolve_device(vm["device"].as<std::string>());
  const at::ScalarType dtype = dtype_name == "bfloat16" ? at::kBFloat16 : dtype_name == "float16" ? at::kHalf : at::kFloat;
  configure_threads(vm["threads"].as<int>());
  const std::string dir = first_argument(vm);
  auto tok = Tokenizer::from_file(tokenizer_path(dir));
  auto model = load_language_model(dir, dtype, device);
  auto config = nlohmann::json::parse(read_file((fs::path(dir) / "config.json").string()));
  std::int64_t eos = config.contains("eos_token_id") && config["eos_token_id"].is_number() ? config["eos_token_id"].get<std::int64_t>() : -1;
  auto prompt = tok.encode(vm["prompt"].as<std::string>(), true);
  auto out = model->generate_greedy(prompt, vm["max-new"].as<int>(), eos);
  std::cout << tok.decode(out, true) << "\n";
  return 0;
}

}  // namespace sinklab::cli
