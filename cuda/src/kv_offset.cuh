// Where an element of the K/V cache lives: shared by the decode kernel and the input fill.
#pragma once

#include <cstdint>

#include "lean/cuda/lean_decode.h"

namespace lean::cuda {

/// The page holding token t of sequence b in a paged cache (the token sits at t % page_size in it).
__device__ __forceinline__ int32_t page_of(const lean_kv& kv, int b, int t) {
  return __ldg(kv.block_table + int64_t(b) * kv.block_table_stride + t / kv.page_size);
}

/// Element offset of (sequence b, token t, kv head h), contiguous or paged.
__device__ __forceinline__ int64_t kv_offset(const lean_kv& kv, int b, int t, int h) {
  if (kv.block_table == nullptr) return int64_t(b) * kv.stride_seq + int64_t(t) * kv.stride_token + int64_t(h) * kv.stride_head;
  return int64_t(page_of(kv, b, t)) * kv.stride_seq + int64_t(t % kv.page_size) * kv.stride_token + int64_t(h) * kv.stride_head;
}

/// A warp's window on one sequence's block table: entries [e0, e0 + 64), one per lane in each of
/// two registers, read a stage ahead, so a page id costs a shuffle instead of a dependent global
/// load in front of the copies (bench/NOTES.md step 42). Per stage every lane of the warp calls
/// advance, then page for each entry it needs, then refill; the entries never decrease and move
/// on by less than 28 a stage.
struct PageWindow {
  int e0, last;      // the window's first entry; the last one the segment reads
  int32_t cur, nxt;  // entries e0 + lane and e0 + 32 + lane of sequence b's row (clamped to last)

  __device__ __forceinline__ int32_t load(const lean_kv& kv, int b, int e) const {
    return __ldg(kv.block_table + int64_t(b) * kv.block_table_stride + min(e, last));
  }
  /// For a segment of sequence b reading tokens [t_begin, t_end).
  __device__ __forceinline__ void start(const lean_kv& kv, int b, int t_begin, int t_end, int lane) {
    e0 = t_begin / kv.page_size, last = (t_end - 1) / kv.page_size;
    cur = load(kv, b, e0 + lane), nxt = load(kv, b, e0 + 32 + lane);
  }
  /// Moves on once this stage's first entry is past the first half (nxt came a stage ago).
  __device__ __forceinline__ void advance(int e_min) {
    const bool on = e_min >= e0 + 32;
    cur = on ? nxt : cur, e0 += on ? 32 : 0;
  }
  __device__ __forceinline__ int32_t page(int e) const {
    return __shfl_sync(0xffffffffu, e < e0 + 32 ? cur : nxt, (e - e0) & 31);
  }
  /// The second half again, after this stage's pages: used from the next stage on. Every stage
  /// reloads it, as a load only under a branch would make ptxas wait for it at the join
  /// (bench/NOTES.md step 15).
  __device__ __forceinline__ void refill(const lean_kv& kv, int b, int lane) { nxt = load(kv, b, e0 + 32 + lane); }
};

}  // namespace lean::cuda
