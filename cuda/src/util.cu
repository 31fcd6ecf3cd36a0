#include <algorithm>
#include <vector>

#include "kv_offset.cuh"
#include "ptx.cuh"
#include "lean/cuda/util.hpp"

namespace lean::cuda {
namespace {

/// Sequence of token i of the varlen concatenation: last b with begin[b] <= i.
__device__ int seq_of(const int64_t* begin, int batch, int64_t i) {
  int lo = 0, hi = batch;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (begin[mid] <= i) lo = mid; else hi = mid;
  }
  return lo;
}

__global__ void fill_q_kernel(InputGenerator gen, int batch, uint16_t* q) {
  const int64_t n = int64_t(batch) * gen.num_q_heads * gen.head_dim;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int d = int(i % gen.head_dim);
    const int64_t row = i / gen.head_dim;
    q[i] = gen.q(row / gen.num_q_heads, int(row % gen.num_q_heads), d);
  }
}

/// Visits every (element i of the varlen [tokens, kv_heads, D] order, sequence, token, head, d)
/// and the element's offset in `kv`'s layout; writes K and V there.
template <typename Value>
__device__ void write_kv(const lean_kv& kv, int D, int H, const int64_t* seq_begin, int batch, int64_t total_tokens, Value value) {
  const int64_t n = total_tokens * H * D;
  uint16_t* k = const_cast<uint16_t*>(static_cast<const uint16_t*>(kv.k));
  uint16_t* v = const_cast<uint16_t*>(static_cast<const uint16_t*>(kv.v));
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int d = int(i % D);
    const int h = int((i / D) % H);
    const int64_t tok = i / (int64_t(D) * H);
    const int b = seq_of(seq_begin, batch, tok);
    const int t = int(tok - seq_begin[b]);
    const int64_t off = kv_offset(kv, b, t, h) + d;
    const ushort2 kvbits = value(i, b, t, h, d);
    k[off] = kvbits.x;
    v[off] = kvbits.y;
  }
}

__global__ void fill_kv_kernel(InputGenerator gen, const int64_t* seq_begin, int batch, int64_t total_tokens, lean_kv kv) {
  write_kv(kv, gen.head_dim, gen.num_kv_heads, seq_begin, batch, total_tokens,
           [&](int64_t, int b, int t, int h, int d) { return make_ushort2(gen.k(b, h, t, d), gen.v(b, h, t, d)); });
}

__global__ void scatter_kv_kernel(const uint16_t* k_src, const uint16_t* v_src, int D, int H, const int64_t* seq_begin, int batch,
                                  int64_t total_tokens, lean_kv kv) {
  write_kv(kv, D, H, seq_begin, batch, total_tokens,
           [&](int64_t i, int, int, int, int) { return make_ushort2(k_src[i], v_src[i]); });
}

__global__ void read_kernel(const uint4* p, int64_t n, uint32_t* sink) {
  uint32_t x = 0;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const uint4 v = __ldcs(p + i);
    x ^= v.x ^ v.y ^ v.z ^ v.w;
  }
  if (x == 0x9e3779b9u) *sink = x;  // practically never true, but the loads cannot be elided
}

__device__ void spin_ns(long long ns) {
  for (const int64_t t0 = globaltimer(); globaltimer() - t0 < ns;) {
  }
}

__global__ void spin_kernel(long long ns) { spin_ns(ns); }

// Lets its programmatic dependents launch at once, spins, then copies: a predecessor that
// writes a decode's inputs late (programmatic-launch tests)
__global__ void late_copy_kernel(uint4* dst, const uint4* src, int64_t n, long long ns) {
#if __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
  spin_ns(ns);
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) dst[i] = src[i];
}

/// Token offsets of each sequence in the varlen concatenation, on the device.
struct SeqBegin {
  int64_t* dev = nullptr;
  int64_t total = 0;
  explicit SeqBegin(const Problem& p) {
    std::vector<int64_t> h(p.batch + 1, 0);
    for (int b = 0; b < p.batch; ++b) h[b + 1] = h[b] + p.seq_lens[b];
    total = h.back();
    if (cudaMalloc(&dev, h.size() * sizeof(int64_t)) == cudaSuccess)
      cudaMemcpy(dev, h.data(), h.size() * sizeof(int64_t), cudaMemcpyHostToDevice);
  }
  ~SeqBegin() { cudaFree(dev); }
};

int grid_for(int64_t n) { return int(std::min<int64_t>((n + 255) / 256, 132 * 16)); }

