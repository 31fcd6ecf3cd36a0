// LeanAttention decode kernel: one persistent CTA walks its slice of the schedule's linear
// (sequence x kv head x tile) space. Per segment it streams K/V tiles through a 3-stage
// shared-memory ring (cp.async, or whole tiles by tensor memory access where the launcher
// chose it), computes S = Q K^T and O += P V on tensor cores (mma.sync m16n8k16, fp32
// accumulate) with an exp2 online softmax, merges its 4 warps in shared memory, and either
// writes the unit's output (whole unit) or a float32 partial. Split units are merged in
// schedule order (host first) by the merge kernel that follows (combine.cu, the default) or, in
// the in-kernel mode, by the LAST contributor to arrive; either way no CTA ever waits on another:
// safe with any grid, co-resident or not, and the result is independent of timing.
#pragma once

#include <cuda/atomic>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>

#include "decode_params.hpp"
#include "kv_offset.cuh"
#include "ptx.cuh"
#include "lean/kernel_shape.hpp"

namespace lean::cuda {

// ---- element-type traits --------------------------------------------------------------------

template <typename Elem> struct ElemTraits;

template <> struct ElemTraits<__half> {
  static __device__ __forceinline__ uint32_t pack(float a, float b) {
    __half2 h = __floats2half2_rn(a, b);
    return *reinterpret_cast<uint32_t*>(&h);
  }
  static __device__ __forceinline__ __half from_float(float x) { return __float2half_rn(x); }
  static __device__ __forceinline__ void mma(float* c, const uint32_t* a, uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
};

template <> struct ElemTraits<__nv_bfloat16> {
  static __device__ __forceinline__ uint32_t pack(float a, float b) {
    __nv_bfloat162 h = __floats2bfloat162_rn(a, b);
    return *reinterpret_cast<uint32_t*>(&h);
  }
  static __device__ __forceinline__ __nv_bfloat16 from_float(float x) { return __float2bfloat16_rn(x); }
  static __device__ __forceinline__ void mma(float* c, const uint32_t* a, uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
};

// ---- tile loads by tensor memory access, timers (PTX helpers: ptx.cuh) ----------------------

/// One box of a K/V tile: the D dims of the rows at (token c2, sequence or page c3) into both
/// stages at byte offset row_off, in half-planes of 64 dims (the 128-byte swizzle's widest box),
/// completing on the mbarrier at shared address b.
template <int D>
__device__ __forceinline__ void tma_load_box(const DecodeParams& p, int head, int c2, int c3, uint32_t k_dst, uint32_t v_dst,
                                             uint32_t row_off, uint32_t b) {
#pragma unroll
  for (int h = 0; h < D / 64; ++h) {
    const uint32_t off = h * KernelShape::kTile * 128 + row_off;
    asm volatile(
        "cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4, %5}], [%6];\n" ::"r"(
            k_dst + off),
        "l"(&p.tma_k), "r"(h * 64), "r"(head), "r"(c2), "r"(c3), "r"(b)
        : "memory");
    asm volatile(
        "cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4, %5}], [%6];\n" ::"r"(
            v_dst + off),
        "l"(&p.tma_v), "r"(h * 64), "r"(head), "r"(c2), "r"(c3), "r"(b)
        : "memory");
  }
}

/// Thread 0 of a CTA: the whole K and V tile at token t0 into one stage, completing on `bar`,
/// in boxes of tma_box_tokens rows.
template <int D>
__device__ __forceinline__ void tma_load_tile(const DecodeParams& p, int seq, int head, int t0, uint32_t k_dst, uint32_t v_dst,
                                              uint64_t* bar) {
#if __CUDA_ARCH__ >= 900
  constexpr int kTile = KernelShape::kTile;
  const uint32_t b = smem_addr(bar);
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(b), "n"(2 * kTile * D * 2) : "memory");
  for (int t = t0; t < t0 + kTile; t += p.tma_box_tokens) {
    int c2 = t, c3 = seq;  // (token, sequence), or (token in page, page)
    if (p.kv.block_table) {  // a multiply-high, not a division, in front of the page id's load (step 45)
      const int e = p.page_div.div(t);
      c3 = __ldg(p.kv.block_table + int64_t(seq) * p.kv.block_table_stride + e), c2 = t - e * p.kv.page_size;
    }
    tma_load_box<D>(p, head, c2, c3, k_dst, v_dst, (t - t0) * 128, b);
  }
#endif
}

/// The page-window kernel's tensor loads: warp 0 looks up the page of each box of the tile at t0 in its
/// window (pages of 16 or 32 tokens: several boxes a tile), lane 0 issues the copies.
template <int D>
__device__ __forceinline__ void tma_load_paged_tile(const DecodeParams& p, PageWindow& win, int seq, int head, int t0,
                                                    uint32_t k_dst, uint32_t v_dst, uint64_t* bar, int lane) {
#if __CUDA_ARCH__ >= 900
  constexpr int kTile = KernelShape::kTile, kMaxBoxes = kTile / 16;  // pages hold 16 tokens at least
  const int box = p.tma_box_tokens, boxes = kTile / box;
  int32_t pages[kMaxBoxes];
  win.advance(t0 / p.kv.page_size);
#pragma unroll
  for (int i = 0; i < kMaxBoxes; ++i)
    if (i < boxes) pages[i] = win.page((t0 + i * box) / p.kv.page_size);
  win.refill(p.kv, seq, lane);
  if (lane != 0) return;
  const uint32_t b = smem_addr(bar);
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(b), "n"(2 * kTile * D * 2) : "memory");
#pragma unroll
  for (int i = 0; i < kMaxBoxes; ++i) {
    if (i == boxes) break;
    const int t = t0 + i * box, c2 = t % p.kv.page_size, c3 = pages[i];  // (token in page, page)
    tma_load_box<D>(p, head, c2, c3, k_dst, v_dst, (t - t0) * 128, b);
  }
#endif
}

__device__ __forceinline__ int32_t smid() {
  int32_t id;
  asm volatile("mov.u32 %0, %%smid;" : "=r"(id));
  return id;
}

// ---- configuration --------------------------------------------------------------------------

template <int D, int MTiles>
struct DecodeConfig {
  static constexpr int kThreads = KernelShape::kThreads, kWarps = KernelShape::kWarps;
  static constexpr int kTile = KernelShape::kTile;       // tokens per pipeline stage
  static constexpr int kStages = KernelShape::stages(D);
  static constexpr int kStride = D + 8;                  // padded Q row: conflict-free ldmatrix
  static constexpr int kRows = 16 * MTiles;              // query rows (group padded to 16s)
  static constexpr int kWarpsPerM = kWarps / MTiles;     // warps sharing one m-tile split tokens
  static constexpr int kWarpTokens = kTile / kWarpsPerM; // 16, 32 or 64
  static constexpr int kNTiles = kWarpTokens / 8;        // S fragments per warp
  static constexpr int kDTiles = D / 8;                  // O fragments per warp
  static constexpr int kChunksPerRow = D / 8;            // 16-byte chunks in a K/V row
  static constexpr int kOStride = D + 8;                 // floats per row of a warp's output slice
  static constexpr size_t kKvElems = size_t(kStages) * kTile * D;  // dense rows, see kv_index
  static constexpr size_t kSmemBytes = KernelShape::smem_bytes(D, MTiles);  // K, V stages; Q; warp stats
  static_assert(kWarps % MTiles == 0 && kNTiles % 2 == 0 && kDTiles % 2 == 0, "fragment pairs");
  static_assert(size_t(kWarps) * 16 * kOStride * sizeof(float) <= kKvElems * 2 * 2, "warp slices alias the K and V stages");
  static_assert((kTile * kChunksPerRow) % kThreads == 0 && (kTile / kWarps * kChunksPerRow) % 32 == 0, "whole chunks a thread");

