// Sanity tools for HuggingFace checkpoint directories: `sinklab model info|families`,
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
#include "framework/model/families/registry.h"
#include "framework/model/language_model.h"
#include "framework/tokenizer/tokenizer.h"
#include "framework/util/error.h"
#include "framework/util/hash.h"
#include "framework/util/strings.h"
#include "framework/util/threads.h"

namespace fs = std::filesystem;

namespace sinklab::cli {


namespace {

const char* kModelUsage = R"(usage: sinklab model <subcommand>

subcommands:
  info DIR    a HuggingFace checkpoint's family, architecture, sizes, dtypes and files
  random CONFIG_JSON OUT
              a checkpoint with CONFIG_JSON's shapes and random weights (--layers N keeps N blocks)
  families    every model family sinklab loads: config model_type, transformers class, norm,
              MLP, positions, fused tensors, biases, and the linear maps pruning sees

  sinklab model <subcommand> --help   options of one subcommand
)";

// "q, k, v (always); o (if attention_bias)": which linear maps have biases, by rule.
std::string describe_biases(const Family& f) {
  std::vector<std::string> parts;
  for (Bias rule : {Bias::always, Bias::if_attention_bias, Bias::if_mlp_bias}) {
    std::vector<std::string> kinds;
    for (const auto& l : f.linears)
      if (l.bias == rule) kinds.push_back(l.kind);
    if (kinds.empty()) continue;
    const std::string when = rule == Bias::always              ? "always"
                             : rule == Bias::if_attention_bias ? "if " + f.config.attention_bias
                                                               : "if " + f.config.mlp_bias;
    parts.push_back(fmt::format("{} ({})", join(kinds, ", "), when));
  }
  return parts.empty() ? "none" : join(parts, "; ");
}

std::string describe_fused(const Family& f) {
  std::vector<std::string> parts;
  for (const auto& fused : f.fused) {
    std::vector<std::string> kinds;
    for (Role r : fused.parts) kinds.push_back(f.linear(r)->kind);
    parts.push_back(fmt::format("{} = {}", fused.name, join(kinds, " + ")));
  }
  return parts.empty() ? "none" : join(parts, "; ");
}

// "gated (silu): down(act(gate x) * up x)", in the family's own kinds.
std::string describe_mlp(const Family& f) {
  const std::string in = f.linear(Role::mlp_in)->kind, out = f.linear(Role::mlp_out)->kind;
  const std::string inner = f.mlp == MlpKind::gated ? fmt::format("act({} x) * {} x", in, f.linear(Role::mlp_up)->kind)
                                                    : fmt::format("act({} x)", in);
  return fmt::format("{} ({}): {}({})", to_string(f.mlp), join(f.config.activations, ", "), out, inner);
}

int model_families_command(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << "usage: sinklab model families\n\nEvery model family sinklab loads, as its declaration in "
                 "framework/model/families/ states it.\n";
    return 0;
  }
  SINKLAB_INPUT_CHECK(args.empty(), "'sinklab model families' takes no arguments, got '{}'", args[0]);
  for (const Family* f : all_families()) {
    std::vector<std::string> kinds;
    for (const auto& l : f->linears) kinds.push_back(l.kind);
    std::cout << fmt::format("{}  ({})\n", f->model_type, f->hf_class);
    std::cout << fmt::format("  norm         {}\n", to_string(f->norm));
    std::cout << fmt::format("  placement    {}{}\n", to_string(f->placement),
                             f->config.parallel_residual.empty() ? "" : ", parallel residual if " + f->config.parallel_residual);
    std::cout << fmt::format("  mlp          {}\n", describe_mlp(*f));
    std::cout << fmt::format("  positions    {}\n", to_string(f->positions));
    std::cout << fmt::format("  q/k norm     {}\n", to_string(f->qk_norm));
    std::cout << fmt::format("  layout       {}\n", to_string(f->layout));
    std::cout << fmt::format("  fused        {}\n", describe_fused(*f));
    std::cout << fmt::format("  biases       {}\n", describe_biases(*f));
    std::cout << fmt::format("  linear maps  {}\n", join(kinds, ", "));
  }
  return 0;
}

