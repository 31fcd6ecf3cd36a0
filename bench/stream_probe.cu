// stream_probe: what streaming rate can the decode kernel's access pattern reach, with no
// attention math? Each CTA of a persistent grid walks its contiguous slice of the linear
// (kv head x 64-token tile) space like stream-K and pulls every K and V tile through a shared-
// memory ring, by 16-byte cp.async (the kernel's way) or one bulk copy per 256-byte row
// (cp.async.bulk + mbarrier, Hopper's TMA unit). It prints GB/s per variant next to a plain
// contiguous read of the same bytes, so a gap to the read ceiling can be split into "the access
// pattern / pipeline" and "what the math around it costs" (bench/NOTES.md).
#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ptx.cuh"  // smem_addr, mbarrier helpers: the decode kernel's own

namespace {

constexpr int kTile = 64, kD = 128, kThreads = 128;
constexpr int kRowBytes = kD * 2, kStrideBytes = kRowBytes + 16;  // padded smem row, as the kernel
constexpr int kStageBytes = 2 * kTile * kStrideBytes;             // K and V of one tile

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "stream_probe: %s: %s\n", what, cudaGetErrorString(e));
    std::exit(2);
  }
}

struct Layout {
  int64_t stride_token, stride_head;  // elements
  int heads_per_row;                  // a stage holds 64 / heads_per_row tokens x heads_per_row adjacent heads
  int64_t v_shift = 0;                // elements added to every V address: moves V against K in the DRAM map
};

using lean::cuda::mbar_init;
using lean::cuda::mbar_wait;
using lean::cuda::smem_addr;

/// This CTA's contiguous slice [begin, begin + n) of `total` tiles, stream-K style.
struct Slice {
  int begin, n;
};
__device__ __forceinline__ Slice cta_slice(int total) {
  const int begin = int(int64_t(blockIdx.x) * total / gridDim.x), end = int(int64_t(blockIdx.x + 1) * total / gridDim.x);
  return {begin, end - begin};
}

/// One single-arrival mbarrier per stage, visible to the whole CTA on return.
template <int Stages>
__device__ __forceinline__ void init_barriers(uint64_t* full) {
  if (threadIdx.x == 0)
    for (int s = 0; s < Stages; ++s) mbar_init(&full[s], 1);
  __syncthreads();
}

/// Dependent FMAs standing in for a tile's math (0 = none).
__device__ __forceinline__ float busy(float x, int work) {
  for (int i = 0; i < work; ++i) x = fmaf(x, 1.0001f, 0.5f);
  return x;
}

template <int Stages, bool Hint, bool KThenV = false>
__global__ void __launch_bounds__(kThreads) cp_async_stream(const __half* k, const __half* v, Layout L, int tiles_per_head,
                                                            int total_tiles, int work, float* sink) {
  extern __shared__ __align__(128) unsigned char smem[];
  const int tid = threadIdx.x;
  const Slice slice = cta_slice(total_tiles);
  const int begin = slice.begin, n = slice.n;
  // KThenV: a thread issues all its K chunks, then all its V chunks (else K and V alternate)
  auto load = [&](int i) {
    const int hr = L.heads_per_row, lin = begin + i, head0 = lin / tiles_per_head * hr, t0 = (lin % tiles_per_head) * (kTile / hr);
    unsigned char* st = smem + (i % Stages) * kStageBytes;
#pragma unroll
    for (int kv = 0; kv < (KThenV ? 2 : 1); ++kv)
#pragma unroll
      for (int j = 0; j < kTile * (kRowBytes / 16) / kThreads; ++j) {
        const int chunk = tid + j * kThreads, row = chunk / (kRowBytes / 16), col = chunk % (kRowBytes / 16);
        const int64_t off = int64_t(t0 + row / hr) * L.stride_token + (head0 + row % hr) * L.stride_head + col * 8;
        const uint32_t dk = smem_addr(st + row * kStrideBytes + col * 16), dv = dk + kTile * kStrideBytes;
        if (!KThenV || kv == 0) {
          if constexpr (Hint) asm volatile("cp.async.cg.shared.global.L2::256B [%0], [%1], 16;\n" ::"r"(dk), "l"(k + off));
          else asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dk), "l"(k + off));
        }
        if (!KThenV || kv == 1) {
          if constexpr (Hint) asm volatile("cp.async.cg.shared.global.L2::256B [%0], [%1], 16;\n" ::"r"(dv), "l"(v + L.v_shift + off));
          else asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dv), "l"(v + L.v_shift + off));
        }
      }
  };
  float x = 0.f;
  for (int s = 0; s < Stages - 1; ++s) {
    if (s < n) load(s);
    asm volatile("cp.async.commit_group;\n" ::);
  }
  for (int i = 0; i < n; ++i) {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(Stages - 2));
    __syncthreads();
    if (i + Stages - 1 < n) load(i + Stages - 1);
    asm volatile("cp.async.commit_group;\n" ::);
    const unsigned char* st = smem + (i % Stages) * kStageBytes;
    x += __half2float(*reinterpret_cast<const __half*>(st + (tid % kTile) * kStrideBytes + (tid / kTile) * kTile * kStrideBytes));
    x = busy(x, work);
  }
  if (x == 1234.5f) *sink = x;
}

