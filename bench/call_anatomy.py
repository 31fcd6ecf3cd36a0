#!/usr/bin/env python3
"""Where a decode call's time goes, ours against cuDNN's, inside the CUDA graph replay that
peers.py times: every kernel's start and duration (torch.profiler, CUPTI) over one replay of
a graph of consecutive calls on rotating input copies, summarised per call as the kernels'
medians and the gaps between them.

    python3 bench/call_anatomy.py --lib .carry/liblean_cuda.so [--rows mqa16k,mha16k] [--out DIR]

Gaps are end of one kernel to start of the next in stream order; `period` is start to start of
consecutive calls' first kernels, the time peers.py divides out. The profiler itself may add a
little to each launch; compare ours and cuDNN's only within one run.
"""
import argparse
import math
import os
import statistics

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

import peers
from peer_kernels import ROWS, kernels_of

def summarise(label, ev, calls):
    """ev: the kernels of `calls` consecutive calls, each call the same sequence of kernels."""
    per = len(ev) // calls
    if per * calls != len(ev):
        print(f"  {label}: {len(ev)} kernels for {calls} calls; not a whole number per call")
        return
    med = lambda v: statistics.median(v) if v else math.nan
    names = [e["name"][:60] for e in ev[:per]]
    starts = [ev[i * per]["ts"] for i in range(calls)]
    period = med([b - a for a, b in zip(starts, starts[1:])])
    print(f"  {label}: {per} kernels a call, period {period:.2f} us (start to start)")
    for k in range(per):
        durs = [ev[i * per + k]["dur"] for i in range(calls)]
        # gap before kernel k: from the end of the previous kernel in stream order
        gaps = [ev[j]["ts"] - (ev[j - 1]["ts"] + ev[j - 1]["dur"]) for j in range(k + per if k == 0 else k, len(ev), per)]
        grid = ev[k].get("args", {}).get("grid")
        print(f"    kernel {k}: {med(durs):7.2f} us, gap before {med(gaps):6.2f} us, grid {grid}  {names[k]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lib", default=".carry/liblean_cuda.so")
    ap.add_argument("--rows", default=",".join(ROWS))
    ap.add_argument("--out", default="bench-out")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    lib = peers.load(a.lib)
    props = torch.cuda.get_device_properties(0)
    print(f"card: {props.name}; torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}")
    dev = torch.device("cuda")
    for name in a.rows.split(","):
        b, hq, hk, d, n = ROWS[name]
        copies = peers.input_copies(2 * 2 * b * n * hk * d, props.L2_cache_size)
        calls = copies * max(1, 8 // copies)  # as peers.graph_of repeats them
        qs = [torch.randn(b, hq, d, device=dev, dtype=torch.float16) for _ in range(copies)]
        ks = [torch.randn(b, n, hk, d, device=dev, dtype=torch.float16) for _ in range(copies)]
        vs = [torch.randn(b, n, hk, d, device=dev, dtype=torch.float16) for _ in range(copies)]
        print(f"{name}: b{b} h{hq}/{hk} d{d} {n}, {calls} calls a replay over {copies} input copies")

        lens = (peers.C.c_int64 * b)(*([n] * b))
        prob = peers.Problem(b, hq, hk, d, peers.LEAN_FP16, 0.0, 64, lens, 0)
        plan = peers.OurPlan(lib, prob, 0, dev)  # stream-K
        o = torch.empty(b, hq, d, device=dev, dtype=torch.float16)
        lse = torch.empty(b, hq, device=dev, dtype=torch.float32)
        kvs = [peers.Kv(ks[c].data_ptr(), vs[c].data_ptr(), n * hk * d, hk * d, d, None, 0, 0, 0) for c in range(copies)]

        def ours(c):
            plan.decode(qs[c], kvs[c], o, lse)

        def cudnn(c):
            return peers.sdpa(qs[c], ks[c], vs[c])

        ours(0)
        with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
            ref = cudnn(0)
            torch.cuda.synchronize()
            err = ((o.float() - ref.float()).abs().max() / ref.float().abs().max()).item()
            print(f"  ours vs cuDNN: max |diff| / max |cuDNN| = {err:.2e}")
            g_cudnn = peers.graph_of(cudnn, copies)
        g_ours = peers.graph_of(ours, copies)
        for label, g in (("stream-k", g_ours), ("cuDNN", g_cudnn)):
            ms = statistics.median(g.sample(50))
            print(f"  {label}: {ms:.2f} us per call (graph replay, median of 50, no profiler)")
            summarise(label, kernels_of(g.g.replay, os.path.join(a.out, f"trace_{name}_{label}.json")), calls)
        plan.destroy()


if __name__ == "__main__":
    main()