int model_info(const std::vector<std::string>& args) {
  po::options_description desc("sinklab model info options");
  po::variables_map vm;
  const std::string usage = "usage: sinklab model info DIR\n\nFamily, architecture, sizes, dtypes, parameter count "
                            "and file fingerprints of a HuggingFace checkpoint directory.";
  if (!parse_command(args, desc, usage, vm, {"DIR", ""})) return 0;
  const std::string dir = first_argument(vm);
  ModelSpec s = ModelSpec::from_config_json((fs::path(dir) / "config.json").string());
  const Family& f = *s.family;
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
  std::vector<std::string> fused;  // the last part of each fused tensor's name: qkv_proj, c_attn
  for (const auto& m : f.fused) fused.push_back(m.name.substr(m.name.rfind('.') + 1));
  std::cout << fmt::format("family      {} ({}): {}, {} MLP, {} positions{}\n", f.model_type, f.hf_class,
                           to_string(f.norm), to_string(f.mlp), to_string(f.positions),
                           fused.empty() ? "" : ", fused " + join(fused, ", "));
  std::cout << fmt::format("layers      {}  d_model {}  heads {} (kv {})  head_dim {}  mlp {} ({})\n", s.num_layers,
                           s.hidden_size, s.num_heads, s.num_kv_heads, s.head_dim, s.intermediate_size, s.hidden_act);
  std::cout << fmt::format("vocab       {}  tied embeddings {}\n", s.vocab_size, s.tie_word_embeddings);
  if (s.rotary)
    std::cout << fmt::format("rope        theta {}  rotary fraction {}  scaling {}  sliding window {}\n", s.rope_theta,
                             s.partial_rotary_factor,
                             s.rope_scaling.type == "default" ? "none"
                                                              : fmt::format("{} x{}", s.rope_scaling.type, s.rope_scaling.factor),
                             s.sliding_window ? std::to_string(*s.sliding_window) : "none");
  else
    std::cout << fmt::format("positions   a learned table of {}\n", s.max_positions);
  // What the block computes beyond the family's kinds, as this config.json sets it.
  std::vector<std::string> sliding;
  for (std::int64_t l = 0; l < s.num_layers; ++l)
    if (s.slides(l)) sliding.push_back(std::to_string(l));
  std::vector<std::string> block{to_string(f.placement)};
  if (s.parallel_residual) block.push_back("parallel residual");
  if (s.sliding_window && std::int64_t(sliding.size()) < s.num_layers)
    block.push_back(sliding.empty() ? "no layer slides" : "sliding layers " + join(sliding, ","));
  if (s.rope_local_theta > 0) block.push_back(fmt::format("local rope theta {}", s.rope_local_theta));
  block.push_back(fmt::format("scores x{:.6g}", s.attention_scale()));
  if (s.attn_softcap) block.push_back(fmt::format("score cap {}", *s.attn_softcap));
  if (s.final_softcap) block.push_back(fmt::format("logit cap {}", *s.final_softcap));
  if (f.scaled_embedding) block.push_back("embedding x sqrt(d_model)");
  std::cout << fmt::format("block       {}\n", join(block, ", "));
  std::vector<std::string> dtypes;
  for (const auto& [d, n] : by_dtype) dtypes.push_back(fmt::format("{} {}", d, n));
  std::cout << fmt::format("parameters  {} ({:.2f} M; {})\n", params, params / 1e6, join(dtypes, ", "));
  std::cout << "files\n";
  for (const auto& file : ckpt.files())
    std::cout << fmt::format("  {}  {} bytes  sha256 {}\n", fs::path(file).filename().string(), fs::file_size(file),
                             sha256_file(file));
  return 0;
}

}  // namespace

// The `sinklab model` command group: info, families.
int model_command(const std::vector<std::string>& args) {
  const std::string sub = args.empty() ? "" : args[0];
  const std::vector<std::string> rest(args.begin() + (args.empty() ? 0 : 1), args.end());
  if (sub == "--help" || sub == "-h" || sub == "help") {
    std::cout << kModelUsage;
    return 0;
  }
  if (sub == "info") return model_info(rest);
  if (sub == "families") return model_families_command(rest);
  if (sub == "random") return model_random_command(rest);
  SINKLAB_INPUT_CHECK(!sub.empty(), "missing subcommand; usage: sinklab model info DIR | sinklab model families "
                                    "(see 'sinklab model --help')");
  throw InputError(fmt::format("unknown subcommand 'model {}'{}; subcommands: info, families, random (see 'sinklab model --help')",
                               sub, did_you_mean(sub, {"info", "families", "random"})));
}