  /// Element offset of (row, col) in a K/V stage, col a multiple of 8: half-planes of 64
  /// columns, [D / 64][tile][64], whose 128-byte rows hold their 16-byte chunks XOR-swizzled by
  /// row % 8: the tensor memory access unit's 128-byte swizzle, and the 8 rows one ldmatrix
  /// reads sit in 8 bank groups. Dense rows also let cp.async write whole 128-byte lines
  /// (padded rows cost 4% of the streaming rate on H100, bench/NOTES.md step 21).
  static __device__ __forceinline__ int kv_index(int row, int col) {
    return (col >> 6) * (kTile * 64) + row * 64 + ((((col >> 3) & 7) ^ (row & 7)) << 3);
  }
};


/// Stores 4 merged output elements of row r and, once per row, its LSE.
template <int D, typename Elem>
__device__ __forceinline__ void write_merged(const DecodeParams& p, int64_t q_row0, int r, int col, float4 v, float lse) {
  using E = ElemTraits<Elem>;
  *reinterpret_cast<uint2*>(static_cast<Elem*>(p.o) + (q_row0 + r) * D + col) = make_uint2(E::pack(v.x, v.y), E::pack(v.z, v.w));
  if (p.lse && col == 0) p.lse[q_row0 + r] = lse;
}

// ---- the cross-CTA merge ----------------------------------------------------------------------

/// Counts this CTA's published partial on `counter` and says whether it was the last of `n`.
/// The barrier orders every thread's partial stores before thread 0's device-scope acq_rel
/// count: it releases our partial and, for the last arrival, acquires all others (CUTLASS's
/// barrier pattern; one fence per CTA instead of a MEMBAR.SC per thread, which cost ~4 us per
/// split segment on H100, bench/NOTES.md).
__device__ __forceinline__ bool arrive(int32_t* counter, int n, int& s_last) {
  __syncthreads();
  if (threadIdx.x == 0) {
    ::cuda::atomic_ref<int32_t, ::cuda::thread_scope_device> count(*counter);
    s_last = count.fetch_add(1, ::cuda::memory_order_acq_rel) == n - 1;
  }
  __syncthreads();
  return s_last;
}

/// Merge pass 1, by one warp: the merged LSE of one row from the n contributors' LSEs at
/// lse[j * step]. Lanes stride over the contributors, then a fixed xor tree; every lane returns
/// it. Shared by the in-kernel merge and combine.cu; sim/src/emulate.cpp mirrors the order.
__device__ __forceinline__ float merged_row_lse(const float* lse, int64_t step, int n, int lane) {
  constexpr float kNegInf = -INFINITY;
  const float first = lane < n ? __ldcg(lse + lane * step) : kNegInf;  // kept for the sum
  float m = first, sum = 0.f;
  for (int j = lane + 32; j < n; j += 32) m = fmaxf(m, __ldcg(lse + j * step));
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, off));
  if (m != kNegInf) {
    if (lane < n) sum = expf(first - m);
    for (int j = lane + 32; j < n; j += 32) sum += expf(__ldcg(lse + j * step) - m);
  }
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
  return m == kNegInf ? kNegInf : m + logf(sum);
}

