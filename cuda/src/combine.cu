// The separate merge (Schedule::separate_merge): after the decode kernel has written every
// partial, one CTA per (split unit, query row) merges that row's partials in schedule order.
// It replaces the in-kernel count-and-merge of the last contributor: no fence or atomic on the
// decode kernel's critical path, a unit's rows merged in parallel, and the launch overlapped with
// the decode kernel's tail (programmatic dependent launch). Same arithmetic as the in-kernel
// merge with one row per CTA; sim/src/emulate.cpp (merge_like_kernel) mirrors it.
#include "decode_kernel.cuh"

namespace lean::cuda {

template <int D, typename Elem>
__global__ void __launch_bounds__(KernelShape::kThreads) combine_kernel(const DecodeParams p) {
  constexpr int kThreads = KernelShape::kThreads, kChunks = D / 4;  // float4s in a row
  constexpr float kNegInf = -INFINITY;
#if __CUDA_ARCH__ >= 900
  // launched as a programmatic dependent of the decode kernel (which triggers it implicitly as
  // its CTAs exit; an explicit trigger at its start made H200 MQA erratic, 31.8 -> 43.1 us):
  // wait until it has finished and its partials are visible
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
  const Schedule& s = p.sched;
  const int g = p.group, tid = threadIdx.x, lane = tid & 31;
  const int32_t u = p.split_units[blockIdx.x / g], r = blockIdx.x % g;
  const int32_t n = s.num_contributors(u);  // >= 2: whole units were written by the decode kernel
  const Unit un = s.unit(u);
  const int64_t q_row0 = int64_t(un.seq) * p.num_q_heads + int64_t(un.head) * g;
  const int32_t slot0 = s.partial_slot(s.first_cta(u), u);  // contributors occupy consecutive slots
  const float* plse = p.part_lse + int64_t(slot0) * g + r;    // contributor j: plse[j * g]
  const float* po = p.part_o + (int64_t(slot0) * g + r) * D;  // contributor j: po[j * g * D]
  __shared__ float sL;
  __shared__ float4 sAcc[kThreads];
  // pass 1 (warp 0): lanes stride over the contributors' LSEs, then a fixed xor tree
  if (tid < 32) {
    const float first = lane < n ? __ldcg(plse + int64_t(lane) * g) : kNegInf;
    float m = first, sum = 0.f;
    for (int j = lane + 32; j < n; j += 32) m = fmaxf(m, __ldcg(plse + int64_t(j) * g));
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, off));
    if (m != kNegInf) {
      if (lane < n) sum = expf(first - m);
      for (int j = lane + 32; j < n; j += 32) sum += expf(__ldcg(plse + int64_t(j) * g) - m);
    }
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
    if (lane == 0) sL = m == kNegInf ? kNegInf : m + logf(sum);
  }
  __syncthreads();
  // pass 2: `groups` threads share a float4, each summing a contiguous block of contributors
  const float L = sL;
  const int groups = max(1, min(kThreads / kChunks, n));
  const int chunk = tid % kChunks, grp = tid / kChunks;
  float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
  if (grp < groups && L != kNegInf) {
    const int j0 = grp * n / groups, j1 = (grp + 1) * n / groups;
    constexpr int kBatch = 8;
    for (int j = j0; j < j1; j += kBatch) {
      float lj[kBatch];
      float4 oj[kBatch];
#pragma unroll
      for (int k = 0; k < kBatch; ++k) {  // clamped, not guarded: a guarded load stalls at the join
        const int64_t jj = min(j + k, j1 - 1);
        lj[k] = __ldcg(plse + jj * g);
        oj[k] = __ldcg(reinterpret_cast<const float4*>(po + jj * g * D) + chunk);
      }
#pragma unroll
      for (int k = 0; k < kBatch; ++k)
        if (j + k < j1) {
          const float w = expf(lj[k] - L);
          acc.x += w * oj[k].x, acc.y += w * oj[k].y, acc.z += w * oj[k].z, acc.w += w * oj[k].w;
        }
    }
  }
  sAcc[tid] = acc;
  __syncthreads();
  if (tid < kChunks) {
    float4 v = sAcc[tid];
    for (int k = 1; k < groups; ++k) {
      const float4 w = sAcc[k * kChunks + tid];
      v.x += w.x, v.y += w.y, v.z += w.z, v.w += w.w;
    }
    write_merged<D, Elem>(p, q_row0, r, tid * 4, v, L);
  }
  if (p.record && r == 0 && tid == 0) p.record[s.num_ctas * 4 + u] = kMergedByCombine;
}

cudaError_t launch_combine(const DecodeParams& p, int head_dim, lean_dtype dtype, cudaStream_t stream) {
  const int64_t ctas = int64_t(p.num_split_units) * p.group;
  if (ctas == 0) return cudaSuccess;
  auto go = [&](auto kernel) {
    // programmatic dependent launch: the merge kernel is launched while the decode kernel's last
    // CTAs run and waits on griddepcontrol.wait (a plain stream dependency before Hopper)
    cudaLaunchConfig_t cfg{};
    cfg.gridDim = dim3(static_cast<unsigned>(ctas));
    cfg.blockDim = dim3(KernelShape::kThreads);
    cfg.stream = stream;
    cudaLaunchAttribute attr{};
    attr.id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr.val.programmaticStreamSerializationAllowed = 1;
    cfg.attrs = &attr;
    cfg.numAttrs = 1;
    return cudaLaunchKernelEx(&cfg, kernel, p);
  };
  const bool half = dtype == LEAN_FP16;
  switch (head_dim) {
    case 64: return half ? go(combine_kernel<64, __half>) : go(combine_kernel<64, __nv_bfloat16>);
    case 128: return half ? go(combine_kernel<128, __half>) : go(combine_kernel<128, __nv_bfloat16>);
    case 256: return half ? go(combine_kernel<256, __half>) : go(combine_kernel<256, __nv_bfloat16>);
  }
  return cudaErrorInvalidValue;
}

}  // namespace lean::cuda
