"""One call each of our stream-K and cuDNN SDPA per row, for ncu to measure (session 10)."""
import sys
sys.path.insert(0, "bench")
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
import peers

lib = peers.load(sys.argv[1])
dev = torch.device("cuda")
for b, hq, hk, d, n in [(1, 32, 1, 128, 16384), (1, 32, 32, 128, 1024), (1, 32, 1, 128, 131072)]:
    q = torch.randn(b, hq, d, device=dev, dtype=torch.float16)
    k = torch.randn(b, n, hk, d, device=dev, dtype=torch.float16)
    v = torch.randn(b, n, hk, d, device=dev, dtype=torch.float16)
    lens = (peers.C.c_int64 * b)(*([n] * b))
    prob = peers.Problem(b, hq, hk, d, peers.LEAN_FP16, 0.0, 64, lens, 0)
    plan = peers.C.c_void_p()
    assert lib.lean_plan_create(peers.C.byref(prob), 0, 0, 0, peers.C.byref(plan)) == 0
    ws_bytes = lib.lean_plan_workspace_bytes(plan)
    ws = torch.empty(ws_bytes, dtype=torch.uint8, device=dev)
    assert lib.lean_plan_upload(plan, ws.data_ptr(), ws_bytes, None) == 0
    o = torch.empty(b, hq, d, device=dev, dtype=torch.float16)
    lse = torch.empty(b, hq, device=dev, dtype=torch.float32)
    kv = peers.Kv(k.data_ptr(), v.data_ptr(), n * hk * d, hk * d, d, None, 0, 0, 0)
    for _ in range(2):
        assert lib.lean_decode(plan, q.data_ptr(), peers.C.byref(kv), o.data_ptr(), lse.data_ptr(), ws.data_ptr(), ws_bytes, None,
                               peers.C.c_void_p(torch.cuda.current_stream().cuda_stream)) == 0
    with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
        for _ in range(2):
            ref = F.scaled_dot_product_attention(q.unsqueeze(2), k.transpose(1, 2), v.transpose(1, 2), enable_gqa=hq != hk)
    torch.cuda.synchronize()
    print(f"b{b} h{hq}/{hk} d{d} {n}: max|diff| {(o.float() - ref.squeeze(2).float()).abs().max().item():.2e}", flush=True)
