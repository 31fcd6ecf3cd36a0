"""Would splitting MQA's 32 query rows into units of 16 (as cuDNN does: grid [64, 2], 16-row tiles,
bench/results/h200/row_split_probe/peer_kernels) pay? Probe without a kernel change: plan 32 query heads over
s "KV heads" that all alias the one real KV head (stride_head = 0, allowed by an experiment build
of the launcher), so each unit holds 32/s rows and shares K/V through L2. cp.async only
(LEAN_TMA=0 set by the caller): a tensor map may not take a zero stride.

    LEAN_TMA=0 python3 row_split_probe.py --lib .carry/exp/liblean_cuda.so
"""
import argparse
import ctypes as C
import os
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../"))
from peers import GraphTimer, Kv, LEAN_FP16, Problem, load, time_all  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--lib", required=True)
ap.add_argument("--reps", type=int, default=50)
ap.add_argument("--splits", default="1,2,4")
a = ap.parse_args()
lib = load(a.lib)
print(f"card: {torch.cuda.get_device_name(0)}; LEAN_TMA={os.environ.get('LEAN_TMA')}")
for ctx in (16384, 131072):
    copies = max(1, min(16, 4 * 60 * 2**20 // (4 * ctx * 128)))
    torch.manual_seed(0)
    qs = [torch.randn(1, 32, 128, device="cuda", dtype=torch.float16) for _ in range(copies)]
    ks = [torch.randn(1, ctx, 1, 128, device="cuda", dtype=torch.float16) for _ in range(copies)]
    vs = [torch.randn(1, ctx, 1, 128, device="cuda", dtype=torch.float16) for _ in range(copies)]
    timers, outs, keep = {}, {}, []
    for s in map(int, a.splits.split(",")):
        lens = (C.c_int64 * 1)(ctx)
        prob = Problem(1, 32, s, 128, LEAN_FP16, 0.0, 64, lens, 0)
        plan = C.c_void_p()
        assert lib.lean_plan_create(C.byref(prob), 0, 0, 0, C.byref(plan)) == 0, lib.lean_last_error()
        wsb = lib.lean_plan_workspace_bytes(plan)
        ws = torch.empty(wsb, dtype=torch.uint8, device="cuda")
        assert lib.lean_plan_upload(plan, ws.data_ptr(), wsb, None) == 0
        o = torch.empty(1, 32, 128, device="cuda", dtype=torch.float16)
        lse = torch.empty(1, 32, device="cuda", dtype=torch.float32)
        kvs = [Kv(ks[c].data_ptr(), vs[c].data_ptr(), ctx * 128, 128, 128 if s == 1 else 0, None, 0, 0, 0) for c in range(copies)]

        def call(c, plan=plan, o=o, lse=lse, ws=ws, wsb=wsb, kvs=kvs):
            st = lib.lean_decode(plan, qs[c].data_ptr(), C.byref(kvs[c]), o.data_ptr(), lse.data_ptr(), ws.data_ptr(), wsb,
                                 None, C.c_void_p(torch.cuda.current_stream().cuda_stream))
            if st != 0:
                raise RuntimeError(lib.lean_last_error().decode())

        call(0)
        torch.cuda.synchronize()
        outs[f"split{s}"] = o.clone()
        timers[f"split{s}"] = GraphTimer([lambda c=c: call(c) for c in range(copies)] * max(1, 8 // copies))
        print(f"  ctx {ctx} split {s}: G = {lib.lean_plan_num_ctas(plan)}")
        keep.append((plan, ws, o, lse, kvs))

    def sdpa(c):
        return F.scaled_dot_product_attention(qs[c].unsqueeze(2), ks[c].transpose(1, 2), vs[c].transpose(1, 2),
                                              enable_gqa=True).squeeze(2)

    with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
        ref = sdpa(0)
        torch.cuda.synchronize()
        timers["cudnn"] = GraphTimer([lambda c=c: sdpa(c) for c in range(copies)] * max(1, 8 // copies))
    for n, o in outs.items():
        err = ((o.float() - ref.float()).abs().max() / ref.float().abs().max()).item()
        print(f"  ctx {ctx} {n}: max |diff| / max |ref| vs cuDNN = {err:.2e}")
        assert err < 1e-2, n
    t = time_all(timers, a.reps)
    print(f"MQA 32/1 d128 {ctx}: " + "  ".join(f"{n} {v:.2f} us" for n, v in t.items()))
    for plan, *_ in keep:
        lib.lean_plan_destroy(plan)