/// kBatch contributors' (LSE, float4 of O) from j on, loaded at once; the loads are clamped to
/// j1 - 1, not guarded: a load under a branch makes ptxas wait for it at the join (2-3x slower
/// merges, bench/NOTES.md step 15). The loads need no weight, so the merge kernel issues its
/// first batch before the merged LSE is known.
template <int kBatch>
struct PartialBatch {
  float l[kBatch];
  float4 o[kBatch];
  int j, j1;
  __device__ __forceinline__ void load(const float* lse, int64_t lse_step, const float* po, int64_t o_step, int j_, int j1_) {
    j = j_, j1 = j1_;
#pragma unroll
    for (int k = 0; k < kBatch; ++k) {
      const int64_t jj = min(j + k, j1 - 1);
      l[k] = __ldcg(lse + jj * lse_step);
      o[k] = __ldcg(reinterpret_cast<const float4*>(po + jj * o_step));
    }
  }
  /// acc += exp(l - L) * o over the batch's contributors, in order.
  __device__ __forceinline__ void add_to(float4& acc, float L) const {
#pragma unroll
    for (int k = 0; k < kBatch; ++k)
      if (j + k < j1) {
        const float w = expf(l[k] - L);
        acc.x += w * o[k].x, acc.y += w * o[k].y, acc.z += w * o[k].z, acc.w += w * o[k].w;
      }
  }
};

/// Merge pass 2 for one float4 of a row: acc plus the sum over contributors j in [j0, j1), in
/// order, of exp(lse[j * lse_step] - L) * o[j * o_step .. + 4), kBatch loads in flight. Shared by
/// the in-kernel merge and combine.cu.
template <int kBatch>
__device__ __forceinline__ float4 weighted_sum(const float* lse, int64_t lse_step, const float* o, int64_t o_step, int j0,
                                               int j1, float L, float4 acc = make_float4(0.f, 0.f, 0.f, 0.f)) {
  for (int j = j0; j < j1; j += kBatch) {
    PartialBatch<kBatch> b;
    b.load(lse, lse_step, o, o_step, j, j1);
    b.add_to(acc, L);
  }
  return acc;
}

/// The `groups` contributor blocks' sums of one float4 (acc[grp * chunks + chunk]), added in
/// block order. Shared by the in-kernel merge and combine.cu.
__device__ __forceinline__ float4 add_blocks(const float4* acc, int chunks, int groups, int chunk) {
  float4 v = acc[chunk];
  for (int grp = 1; grp < groups; ++grp) {
    const float4 w = acc[grp * chunks + chunk];
    v.x += w.x, v.y += w.y, v.z += w.z, v.w += w.w;
  }
  return v;
}

/// Merges the n published partials at workspace slots slot0, slot0 + stride, ... in that order:
/// into the output rows from q_row0, or (q_row0 < 0) in place into slot0 as a partial again.
/// sim/src/emulate.cpp mirrors the arithmetic order.
template <int D, typename Elem, typename C>
__device__ void merge_partials(const DecodeParams& p, int32_t slot0, int stride, int n, int64_t q_row0, float* sRowM,
                               float* sO) {
  constexpr float kNegInf = -INFINITY;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, g = p.group;
  float* plse = p.part_lse + int64_t(slot0) * g;
  float* po_all = p.part_o + int64_t(slot0) * g * D;
  const int64_t lse_step = int64_t(stride) * g, o_step = int64_t(stride) * g * D;
  for (int r = warp; r < g; r += C::kWarps) {  // pass 1: a warp per row
    const float L = merged_row_lse(plse + r, lse_step, n, lane);
    if (lane == 0) sRowM[r] = L;
  }
  __syncthreads();
  // pass 2: O = sum_j exp(lse_j - lse) O_j, contributors added in order, loads issued kBatch
  // at a time (measured no faster than 4, H100, bench/NOTES.md step 15). When the output has
  // fewer float4 chunks than threads, `groups` threads share a chunk, each summing a contiguous
  // block of contributors; the blocks are then added in order through shared memory.
  auto store = [&](int r, int col, float4 v) {
    if (q_row0 >= 0) write_merged<D, Elem>(p, q_row0, r, col, v, sRowM[r]);
    else __stcg(reinterpret_cast<float4*>(po_all + r * D + col), v);  // no other thread reads this chunk
  };
  constexpr int kBatch = D <= 128 ? 8 : 4;  // loads in flight per thread, within the register budget
  const int chunks = g * (D / 4);
  const int groups = max(1, min(C::kThreads / chunks, n));
  float4* sAcc = reinterpret_cast<float4*>(sO);  // [groups, chunks]; sO is free again
  for (int i = tid; i < (groups > 1 ? groups * chunks : chunks); i += C::kThreads) {
    const int chunk = i % chunks, grp = i / chunks;
    const int r = chunk / (D / 4), col = (chunk % (D / 4)) * 4;
    const float L = sRowM[r];
    const float4 acc4 = L == kNegInf ? make_float4(0.f, 0.f, 0.f, 0.f)
                                     : weighted_sum<kBatch>(plse + r, lse_step, po_all + r * D + col, o_step,
                                                            grp * n / groups, (grp + 1) * n / groups, L);
    if (groups > 1) sAcc[grp * chunks + chunk] = acc4;
    else store(r, col, acc4);
  }
  if (groups > 1) {
    __syncthreads();
    for (int chunk = tid; chunk < chunks; chunk += C::kThreads)
      store(chunk / (D / 4), (chunk % (D / 4)) * 4, add_blocks(sAcc, chunks, groups, chunk));
  }
  __syncthreads();  // every weight read: slot0's LSE may be replaced
  if (q_row0 < 0)
    for (int r = tid; r < g; r += C::kThreads) __stcg(plse + r, sRowM[r]);
}

