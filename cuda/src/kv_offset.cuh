// Where an element of the K/V cache lives: shared by the decode kernel and the input fill.
#pragma once

#include <cstdint>

#include "lean/cuda/lean_decode.h"

namespace lean::cuda {

/// Element offset of (sequence b, token t, kv head h), contiguous or paged.
__device__ __forceinline__ int64_t kv_offset(const lean_kv& kv, int b, int t, int h) {
  if (kv.block_table == nullptr) return int64_t(b) * kv.stride_seq + int64_t(t) * kv.stride_token + int64_t(h) * kv.stride_head;
  const int32_t page = __ldg(kv.block_table + int64_t(b) * kv.block_table_stride + t / kv.page_size);
  return int64_t(page) * kv.stride_seq + int64_t(t % kv.page_size) * kv.stride_token + int64_t(h) * kv.stride_head;
}

}  // namespace lean::cuda
