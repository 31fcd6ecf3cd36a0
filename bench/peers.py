#!/usr/bin/env python3
"""Peer benchmark (issue 4): our three schedules (through liblean_cuda.so's C API, ctypes) and
PyTorch's scaled_dot_product_attention with the cuDNN and flash backends (FlashInfer when
importable), in one process on identical inputs. Outputs are checked against each other before
anything is timed. Timing: CUDA graph replay of a sequence of calls that cycles input copies
larger than L2; every variant of a row is timed in two passes, the second in reverse order, and
reports the median of the 2 x --reps replays. Ceilings (16-byte read stream, device copy) are
measured in the same run. Writes CSV, a markdown table and an SVG plot; prints a table last.

    python3 bench/peers.py --lib .carry/liblean_cuda.so --out $OUT [--matrix full|quick|paged]
"""
import argparse
import ctypes as C
import math
import os
import random
import statistics
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

LEAN_FP16, LEAN_BF16 = 0, 1
# (column, policy, programmatic launch): stream-K is timed with the library's default launch
# (plain, as PyTorch launches the peers) and as a programmatic dependent of the previous kernel
# (lean_plan_set_programmatic_launch; here the previous call's merge or decode kernel)
POLICIES = [("stream-k", 0, 0), ("stream-k-pdl", 0, 1), ("fixed-split", 1, 0), ("no-split", 2, 0)]


class Problem(C.Structure):
    _fields_ = [("batch", C.c_int), ("num_q_heads", C.c_int), ("num_kv_heads", C.c_int), ("head_dim", C.c_int),
                ("dtype", C.c_int), ("scale", C.c_float), ("tile_kv", C.c_int), ("seq_lens", C.POINTER(C.c_int64)),
                ("kv_page_size", C.c_int)]


class Kv(C.Structure):
    _fields_ = [("k", C.c_void_p), ("v", C.c_void_p), ("stride_seq", C.c_int64), ("stride_token", C.c_int64),
                ("stride_head", C.c_int64), ("block_table", C.c_void_p), ("block_table_stride", C.c_int32),
                ("page_size", C.c_int32), ("num_pages", C.c_int64)]


def load(lib_path):
    lib = C.CDLL(lib_path)
    lib.lean_plan_create.argtypes = [C.POINTER(Problem), C.c_int, C.c_int, C.c_int, C.POINTER(C.c_void_p)]
    lib.lean_plan_workspace_bytes.restype = C.c_size_t
    lib.lean_plan_workspace_bytes.argtypes = [C.c_void_p]
    lib.lean_plan_num_ctas.argtypes = [C.c_void_p]
    lib.lean_plan_upload.argtypes = [C.c_void_p, C.c_void_p, C.c_size_t, C.c_void_p]
    lib.lean_decode.argtypes = [C.c_void_p, C.c_void_p, C.POINTER(Kv), C.c_void_p, C.c_void_p, C.c_void_p, C.c_size_t,
                                C.c_void_p, C.c_void_p]
    lib.lean_plan_destroy.argtypes = [C.c_void_p]
    lib.lean_plan_set_programmatic_launch.argtypes = [C.c_void_p, C.c_int]
    lib.lean_last_error.restype = C.c_char_p
    lib.lean_read_bandwidth_gbps.restype = C.c_double
    lib.lean_read_bandwidth_gbps.argtypes = [C.c_size_t, C.c_int]
    lib.lean_copy_bandwidth_gbps.restype = C.c_double
    lib.lean_copy_bandwidth_gbps.argtypes = [C.c_size_t, C.c_int]
    return lib


class Row:
    """One benchmark row: a batch of sequences, heads, dims, dtype and an optional page size."""

    def __init__(self, family, b, hq, hk, d, lens, dtype=torch.float16, page=0):
        self.family, self.b, self.hq, self.hk, self.d = family, b, hq, hk, d
        self.lens, self.dtype, self.page = list(lens), dtype, page
        self.ragged = len(set(self.lens)) > 1

    def name(self):
        ctx = self.lens[0] if not self.ragged else f"ragged{min(self.lens)}-{max(self.lens)}"
        t = "bf16" if self.dtype == torch.bfloat16 else "fp16"
        return f"b{self.b} h{self.hq}/{self.hk} d{self.d} {ctx} {t}" + (f" page{self.page}" if self.page else "")

    def kv_bytes(self):
        return 2 * 2 * sum(self.lens) * self.hk * self.d