/// One segment of a CTA as the kernel walks it: its unit's tokens [t_begin, t_end) in n_sub
/// tiles of KernelShape::kTile, of which cut_sub (n_sub when none) is cut by the sequence's end.
struct SegmentTiles {
  Segment seg;
  Unit un;
  int t_begin, t_end, n_sub, cut_sub;
};
__device__ __forceinline__ SegmentTiles segment_tiles(const Schedule& s, int cta, int it, int range_end) {
  constexpr int kTile = KernelShape::kTile;
  const Segment seg = s.segment_at(cta, it, range_end);
  const Unit un = s.unit(seg.unit);
  const TokenRange t = s.tokens_of(seg, un);
  const int n_sub = (t.end - t.begin + kTile - 1) / kTile;
  return SegmentTiles{seg, un, t.begin, t.end, n_sub, (t.end - t.begin) % kTile ? n_sub - 1 : n_sub};
}

/// The in-kernel merge (Schedule::separate_merge == 0) after CTA `cta` published its partial of
/// unit u: counts it on its group's counter (the unit's, when it merges in one step); the last of
/// a group of several merges it into the group's first slot and counts that on the unit; the
/// last of all merges in schedule order, host first. Returns whether this CTA merged the unit.
/// Out of line: the default path (the merge kernel) then never fetches or jumps over its code.
template <int D, typename Elem, typename C>
__device__ __noinline__ bool count_and_merge(const DecodeParams& p, int cta, int32_t u, int64_t q_row0, float* sRowM, float* sO,
                                             int& s_last, int64_t* trs) {
  const Schedule& s = p.sched;
  const int32_t first = s.first_cta(u), groups = s.merge_groups(u), k = s.group_of(cta, u);
  bool last = arrive(p.counters + s.group_counter(u, k), s.group_size(u, k), s_last);
  if (trs) trs[3] = globaltimer();
  if (last && groups > 1) {
    merge_partials<D, Elem, C>(p, s.partial_slot(first + k * s.merge_fanin, u), 1, s.group_size(u, k), -1, sRowM, sO);
    if (threadIdx.x == 0) p.counters[s.group_counter(u, k)] = 0;  // ready for the next launch
    last = arrive(p.counters + u, groups, s_last);
  }
  if (last) {  // every partial (or group) is published: merge in schedule order, host first
    const bool tree = groups > 1;
    merge_partials<D, Elem, C>(p, s.partial_slot(first, u), tree ? s.merge_fanin : 1, tree ? groups : s.num_contributors(u),
                               q_row0, sRowM, sO);
    if (threadIdx.x == 0) {
      p.counters[u] = 0;  // ready for the next launch
      if (p.record) p.record[s.num_ctas * 4 + u] = cta;
    }
  }
  if (trs) trs[4] = globaltimer();
  return last;
}

/// Empty sequences have no tiles and so no owner: CTA `cta` of the grid writes its share of their
/// outputs. Out of line, like the in-kernel merge: uniform batches skip it.
template <int D, typename Elem, typename C>
__device__ __noinline__ void write_empty_outputs(const DecodeParams& p, int cta) {
  using E = ElemTraits<Elem>;
  for (int b = cta; b < p.sched.num_seqs; b += gridDim.x) {
    if (p.sched.len_of(b) != 0) continue;
    for (int i = threadIdx.x; i < p.num_q_heads * D; i += C::kThreads)
      static_cast<Elem*>(p.o)[int64_t(b) * p.num_q_heads * D + i] = E::from_float(0.f);
    if (p.lse)
      for (int i = threadIdx.x; i < p.num_q_heads; i += C::kThreads) p.lse[int64_t(b) * p.num_q_heads + i] = -INFINITY;
  }
}

// ---- the kernel -----------------------------------------------------------------------------

