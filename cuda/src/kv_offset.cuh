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

}  // namespace lean::cuda