template <typename F>
double median_ms(int reps, F&& body) {
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  std::vector<float> ms;
  body();  // warm-up
  for (int r = 0; r < reps; ++r) {
    cudaEventRecord(a);
    body();
    cudaEventRecord(b);
    cudaEventSynchronize(b);
    float t = 0;
    cudaEventElapsedTime(&t, a, b);
    ms.push_back(t);
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

cudaError_t fill_inputs(const InputGenerator& gen, const Problem& p, void* q, const lean_kv& layout, cudaStream_t stream) {
  const int64_t nq = int64_t(p.batch) * p.num_q_heads * p.head_dim;
  fill_q_kernel<<<grid_for(nq), 256, 0, stream>>>(gen, p.batch, static_cast<uint16_t*>(q));
  const SeqBegin sb(p);
  if (!sb.dev) return cudaErrorMemoryAllocation;
  if (sb.total > 0) {
    const int64_t n = sb.total * p.num_kv_heads * p.head_dim;
    fill_kv_kernel<<<grid_for(n), 256, 0, stream>>>(gen, sb.dev, p.batch, sb.total, layout);
  }
  const cudaError_t e = cudaGetLastError();
  return e != cudaSuccess ? e : cudaStreamSynchronize(stream);
}

cudaError_t upload_inputs(const Problem& p, const uint16_t* q_host, const uint16_t* k_host, const uint16_t* v_host, void* q,
                          const lean_kv& layout, cudaStream_t stream) {
  const size_t nq = size_t(p.batch) * p.num_q_heads * p.head_dim;
  cudaError_t e = cudaMemcpyAsync(q, q_host, nq * 2, cudaMemcpyHostToDevice, stream);
  const SeqBegin sb(p);
  if (e != cudaSuccess || !sb.dev) return e != cudaSuccess ? e : cudaErrorMemoryAllocation;
  if (sb.total == 0) return cudaStreamSynchronize(stream);
  const size_t n = size_t(sb.total) * p.num_kv_heads * p.head_dim;
  uint16_t *k = nullptr, *v = nullptr;
  if ((e = cudaMalloc(&k, n * 2)) != cudaSuccess) return e;
  if ((e = cudaMalloc(&v, n * 2)) != cudaSuccess) return cudaFree(k), e;
  cudaMemcpyAsync(k, k_host, n * 2, cudaMemcpyHostToDevice, stream);
  cudaMemcpyAsync(v, v_host, n * 2, cudaMemcpyHostToDevice, stream);
  scatter_kv_kernel<<<grid_for(int64_t(n)), 256, 0, stream>>>(k, v, p.head_dim, p.num_kv_heads, sb.dev, p.batch, sb.total, layout);
  e = cudaGetLastError();
  if (e == cudaSuccess) e = cudaStreamSynchronize(stream);
  cudaFree(k);
  cudaFree(v);
  return e;
}

double measure_read_bandwidth(size_t bytes, int reps) {
  uint4* buf = nullptr;
  uint32_t* sink = nullptr;
  if (cudaMalloc(&buf, bytes) != cudaSuccess || cudaMalloc(&sink, 4) != cudaSuccess) return 0;
  cudaMemset(buf, 0x5a, bytes);
  int dev = 0, sms = 0;
  cudaGetDevice(&dev);
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
  const int64_t n = int64_t(bytes / 16);
  const double ms = median_ms(reps, [&] { read_kernel<<<sms * 8, 512>>>(buf, n, sink); });
  cudaFree(buf);
  cudaFree(sink);
  return double(bytes) / (ms * 1e6);
}

double measure_copy_bandwidth(size_t bytes, int reps) {
  void *a = nullptr, *b = nullptr;
  if (cudaMalloc(&a, bytes) != cudaSuccess || cudaMalloc(&b, bytes) != cudaSuccess) return 0;
  cudaMemset(a, 0x5a, bytes);
  const double ms = median_ms(reps, [&] { cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice); });
  cudaFree(a);
  cudaFree(b);
  return 2.0 * double(bytes) / (ms * 1e6);
}

cudaError_t launch_spinner(int num_ctas, int micros, cudaStream_t stream) {
  spin_kernel<<<num_ctas, 32, 0, stream>>>(static_cast<long long>(micros) * 1000);
  return cudaGetLastError();
}

cudaError_t launch_late_copy(void* dst, const void* src, size_t bytes, int micros, cudaStream_t stream) {
  if (bytes % 16 || reinterpret_cast<uintptr_t>(dst) % 16 || reinterpret_cast<uintptr_t>(src) % 16) return cudaErrorInvalidValue;
  const int64_t n = int64_t(bytes / 16);
  late_copy_kernel<<<grid_for(n), 256, 0, stream>>>(static_cast<uint4*>(dst), static_cast<const uint4*>(src), n,
                                                    static_cast<long long>(micros) * 1000);
  return cudaGetLastError();
}

}  // namespace lean::cuda

extern "C" double lean_read_bandwidth_gbps(size_t bytes, int reps) { return lean::cuda::measure_read_bandwidth(bytes, reps); }
extern "C" double lean_copy_bandwidth_gbps(size_t bytes, int reps) { return lean::cuda::measure_copy_bandwidth(bytes, reps); }