// Variant::page_windows (kPageWindows): the instantiation lean_decode launches for a paged cache
// whose pages are smaller than a tile (or do not divide into tiles): it reads page ids from
// per-warp windows. The others keep that code out of their loop (a larger loop body slowed every
// contiguous row by 1-25% on H100) and serve contiguous caches and pages of whole tiles, one page
// id a tile (through a window: H200 page 64 at one CTA per SM 133.0 against 128.1 us;
// bench/NOTES.md step 42); Variant::uniform is the general one for batches of one length.
template <int D, typename Elem, int MTiles, Variant V>
__global__ void __launch_bounds__(KernelShape::kThreads, D <= 64 ? 3 : 2) decode_kernel(const __grid_constant__ DecodeParams p) {
  constexpr bool kPageWindows = V == Variant::page_windows;
  using C = DecodeConfig<D, MTiles>;
  using E = ElemTraits<Elem>;
  extern __shared__ __align__(128) unsigned char smem_raw[];
  // the 128-byte swizzle repeats every 1024 bytes: stages start on 1024-byte boundaries
  unsigned char* smem = smem_raw + ((1024 - smem_addr(smem_raw) % 1024) % 1024);
  Elem* sK = reinterpret_cast<Elem*>(smem);             // [stages, tile, D] swizzled (kv_index)
  Elem* sV = sK + C::kKvElems;                          // [stages, tile, D] swizzled
  Elem* sQ = sV + C::kKvElems;                          // [rows, stride]
  float* sWarpM = reinterpret_cast<float*>(sQ + C::kRows * C::kStride);  // [warps, 16]
  float* sWarpL = sWarpM + C::kWarps * 16;              // [warps, 16]
  float* sRowM = sWarpL + C::kWarps * 16;               // [rows] merged max (log2 units)
  float* sRowL = sRowM + C::kRows;                      // [rows] merged sum
  float* sO = reinterpret_cast<float*>(smem);           // [warps, 16, kOStride], aliases sK/sV after a segment
  __shared__ int s_last;
  __shared__ __align__(8) uint64_t s_full[C::kStages];  // tensor-memory tiles landed (use_tma)

  // Variant::uniform reads the plan through a copy that states what the launcher promises (one
  // length, no idle tiles), so the compiler drops a ragged batch's code
  [[maybe_unused]] Schedule uniform_plan;
  if constexpr (V == Variant::uniform) {
    uniform_plan = p.sched;
    uniform_plan.unit_pad = 0;
    __builtin_assume(uniform_plan.uniform_len > 0);
  }
  const Schedule& s = V == Variant::uniform ? uniform_plan : p.sched;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int mt = warp / C::kWarpsPerM, wi = warp % C::kWarpsPerM;
  const int cta = s.cta_of_block(blockIdx.x);  // row blocks of one K/V range on neighbouring blocks
  const int g = p.group;
  constexpr float kNegInf = -INFINITY;
  constexpr float kLn2 = 0.6931471805599453f;

  // The merge kernel may start now: it reads its plan, then waits for this grid to finish
  // (griddepcontrol.wait), so its launch leaves the critical path (bench/NOTES.md step 29)
#if __CUDA_ARCH__ >= 900
  if (p.early_merge_launch) asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
  // Launched as a programmatic dependent of the stream's previous kernel (lean_plan_set_
  // programmatic_launch), this CTA may be running before that kernel has finished: nothing in
  // global memory is read or written until it has, and its writes are visible. A no-op otherwise.
  // (Prefetching the first tiles to L2 before the wait was slower, bench/NOTES.md step 34.)
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif

  if (s.uniform_len == 0) write_empty_outputs<D, Elem, C>(p, cta);  // uniform_len > 0: none is empty

  // trace: [smid, t_start, t_end, segments, then per segment: unit, t_begin, t_streamed,
  // t_written, t_merged] (lean_decode_trace)
  int64_t* tr = p.trace && tid == 0 ? p.trace + int64_t(cta) * (4 + 5 * p.trace_segments) : nullptr;
  if (tr) tr[0] = smid(), tr[1] = globaltimer();
  const TileRange range = s.cta_range(cta);
  int segments = 0, merges = 0;
  // Thread 0 asks for the first segment's first whole tiles before the rest of the prologue runs,
  // which then overlaps their flight (tensor loads, but not the page-window kernel's: its warp 0
  // keeps a window on the block table; bench/NOTES.md step 51).
  const bool prefilled = !kPageWindows && p.use_tma && range.begin < range.end;
  if (p.use_tma && tid == 0) {
    for (int st = 0; st < C::kStages; ++st) mbar_init(&s_full[st], 1);
    if (prefilled) {
      const SegmentTiles f = segment_tiles(s, cta, range.begin, range.end);
      for (int st = 0; st < C::kStages - 1 && st < f.n_sub; ++st)
        if (st != f.cut_sub)
          tma_load_tile<D>(p, f.un.seq, f.un.head, f.t_begin + st * C::kTile, smem_addr(sK + size_t(st) * C::kTile * D),
                           smem_addr(sV + size_t(st) * C::kTile * D), &s_full[st]);
    }
  }
  __syncthreads();
  uint32_t fills = 0;  // stages filled so far: stage = fill % kStages, mbarrier phase = fill / kStages
  for (int it = range.begin; it < range.end; ++segments) {
    const SegmentTiles span = segment_tiles(s, cta, it, range.end);
    const Segment& seg = span.seg;
    const Unit& un = span.un;
    const int t_begin = span.t_begin, t_end = span.t_end, n_sub = span.n_sub;
    const int64_t q_row0 = int64_t(un.seq) * p.num_q_heads + un.q_head0;
    int64_t* trs = tr && segments < p.trace_segments ? tr + 4 + 5 * segments : nullptr;
    if (trs) trs[0] = seg.unit, trs[1] = globaltimer();

    const Elem* kbase = static_cast<const Elem*>(p.kv.k);
    const Elem* vbase = static_cast<const Elem*>(p.kv.v);
    // Whole tiles by tensor memory access (thread 0; warp 0 with page windows); the tile a
    // sequence's end cuts (only ever a segment's last) by cp.async, which zero-fills the rows
    // past the end.
    const int cut_sub = span.cut_sub;
    // Paged: page ids from each warp's window on the block table (kv_offset.cuh), read a stage
    // ahead; by cp.async from pages of multiples of 16 tokens each warp copies 16 whole rows,
    // which lie in one page: one page id a warp and stage.
    [[maybe_unused]] std::conditional_t<kPageWindows, PageWindow, int> win;  // an unused int without windows
    if constexpr (kPageWindows) win.start(p.kv, un.seq, t_begin, t_end, lane);
    auto load_stage = [&](int sub) {
      const int stage = (fills + sub) % C::kStages;
      const int t0 = t_begin + sub * C::kTile;
      if (p.use_tma) {
        if (sub != cut_sub) {
          if constexpr (kPageWindows) {  // several page-sized boxes a tile, from warp 0's window
            if (warp == 0)
              tma_load_paged_tile<D>(p, win, un.seq, un.head, t0, smem_addr(sK + size_t(stage) * C::kTile * D),
                                     smem_addr(sV + size_t(stage) * C::kTile * D), &s_full[stage], lane);
            return;
          }
          if (tid == 0) {
            tma_load_tile<D>(p, un.seq, un.head, t0, smem_addr(sK + size_t(stage) * C::kTile * D),
                             smem_addr(sV + size_t(stage) * C::kTile * D), &s_full[stage]);
          }
          return;
        }
        if (tid == 0) mbar_arrive(&s_full[stage]);  // this stage comes by cp.async: complete its phase now
      }
      if constexpr (kPageWindows) {
        constexpr int kWarpRows = C::kTile / C::kWarps;
        // (with tensor loads only warp 0 keeps its window moving: their cut tile takes the loop below)
        if (!p.use_tma && p.kv.page_size % kWarpRows == 0) {
          const int row0 = warp * kWarpRows, tw = min(t0 + row0, t_end - 1), e = tw / p.kv.page_size;
          win.advance(e);
          const int32_t page = win.page(e);
          win.refill(p.kv, un.seq, lane);
          const int64_t base = int64_t(page) * p.kv.stride_seq + int64_t(tw - e * p.kv.page_size) * p.kv.stride_token +
                               int64_t(un.head) * p.kv.stride_head;
#pragma unroll
          for (int j = 0; j < kWarpRows * C::kChunksPerRow / 32; ++j) {
            const int chunk = j * 32 + lane;
            const int row = row0 + chunk / C::kChunksPerRow, col = (chunk % C::kChunksPerRow) * 8;
            const bool valid = t0 + row < t_end;  // rows past the end read nothing from an address in the page
            const int64_t off = (valid ? base + int64_t(row - row0) * p.kv.stride_token : base) + col;
            const size_t so = size_t(stage) * C::kTile * D + C::kv_index(row, col);
            cp_async16<D * 2>(smem_addr(sK + so), kbase + off, valid);
            cp_async16<D * 2>(smem_addr(sV + so), vbase + off, valid);
          }
          return;
        }
      }
#pragma unroll
      for (int j = 0; j < C::kTile * C::kChunksPerRow / C::kThreads; ++j) {
        const int chunk = tid + j * C::kThreads;
        const int row = chunk / C::kChunksPerRow, col = (chunk % C::kChunksPerRow) * 8;
        const int t = t0 + row;
        const bool valid = t < t_end;
        const int64_t off = kv_offset(p.kv, un.seq, valid ? t : t_begin, un.head) + col;
        const size_t so = size_t(stage) * C::kTile * D + C::kv_index(row, col);
        cp_async16<D * 2>(smem_addr(sK + so), kbase + off, valid);
        cp_async16<D * 2>(smem_addr(sV + so), vbase + off, valid);
      }
    };

    float acc[C::kDTiles][4];
#pragma unroll
    for (int n = 0; n < C::kDTiles; ++n) acc[n][0] = acc[n][1] = acc[n][2] = acc[n][3] = 0.f;
    float m_run[2] = {kNegInf, kNegInf}, l_run[2] = {0.f, 0.f};  // rows lane/4 and lane/4 + 8

#pragma unroll
    for (int st = 0; st < C::kStages - 1; ++st) {
      if (st < n_sub && !(prefilled && segments == 0 && st != cut_sub)) load_stage(st);  // whole tiles prefilled
      if (st == 0)  // Q of the group rides in the first cp.async group, behind the first K/V tile;
                    // rows past the group are zero-filled: [rows, D]
#pragma unroll
        for (int i = tid; i < C::kRows * C::kChunksPerRow; i += C::kThreads) {
          const int r = i / C::kChunksPerRow, col = (i % C::kChunksPerRow) * 8;
          const Elem* src = static_cast<const Elem*>(p.q) + (q_row0 + (r < g ? r : 0)) * D + col;
          cp_async16<D * 2>(smem_addr(sQ + r * C::kStride + col), src, r < g);
        }
      cp_async_commit();
    }
    for (int sub = 0; sub < n_sub; ++sub) {
      const uint32_t fill = fills + sub;
      cp_async_wait<C::kStages - 2>();
      if (p.use_tma) mbar_wait(&s_full[fill % C::kStages], (fill / C::kStages) & 1);
      __syncthreads();  // stage `sub` visible; everyone is done with stage sub - 1
      if (sub + C::kStages - 1 < n_sub) load_stage(sub + C::kStages - 1);
      cp_async_commit();

      const Elem* k_st = sK + size_t(fill % C::kStages) * C::kTile * D;
      const Elem* v_st = sV + size_t(fill % C::kStages) * C::kTile * D;
      const int tok0 = wi * C::kWarpTokens;

      // S = Q K^T for this warp's tokens: [16 rows, kWarpTokens]
      float sc[C::kNTiles][4];
#pragma unroll
      for (int n = 0; n < C::kNTiles; ++n) sc[n][0] = sc[n][1] = sc[n][2] = sc[n][3] = 0.f;
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        uint32_t a[4];
        ldmatrix_x4(a, smem_addr(sQ + (mt * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * C::kStride + kk * 16 + (lane >> 4) * 8));
#pragma unroll
        for (int n = 0; n < C::kNTiles; n += 2) {
          uint32_t b[4];
          ldmatrix_x4(b, smem_addr(k_st + C::kv_index(tok0 + (n + (lane >> 4)) * 8 + (lane & 7), kk * 16 + ((lane >> 3) & 1) * 8)));
          E::mma(sc[n], a, b[0], b[1]);
          E::mma(sc[n + 1], a, b[2], b[3]);
        }
      }

      // online softmax in log2 units; masked tokens are -inf
      const int t_warp = t_begin + sub * C::kTile + tok0;
      float mx[2] = {kNegInf, kNegInf};
#pragma unroll
      for (int n = 0; n < C::kNTiles; ++n)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int t = t_warp + n * 8 + (lane & 3) * 2 + (e & 1);
          sc[n][e] = t < t_end ? sc[n][e] * p.scale_log2 : kNegInf;
          mx[e >> 1] = fmaxf(mx[e >> 1], sc[n][e]);
        }
      float alpha[2], m_use[2];
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        mx[h] = fmaxf(mx[h], __shfl_xor_sync(0xffffffffu, mx[h], 1));
        mx[h] = fmaxf(mx[h], __shfl_xor_sync(0xffffffffu, mx[h], 2));
        const float m_new = fmaxf(m_run[h], mx[h]);
        m_use[h] = m_new == kNegInf ? 0.f : m_new;  // a fully masked row stays empty, not NaN
        alpha[h] = exp2f(m_run[h] - m_use[h]);
        m_run[h] = m_new;
        l_run[h] *= alpha[h];
      }
#pragma unroll
      for (int n = 0; n < C::kNTiles; ++n)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          sc[n][e] = exp2f(sc[n][e] - m_use[e >> 1]);
          l_run[e >> 1] += sc[n][e];
        }
