"""The reference implementations on bench_prune's layer (scripts/bench_prune.sh --reference-*).

Reads the layer bench_prune wrote (w.f32 [out, in], x.f32 [2048, in]) and runs, from the user's
checkouts, IST-DASLab/sparsegpt's SparseGPT.fasterprune and stephenqz/OATS's altern_ls on it with
the settings bench_prune uses (50 %, damp 0.1, block 128; OATS rank ratio 0.25), printing seconds
and errors in bench_prune's columns. Nothing of their code is copied: it is imported (SparseGPT)
or its one function compiled from the checkout's file (OATS, whose module imports its training
stack). Needs Debian's python3-torch.
"""
import argparse
import ast
import os
import sys
import time
import types

import torch


def layer(directory, out, inp):
    w = torch.from_file(os.path.join(directory, "w.f32"), size=out * inp, dtype=torch.float32).view(out, inp).clone()
    x = torch.from_file(os.path.join(directory, "x.f32"), size=2048 * inp, dtype=torch.float32).view(2048, inp).clone()
    return w, x


def output_error(x, w, pruned):
    ref = x @ w.t()
    return ((x @ pruned.t() - ref).norm() / ref.norm()).item()


def sparsegpt(checkout, w, x):
    # sparsegpt.py imports transformers for GPT-2's Conv1D and calls torch.cuda.synchronize().
    sys.modules.setdefault("transformers", types.SimpleNamespace(Conv1D=type("Conv1D", (), {})))
    torch.cuda.synchronize = lambda *a, **k: None
    sys.path.insert(0, checkout)
    from sparsegpt import SparseGPT
    lin = torch.nn.Linear(w.shape[1], w.shape[0], bias=False)
    lin.weight.data = w.clone()
    pruner = SparseGPT(lin)
    pruner.add_batch(x.unsqueeze(0), None)
    t0 = time.perf_counter()
    pruner.fasterprune(0.5, blocksize=128, percdamp=0.1)
    seconds = time.perf_counter() - t0
    return seconds, output_error(x, w, lin.weight.data), float("nan")


def oats(checkout, w, x, iterations):
    path = os.path.join(checkout, "OATS", "prune_oats.py")
    tree = ast.parse(open(path).read(), path)
    fn = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "altern_ls"]
    if not fn:
        sys.exit(f"{path} has no altern_ls: is {checkout} a checkout of stephenqz/OATS?")
    scope = {"torch": torch, "config": types.SimpleNamespace(device="cpu")}
    exec(compile(ast.Module(body=fn, type_ignores=[]), path, "exec"), scope)
    out, inp = w.shape
    diag = (x.pow(2).sum(0) / x.shape[0]).reshape(1, -1)  # what its wrapper accumulates (scaler_row)
    rank_ratio, sparsity = 0.25, 0.5
    dense = 1.0 - sparsity
    rank = int(rank_ratio * dense * (out * inp) / (out + inp))
    row_sparsity = 1.0 - (1.0 - rank_ratio) * dense
    t0 = time.perf_counter()
    pruned = scope["altern_ls"](w.clone(), diag, iterations, rank, row_sparsity)
    seconds = time.perf_counter() - t0
    d = diag.sqrt()
    recon = ((w - pruned) * d).norm().item() / (w * d).norm().item()
    return seconds, output_error(x, w, pruned), recon


def main():
    p = argparse.ArgumentParser()
    p.add_argument("layer_dir")
    p.add_argument("shape")
    p.add_argument("iterations", type=int)
    p.add_argument("--oats")
    p.add_argument("--sparsegpt")
    p.add_argument("--sinklab", help="bench_prune's output on the same layer, for the side-by-side table")
    a = p.parse_args()
    out, inp = (int(v) for v in a.shape.split("x"))
    torch.set_num_threads(os.cpu_count())
    w, x = layer(a.layer_dir, out, inp)
    print(f"reference code, python3-torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'method':<22} {'seconds':>10} {'output error':>16} {'recon error':>16}")
    runs, results = [], {}
    if a.sparsegpt:
        runs.append(("sparsegpt (reference)", lambda: sparsegpt(a.sparsegpt, w, x)))
    if a.oats:
        runs.append(("oats (reference)", lambda: oats(a.oats, w, x, a.iterations)))
    for name, run in runs:
        stdout = sys.stdout
        sys.stdout = open(os.devnull, "w")  # fasterprune prints its own lines
        try:  # best of 2, as bench_prune
            seconds, err, recon = min(run(), run())
        finally:
            sys.stdout.close()
            sys.stdout = stdout
        print(f"{name:<22} {seconds:>10.3f} {err:>16.5f} {recon:>16.5f}")
        results[name.split()[0]] = (seconds, err, recon)
    if not a.sinklab:
        return
    ours = {}
    for line in open(a.sinklab):
        f = line.split()
        if len(f) == 4 and f[0] in ("sparsegpt", "oats", "oats-randomized"):
            ours[f[0]] = (float(f[1]), float(f[2]), float(f[3]))
    print(f"\n{a.shape}, {a.iterations} OATS iterations: reference / sinklab")
    print(f"{'method':<34} {'reference s':>12} {'sinklab s':>10} {'ratio':>7} {'error ref':>10} {'error sinklab':>14}")
    pairs = [("sparsegpt", "sparsegpt", 1), ("oats", "oats", 2), ("oats", "oats-randomized", 2)]
    for ref, mine, col in pairs:
        if ref in results and mine in ours:
            r, m = results[ref], ours[mine]
            label = f"{mine} vs reference {ref}" + (" (exact)" if ref == "oats" else "")
            print(f"{label:<34} {r[0]:>12.3f} {m[0]:>10.3f} {r[0] / m[0]:>7.2f} {r[col]:>10.5f} {m[col]:>14.5f}")


main()
