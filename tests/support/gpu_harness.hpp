// GPU test harness: device buffers for one problem in a chosen KV layout, and a run of the
// C API that poisons the outputs first and brings them back as float64.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "lean/cuda/lean_decode.h"
#include "lean/cuda/util.hpp"
#include "lean/numerics.hpp"
#include "lean/sim/inputs.hpp"
#include "lean/sim/oracle.hpp"

namespace lean::test {

inline void cuda_check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}
inline void lean_check(lean_status s, const char* what) {
  if (s != LEAN_OK) throw std::runtime_error(std::string(what) + ": status " + std::to_string(s) + ": " + lean_last_error());
}

struct DeviceBuffer {
  void* ptr = nullptr;
  size_t bytes = 0;
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t n) : bytes(n) { cuda_check(cudaMalloc(&ptr, n ? n : 1), "cudaMalloc"); }
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr(o.ptr), bytes(o.bytes) { o.ptr = nullptr; }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept { std::swap(ptr, o.ptr); std::swap(bytes, o.bytes); return *this; }
  ~DeviceBuffer() { if (ptr) cudaFree(ptr); }
};

struct PlanHandle {
  lean_plan plan = nullptr;
  DeviceBuffer ws;
  PlanHandle(const Problem& p, lean_policy policy, int grid) {
    lean_problem lp{p.batch, p.num_q_heads, p.num_kv_heads, p.head_dim, p.dtype == DType::fp16 ? LEAN_FP16 : LEAN_BF16,
                    float(p.scale), p.tile_kv, p.seq_lens.data(), p.kv_page_size};
    lean_check(lean_plan_create(&lp, policy, grid, 0, &plan), "lean_plan_create");
    ws = DeviceBuffer(lean_plan_workspace_bytes(plan));
    lean_check(lean_plan_upload(plan, ws.ptr, ws.bytes, nullptr), "lean_plan_upload");
  }
  PlanHandle(const PlanHandle&) = delete;
  ~PlanHandle() { lean_plan_destroy(plan); }
};

/// KV layout of a test: contiguous with padded strides, or paged through a shuffled block table.
struct Layout {
  int page_size = 0;  // 0: contiguous
  int head_pad = 0;   // extra elements after each head row (multiple of 8), contiguous only
};

class DeviceProblem {
 public:
  DeviceProblem(const Problem& p, const sim::StoredTensors* stored, uint64_t seed, InputMode mode, Layout layout,
                std::mt19937_64& rng)
      : p_(p) {
    const int D = p.head_dim, H = p.num_kv_heads;
    q_ = DeviceBuffer(size_t(p.batch) * p.num_q_heads * D * 2);
    o_ = DeviceBuffer(q_.bytes);
    lse_ = DeviceBuffer(size_t(p.batch) * p.num_q_heads * 4);
    int64_t max_len = 1;
    for (int64_t l : p.seq_lens) max_len = std::max(max_len, l);
    if (layout.page_size == 0) {
      kv_.stride_head = D + layout.head_pad;
      kv_.stride_token = H * kv_.stride_head;
      kv_.stride_seq = max_len * kv_.stride_token;
      kv_elems_ = size_t(p.batch) * kv_.stride_seq;
    } else {
      const int ps = layout.page_size;
      const int per_seq = int((max_len + ps - 1) / ps);
      int64_t used = 0;
      for (int64_t l : p.seq_lens) used += (l + ps - 1) / ps;
      const int64_t pages = used + 3;  // spare pages nobody references
      std::vector<int32_t> ids(pages);
      for (int64_t i = 0; i < pages; ++i) ids[i] = int32_t(i);
      std::shuffle(ids.begin(), ids.end(), rng);
      std::vector<int32_t> table(size_t(p.batch) * per_seq, -1);  // -1 past the end: never read
      size_t next = 0;
      for (int b = 0; b < p.batch; ++b)
        for (int64_t j = 0; j < (p.seq_lens[b] + ps - 1) / ps; ++j) table[size_t(b) * per_seq + j] = ids[next++];
      table_ = DeviceBuffer(table.size() * 4);
      cuda_check(cudaMemcpy(table_.ptr, table.data(), table.size() * 4, cudaMemcpyHostToDevice), "block table");
      kv_.stride_head = D;
      kv_.stride_token = int64_t(H) * D;
      kv_.stride_seq = int64_t(ps) * H * D;
      kv_.block_table = static_cast<const int32_t*>(table_.ptr);
      kv_.block_table_stride = per_seq;
      kv_.page_size = ps;
      kv_.num_pages = pages;
      kv_elems_ = size_t(pages) * kv_.stride_seq;
    }
    k_ = DeviceBuffer(kv_elems_ * 2);
    v_ = DeviceBuffer(kv_elems_ * 2);
    cuda_check(cudaMemset(k_.ptr, 0xff, k_.bytes), "poison k");  // NaN where nothing is written
    cuda_check(cudaMemset(v_.ptr, 0xff, v_.bytes), "poison v");
    kv_.k = k_.ptr;
    kv_.v = v_.ptr;
    if (stored)
      cuda_check(cuda::upload_inputs(p, stored->q.data(), stored->k.data(), stored->v.data(), q_.ptr, kv_, nullptr), "upload");
    else
      cuda_check(cuda::fill_inputs(make_generator(p, seed, mode), p, q_.ptr, kv_, nullptr), "fill");
  }