#pragma unroll
      for (int n = 0; n < C::kDTiles; ++n) {
        acc[n][0] *= alpha[0], acc[n][1] *= alpha[0];
        acc[n][2] *= alpha[1], acc[n][3] *= alpha[1];
      }

      // O += P V, P rounded to the element type (the S accumulators are P's A fragments)
#pragma unroll
      for (int j = 0; j < C::kWarpTokens / 16; ++j) {
        const uint32_t a[4] = {E::pack(sc[2 * j][0], sc[2 * j][1]), E::pack(sc[2 * j][2], sc[2 * j][3]),
                               E::pack(sc[2 * j + 1][0], sc[2 * j + 1][1]), E::pack(sc[2 * j + 1][2], sc[2 * j + 1][3])};
#pragma unroll
        for (int n = 0; n < C::kDTiles; n += 2) {
          uint32_t b[4];
          ldmatrix_x4_trans(b, smem_addr(v_st + C::kv_index(tok0 + j * 16 + (lane & 7) + ((lane >> 3) & 1) * 8, (n + (lane >> 4)) * 8)));
          E::mma(acc[n], a, b[0], b[1]);
          E::mma(acc[n + 1], a, b[2], b[3]);
        }
      }
    }

    // ---- segment epilogue: merge the warps of each m-tile in warp order -----------------------
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      l_run[h] += __shfl_xor_sync(0xffffffffu, l_run[h], 1);
      l_run[h] += __shfl_xor_sync(0xffffffffu, l_run[h], 2);
    }
    fills += n_sub;
    cp_async_wait<0>();
    __syncthreads();  // pipeline drained: sO may now overwrite the K stages
    if (trs) trs[2] = globaltimer();
    if ((lane & 3) == 0)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        sWarpM[warp * 16 + (lane >> 2) + 8 * h] = m_run[h];
        sWarpL[warp * 16 + (lane >> 2) + 8 * h] = l_run[h];
      }
    __syncthreads();
    float factor[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int row = (lane >> 2) + 8 * h;
      float M = kNegInf;
      for (int k = 0; k < C::kWarpsPerM; ++k) M = fmaxf(M, sWarpM[(mt * C::kWarpsPerM + k) * 16 + row]);
      float L = 0.f;
      for (int k = 0; k < C::kWarpsPerM; ++k) {
        const float mk = sWarpM[(mt * C::kWarpsPerM + k) * 16 + row];
        L += mk == kNegInf ? 0.f : sWarpL[(mt * C::kWarpsPerM + k) * 16 + row] * exp2f(mk - M);
      }
      factor[h] = m_run[h] == kNegInf ? 0.f : exp2f(m_run[h] - M);
      if (wi == 0 && (lane & 3) == 0) sRowM[mt * 16 + row] = M, sRowL[mt * 16 + row] = L;
    }
    // Each warp stores its rescaled accumulator in its own slice (float2 stores, padded rows:
    // no bank conflicts); after one barrier, readers add an m-tile's slices in warp order, the
    // order sim/src/emulate.cpp uses.
    float* slice = sO + warp * 16 * C::kOStride;