def matrix(which):
    K = 1024
    if which == "paged":  # the paged rows alone (A/B of the page-table path), with their contiguous twin
        return [Row("paged", 8, 32, 8, 128, [16 * K] * 8, page=p) for p in (0, 16, 64)]
    if which == "launch":  # A/B of the launch modes on rows with and without the merge kernel
        return ([Row("b1 MHA", 1, 32, 32, 128, [K]), Row("MQA", 1, 32, 1, 128, [16 * K]), Row("MQA", 1, 32, 1, 128, [128 * K]),
                 Row("b8 MHA", 8, 32, 32, 128, [K] * 8)] + [Row("b16 GQA", 16, 32, 8, 128, [c * K] * 16) for c in (16, 64)] +
                [Row("d64", 1, 64, 64, 64, [64 * K]), Row("paged", 8, 32, 8, 128, [16 * K] * 8, page=64)])
    if which == "mqa":  # MQA beside GQA rows of the same query heads: what a split of the query group would buy
        return [Row("MQA", 1, 32, hk, 128, [c * K]) for c in (16, 128) for hk in (1, 2, 4)]
    if which == "small":  # the latency-bound rows alone (launch and merge A/Bs)
        return ([Row("b1 MHA", 1, 32, 32, 128, [c * K]) for c in (1, 2, 4, 8, 16)] +
                [Row("b1 GQA", 1, 32, 8, 128, [c * K]) for c in (4, 16)] + [Row("MQA", 1, 32, 1, 128, [16 * K])] +
                [Row("b8 MHA", 8, 32, 32, 128, [K] * 8), Row("b16 GQA", 16, 32, 8, 128, [4 * K] * 16),
                 Row("bf16", 1, 32, 32, 128, [4 * K], torch.bfloat16)])
    rows = []
    sweep = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] if which == "full" else [1, 4, 16, 64, 512]
    rows += [Row("b1 MHA", 1, 32, 32, 128, [c * K]) for c in sweep]
    rows += [Row("b8 MHA", 8, 32, 32, 128, [c * K] * 8) for c in ([1, 4, 16, 64, 128] if which == "full" else [1, 16])]
    rows += [Row("b1 GQA", 1, 32, 8, 128, [c * K]) for c in ([4, 16, 64, 128, 512] if which == "full" else [4, 512])]
    rows += [Row("b16 GQA", 16, 32, 8, 128, [c * K] * 16) for c in ([4, 16, 64, 128] if which == "full" else [4])]
    rows += [Row("MQA", 1, 32, 1, 128, [c * K]) for c in ([16, 128] if which == "full" else [128])]
    rows += [Row("d64", 1, 64, 64, 64, [64 * K]), Row("d256", 1, 16, 16, 256, [64 * K])]
    rows += [Row("bf16", 1, 32, 32, 128, [c * K], torch.bfloat16) for c in ([4, 64] if which == "full" else [64])]
    rng = random.Random(7)
    rows.append(Row("ragged", 16, 32, 8, 128, [128 * K] + [rng.randint(1 * K, 4 * K) for _ in range(15)]))
    if which == "full":
        rows.append(Row("ragged", 64, 32, 8, 128, [rng.randint(1, 32 * K) for _ in range(64)]))
        rows += [Row("paged", 8, 32, 8, 128, [16 * K] * 8, page=p) for p in (16, 64)]
    return rows


class GraphTimer:
    """A CUDA graph running every fn in fn_list once; sample(reps) times replays, us per call."""

    def __init__(self, fn_list):
        self.calls = len(fn_list)
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for fn in fn_list:  # warm-up outside capture (cuDNN plans, workspace)
                fn()
        torch.cuda.current_stream().wait_stream(s)
        torch.cuda.synchronize()
        self.g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.g):
            for fn in fn_list:
                fn()

    def replay_ms(self):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        self.g.replay()
        b.record()
        b.synchronize()
        return a.elapsed_time(b)

    def sample(self, reps):
        warm = 0.0  # at least 20 ms of replays before timing, so clocks settle
        while warm < 20.0:
            warm += self.replay_ms()
        return [self.replay_ms() * 1e3 / self.calls for i in range(reps + 3)][3:]


def time_all(timers, reps):
    """Median us per call of each timer over two passes, the second in reverse order: in full runs
    the first variant timed in a row read up to 0.5 us slower than the next on small rows
    (bench/NOTES.md step 34), and ours came first."""
    samples = {n: [] for n in timers}
    for order in (list(timers), list(reversed(list(timers)))):
        for n in order:
            samples[n] += timers[n].sample(reps)
    return {n: statistics.median(v) for n, v in samples.items()}


def input_copies(kv_bytes, l2_bytes):
    """Input copies a row cycles through, so a graph's reads exceed L2 four times over (at most 16)."""
    return max(1, min(16, math.ceil(4 * l2_bytes / max(1, kv_bytes))))