template <int Stages>
__global__ void __launch_bounds__(kThreads) bulk_stream(const __half* k, const __half* v, Layout L, int tiles_per_head, int total_tiles,
                                                        int work, float* sink) {
  extern __shared__ __align__(128) unsigned char smem[];
  __shared__ __align__(8) uint64_t full[Stages];
  const int tid = threadIdx.x;
  const Slice slice = cta_slice(total_tiles);
  const int begin = slice.begin, n = slice.n;
  init_barriers<Stages>(full);
  // one 256-byte row per thread: threads 0-63 K rows, 64-127 V rows
  auto load = [&](int i) {
    const int hr = L.heads_per_row, lin = begin + i, head0 = lin / tiles_per_head * hr, t0 = (lin % tiles_per_head) * (kTile / hr);
    const int s = i % Stages, row = tid % kTile;
    const uint32_t bar = smem_addr(&full[s]);
    if (tid == 0) asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "n"(2 * kTile * kRowBytes));
    const __half* src = (tid < kTile ? k : v) + int64_t(t0 + row / hr) * L.stride_token + (head0 + row % hr) * L.stride_head;
    const uint32_t dst = smem_addr(smem + s * kStageBytes + (tid / kTile) * kTile * kStrideBytes + row * kStrideBytes);
    asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n" ::"r"(dst), "l"(src),
                 "n"(kRowBytes), "r"(bar)
                 : "memory");
  };
  for (int s = 0; s < Stages - 1 && s < n; ++s) load(s);
  float x = 0.f;
  for (int i = 0; i < n; ++i) {
    __syncthreads();  // everyone is done with stage (i - 1) % Stages, which load(i + Stages - 1) refills
    if (i + Stages - 1 < n) load(i + Stages - 1);
    mbar_wait(&full[i % Stages], (i / Stages) & 1);
    const unsigned char* st = smem + (i % Stages) * kStageBytes;
    x += __half2float(*reinterpret_cast<const __half*>(st + (tid % kTile) * kStrideBytes + (tid / kTile) * kTile * kStrideBytes));
    x = busy(x, work);
  }
  if (x == 1234.5f) *sink = x;
}