#pragma unroll
    for (int n = 0; n < C::kDTiles; ++n)
#pragma unroll
      for (int h = 0; h < 2; ++h)
        *reinterpret_cast<float2*>(slice + ((lane >> 2) + 8 * h) * C::kOStride + n * 8 + (lane & 3) * 2) =
            make_float2(acc[n][2 * h] * factor[h], acc[n][2 * h + 1] * factor[h]);
    __syncthreads();
    auto merged4 = [&](int r, int col) {  // query row r of the group, columns col..col+3
      const float* base = sO + ((r / 16) * C::kWarpsPerM * 16 + r % 16) * C::kOStride + col;
      float4 v = *reinterpret_cast<const float4*>(base);
      for (int k = 1; k < C::kWarpsPerM; ++k) {
        const float4 w = *reinterpret_cast<const float4*>(base + k * 16 * C::kOStride);
        v.x += w.x, v.y += w.y, v.z += w.z, v.w += w.w;
      }
      return v;
    };

    // ---- write the unit's output, or a partial and maybe merge ---------------------------------
    if (seg.complete) {
      for (int i = tid; i < g * (D / 8); i += C::kThreads) {
        const int r = i / (D / 8), col = (i % (D / 8)) * 8;
        const float inv = 1.f / sRowL[r];
        const float4 a = merged4(r, col), b = merged4(r, col + 4);
        *reinterpret_cast<uint4*>(static_cast<Elem*>(p.o) + (q_row0 + r) * D + col) =
            make_uint4(E::pack(a.x * inv, a.y * inv), E::pack(a.z * inv, a.w * inv), E::pack(b.x * inv, b.y * inv),
                       E::pack(b.z * inv, b.w * inv));
      }
      if (p.lse)
        for (int r = tid; r < g; r += C::kThreads) p.lse[q_row0 + r] = (sRowM[r] + log2f(sRowL[r])) * kLn2;
      if (p.record && tid == 0) p.record[s.num_ctas * 4 + seg.unit] = cta;
      if (trs) trs[3] = trs[4] = globaltimer();
    } else {
      const int32_t u = seg.unit, slot = s.partial_slot(cta, u);
      float* po = p.part_o + int64_t(slot) * g * D;
      for (int i = tid; i < g * (D / 4); i += C::kThreads) {
        const int r = i / (D / 4), col = (i % (D / 4)) * 4;
        const float inv = 1.f / sRowL[r];
        const float4 v = merged4(r, col);
        __stcg(reinterpret_cast<float4*>(po + r * D + col), make_float4(v.x * inv, v.y * inv, v.z * inv, v.w * inv));
      }
      for (int r = tid; r < g; r += C::kThreads) __stcg(p.part_lse + int64_t(slot) * g + r, (sRowM[r] + log2f(sRowL[r])) * kLn2);
      if (s.separate_merge) {  // combine.cu merges after this kernel: nothing to count
        if (trs) trs[3] = trs[4] = globaltimer();
      } else if (count_and_merge<D, Elem, C>(p, cta, u, q_row0, sRowM, sO, s_last, trs)) {
        ++merges;
      }
    }
    if (p.use_tma) fence_proxy_async();  // sO and cp.async stages before the next tiles' tensor writes
    __syncthreads();  // sO and the stats are reused by the next segment
    it = seg.next;
  }
  if (tr) tr[2] = globaltimer(), tr[3] = segments;
  if (p.record && tid == 0) {
    p.record[cta * 4 + 0] = range.begin;
    p.record[cta * 4 + 1] = range.end;
    p.record[cta * 4 + 2] = segments;
    p.record[cta * 4 + 3] = merges;
  }
}

