#!/usr/bin/env python3
"""Reads the golden suite with h5py exactly as an outside user would, from the documented
schema (golden/README.md) alone, and recomputes one small case with numpy."""
import glob
import os
import sys

import h5py
import numpy as np


def to_float(bits, dtype):
    bits = np.asarray(bits, dtype=np.uint16)
    if dtype == "fp16":
        return bits.view(np.float16).astype(np.float64)
    return (bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def attention(f):
    """Naive attention from /inputs, straight from the schema."""
    p = f["problem"]
    b, hq, hk, d = (int(p.attrs[k]) for k in ("batch", "num_q_heads", "num_kv_heads", "head_dim"))
    dtype = p.attrs["dtype"].decode() if isinstance(p.attrs["dtype"], bytes) else p.attrs["dtype"]
    scale = float(p.attrs["scale"])
    lens = p["seq_lens"][()]
    q = to_float(f["inputs/q"][()], dtype)                  # [b, hq, d]
    k = to_float(f["inputs/k"][()], dtype)                  # [tokens, hk, d]
    v = to_float(f["inputs/v"][()], dtype)
    g = hq // hk
    o = np.zeros((b, hq, d))
    lse = np.full((b, hq), -np.inf)
    start = np.concatenate([[0], np.cumsum(lens)])
    for i in range(b):
        if lens[i] == 0:
            continue
        for h in range(hq):
            kk = k[start[i]:start[i + 1], h // g, :]
            vv = v[start[i]:start[i + 1], h // g, :]
            s = kk @ q[i, h] * scale
            m = s.max()
            w = np.exp(s - m)
            o[i, h] = w @ vv / w.sum()
            lse[i, h] = m + np.log(w.sum())
    return o, lse


def main(directory):
    files = sorted(glob.glob(os.path.join(directory, "*.h5")))
    failed = 0
    checked = None
    for path in files:
        with h5py.File(path, "r") as f:
            magic = f.attrs["magic"]
            magic = magic.decode() if isinstance(magic, bytes) else magic
            version = int(f.attrs["schema_version"])
            ok = magic == "LEANATTN-GOLDEN" and version in (1, 2, 3)
            p = f["problem"]
            b, hq, d = int(p.attrs["batch"]), int(p.attrs["num_q_heads"]), int(p.attrs["head_dim"])
            ok = ok and f["expected/o"].shape == (b, hq, d) and f["expected/lse"].shape == (b, hq)
            ok = ok and f["schedule/cta_begin"].shape == f["schedule/cta_end"].shape
            # the linear space: each non-empty (sequence, KV head) unit's tiles, then unit_pad idle ones
            sched = f["schedule"]
            pad = int(sched.attrs["unit_pad"]) if version >= 2 else 0
            tiles = -(-p["seq_lens"][()] // int(p.attrs["tile_kv"]))
            stride = np.where(tiles > 0, tiles + pad, 0) * int(p.attrs["num_kv_heads"])
            ok = ok and np.array_equal(sched["seq_tile_begin"][()], np.concatenate([[0], np.cumsum(stride)]))
            # the schedule table tiles [0, total_tiles) in CTA order for stream-K
            if f["schedule"].attrs["policy"] in (b"stream-k", "stream-k"):
                beg, end = f["schedule/cta_begin"][()], f["schedule/cta_end"][()]
                n, g = int(f["schedule"].attrs["total_tiles"]), len(beg)
                ok = ok and beg[0] == 0 and np.all(beg[1:] == end[:-1]) and end[-1] == n
                # CTA c starts at floor(c N / G) (even, version 3), or the first N mod G CTAs take a tile more
                rule = sched.attrs["cta_ranges"] if version >= 3 else "big-first"
                rule = rule.decode() if isinstance(rule, bytes) else rule
                c = np.arange(g, dtype=np.int64)
                want = c * n // g if rule == "even" else c * (n // g) + np.minimum(c, n % g)
                ok = ok and rule in ("even", "big-first") and np.array_equal(beg, want)
            err = None
            if "inputs" in f and checked is None:
                o, lse = attention(f)
                exp_o, exp_lse = f["expected/o"][()], f["expected/lse"][()]
                scale = np.abs(exp_o).max(axis=2, keepdims=True)
                err = float(np.max(np.abs(o - exp_o) / (np.abs(exp_o) + scale + 1e-300)))
                finite = np.isfinite(exp_lse)
                ok = ok and np.array_equal(finite, np.isfinite(lse)) and err < 1e-12
                ok = ok and np.max(np.abs(lse[finite] - exp_lse[finite]), initial=0) < 1e-12
                checked = path
            print(f"{'ok  ' if ok else 'FAIL'} {os.path.basename(path)}" + (f"  numpy recompute max_err={err:.2e}" if err is not None else ""))
            failed += not ok
    if not files or checked is None:
        print("no golden files with inputs found in", directory)
        failed += 1
    print(f"{len(files) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "golden/data"))