/// Work handed out at run time: each CTA takes chunks of `chunk` tiles from a ticket counter
/// (its first chunk is its blockIdx), so SMs that stream faster take more. `Drain`: the pipeline
/// empties at every chunk end, as the decode kernel does at a segment end; otherwise the next
/// chunk's ticket is fetched a chunk ahead and the ring never drains.
template <int Stages, bool Drain>
__global__ void __launch_bounds__(kThreads) dynamic_stream(const __half* k, const __half* v, Layout L, int tiles_per_head,
                                                           int total_tiles, int chunk, int* counter, float* sink) {
  extern __shared__ __align__(128) unsigned char smem[];
  __shared__ int ticket[2];
  const int tid = threadIdx.x;
  if (tid == 0 && !Drain) ticket[0] = blockIdx.x, ticket[1] = gridDim.x + atomicAdd(counter, 1);
  __syncthreads();
  auto tile_of = [&](int i) {  // the CTA's i-th tile, or -1; valid while chunk i / chunk's ticket is in the ring
    const int t = ticket[(i / chunk) & 1] * chunk + i % chunk;
    return t < total_tiles ? t : -1;
  };
  auto load = [&](int lin, int slot) {
    const int hr = L.heads_per_row, head0 = lin / tiles_per_head * hr, t0 = (lin % tiles_per_head) * (kTile / hr);
    unsigned char* st = smem + slot * kStageBytes;
#pragma unroll
    for (int j = 0; j < kTile * (kRowBytes / 16) / kThreads; ++j) {
      const int c = tid + j * kThreads, row = c / (kRowBytes / 16), col = c % (kRowBytes / 16);
      const int64_t off = int64_t(t0 + row / hr) * L.stride_token + (head0 + row % hr) * L.stride_head + col * 8;
      const uint32_t dk = smem_addr(st + row * kStrideBytes + col * 16), dv = dk + kTile * kStrideBytes;
      asm volatile("cp.async.cg.shared.global.L2::256B [%0], [%1], 16;\n" ::"r"(dk), "l"(k + off));
      asm volatile("cp.async.cg.shared.global.L2::256B [%0], [%1], 16;\n" ::"r"(dv), "l"(v + off));
    }
  };
  float x = 0.f;
  if constexpr (Drain) {
    for (int cur = blockIdx.x; cur * chunk < total_tiles;) {
      const int first = cur * chunk, n = min(chunk, total_tiles - first);
      int next = 0;
      if (tid == 0) next = gridDim.x + atomicAdd(counter, 1);  // in flight while the chunk streams
      for (int s = 0; s < Stages - 1; ++s) {
        if (s < n) load(first + s, s);
        asm volatile("cp.async.commit_group;\n" ::);
      }
      for (int i = 0; i < n; ++i) {
        asm volatile("cp.async.wait_group %0;\n" ::"n"(Stages - 2));
        __syncthreads();
        if (i + Stages - 1 < n) load(first + i + Stages - 1, (i + Stages - 1) % Stages);
        asm volatile("cp.async.commit_group;\n" ::);
        x += __half2float(*reinterpret_cast<const __half*>(smem + (i % Stages) * kStageBytes + tid * kStrideBytes / 2));
      }
      asm volatile("cp.async.wait_group 0;\n" ::);
      if (tid == 0) ticket[0] = next;
      __syncthreads();
      cur = ticket[0];
      __syncthreads();
    }
  } else {
    for (int s = 0; s < Stages - 1; ++s) {
      const int t = tile_of(s);
      if (t >= 0) load(t, s);
      asm volatile("cp.async.commit_group;\n" ::);
    }
    for (int i = 0; tile_of(i) >= 0; ++i) {
      asm volatile("cp.async.wait_group %0;\n" ::"n"(Stages - 2));
      __syncthreads();
      // chunk i / chunk - 1 is finished with: its ring slot takes the ticket after next
      if (tid == 0 && i % chunk == 0 && i > 0) ticket[(i / chunk + 1) & 1] = gridDim.x + atomicAdd(counter, 1);
      const int t = tile_of(i + Stages - 1);
      if (t >= 0) load(t, (i + Stages - 1) % Stages);
      asm volatile("cp.async.commit_group;\n" ::);
      x += __half2float(*reinterpret_cast<const __half*>(smem + (i % Stages) * kStageBytes + tid * kStrideBytes / 2));
    }
  }
  if (x == 1234.5f) *sink = x;
}