/// Launches `kernel(p)` on `stream`; `programmatic`: as a programmatic dependent of the stream's
/// previous kernel, which must then be waited for with griddepcontrol.wait (a plain stream
/// dependency before Hopper). Shared by the decode and merge kernels.
template <typename Kernel>
cudaError_t launch_kernel(Kernel kernel, int64_t ctas, int threads, size_t smem_bytes, bool programmatic, const DecodeParams& p,
                          cudaStream_t stream) {
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = dim3(static_cast<unsigned>(ctas));
  cfg.blockDim = dim3(static_cast<unsigned>(threads));
  cfg.dynamicSmemBytes = smem_bytes;
  cfg.stream = stream;
  cudaLaunchAttribute attr{};
  attr.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr.val.programmaticStreamSerializationAllowed = 1;
  cfg.attrs = &attr;
  cfg.numAttrs = programmatic ? 1 : 0;
  return cudaLaunchKernelEx(&cfg, kernel, p);
}

template <int D, typename Elem, int MTiles, Variant V>
cudaError_t launch_decode(const DecodeParams& p, bool programmatic, cudaStream_t stream) {
  using C = DecodeConfig<D, MTiles>;
  return launch_kernel(decode_kernel<D, Elem, MTiles, V>, p.sched.num_ctas, C::kThreads, C::kSmemBytes, programmatic, p, stream);
}

template <int D, typename Elem, int MTiles, Variant V>
KernelEntry kernel_entry() {
  using C = DecodeConfig<D, MTiles>;
  const lean_dtype dt = std::is_same_v<Elem, __half> ? LEAN_FP16 : LEAN_BF16;
  return KernelEntry{D,       dt,        MTiles, V, reinterpret_cast<const void*>(&decode_kernel<D, Elem, MTiles, V>),
                     C::kSmemBytes, C::kTile, &launch_decode<D, Elem, MTiles, V>};
}

}  // namespace lean::cuda

#define LEAN_INSTANTIATE_DECODE(D, ELEM, MT, VARIANT) \
  template lean::cuda::KernelEntry lean::cuda::kernel_entry<D, ELEM, MT, lean::cuda::Variant::VARIANT>();
