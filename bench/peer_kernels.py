"""Which kernels a peer launches for a decode row, with their grids and durations (torch.profiler).

    python3 bench/peer_kernels.py [--rows mqa16k,mha1k] [--out DIR]

Prints, per row and backend, every GPU kernel of one call: name, grid, block, registers, shared
memory and duration, so our partitioning can be compared with the peer's (bench/NOTES.md).
"""
import argparse
import json
import os

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

ROWS = {  # name: (batch, q heads, kv heads, head dim, context)
    "mha1k": (1, 32, 32, 128, 1024),
    "gqa4k": (1, 32, 8, 128, 4096),
    "mqa16k": (1, 32, 1, 128, 16384),
    "mqa128k": (1, 32, 1, 128, 131072),
    "mha16k": (1, 32, 32, 128, 16384),
    "gqa64k": (1, 32, 8, 128, 65536),
    "b16gqa4k": (16, 32, 8, 128, 4096),
}


def kernels_of(fn, trace_path):
    """The GPU kernels of one fn() after a warm-up, in start order (also bench/call_anatomy.py's)."""
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    prof.export_chrome_trace(trace_path)
    events = json.load(open(trace_path))["traceEvents"]
    return sorted((e for e in events if e.get("cat") == "kernel"), key=lambda e: e["ts"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="mha1k,gqa4k,mqa16k,mqa128k,mha16k")
    ap.add_argument("--out", default="bench-out")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    print(f"card: {torch.cuda.get_device_name(0)}; torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}")
    for name in a.rows.split(","):
        b, hq, hk, d, n = ROWS[name]
        q = torch.randn(b, hq, 1, d, device="cuda", dtype=torch.float16)
        k = torch.randn(b, hk, n, d, device="cuda", dtype=torch.float16)
        v = torch.randn(b, hk, n, d, device="cuda", dtype=torch.float16)
        for backend_name, backend in (("cudnn", SDPBackend.CUDNN_ATTENTION), ("flash", SDPBackend.FLASH_ATTENTION)):
            with sdpa_kernel(backend):
                ks = kernels_of(lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=hq != hk),
                                os.path.join(a.out, f"trace_{name}_{backend_name}.json"))
            print(f"{name} b{b} h{hq}/{hk} d{d} {n} {backend_name}:")
            for e in ks:
                g = e.get("args", {})
                print(f"   {e['dur']:7.2f} us  grid {g.get('grid')} block {g.get('block')} regs {g.get('registers per thread')} "
                      f"smem {g.get('shared memory')}  {e['name'][:110]}")


if __name__ == "__main__":
    main()