/// The flat K+V buffer as 32 KB blocks: a CTA takes a contiguous range of blocks, or (Interleaved)
/// every gridDim-th block so that all CTAs read one moving window, as the contiguous read does.
/// cp.async through a 3-stage ring, or (Ldg) 16-byte register loads two blocks deep.
template <bool Interleaved, bool Ldg, bool Padded = false, bool TwoStreams = false>
__global__ void __launch_bounds__(kThreads) flat_stream(const uint4* kv, int64_t blocks, float* sink) {
  extern __shared__ __align__(128) unsigned char smem[];
  constexpr int kPer = 32768 / 16 / kThreads;  // uint4 per thread per block
  const int tid = threadIdx.x;
  const int64_t begin = Interleaved ? 0 : blockIdx.x * blocks / gridDim.x, end = Interleaved ? 0 : (blockIdx.x + 1) * blocks / gridDim.x;
  const int64_t n = Interleaved ? (blocks - blockIdx.x + gridDim.x - 1) / gridDim.x : end - begin;
  auto block_of = [&](int64_t i) { return Interleaved ? blockIdx.x + i * gridDim.x : begin + i; };
  uint32_t x = 0;
  if constexpr (Ldg) {
    uint4 a[kPer], b[kPer];
    auto fetch = [&](uint4* r, int64_t i) {
      const uint4* src = kv + block_of(min(i, n - 1)) * 2048;
#pragma unroll
      for (int j = 0; j < kPer; ++j) r[j] = __ldcs(src + tid + j * kThreads);
    };
    auto use = [&](const uint4* r) {
#pragma unroll
      for (int j = 0; j < kPer; ++j) x ^= r[j].x ^ r[j].w;
    };
    if (n > 0) fetch(a, 0);
    for (int64_t i = 0; i < n; i += 2) {
      fetch(b, i + 1);
      use(a);
      if (i + 1 < n) {
        fetch(a, i + 2);
        use(b);
      }
    }
  } else {
    // Padded: 16 bytes after every 256 (the decode kernel's smem rows); TwoStreams: a block is
    // 16 KB from the first half of the buffer and 16 KB from the second, like K and V
    auto load = [&](int64_t i) {
      const int64_t b = block_of(i);
      const uint32_t dst = smem_addr(smem + (i % 3) * 34816);
#pragma unroll
      for (int j = 0; j < kPer; ++j) {
        const int c = tid + j * kThreads;
        const uint4* src = TwoStreams ? kv + (c < 1024 ? b * 1024 + c : blocks * 1024 + b * 1024 + c - 1024) : kv + b * 2048 + c;
        const uint32_t d = dst + (Padded ? (c / 16) * 272 + (c % 16) * 16 : c * 16);
        asm volatile("cp.async.cg.shared.global.L2::256B [%0], [%1], 16;\n" ::"r"(d), "l"(src));
      }
    };
    for (int s = 0; s < 2; ++s) {
      if (s < n) load(s);
      asm volatile("cp.async.commit_group;\n" ::);
    }
    for (int64_t i = 0; i < n; ++i) {
      asm volatile("cp.async.wait_group 1;\n" ::);
      __syncthreads();
      if (i + 2 < n) load(i + 2);
      asm volatile("cp.async.commit_group;\n" ::);
      x ^= *reinterpret_cast<const uint32_t*>(smem + (i % 3) * 34816 + tid * 16);
    }
  }
  if (x == 0x9e3779b9u) *sink = float(x);
}

/// Hopper's tensor memory access: per stage four 2D boxes of 64 tokens x 64 dims (128 bytes,
/// the 128-byte swizzle's widest box) for K and V, issued by one thread, completing on one
/// mbarrier. Dense, swizzled destination (what ldmatrix would read with an XOR of row % 8).
template <int Stages>
__global__ void __launch_bounds__(kThreads) tma_stream(const __grid_constant__ CUtensorMap tk, const __grid_constant__ CUtensorMap tv,
                                                       int heads, int tiles_per_head, int total_tiles, float* sink) {
  extern __shared__ __align__(1024) unsigned char smem_raw[];
  unsigned char* smem = reinterpret_cast<unsigned char*>((reinterpret_cast<uintptr_t>(smem_raw) + 1023) & ~uintptr_t(1023));
  __shared__ __align__(8) uint64_t full[Stages];
  const int tid = threadIdx.x;
  const Slice slice = cta_slice(total_tiles);
  const int begin = slice.begin, n = slice.n;
  init_barriers<Stages>(full);
  auto load = [&](int i) {  // thread 0 only
    const int lin = begin + i, head = lin / tiles_per_head, t0 = (lin % tiles_per_head) * kTile;
    const int s = i % Stages;
    const uint32_t bar = smem_addr(&full[s]), dst = smem_addr(smem + s * 32768);
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "n"(32768));
#pragma unroll
    for (int part = 0; part < 4; ++part) {  // K lo, K hi, V lo, V hi: 8 KB each
      const CUtensorMap* map = part < 2 ? &tk : &tv;
      const int c0 = (part & 1) * 64;
      asm volatile(
          "cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4}], [%5];\n" ::"r"(
              dst + part * 8192),
          "l"(map), "r"(c0), "r"(head), "r"(t0), "r"(bar)
          : "memory");
    }
  };
  if (tid == 0)
    for (int s = 0; s < Stages - 1 && s < n; ++s) load(s);
  float x = 0.f;
  for (int i = 0; i < n; ++i) {
    __syncthreads();  // everyone is done with stage (i - 1) % Stages, which load(i + Stages - 1) refills
    if (tid == 0 && i + Stages - 1 < n) load(i + Stages - 1);
    mbar_wait(&full[i % Stages], (i / Stages) & 1);
    x += __half2float(*reinterpret_cast<const __half*>(smem + (i % Stages) * 32768 + tid * 256));
  }
  if (x == 1234.5f) *sink = x;
}

