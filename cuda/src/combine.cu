// The separate merge (Schedule::separate_merge): after the decode kernel has written every
// partial, one CTA per (split unit, query row) merges that row's partials in schedule order.
// It replaces the in-kernel count-and-merge of the last contributor: no fence or atomic on the
// decode kernel's critical path, a unit's rows merged in parallel, and the launch overlapped with
// the decode kernel (a programmatic dependent launch, triggered as the decode kernel starts). Its
// CTAs wait on griddepcontrol.wait, but the trigger fires only once every decode CTA is running,
// so a waiting merge CTA never keeps a decode CTA off an SM. Same arithmetic as the in-kernel
// merge with one row per CTA; sim/src/emulate.cpp (merge_like_kernel) mirrors it.
#include "decode_kernel.cuh"

namespace lean::cuda {

// kIsolated: the same kernel as a second function, which isolate_combine gives the most-L1
// shared-memory carveout (KernelShape::isolates_merge); a carveout belongs to a function
template <int D, typename Elem, int kThreads, bool kIsolated>
__global__ void __launch_bounds__(kThreads, kThreads == KernelShape::kMergeThreads ? 4 : 1) combine_kernel(const __grid_constant__ DecodeParams p) {
  constexpr int kChunks = D / 4;  // float4s in a row
  constexpr int kBatch = KernelShape::kMergeBatch;
  constexpr float kNegInf = -INFINITY;
  __shared__ float sL;
  __shared__ float4 sAcc[kThreads];
  // Everything from the plan is read before the wait below, while the decode kernel runs
  const Schedule& s = p.sched;
  const int g = p.group, tid = threadIdx.x, lane = tid & 31;
  const SplitUnit su = p.split_units[blockIdx.x / g];  // the plan's contributors: no range arithmetic here
  const int32_t u = su.unit, r = blockIdx.x % g;
  const int32_t n = su.contributors;  // >= 2: whole units were written by the decode kernel
  const Unit un = s.unit(u);
  const int64_t q_row0 = int64_t(un.seq) * p.num_q_heads + un.q_head0;
  const int32_t slot0 = s.partial_slot(su.first_cta, u);  // contributors occupy consecutive slots
  const float* plse = p.part_lse + int64_t(slot0) * g + r;    // contributor j: plse[j * g]
  const float* po = p.part_o + (int64_t(slot0) * g + r) * D;  // contributor j: po[j * g * D]
  // pass 2's threads: `groups` share a float4, each summing a contiguous block of contributors
  const int groups = max(1, min(kThreads / kChunks, n));
  const int chunk = tid % kChunks, grp = tid / kChunks;
  const int j0 = grp * n / groups, j1 = (grp + 1) * n / groups;
#if __CUDA_ARCH__ >= 900
  // launched as a programmatic dependent of the decode kernel, which triggers it at its start
  // (DecodeParams::early_merge_launch): wait until it has finished and its partials are visible
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
  // No griddepcontrol.launch_dependents here: the stream's next kernel (the next call's decode
  // kernel in a benchmark) launches as these CTAs exit. Triggered after the wait above, it gained
  // 0.4-0.6 us on small rows but its CTAs, dispatched beside running merge CTAs, cost MQA 128k,
  // pages of 64 and head dim 64 2-6% (bench/NOTES.md step 34).
  // pass 2's first loads go out with pass 1's: they need no weight, so the two L2 round trips overlap
  PartialBatch<kBatch> first;
  if (grp < groups) first.load(plse, g, po + chunk * 4, int64_t(g) * D, j0, j1);
  if (tid < 32) {  // pass 1 (warp 0)
    const float L = merged_row_lse(plse, g, n, lane);
    if (lane == 0) sL = L;
  }
  __syncthreads();
  const float L = sL;
  float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
  if (grp < groups && L != kNegInf) {
    first.add_to(acc, L);
    acc = weighted_sum<kBatch>(plse, g, po + chunk * 4, int64_t(g) * D, j0 + kBatch, j1, L, acc);
  }
  sAcc[tid] = acc;
  __syncthreads();
  if (tid < kChunks) write_merged<D, Elem>(p, q_row0, r, tid * 4, add_blocks(sAcc, kChunks, groups, tid), L);
  if (p.record && r == 0 && tid == 0) p.record[s.num_ctas * 4 + u] = LEAN_RECORD_MERGE_KERNEL;
}

template <int D, int T, bool kIsolated>
cudaError_t launch_combine_as(const DecodeParams& p, int64_t ctas, bool half, cudaStream_t stream) {
  // programmatic dependent launch: the merge kernel starts once the decode kernel triggers it
  // (at its start, or as its CTAs exit) and waits on griddepcontrol.wait
  return half ? launch_kernel(combine_kernel<D, __half, T, kIsolated>, ctas, T, 0, true, p, stream)
              : launch_kernel(combine_kernel<D, __nv_bfloat16, T, kIsolated>, ctas, T, 0, true, p, stream);
}

template <int D, int T>
cudaError_t isolate_combine_as(bool half) {
  return half ? cudaFuncSetAttribute(combine_kernel<D, __half, T, true>, cudaFuncAttributePreferredSharedMemoryCarveout, cudaSharedmemCarveoutMaxL1)
              : cudaFuncSetAttribute(combine_kernel<D, __nv_bfloat16, T, true>, cudaFuncAttributePreferredSharedMemoryCarveout,
                                     cudaSharedmemCarveoutMaxL1);
}

/// Calls f.template operator()<D, T>() for the merge kernel of (head_dim, threads); an invalid value for others.
template <typename F>
cudaError_t with_combine_shape(int head_dim, int threads, F f) {
  constexpr int kT = KernelShape::kMergeThreads, kWide = KernelShape::kMaxMergeThreads;
  const bool wide = threads == kWide;
  if (!wide && threads != kT) return cudaErrorInvalidValue;
  switch (head_dim) {
    case 64: return wide ? f.template operator()<64, kWide>() : f.template operator()<64, kT>();
    case 128: return wide ? f.template operator()<128, kWide>() : f.template operator()<128, kT>();
    case 256: return wide ? f.template operator()<256, kWide>() : f.template operator()<256, kT>();
  }
  return cudaErrorInvalidValue;
}

cudaError_t isolate_combine(int head_dim, lean_dtype dtype, int threads) {
  const bool half = dtype == LEAN_FP16;
  return with_combine_shape(head_dim, threads, [&]<int D, int T>() { return isolate_combine_as<D, T>(half); });
}

cudaError_t launch_combine(const DecodeParams& p, int head_dim, lean_dtype dtype, int threads, bool isolated, cudaStream_t stream) {
  const int64_t ctas = int64_t(p.num_split_units) * p.group;
  if (ctas == 0) return cudaSuccess;
  const bool half = dtype == LEAN_FP16;
  return with_combine_shape(head_dim, threads, [&]<int D, int T>() {
    return isolated ? launch_combine_as<D, T, true>(p, ctas, half, stream) : launch_combine_as<D, T, false>(p, ctas, half, stream);
  });
}

}  // namespace lean::cuda