def graph_of(fn, copies):
    """A GraphTimer over fn(c) for every input copy, repeated to at least 8 calls."""
    return GraphTimer([lambda c=c: fn(c) for c in range(copies)] * max(1, 8 // copies))


def sdpa(q, k, v):
    """PyTorch SDPA on our layout: q [b, hq, d], k and v [b, tokens, hk, d]; returns [b, hq, d]."""
    return F.scaled_dot_product_attention(q.unsqueeze(2), k.transpose(1, 2), v.transpose(1, 2),
                                          enable_gqa=q.shape[1] != k.shape[2]).squeeze(2)


class OurPlan:
    """A plan of ours (policy 0 stream-K, 1 fixed split, 2 no split) with its uploaded workspace."""

    def __init__(self, lib, prob, policy, dev):
        self.lib, self.plan = lib, C.c_void_p()
        if lib.lean_plan_create(C.byref(prob), policy, 0, 0, C.byref(self.plan)) != 0:
            raise RuntimeError(lib.lean_last_error().decode())
        self.ws_bytes = lib.lean_plan_workspace_bytes(self.plan)
        self.ws = torch.empty(self.ws_bytes, dtype=torch.uint8, device=dev)
        assert lib.lean_plan_upload(self.plan, self.ws.data_ptr(), self.ws_bytes, None) == 0

    def decode(self, q, kv, o, lse):
        """One call on the current stream; kv is a Kv."""
        st = self.lib.lean_decode(self.plan, q.data_ptr(), C.byref(kv), o.data_ptr(), lse.data_ptr(), self.ws.data_ptr(),
                                  self.ws_bytes, None, C.c_void_p(torch.cuda.current_stream().cuda_stream))
        if st != 0:
            raise RuntimeError(self.lib.lean_last_error().decode())

    def destroy(self):
        self.lib.lean_plan_destroy(self.plan)


def run_row(lib, row, l2_bytes, reps):
    dev = torch.device("cuda")
    maxlen = max(row.lens)
    copies = input_copies(2 * 2 * row.b * maxlen * row.hk * row.d, l2_bytes)
    torch.manual_seed(0)
    qs = [torch.randn(row.b, row.hq, row.d, device=dev, dtype=row.dtype) for _ in range(copies)]
    ks = [torch.randn(row.b, maxlen, row.hk, row.d, device=dev, dtype=row.dtype) for _ in range(copies)]
    vs = [torch.randn(row.b, maxlen, row.hk, row.d, device=dev, dtype=row.dtype) for _ in range(copies)]
    out = {}
    timers, ctas, plans, keep = {}, {}, [], []

    # ---- ours, through the C API
    lens = (C.c_int64 * row.b)(*row.lens)
    prob = Problem(row.b, row.hq, row.hk, row.d, LEAN_BF16 if row.dtype == torch.bfloat16 else LEAN_FP16, 0.0, 64, lens, row.page or 0)
    # LEAN_PEERS_SWAP_STREAM_K=1 times the two stream-K launches in the other order (an order-effect check)
    order = POLICIES if os.environ.get("LEAN_PEERS_SWAP_STREAM_K") != "1" else [POLICIES[1], POLICIES[0]] + POLICIES[2:]
    for name, pol, pdl in order:
        plan = OurPlan(lib, prob, pol, dev)
        if "LEAN_PDL" not in os.environ and lib.lean_plan_set_programmatic_launch(plan.plan, pdl) != 0:  # the env var overrides both
            raise RuntimeError(lib.lean_last_error().decode())
        o = torch.empty(row.b, row.hq, row.d, device=dev, dtype=row.dtype)
        lse = torch.empty(row.b, row.hq, device=dev, dtype=torch.float32)
        tables, kvs = [], []
        for c in range(copies):
            if row.page:  # scatter each sequence's tokens into shuffled pages
                per_seq = math.ceil(maxlen / row.page)
                pages = row.b * per_seq
                # LEAN_PAGE_ORDER=sequential: pages in order, to tell the shuffle's cost from the lookup's
                if os.environ.get("LEAN_PAGE_ORDER") == "sequential":
                    perm = torch.arange(pages, device=dev, dtype=torch.int32)
                else:
                    perm = torch.randperm(pages, device=dev, dtype=torch.int32)
                table = perm.view(row.b, per_seq).contiguous()
                kp = torch.empty(pages, row.page, row.hk, row.d, device=dev, dtype=row.dtype)
                vp = torch.empty_like(kp)
                kpad = F.pad(ks[c], (0, 0, 0, 0, 0, per_seq * row.page - maxlen)).view(row.b, per_seq, row.page, row.hk, row.d)
                vpad = F.pad(vs[c], (0, 0, 0, 0, 0, per_seq * row.page - maxlen)).view(row.b, per_seq, row.page, row.hk, row.d)
                kp[table.long()] = kpad
                vp[table.long()] = vpad
                tables.append((table, kp, vp))
                kvs.append(Kv(kp.data_ptr(), vp.data_ptr(), row.page * row.hk * row.d, row.hk * row.d, row.d,
                              table.data_ptr(), per_seq, row.page, pages))
            else:
                kvs.append(Kv(ks[c].data_ptr(), vs[c].data_ptr(), maxlen * row.hk * row.d, row.hk * row.d, row.d, None, 0, 0, 0))

        def call(c, plan=plan, o=o, lse=lse, kvs=kvs):
            plan.decode(qs[c], kvs[c], o, lse)

        call(0)
        torch.cuda.synchronize()
        out[name] = o.clone()
        timers[name] = graph_of(call, copies)
        ctas[name] = lib.lean_plan_num_ctas(plan.plan)
        plans.append(plan)
        keep.append((o, lse, tables, kvs))

    # ---- PyTorch SDPA peers: q [b, hq, 1, d], k/v [b, hk, maxlen, d] (padded: SDPA has no ragged decode)
    def peer(c):
        return sdpa(qs[c], ks[c], vs[c])

    for name, backend in (("cudnn", SDPBackend.CUDNN_ATTENTION), ("flash", SDPBackend.FLASH_ATTENTION)):
        try:
            with sdpa_kernel(backend):  # the backend is chosen as the graph is captured
                out[name] = peer(0)
                torch.cuda.synchronize()
                timers[name] = graph_of(peer, copies)
                ctas[name] = 0
        except Exception as e:  # a backend that refuses the shape is reported, not hidden
            print(f"  {row.name()}: {name} unavailable: {str(e).splitlines()[0][:100]}", file=sys.stderr)

    # ---- paged rows: SDPA reads no block table, so a user of it would first gather the pages into a
    # contiguous cache; timed as a second view of the peer, the headline stays the kernel-only one
    if row.page:
        per_seq = math.ceil(maxlen / row.page)
        gathers = [(t.long(), kp, vp) for t, kp, vp in tables]

        def sdpa_gather(c):
            t, kp, vp = gathers[c]
            k = kp[t].view(row.b, per_seq * row.page, row.hk, row.d)[:, :maxlen]
            v = vp[t].view(row.b, per_seq * row.page, row.hk, row.d)[:, :maxlen]
            return sdpa(qs[c], k, v)

        with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
            out["cudnn-gather"] = sdpa_gather(0)
            torch.cuda.synchronize()
            timers["cudnn-gather"] = graph_of(sdpa_gather, copies)
            ctas["cudnn-gather"] = 0

    times = time_all(timers, reps)
    results = {n: (times[n], ctas[n]) if n in times else (float("nan"), 0)
               for n in [p[0] for p in POLICIES] + ["cudnn", "flash", "cudnn-gather"]}
    for plan in plans:
        plan.destroy()

    # ---- agreement before trusting any time: ours vs cuDNN (padding makes ragged peers differ)
    ref = out.get("cudnn", out.get("flash"))
    agree = {}
    for name in ("stream-k", "stream-k-pdl", "fixed-split", "no-split", "flash", "cudnn-gather"):
        if name in out and ref is not None and not row.ragged:
            agree[name] = float(((out[name].float() - ref.float()).abs().max() / ref.float().abs().max()).item())
    return results, agree


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lib", default=".carry/liblean_cuda.so")
    ap.add_argument("--out", default="bench-out")
    ap.add_argument("--matrix", default="full", choices=["full", "quick", "paged", "small", "launch", "mqa"])
    ap.add_argument("--reps", type=int, default=50)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    lib = load(a.lib)
    props = torch.cuda.get_device_properties(0)
    card = props.name
    read = lib.lean_read_bandwidth_gbps(4 << 30, 20)
    copy = lib.lean_copy_bandwidth_gbps(2 << 30, 20)
    print(f"card: {card}, {props.multi_processor_count} SMs; torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}")
    print(f"ceilings: read {read:.0f} GB/s, copy {copy:.0f} GB/s")
    try:
        import flashinfer  # noqa: F401
        print("FlashInfer: importable, but this version does not time it yet (say so in the results)")
    except ImportError:
        print("FlashInfer: not installed on this machine, skipped")
    rows = matrix(a.matrix)
    data, agree = {}, {}
    for r in rows:
        data[r.name()], agree[r.name()] = run_row(lib, r, props.L2_cache_size, a.reps)
        d = data[r.name()]
        print(f"  {r.name():<40} " + " ".join(f"{k}={v[0]:.1f}" for k, v in d.items()), file=sys.stderr)
    names = ["stream-k", "stream-k-pdl", "fixed-split", "no-split", "cudnn", "flash"]
    with open(os.path.join(a.out, "peers.csv"), "w") as f:
        f.write("card,family,row,kv_mb,read_gbps,copy_gbps," + ",".join(f"{n}_us" for n in names) +
                ",stream_k_ctas,stream_k_gbps,frac_read,best_peer,speedup_vs_best_peer,speedup_pdl_vs_best_peer,"
                "max_rel_diff_vs_cudnn,cudnn_gather_us\n")
        for r in rows:
            d = data[r.name()]
            sk = d["stream-k"][0]
            peers = {n: d[n][0] for n in ("cudnn", "flash") if not math.isnan(d[n][0])}
            best = min(peers, key=peers.get) if peers else ""
            gbps = r.kv_bytes() / (sk * 1e3)
            f.write(f"{card},{r.family},{r.name()},{r.kv_bytes() / 1e6:.1f},{read:.0f},{copy:.0f}," +
                    ",".join(f"{d[n][0]:.2f}" for n in names) +
                    f",{d['stream-k'][1]},{gbps:.0f},{gbps / read:.3f},{best},{(peers[best] / sk) if best else float('nan'):.3f},"
                    f"{(peers[best] / d['stream-k-pdl'][0]) if best else float('nan'):.3f},"
                    f"{max(agree[r.name()].values(), default=float('nan')):.2e},{d['cudnn-gather'][0]:.2f}\n")
    lines = [f"# {card}: decode attention, us per call (CUDA graph replay, median of 2 x {a.reps} over two passes)", "",
             f"Read ceiling {read:.0f} GB/s, copy {copy:.0f} GB/s. Ragged rows: peers run padded to the longest sequence.",
             "stream-k: our default (plain) launch, as PyTorch launches the peers; sk pdl: the same plan launched as a",
             "programmatic dependent of the previous kernel (here the previous call's), lean_plan_set_programmatic_launch.", "",
             "| row | KV MB | stream-k | sk pdl | fixed-split | no-split | cuDNN | flash | sk GB/s | % read | vs best peer | pdl vs best |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    speedups, pdl = [], []
    for r in rows:
        d = data[r.name()]
        sk = d["stream-k"][0]
        peers = [d[n][0] for n in ("cudnn", "flash") if not math.isnan(d[n][0])]
        sp = min(peers) / sk if peers else float("nan")
        sp_pdl = min(peers) / d["stream-k-pdl"][0] if peers else float("nan")
        if peers:
            speedups.append(sp)
            pdl.append(sp_pdl)
        gbps = r.kv_bytes() / (sk * 1e3)
        lines.append(f"| {r.name()} | {r.kv_bytes() / 1e6:.0f} | " + " | ".join(f"{d[n][0]:.1f}" for n in names) +
                     f" | {gbps:.0f} | {100 * gbps / read:.1f}% | {sp:.2f}x | {sp_pdl:.2f}x |")
    geo = lambda v: math.exp(sum(map(math.log, v)) / len(v)) if v else float("nan")
    lines += ["", f"Geometric mean speed-up of stream-K over the best peer per row: {geo(speedups):.3f}x over {len(speedups)} rows "
              f"({geo(pdl):.3f}x launched programmatically)."]
    paged = [r for r in rows if r.page]
    if paged:  # the headline above compares paged rows with peers reading a contiguous cache for free
        lines += ["", "Paged rows against what a user of SDPA would run on a paged cache: gather the pages "
                  "(`k_pages[block_table]`), then cuDNN SDPA. Not counted in the geomean above.", "",
                  "| row | stream-k | cuDNN on a contiguous copy | cuDNN + gather | vs cuDNN + gather |", "|---|---|---|---|---|"]
        for r in paged:
            d = data[r.name()]
            lines.append(f"| {r.name()} | {d['stream-k'][0]:.1f} | {d['cudnn'][0]:.1f} | {d['cudnn-gather'][0]:.1f} | "
                         f"{d['cudnn-gather'][0] / d['stream-k'][0]:.2f}x |")
    open(os.path.join(a.out, "peers.md"), "w").write("\n".join(lines) + "\n")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from plot_peers import plot  # time and bandwidth against context, per row family
    plot(os.path.join(a.out, "peers.csv"), a.out)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