__global__ void contiguous_read(const uint4* p, int64_t n, uint32_t* sink) {
  uint32_t x = 0;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const uint4 w = __ldcs(p + i);
    x ^= w.x ^ w.y ^ w.z ^ w.w;
  }
  if (x == 0x9e3779b9u) *sink = x;
}

template <typename F>
double median_ms(F&& body, int reps = 15) {
  cudaEvent_t a, b;
  cudaEventCreate(&a), cudaEventCreate(&b);
  for (int i = 0; i < 3; ++i) body();
  std::vector<float> ms;
  for (int r = 0; r < reps; ++r) {
    cudaEventRecord(a);
    body();
    cudaEventRecord(b);
    check(cudaEventSynchronize(b), "kernel");
    float t;
    cudaEventElapsedTime(&t, a, b);
    ms.push_back(t);
  }
  std::sort(ms.begin(), ms.end());
  cudaEventDestroy(a), cudaEventDestroy(b);
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int heads = 32, tokens = argc > 1 ? std::atoi(argv[1]) : 524288;
  const size_t elems = size_t(tokens) * heads * kD, bytes = 2 * elems * 2;
  cudaDeviceProp prop;
  check(cudaGetDeviceProperties(&prop, 0), "device");
  const int sms = prop.multiProcessorCount;
  __half* kv;
  float* sink;
  const size_t spare = size_t(64) << 20;  // room for V shifts
  check(cudaMalloc(&kv, bytes + spare), "malloc"), check(cudaMalloc(&sink, 16), "malloc");
  cudaMemset(kv, 0x3c, bytes + spare);
  __half *k = kv, *v = kv + elems;
  std::printf("%s, %d SMs; %d heads x %d tokens x d%d, K+V %.0f MB\n", prop.name, sms, heads, tokens, kD, bytes / 1e6);
  auto gbps = [&](double ms) { return bytes / (ms * 1e6); };

  const double read_ms = median_ms([&] {
    contiguous_read<<<sms * 8, 512>>>(reinterpret_cast<const uint4*>(kv), int64_t(bytes / 16), reinterpret_cast<uint32_t*>(sink));
  });
  std::printf("%-28s %8.1f GB/s  %8.1f us\n", "contiguous read, K+V", gbps(read_ms), read_ms * 1e3);

  auto run = [&](const char* name, const void* fn, int smem, int grid, bool head_major, int hr, int work, int64_t v_shift_bytes = 0) {
    Layout L = head_major ? Layout{kD, int64_t(tokens) * kD, hr, v_shift_bytes / 2} : Layout{heads * kD, kD, hr, v_shift_bytes / 2};
    const int tiles_per_group = tokens / (kTile / hr), total = heads / hr * tiles_per_group;
    check(cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, smem), "smem attribute");
    void* args[] = {&k, &v, &L, const_cast<int*>(&tiles_per_group), const_cast<int*>(&total), &work, &sink};
    const double ms = median_ms([&] { check(cudaLaunchKernel(fn, grid, kThreads, args, smem, nullptr), "launch"); });
    std::printf("%-28s grid %4d %s heads/row %d work %3d V shift %9lld B %8.1f GB/s  %8.1f us\n", name, grid, head_major ? "bhsd" : "bshd",
                hr, work, (long long)v_shift_bytes, gbps(ms), ms * 1e3);
  };
  const void* cp3 = reinterpret_cast<const void*>(&cp_async_stream<3, true>);
  const void* cp4 = reinterpret_cast<const void*>(&cp_async_stream<4, true>);
  const void* bulk3 = reinterpret_cast<const void*>(&bulk_stream<3>);
  const void* bulk4 = reinterpret_cast<const void*>(&bulk_stream<4>);
  // TMA: a 3D tensor map per K and V, [tokens][heads][128] fp16 (the peers' layout)
  PFN_cuTensorMapEncodeTiled_v12000 encode = nullptr;
  cudaDriverEntryPointQueryResult qres;
  check(cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", reinterpret_cast<void**>(&encode), 12000, cudaEnableDefault, &qres),
        "entry point");
  auto make_map = [&](void* base, CUtensorMapL2promotion promo) {
    CUtensorMap m;
    const cuuint64_t dims[3] = {cuuint64_t(kD), cuuint64_t(heads), cuuint64_t(tokens)};
    const cuuint64_t strides[2] = {cuuint64_t(kD) * 2, cuuint64_t(heads) * kD * 2};
    const cuuint32_t box[3] = {64, 1, kTile}, estr[3] = {1, 1, 1};
    if (encode(&m, CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 3, base, dims, strides, box, estr, CU_TENSOR_MAP_INTERLEAVE_NONE,
               CU_TENSOR_MAP_SWIZZLE_128B, promo, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) != CUDA_SUCCESS) {
      std::fprintf(stderr, "stream_probe: cuTensorMapEncodeTiled failed\n");
      std::exit(2);
    }
    return m;
  };
  for (auto promo : {CU_TENSOR_MAP_L2_PROMOTION_NONE, CU_TENSOR_MAP_L2_PROMOTION_L2_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B}) {
    CUtensorMap tk = make_map(k, promo), tv = make_map(v, promo);
    const int tiles_per_head = tokens / kTile, total = heads * tiles_per_head;
    for (int grid : {128, sms, 2 * sms})
      for (int stages : {2, 3, 4, 6}) {
        if (grid > sms && stages > 3) continue;
        const void* fn = stages == 2 ? reinterpret_cast<const void*>(&tma_stream<2>)
                         : stages == 3 ? reinterpret_cast<const void*>(&tma_stream<3>)
                         : stages == 4 ? reinterpret_cast<const void*>(&tma_stream<4>)
                                       : reinterpret_cast<const void*>(&tma_stream<6>);
        const int smem = stages * 32768 + 1024;
        check(cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, smem), "smem attribute");
        int h = heads;
        void* args[] = {&tk, &tv, &h, const_cast<int*>(&tiles_per_head), const_cast<int*>(&total), &sink};
        const double ms = median_ms([&] { check(cudaLaunchKernel(fn, grid, kThreads, args, smem, nullptr), "launch"); });
        std::printf("%-28s grid %4d bshd stages %d L2 promotion %d %8.1f GB/s  %8.1f us\n", "tma 2D boxes", grid, stages, int(promo),
                    gbps(ms), ms * 1e3);
      }
  }
  if (argc > 2) return 0;  // TMA only

  int* counter;
  check(cudaMalloc(&counter, 4), "malloc");
  auto run_dynamic = [&](const char* name, const void* fn, int grid, int chunk) {
    Layout L{heads * kD, kD, 1};
    const int tiles_per_group = tokens / kTile, total = heads * tiles_per_group;
    check(cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, 3 * kStageBytes), "smem attribute");
    void* args[] = {&k, &v, &L, const_cast<int*>(&tiles_per_group), const_cast<int*>(&total), &chunk, &counter, &sink};
    const double ms = median_ms([&] {
      cudaMemsetAsync(counter, 0, 4);
      check(cudaLaunchKernel(fn, grid, kThreads, args, 3 * kStageBytes, nullptr), "launch");
    });
    std::printf("%-28s grid %4d bshd chunk %4d tiles %8.1f GB/s  %8.1f us\n", name, grid, chunk, gbps(ms), ms * 1e3);
  };
  auto run_flat = [&](const char* name, const void* fn, int grid, int smem) {
    const uint4* base = reinterpret_cast<const uint4*>(kv);
    int64_t blocks = int64_t(bytes / 32768);
    check(cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, smem), "smem attribute");
    void* args[] = {&base, &blocks, &sink};
    const double ms = median_ms([&] { check(cudaLaunchKernel(fn, grid, kThreads, args, smem, nullptr), "launch"); });
    std::printf("%-40s grid %4d %8.1f GB/s  %8.1f us\n", name, grid, gbps(ms), ms * 1e3);
  };
  for (int grid : {128, sms, 2 * sms})
    for (bool bhsd : {false, true}) {
      run("cp.async 3 stages +hint", reinterpret_cast<const void*>(&cp_async_stream<3, true>), 3 * kStageBytes, grid, bhsd, 1, 0);
      run("cp.async 3 stages +hint K,V", reinterpret_cast<const void*>(&cp_async_stream<3, true, true>), 3 * kStageBytes, grid, bhsd, 1, 0);
      run("cp.async 3 stages K,V", reinterpret_cast<const void*>(&cp_async_stream<3, false, true>), 3 * kStageBytes, grid, bhsd, 1, 0);
      run("cp.async 3 stages +hint K,V", reinterpret_cast<const void*>(&cp_async_stream<3, true, true>), 3 * kStageBytes, grid, bhsd, 1, 300);
    }
  for (int grid : {128, sms, 2 * sms}) {
    run_flat("flat cp.async, padded smem rows", reinterpret_cast<const void*>(&flat_stream<false, false, true>), grid, 3 * 34816);
    run_flat("flat cp.async, two streams", reinterpret_cast<const void*>(&flat_stream<false, false, false, true>), grid, 3 * 34816);
    run_flat("flat cp.async, two streams, padded", reinterpret_cast<const void*>(&flat_stream<false, false, true, true>), grid, 3 * 34816);
  }
  for (int grid : {128, sms, 2 * sms, 4 * sms}) {
    if (grid <= 2 * sms) {
      run_flat("flat cp.async, contiguous per CTA", reinterpret_cast<const void*>(&flat_stream<false, false>), grid, 3 * 34816);
      run_flat("flat cp.async, interleaved window", reinterpret_cast<const void*>(&flat_stream<true, false>), grid, 3 * 34816);
    }
    run_flat("flat ldg, contiguous per CTA", reinterpret_cast<const void*>(&flat_stream<false, true>), grid, 0);
    run_flat("flat ldg, interleaved window", reinterpret_cast<const void*>(&flat_stream<true, true>), grid, 0);
  }
  for (int grid : {sms, 2 * sms})
    for (int chunk : {8, 32, 128, 512}) {
      run_dynamic("dynamic 3 stages", reinterpret_cast<const void*>(&dynamic_stream<3, false>), grid, chunk);
      run_dynamic("dynamic 3 stages, drain", reinterpret_cast<const void*>(&dynamic_stream<3, true>), grid, chunk);
    }
  for (int grid : {128, sms, 2 * sms}) {
    for (int hr : {1, 2, 4, 8}) run("cp.async 3 stages +hint", cp3, 3 * kStageBytes, grid, false, hr, 0);
    run("cp.async 3 stages +hint", cp3, 3 * kStageBytes, grid, true, 1, 0);
    if (grid <= sms) run("cp.async 4 stages +hint", cp4, 4 * kStageBytes, grid, false, 1, 0);
    if (grid <= sms) run("cp.async 4 stages +hint", cp4, 4 * kStageBytes, grid, false, 4, 0);
    for (int hr : {1, 4}) run("bulk 3 stages", bulk3, 3 * kStageBytes, grid, false, hr, 0);
    if (grid <= sms) run("bulk 4 stages", bulk4, 4 * kStageBytes, grid, false, 4, 0);
    for (int hr : {1, 4}) run("cp.async 3 stages +hint", cp3, 3 * kStageBytes, grid, false, hr, 300);
  }
  return 0;
}