int generate_command(const std::vector<std::string>& args) {
  po::options_description desc("sinklab generate options");
  desc.add_options()("prompt,p", po::value<std::string>(), "the prompt text")(
      "max-new,n", po::value<int>()->default_value(32), "tokens to generate at most")(
      "dtype", po::value<std::string>()->default_value("float32"), "compute dtype: float32, bfloat16, float16 (CUDA only)")(
      "device", po::value<std::string>()->default_value("auto"), "cpu | cuda | cuda:N | auto")(
      "threads", po::value<int>()->default_value(0), "CPU threads (0 = all)")(
      "ids", "also print the prompt's and the generated token ids")(
      "logits", po::value<int>(), "for each generated token, the K most likely next tokens and their logits");
  po::variables_map vm;
  const std::string usage = "usage: sinklab generate DIR --prompt TEXT [--max-new N] [--ids] [--logits K]\n\nGreedy "
                            "decoding with the KV cache; prints the prompt and its continuation.";
  if (!parse_command(args, desc, usage, vm, {"DIR", ""})) return 0;
  SINKLAB_INPUT_CHECK(vm.count("prompt"), "--prompt is required");
  const int top = vm.count("logits") ? vm["logits"].as<int>() : 0;
  SINKLAB_INPUT_CHECK(!vm.count("logits") || top >= 1, "--logits {}: give how many candidates to show per step (1 or more)",
                      top);
  const std::string dtype_name = vm["dtype"].as<std::string>();
  SINKLAB_INPUT_CHECK(dtype_name == "float32" || dtype_name == "bfloat16" || dtype_name == "float16",
                      "--dtype {}: use float32, bfloat16 or float16", dtype_name);
  const c10::Device device = resolve_device(vm["device"].as<std::string>());
  const at::ScalarType dtype = dtype_name == "bfloat16" ? at::kBFloat16 : dtype_name == "float16" ? at::kHalf : at::kFloat;
  configure_threads(vm["threads"].as<int>());
  const std::string dir = first_argument(vm);
  auto tok = Tokenizer::from_file(tokenizer_json(dir));
  auto model = load_language_model(dir, dtype, device);
  auto config = nlohmann::json::parse(read_file((fs::path(dir) / "config.json").string()));
  std::int64_t eos = config.contains("eos_token_id") && config["eos_token_id"].is_number() ? config["eos_token_id"].get<std::int64_t>() : -1;
  SINKLAB_INPUT_CHECK(top <= model->spec().vocab_size, "--logits {}: the vocabulary has only {} tokens", top,
                      model->spec().vocab_size);
  auto prompt = tok.encode(vm["prompt"].as<std::string>(), true);
  // Past its context a model is out of distribution, and the attention of one pass grows with
  // the square of the length (a 120 KB prompt asked for 33 GB): refused, naming the numbers.
  const std::int64_t context = model->spec().context_length;
  const std::int64_t total = std::int64_t(prompt.size()) + vm["max-new"].as<int>();
  SINKLAB_INPUT_CHECK(context <= 0 || total <= context, "--prompt is {} tokens and --max-new {}: {} tokens, but {} "
                      "takes at most {} (max_position_embeddings); shorten the prompt or lower --max-new",
                      prompt.size(), vm["max-new"].as<int>(), total, model->spec().model_type, context);
  auto quoted = [&](std::int64_t id) { return nlohmann::json(tok.id_to_token(id)).dump(); };
  std::vector<std::string> steps;  // per generated token: its top candidates
  auto on_step = [&](const at::Tensor& logits) {  // logits [V]
    auto best = logits.topk(top);
    auto values = std::get<0>(best).to(at::kCPU), ids = std::get<1>(best).to(at::kCPU);
    std::vector<std::string> candidates;
    for (std::int64_t i = 0; i < top; ++i) {
      const std::int64_t id = ids[i].item<std::int64_t>();
      candidates.push_back(fmt::format("{} {} {:.4f}", id, quoted(id), values[i].item<double>()));
    }
    steps.push_back(join(candidates, " | "));
  };
  auto out = model->generate_greedy(prompt, vm["max-new"].as<int>(), eos,
                                    top > 0 ? LanguageModel::StepLogits(on_step) : LanguageModel::StepLogits());
  std::cout << tok.decode(out, true) << "\n";
  if (vm.count("ids")) {
    const std::vector<std::int64_t> generated(out.begin() + std::ptrdiff_t(prompt.size()), out.end());
    std::cout << fmt::format("prompt ids     [{}]\n", fmt::join(prompt, ", "));
    std::cout << fmt::format("generated ids  [{}]\n", fmt::join(generated, ", "));
  }
  for (std::size_t i = 0; i < steps.size(); ++i)
    std::cout << fmt::format("step {}  {} -> top {}: {}\n", i, quoted(out[prompt.size() + i]), top, steps[i]);
  return 0;
}

}  // namespace sinklab::cli