  const lean_kv& kv() const { return kv_; }
  const Problem& problem() const { return p_; }
  void* q() const { return q_.ptr; }
  void* o() const { return o_.ptr; }
  float* lse() const { return static_cast<float*>(lse_.ptr); }
  size_t q_bytes() const { return q_.bytes; }
  size_t kv_bytes() const { return k_.bytes; }  // each of K and V
  /// Poisons O and LSE with NaN bits (enqueued on `stream`).
  void poison(cudaStream_t stream = nullptr) const {
    cuda_check(cudaMemsetAsync(o_.ptr, 0xff, o_.bytes, stream), "poison o");
    cuda_check(cudaMemsetAsync(lse_.ptr, 0xff, lse_.bytes, stream), "poison lse");
  }

  /// Poisons O and LSE with NaN bits, then decodes with `plan`.
  void launch(PlanHandle& h, int32_t* record = nullptr, cudaStream_t stream = nullptr) const {
    poison(stream);
    lean_check(lean_decode(h.plan, q_.ptr, &kv_, o_.ptr, lse(), h.ws.ptr, h.ws.bytes, record, stream), "lean_decode");
  }
  /// Raw output bits (O as uint16, then LSE as float bits) for bitwise comparisons.
  std::vector<uint16_t> raw() const {
    std::vector<uint16_t> r(o_.bytes / 2 + lse_.bytes / 2);
    cuda_check(cudaDeviceSynchronize(), "sync");
    cuda_check(cudaMemcpy(r.data(), o_.ptr, o_.bytes, cudaMemcpyDeviceToHost), "copy o");
    cuda_check(cudaMemcpy(r.data() + o_.bytes / 2, lse_.ptr, lse_.bytes, cudaMemcpyDeviceToHost), "copy lse");
    return r;
  }
  sim::Output output() const {
    const std::vector<uint16_t> r = raw();
    sim::Output out;
    const size_t n = o_.bytes / 2;
    out.o.resize(n);
    for (size_t i = 0; i < n; ++i) out.o[i] = bits_to_float(r[i], p_.dtype);
    out.lse.resize(lse_.bytes / 4);
    for (size_t i = 0; i < out.lse.size(); ++i) {
      float f;
      std::memcpy(&f, r.data() + n + 2 * i, 4);
      out.lse[i] = f;
    }
    return out;
  }

 private:
  Problem p_;
  DeviceBuffer q_, o_, lse_, k_, v_, table_;
  lean_kv kv_{};
  size_t kv_elems_ = 0;
};

}  // namespace lean::test
