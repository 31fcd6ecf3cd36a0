// What the launcher hands the kernel, and the table of compiled kernel instantiations.
// Light on purpose: the launcher includes this, only cuda/src/inst/*.cu include the kernel.
#pragma once

#include <cuda.h>  // CUtensorMap
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "lean/cuda/lean_decode.h"
#include "lean/schedule.hpp"

namespace lean::cuda {

struct DecodeParams {
  Schedule sched;       // by value; its arrays live in the workspace
  const void* q;        // [batch, q_heads, D]
  void* o;              // [batch, q_heads, D]
  float* lse;           // [batch, q_heads] or null
  lean_kv kv;
  int32_t num_q_heads;
  int32_t group;        // query heads of a unit (Schedule::unit_rows): the group, or a row block of it
  float scale_log2;     // softmax scale * log2(e): the kernel works in exp2
  int32_t* counters;    // [Schedule::num_counters()] arrivals; each merging CTA resets its counter to 0
  float* part_lse;      // [slots, group] natural-log LSE of each partial
  float* part_o;        // [slots, group, D] normalised partial O
  int32_t* record;      // null, or [num_ctas * 4 + units]: see lean_decode.h
  const SplitUnit* split_units;  // [num_split_units] units of >= 2 contributors (the merge kernel's grid)
  int32_t num_split_units;
  int32_t early_merge_launch;  // trigger the merge kernel's launch at the decode kernel's start
  int64_t* trace;       // null, or [num_ctas, 4 + 5 * trace_segments] globaltimer stamps
  int32_t trace_segments;
  // Hopper's tensor memory access loads each whole K/V tile (a tile cut by a sequence's end
  // still goes by cp.async, which zero-fills): one 4D map per tensor over (dim, head, token,
  // sequence) or (dim, head, token in page, page), boxes of 64 dims x tma_box_tokens, written
  // with the 128-byte swizzle DecodeConfig::kv_index reads.
  int32_t use_tma;
  int32_t tma_box_tokens;  // 64 contiguous; the page size when paged with pages of 16 or 32
  FastDiv page_div;        // paged: / kv.page_size (whole-tile pages by tensor loads)
  CUtensorMap tma_k, tma_v;
};

/// What a compiled decode kernel serves. `general` and `uniform` read contiguous caches and pages
/// of whole tiles; `page_windows` pages smaller than a tile (KernelShape::uses_page_windows).
/// `uniform` is `general` for batches of one length (Schedule::uniform_len > 0): compiled
/// knowing that, it has none of a ragged batch's code (unit searches, empty sequences, idle
/// tiles), which uniform small calls paid 0.2-0.5 us for (bench/NOTES.md step 58). Head dim 128
/// only; elsewhere uniform batches run `general`.
enum class Variant : int { general = 0, page_windows = 1, uniform = 2 };
inline constexpr int kVariants = 3;

/// One compiled kernel: head dim x element type x m-tiles (16 query rows each) x variant.
struct KernelEntry {
  int head_dim;
  lean_dtype dtype;
  int m_tiles;
  Variant variant;
  const void* func;
  size_t smem_bytes;
  int tile_tokens;  // tokens per shared-memory stage; tile_kv must be a multiple
  // programmatic: a programmatic dependent of the stream's previous kernel (griddepcontrol.wait)
  cudaError_t (*launch)(const DecodeParams& p, bool programmatic, cudaStream_t stream);
};

template <int D, typename Elem, int MTiles, Variant V>
KernelEntry kernel_entry();

/// The instantiation for (head dim, element type, query heads a unit, variant); null if none.
const KernelEntry* find_kernel(int head_dim, lean_dtype dtype, int group, Variant variant);

/// The separate merge (Schedule::separate_merge): one CTA of `threads` (Schedule::merge_threads)
/// per (unit, query row), launched after the decode kernel on the same stream (cuda/src/combine.cu).
/// `isolated`: the merge kernel's second function, given its carveout by isolate_combine.
cudaError_t launch_combine(const DecodeParams& p, int head_dim, lean_dtype dtype, int threads, bool isolated, cudaStream_t stream);
/// Gives the current device's isolated merge kernel for (head_dim, dtype, threads) the most-L1
/// carveout, which keeps its CTAs off SMs running decode CTAs (KernelShape::isolates_merge).
cudaError_t isolate_combine(int head_dim, lean_dtype dtype, int threads);

}  // namespace lean::cuda
