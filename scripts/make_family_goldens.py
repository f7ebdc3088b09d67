#!/usr/bin/env python3
"""Goldens for every model family, made with HuggingFace transformers (run where it is
installed: the device machine). For each entry of FAMILIES it builds a tiny random model from a
config of sizes in the tens, saves it as a HuggingFace checkpoint and records what transformers
computes on it, in the format of ../shared/golden/tiny-phi3:

  tests/golden/<name>/checkpoint/      config.json + model.safetensors (save_pretrained)
  tests/golden/<name>/golden.safetensors
      p{i}.input_ids  int64 [T]
      p{i}.logits     f32 [T, vocab]
      p{i}.attn.{l}   f32 [heads, T, T]   eager softmax probabilities
      p{i}.hidden.{l} f32 [T, d_model]    output_hidden_states (l = layers: after the final norm)
      p{i}.greedy     int64 [8]           greedy continuation (use_cache=True)
  tests/golden/<name>/golden.json      transformers and torch versions, the config, the prompts

    python3 scripts/make_family_goldens.py [--only NAME ...] [--out tests/golden]

Weights are random (seed per family) with every norm weight perturbed away from 1, so q/k norms
and (1 + w) norms are exercised. Float32, eager attention, CPU or CUDA (deterministic enough:
the goldens are compared at 1e-4 on logits).
"""
import argparse
import json
import os
import sys

import torch

try:
    import transformers
    from transformers import AutoConfig, AutoModelForCausalLM
except ImportError:
    sys.exit("make_family_goldens: needs HuggingFace transformers (pip install transformers); run it on the device machine")

COMMON = dict(vocab_size=67, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=2, max_position_embeddings=64, tie_word_embeddings=False)

# name -> (model_type, config overrides). A family sinklab does not load yet still gets its golden,
# so one device session serves the families that follow.
FAMILIES = {
    "llama": ("llama", {}),
    "llama31-rope": ("llama", dict(rope_theta=10000.0, rope_scaling=dict(rope_type="llama3", factor=8.0,
                                   low_freq_factor=1.0, high_freq_factor=4.0, original_max_position_embeddings=16))),
    "llama-linear-rope": ("llama", dict(rope_scaling=dict(rope_type="linear", factor=2.0))),
    "llama-dynamic-rope": ("llama", dict(max_position_embeddings=16, rope_scaling=dict(rope_type="dynamic", factor=2.0))),
    "mistral": ("mistral", dict(sliding_window=5)),
    "qwen2": ("qwen2", {}),
    "qwen3": ("qwen3", dict(head_dim=12)),
    "phi3": ("phi3", dict(partial_rotary_factor=0.5, rope_theta=500.0)),
    "gpt2": ("gpt2", dict(n_embd=32, n_layer=2, n_head=4, n_positions=64, vocab_size=67)),
    "gemma2": ("gemma2", dict(head_dim=8, sliding_window=5, query_pre_attn_scalar=8, attn_logit_softcapping=50.0,
                              final_logit_softcapping=30.0)),
    "gemma3": ("gemma3_text", dict(head_dim=8, sliding_window=5, query_pre_attn_scalar=8, rope_local_base_freq=100.0)),
    "gpt_neox": ("gpt_neox", dict(rotary_pct=0.25, use_parallel_residual=True)),
    "olmo2": ("olmo2", {}),
}
PROMPT_LENGTHS = (12, 20)


def build(model_type, overrides, seed):
    kwargs = dict(COMMON) if model_type != "gpt2" else {}
    kwargs.update(overrides)
    config = AutoConfig.for_model(model_type, **kwargs)
    config._attn_implementation = "eager"
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, attn_implementation="eager", torch_dtype=torch.float32)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1 and ("norm" in name or "ln" in name):
                p.add_(0.1 * torch.randn_like(p))  # norms away from their identity init
            elif p.dim() >= 2:
                p.normal_(0.0, 0.3 if "embed" in name or "wte" in name else 0.15)
    return model.eval()


def make(name, model_type, overrides, out_root, seed, device):
    model = build(model_type, overrides, seed)
    out = os.path.join(out_root, name)
    model.save_pretrained(os.path.join(out, "checkpoint"), safe_serialization=True)
    model = model.to(device)
    vocab = model.config.vocab_size
    generator = torch.Generator().manual_seed(seed + 1)
    tensors, prompts = {}, []
    for i, length in enumerate(PROMPT_LENGTHS):
        ids = torch.randint(0, vocab, (1, length), generator=generator)
        with torch.no_grad():
            result = model(ids.to(device), output_attentions=True, output_hidden_states=True)
            greedy = model.generate(ids.to(device), max_new_tokens=8, do_sample=False, use_cache=True,
                                    pad_token_id=0)[0, length:]
        tensors[f"p{i}.input_ids"] = ids[0]
        tensors[f"p{i}.logits"] = result.logits[0].float().cpu()
        for l, a in enumerate(result.attentions):
            tensors[f"p{i}.attn.{l}"] = a[0].float().cpu()
        for l, h in enumerate(result.hidden_states):
            tensors[f"p{i}.hidden.{l}"] = h[0].float().cpu()
        tensors[f"p{i}.greedy"] = greedy.cpu()
        prompts.append(ids[0].tolist())
    from safetensors.torch import save_file
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(out, "golden.safetensors"))
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump(dict(model_type=model_type, transformers=transformers.__version__, torch=torch.__version__,
                       seed=seed, device=str(device), prompts=prompts, config=model.config.to_dict()), f, indent=1)
    print(f"make_family_goldens: {name} ({model_type}) -> {out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", default=None, help="names of FAMILIES to make (default: all)")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "golden"))
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    failed = []
    for seed, (name, (model_type, overrides)) in enumerate(FAMILIES.items()):
        if args.only and name not in args.only:
            continue
        try:
            make(name, model_type, overrides, args.out, 1000 + seed, device)
        except Exception as e:  # a family this transformers lacks: say so, make the others
            failed.append(f"{name}: {type(e).__name__}: {e}")
    for f in failed:
        print(f"make_family_goldens: FAILED {f}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
