// The C API: plan on the host (validate, pick the grid, build the shared Schedule), run on the
// device (one launch, no sync, no allocation).
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <cstring>
#include <cstdlib>
#include <string>
#include <vector>

#include <cudaTypedefs.h>  // PFN_cuTensorMapEncodeTiled

#include "decode_params.hpp"
#include "lean/cuda/lean_decode.h"
#include "lean/cuda/util.hpp"
#include "lean/kernel_shape.hpp"

namespace lean::cuda {
namespace {

thread_local std::string g_error;

lean_status fail(lean_status s, const std::string& msg) {
  g_error = msg;
  return s;
}

size_t align256(size_t n) { return (n + 255) / 256 * 256; }

/// A benchmark and test override from the environment: -1 unset, else 0 or 1 (2: malformed).
int env_switch(const char* name) {
  const char* env = std::getenv(name);
  if (!env) return -1;
  const std::string v = env;
  return v == "0" ? 0 : v == "1" ? 1 : 2;
}

/// An integer override from the environment into `out` (left alone when unset); false when it is
/// not an integer in [lo, hi].
bool env_int(const char* name, long lo, long hi, long* out) {
  const char* env = std::getenv(name);
  if (!env) return true;
  char* end = nullptr;
  const long v = std::strtol(env, &end, 10);
  if (end == env || *end != '\0' || v < lo || v > hi) return false;
  *out = v;
  return true;
}

/// The driver's tensor-map encoder, through the runtime (no -lcuda); null where unavailable.
PFN_cuTensorMapEncodeTiled_v12000 tensor_map_encoder() {
  static const PFN_cuTensorMapEncodeTiled_v12000 fn = [] {
    void* f = nullptr;
    cudaDriverEntryPointQueryResult found{};
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &f, 12000, cudaEnableDefault, &found) != cudaSuccess ||
        found != cudaDriverEntryPointSuccess)
      f = nullptr;
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(f);
  }();
  return fn;
}

/// Tensor maps for whole-tile K/V loads (DecodeParams::use_tma), or false where they cannot
/// describe the cache: pages that neither divide nor are divided by 64 tokens, or strides the
/// encoder refuses; the kernel then loads every tile by cp.async.
bool encode_kv_maps(DecodeParams& d, const lean_kv& kv, int head_dim, int kv_heads, int64_t max_len, int batch, lean_dtype dt) {
  const PFN_cuTensorMapEncodeTiled_v12000 encode = tensor_map_encoder();
  const bool paged = kv.block_table != nullptr;
  if (!encode || (paged && kv.page_size % 64 != 0 && 64 % kv.page_size != 0)) return false;
  const int box_tokens = paged ? std::min(kv.page_size, 64) : 64;
  const cuuint64_t dims[4] = {cuuint64_t(head_dim), cuuint64_t(kv_heads), cuuint64_t(paged ? kv.page_size : std::max<int64_t>(max_len, 1)),
                              cuuint64_t(paged ? kv.num_pages : batch)};
  const cuuint64_t strides[3] = {cuuint64_t(kv.stride_head) * 2, cuuint64_t(kv.stride_token) * 2, cuuint64_t(kv.stride_seq) * 2};
  const cuuint32_t box[4] = {64, 1, cuuint32_t(box_tokens), 1}, unit[4] = {1, 1, 1, 1};
  const CUtensorMapDataType type = dt == LEAN_BF16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16;
  // no L2 promotion: 256-byte promotion cost 6% of the streaming rate on H200 (bench/NOTES.md step 22)
  for (auto [map, ptr] : {std::pair{&d.tma_k, kv.k}, std::pair{&d.tma_v, kv.v}})
    if (encode(map, type, 4, const_cast<void*>(ptr), dims, strides, box, unit, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
               CU_TENSOR_MAP_L2_PROMOTION_NONE, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) != CUDA_SUCCESS)
      return false;
  d.tma_box_tokens = box_tokens;
  return true;
}

}  // namespace

const KernelEntry* find_kernel(int head_dim, lean_dtype dtype, int group, Variant variant) {
#define LEAN_KERNEL_PAIR(D, E, MT) kernel_entry<D, E, MT, Variant::general>(), kernel_entry<D, E, MT, Variant::page_windows>()
#define LEAN_KERNEL_UNIFORM(E, MT) kernel_entry<128, E, MT, Variant::uniform>()
  static const KernelEntry table[] = {
      LEAN_KERNEL_PAIR(64, __half, 1),          LEAN_KERNEL_PAIR(64, __half, 2),          LEAN_KERNEL_PAIR(64, __half, 4),
      LEAN_KERNEL_PAIR(64, __nv_bfloat16, 1),   LEAN_KERNEL_PAIR(64, __nv_bfloat16, 2),   LEAN_KERNEL_PAIR(64, __nv_bfloat16, 4),
      LEAN_KERNEL_PAIR(128, __half, 1),         LEAN_KERNEL_PAIR(128, __half, 2),         LEAN_KERNEL_PAIR(128, __half, 4),
      LEAN_KERNEL_PAIR(128, __nv_bfloat16, 1),  LEAN_KERNEL_PAIR(128, __nv_bfloat16, 2),  LEAN_KERNEL_PAIR(128, __nv_bfloat16, 4),
      LEAN_KERNEL_PAIR(256, __half, 1),         LEAN_KERNEL_PAIR(256, __half, 2),
      LEAN_KERNEL_PAIR(256, __nv_bfloat16, 1),  LEAN_KERNEL_PAIR(256, __nv_bfloat16, 2),
      // head dim 128 only: at 64 and 256 it gained nothing and slowed our no split 4-29% (step 58)
      LEAN_KERNEL_UNIFORM(__half, 1),           LEAN_KERNEL_UNIFORM(__half, 2),           LEAN_KERNEL_UNIFORM(__half, 4),
      LEAN_KERNEL_UNIFORM(__nv_bfloat16, 1),    LEAN_KERNEL_UNIFORM(__nv_bfloat16, 2),    LEAN_KERNEL_UNIFORM(__nv_bfloat16, 4),
  };
#undef LEAN_KERNEL_PAIR
#undef LEAN_KERNEL_UNIFORM
  const int m_tiles = group > kMaxGroup ? 0 : KernelShape::m_tiles(group);
  for (const KernelEntry& k : table)
    if (k.head_dim == head_dim && k.dtype == dtype && k.m_tiles == m_tiles && k.variant == variant) return &k;
  return nullptr;
}

/// f() with `device` current, the caller's device restored after: function attributes and
/// occupancy queries apply to the current device.
template <typename F>
cudaError_t on_device(int device, F f) {
  int prev = 0;
  cudaGetDevice(&prev);
  cudaSetDevice(device);
  const cudaError_t err = f();
  cudaSetDevice(prev);
  return err;
}

}  // namespace lean::cuda

using namespace lean;
using namespace lean::cuda;

struct lean_plan_s {
  Problem problem;
  Plan plan;
  const KernelEntry* kernel = nullptr;  // the variant for the cache the problem names (kv_page_size): it plans the grid
  const KernelEntry* variants[kVariants] = {};  // by Variant: lean_decode launches the one for the cache it gets
  bool hopper = false;  // compute capability >= 9.0: tensor loads and programmatic launches
  bool early_merge_launch = true;  // the decode kernel triggers the merge kernel's launch at its start
  bool programmatic = false;  // the decode kernel launches as a programmatic dependent of the stream's previous kernel
  bool tma = false;  // whole tiles by tensor memory access (prefer_tensor_loads; LEAN_TMA=0|1 overrides on Hopper)
  bool uniform_kernel = true;  // uniform batches launch Variant::uniform (LEAN_UNIFORM_KERNEL=0: the general one)
  // workspace layout, byte offsets
  size_t off_counters = 0, off_tile_begin = 0, off_seq_len = 0, off_split = 0, off_part_lse = 0, off_part_o = 0, bytes = 0;
  std::vector<SplitUnit> split_units;  // units of two or more contributors: the merge kernel's grid
  int merge_threads = KernelShape::kMergeThreads;  // the merge kernel's threads a CTA (Schedule::merge_threads)
  bool isolate_merge = false;  // the merge kernel's CTAs kept off SMs running decode CTAs (KernelShape::isolates_merge)
};

Schedule lean::cuda::host_schedule(lean_plan plan) { return plan->plan.view(); }

double lean::cuda::peak_dram_gbps(int device) {
  int mem_khz = 0, bus_bits = 0;
  if (cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, device) != cudaSuccess ||
      cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device) != cudaSuccess)
    return 0;
  return 2.0 * mem_khz * 1e3 * bus_bits / 8 / 1e9;
}

extern "C" {

const char* lean_last_error(void) { return g_error.c_str(); }

lean_status lean_plan_create(const lean_problem* pr, lean_policy policy, int grid, int device, lean_plan* out) {
  if (!out) return fail(LEAN_ERR_INVALID, "lean_plan_create: out is NULL");
  *out = nullptr;
  if (!pr) return fail(LEAN_ERR_INVALID, "lean_plan_create: problem is NULL");
  if (pr->batch > 0 && !pr->seq_lens) return fail(LEAN_ERR_INVALID, "lean_plan_create: problem.seq_lens is NULL");
  if (pr->dtype != LEAN_FP16 && pr->dtype != LEAN_BF16) return fail(LEAN_ERR_INVALID, "lean_plan_create: dtype must be LEAN_FP16 or LEAN_BF16");
  if (policy != LEAN_STREAM_K && policy != LEAN_FIXED_SPLIT && policy != LEAN_NO_SPLIT)
    return fail(LEAN_ERR_INVALID, "lean_plan_create: unknown policy");
  if (grid < 0) return fail(LEAN_ERR_INVALID, "lean_plan_create: grid must be >= 0 (0 = automatic)");
  auto plan = std::make_unique<lean_plan_s>();
  Problem& p = plan->problem;
  p.batch = pr->batch;
  p.num_q_heads = pr->num_q_heads;
  p.num_kv_heads = pr->num_kv_heads;
  p.head_dim = pr->head_dim;
  p.dtype = pr->dtype == LEAN_FP16 ? DType::fp16 : DType::bf16;
  p.scale = pr->scale;
  p.tile_kv = pr->tile_kv == 0 ? 64 : pr->tile_kv;
  p.kv_page_size = pr->kv_page_size;
  if (pr->batch > 0) p.seq_lens.assign(pr->seq_lens, pr->seq_lens + pr->batch);
  const std::string err = problem_error(p);
  if (!err.empty()) return fail(LEAN_ERR_INVALID, "lean_plan_create: invalid problem: " + err);
  auto pick_kernels = [&](int rows) {  // the variants for units of `rows` query heads (uniform: where compiled)
    for (int v = 0; v < kVariants; ++v) plan->variants[v] = find_kernel(p.head_dim, pr->dtype, rows, Variant(v));
    plan->kernel = plan->variants[int(KernelShape::uses_page_windows(p.kv_page_size) ? Variant::page_windows : Variant::general)];
    return plan->variants[int(Variant::general)] && plan->variants[int(Variant::page_windows)];
  };

  cudaDeviceProp prop;
  cudaError_t e = cudaGetDeviceProperties(&prop, device);
  if (e != cudaSuccess) return fail(LEAN_ERR_CUDA, std::string("lean_plan_create: cudaGetDeviceProperties: ") + cudaGetErrorString(e));
  // CTAs an SM holds of the kernel for units of 16, 32 and 64 query heads: the planner's row
  // blocks choose among them
  Occupancy occupancy;
  for (const int m_tiles : {1, 2, 4}) {
    if (!pick_kernels(16 * m_tiles)) continue;
    int per_sm = 0;
    const cudaError_t err = on_device(device, [&] {
      cudaError_t r = cudaSuccess;
      for (const KernelEntry* k : plan->variants)
        if (k && r == cudaSuccess) r = cudaFuncSetAttribute(k->func, cudaFuncAttributeMaxDynamicSharedMemorySize, int(k->smem_bytes));
      return r == cudaSuccess ? cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, plan->kernel->func, 128, plan->kernel->smem_bytes) : r;
    });
    if (err != cudaSuccess) return fail(LEAN_ERR_CUDA, std::string("lean_plan_create: kernel attributes: ") + cudaGetErrorString(err));
    occupancy.by_m_tiles[m_tiles] = per_sm;
  }
  const double peak_gbps = peak_dram_gbps(device);
  // LEAN_ROW_SPLIT (A/B switch): 0 or 1 keeps every KV head's query heads in one unit, R cuts them into R
  long row_env = -1;
  if (!env_int("LEAN_ROW_SPLIT", 0, kMaxGroup, &row_env))
    return fail(LEAN_ERR_INVALID, std::string("lean_plan_create: LEAN_ROW_SPLIT must be an integer in [0, ") + std::to_string(kMaxGroup) +
                                      "], got '" + std::getenv("LEAN_ROW_SPLIT") + "'");
  const Policy pol = policy == LEAN_STREAM_K ? Policy::stream_k : policy == LEAN_FIXED_SPLIT ? Policy::fixed_split : Policy::no_split;
  const int group = p.group_size(), given_rows = row_env >= 0 && pol == Policy::stream_k ? std::max(1, int(row_env)) : 0;
  if (given_rows > 0 && group % given_rows != 0)
    return fail(LEAN_ERR_INVALID, "lean_plan_create: LEAN_ROW_SPLIT=" + std::to_string(given_rows) + " does not divide the group of " +
                                      std::to_string(group) + " query heads per KV head");
  const int least_rows = given_rows > 0 ? given_rows : min_row_split(p);
  if (occupancy.of_rows(group / least_rows) < 1)
    return fail(LEAN_ERR_UNSUPPORTED, "lean_plan_create: no kernel for head_dim " + std::to_string(p.head_dim) + " with " +
                                          std::to_string(group / least_rows) + " query heads a unit fits on an SM of this device (head_dim " +
                                          std::to_string(p.head_dim) + " holds up to " + std::to_string(KernelShape::max_unit_rows(p.head_dim)) +
                                          "; larger groups run in row blocks)");
  // `lean plan --explain` prints the same choice from a preset's occupancy
  LaunchShape shape;
  try {
    shape = choose_launch_shape(p, pol, prop.multiProcessorCount, occupancy, peak_gbps, grid, given_rows);
  } catch (const Error& ex) {
    return fail(LEAN_ERR_INVALID, std::string("lean_plan_create: ") + ex.what());
  }
  const int row_split = shape.row_split, n = shape.grid.grid;
  pick_kernels(group / row_split);  // found: the shape's blocks have a kernel of nonzero occupancy
  if (p.tile_kv % plan->kernel->tile_tokens != 0)
    return fail(LEAN_ERR_UNSUPPORTED, "lean_plan_create: tile_kv " + std::to_string(p.tile_kv) + " must be a multiple of " +
                                          std::to_string(plan->kernel->tile_tokens));
  long fanin_env = -1;  // the planner's choice unless the benchmark's tuning override is set
  if (!env_int("LEAN_MERGE_FANIN", 0, 1 << 20, &fanin_env))
    return fail(LEAN_ERR_INVALID, std::string("lean_plan_create: LEAN_MERGE_FANIN must be an integer >= 0, got '") +
                                      std::getenv("LEAN_MERGE_FANIN") + "'");
  int fanin = int(fanin_env);
  long pad_env = kAutoPad;  // LEAN_UNIT_PAD (A/B switch): stream-K's idle tiles after each unit of a ragged batch
  if (!env_int("LEAN_UNIT_PAD", 0, 1 << 20, &pad_env))
    return fail(LEAN_ERR_INVALID, std::string("lean_plan_create: LEAN_UNIT_PAD must be an integer >= 0, got '") +
                                      std::getenv("LEAN_UNIT_PAD") + "'");
  const int tma = env_switch("LEAN_TMA"), separate = env_switch("LEAN_SEPARATE_MERGE"), early = env_switch("LEAN_EARLY_MERGE_LAUNCH"),
            pdl = env_switch("LEAN_PDL"), uniform_kernel = env_switch("LEAN_UNIFORM_KERNEL"), isolate = env_switch("LEAN_ISOLATE_MERGE");
  for (auto [name, v] : {std::pair{"LEAN_TMA", tma}, std::pair{"LEAN_SEPARATE_MERGE", separate}, std::pair{"LEAN_EARLY_MERGE_LAUNCH", early},
                         std::pair{"LEAN_PDL", pdl}, std::pair{"LEAN_UNIFORM_KERNEL", uniform_kernel}, std::pair{"LEAN_ISOLATE_MERGE", isolate}})
    if (v == 2) return fail(LEAN_ERR_INVALID, std::string("lean_plan_create: ") + name + " must be 0 or 1, got '" + std::getenv(name) + "'");
  plan->hopper = prop.major >= 9;
  // LEAN_EARLY_MERGE_LAUNCH: 0 the merge kernel launches as the decode kernel's CTAs exit, not at their start
  plan->early_merge_launch = early != 0;
  plan->uniform_kernel = uniform_kernel != 0;
  // LEAN_PDL: 1 launches programmatically on Hopper (lean_plan_set_programmatic_launch). Off by
  // default: behind our own merge kernel it gained nothing net, and full H200 runs had b8 MHA 1k,
  // GQA 4k and MQA 16k 0.4-1 us slower with it (bench/NOTES.md step 34)
  plan->programmatic = plan->hopper && pdl == 1;
  // LEAN_SEPARATE_MERGE: 1 the merge kernel, 0 the in-kernel merge (unless LEAN_MERGE_FANIN chose)
  if (separate >= 0 && fanin < 0) fanin = separate == 1 ? kSeparateMerge : kInKernelMerge;
  try {
    plan->plan = make_plan(p, pol, n, fanin, row_split, int(pad_env));
  } catch (const Error& ex) {
    return fail(LEAN_ERR_INVALID, std::string("lean_plan_create: ") + ex.what());
  }
  const Schedule s = plan->plan.view();
  // LEAN_TMA: 0 every tile by cp.async, 1 by tensor memory access (Hopper only); else the plan's
  const bool tensor_loads = plan_uses_tensor_loads(p, s, peak_gbps, prop.multiProcessorCount);
  plan->tma = plan->hopper && (tma < 0 ? tensor_loads : tma == 1);
  if (s.num_ctas > prop.maxGridSize[0]) return fail(LEAN_ERR_UNSUPPORTED, "lean_plan_create: grid exceeds the device's limit");
  size_t off = 0;
  plan->off_counters = off, off += align256(sizeof(int32_t) * s.num_counters());
  plan->off_tile_begin = off, off += align256(sizeof(int32_t) * (s.num_seqs + 1));
  plan->off_seq_len = off, off += align256(sizeof(int32_t) * s.num_seqs);
  plan->split_units = s.split_units();
  plan->merge_threads = s.merge_threads(p.head_dim);
  // LEAN_ISOLATE_MERGE (A/B switch): 0 never, 1 every merge kernel; else KernelShape::isolates_merge
  const int64_t merge_ctas = s.merge_ctas();
  plan->isolate_merge = merge_ctas > 0 && (isolate < 0 ? KernelShape::isolates_merge(merge_ctas) : isolate == 1);
  if (plan->isolate_merge)
    if (const cudaError_t err = on_device(device, [&] { return isolate_combine(p.head_dim, pr->dtype, plan->merge_threads); }); err != cudaSuccess)
      return fail(LEAN_ERR_CUDA, std::string("lean_plan_create: merge kernel carveout: ") + cudaGetErrorString(err));
  plan->off_split = off, off += align256(sizeof(SplitUnit) * std::max<size_t>(1, plan->split_units.size()));
  const size_t g = s.unit_rows;
  plan->off_part_lse = off, off += align256(sizeof(float) * s.num_partial_slots() * g);
  plan->off_part_o = off, off += align256(sizeof(float) * s.num_partial_slots() * g * p.head_dim);
  plan->bytes = off;
  *out = plan.release();
  return LEAN_OK;
}

void lean_plan_destroy(lean_plan plan) { delete plan; }

lean_status lean_plan_set_programmatic_launch(lean_plan plan, int enable) {
  if (!plan) return fail(LEAN_ERR_INVALID, "lean_plan_set_programmatic_launch: plan is NULL");
  if (enable != 0 && enable != 1) return fail(LEAN_ERR_INVALID, "lean_plan_set_programmatic_launch: enable must be 0 or 1");
  if (enable && !plan->hopper)
    return fail(LEAN_ERR_UNSUPPORTED, "lean_plan_set_programmatic_launch: programmatic dependent launch needs compute capability 9.0");
  plan->programmatic = enable == 1;
  return LEAN_OK;
}
size_t lean_plan_workspace_bytes(lean_plan plan) { return plan ? plan->bytes : 0; }
int lean_plan_num_ctas(lean_plan plan) { return plan ? plan->plan.view().num_ctas : 0; }

void lean_plan_describe(lean_plan plan, char* buf, size_t len) {
  if (!buf || len == 0) return;
  const std::string s = plan ? plan->plan.view().print() : "(null plan)";
  std::strncpy(buf, s.c_str(), len - 1);
  buf[len - 1] = '\0';
}

static lean_status check_workspace(lean_plan plan, const void* ws, size_t bytes, const char* fn) {
  if (!ws) return fail(LEAN_ERR_WORKSPACE, std::string(fn) + ": workspace is NULL");
  if (reinterpret_cast<uintptr_t>(ws) % 256 != 0) return fail(LEAN_ERR_WORKSPACE, std::string(fn) + ": workspace must be 256-byte aligned");
  if (bytes < plan->bytes)
    return fail(LEAN_ERR_WORKSPACE, std::string(fn) + ": workspace has " + std::to_string(bytes) + " bytes, the plan needs " +
                                        std::to_string(plan->bytes) + " (lean_plan_workspace_bytes)");
  return LEAN_OK;
}

lean_status lean_plan_upload(lean_plan plan, void* ws, size_t bytes, cudaStream_t stream) {
  if (!plan) return fail(LEAN_ERR_INVALID, "lean_plan_upload: plan is NULL");
  if (lean_status st = check_workspace(plan, ws, bytes, "lean_plan_upload")) return st;
  char* base = static_cast<char*>(ws);
  const Schedule s = plan->plan.view();
  cudaError_t e = cudaMemsetAsync(base + plan->off_counters, 0, sizeof(int32_t) * s.num_counters(), stream);
  if (e == cudaSuccess)
    e = cudaMemcpyAsync(base + plan->off_tile_begin, plan->plan.seq_tile_begin().data(), sizeof(int32_t) * (s.num_seqs + 1),
                        cudaMemcpyHostToDevice, stream);
  if (e == cudaSuccess)
    e = cudaMemcpyAsync(base + plan->off_seq_len, plan->plan.seq_len().data(), sizeof(int32_t) * s.num_seqs,
                        cudaMemcpyHostToDevice, stream);
  if (e == cudaSuccess && !plan->split_units.empty())
    e = cudaMemcpyAsync(base + plan->off_split, plan->split_units.data(), sizeof(SplitUnit) * plan->split_units.size(),
                        cudaMemcpyHostToDevice, stream);
  if (e != cudaSuccess) return fail(LEAN_ERR_CUDA, std::string("lean_plan_upload: ") + cudaGetErrorString(e));
  return LEAN_OK;
}

static lean_status decode(lean_plan plan, const void* q, const lean_kv* kv, void* o, float* lse, void* ws, size_t bytes,
                          int32_t* record, int64_t* trace, int trace_segments, cudaStream_t stream) {
  if (!plan) return fail(LEAN_ERR_INVALID, "lean_decode: plan is NULL");
  if (!q) return fail(LEAN_ERR_INVALID, "lean_decode: q is NULL");
  if (!o) return fail(LEAN_ERR_INVALID, "lean_decode: o is NULL");
  if (!kv) return fail(LEAN_ERR_INVALID, "lean_decode: kv is NULL");
  if (!kv->k || !kv->v) return fail(LEAN_ERR_INVALID, "lean_decode: kv.k or kv.v is NULL");
  if (lean_status st = check_workspace(plan, ws, bytes, "lean_decode")) return st;
  const Problem& p = plan->problem;
  auto misaligned = [](const void* ptr) { return reinterpret_cast<uintptr_t>(ptr) % 16 != 0; };
  if (misaligned(q) || misaligned(o) || misaligned(kv->k) || misaligned(kv->v))
    return fail(LEAN_ERR_INVALID, "lean_decode: q, o, kv.k and kv.v must be 16-byte aligned");
  if (kv->stride_seq <= 0 || kv->stride_token <= 0 || kv->stride_head <= 0)
    return fail(LEAN_ERR_INVALID, "lean_decode: kv strides must be positive");
  if (kv->stride_seq % 8 || kv->stride_token % 8 || kv->stride_head % 8)
    return fail(LEAN_ERR_INVALID, "lean_decode: kv strides must be multiples of 8 elements (16-byte rows)");
  if (kv->stride_head < p.head_dim && kv->stride_token < p.head_dim)
    return fail(LEAN_ERR_INVALID, "lean_decode: kv strides overlap rows of head_dim elements");
  int64_t max_len = 0;
  for (int64_t l : p.seq_lens) max_len = std::max(max_len, l);
  if (kv->block_table) {
    if (kv->page_size < 16 || kv->page_size > 256)
      return fail(LEAN_ERR_INVALID, "lean_decode: page_size must be in [16, 256], got " + std::to_string(kv->page_size));
    if (int64_t(kv->block_table_stride) * kv->page_size < max_len)
      return fail(LEAN_ERR_INVALID, "lean_decode: block_table_stride * page_size is shorter than the longest sequence");
    if (kv->num_pages < 1) return fail(LEAN_ERR_INVALID, "lean_decode: num_pages must be >= 1 when paged");
  }
  char* base = static_cast<char*>(ws);
  DecodeParams d{};
  d.sched = plan->plan.view();
  d.sched.seq_tile_begin = reinterpret_cast<const int32_t*>(base + plan->off_tile_begin);
  d.sched.seq_len = reinterpret_cast<const int32_t*>(base + plan->off_seq_len);
  d.q = q;
  d.o = o;
  d.lse = lse;
  d.kv = *kv;
  d.num_q_heads = p.num_q_heads;
  d.group = d.sched.unit_rows;
  d.scale_log2 = static_cast<float>(p.softmax_scale() * 1.4426950408889634);
  d.counters = reinterpret_cast<int32_t*>(base + plan->off_counters);
  d.part_lse = reinterpret_cast<float*>(base + plan->off_part_lse);
  d.split_units = reinterpret_cast<const SplitUnit*>(base + plan->off_split);
  d.num_split_units = int32_t(plan->split_units.size());
  d.part_o = reinterpret_cast<float*>(base + plan->off_part_o);
  d.record = record;
  d.trace = trace;
  d.trace_segments = trace_segments;
  if (d.sched.num_ctas == 0) return LEAN_OK;
  const bool merge_kernel = d.sched.separate_merge && d.num_split_units > 0;
  d.early_merge_launch = plan->early_merge_launch && merge_kernel;
  if (kv->block_table) d.page_div = FastDiv::of(kv->page_size);
  d.use_tma = plan->tma && encode_kv_maps(d, *kv, p.head_dim, p.num_kv_heads, max_len, p.batch, plan->kernel->dtype);
  const bool windows = kv->block_table && KernelShape::uses_page_windows(kv->page_size);
  // LEAN_UNIFORM_KERNEL=0 (test switch): uniform batches through the general kernel
  const bool uniform = d.sched.uniform_len > 0 && d.sched.unit_pad == 0 && plan->uniform_kernel && plan->variants[int(Variant::uniform)];
  const Variant v = windows ? Variant::page_windows : uniform ? Variant::uniform : Variant::general;
  cudaError_t e = plan->variants[int(v)]->launch(d, plan->programmatic, stream);
  if (e != cudaSuccess) return fail(LEAN_ERR_CUDA, std::string("lean_decode: launch failed: ") + cudaGetErrorString(e));
  if (merge_kernel) {
    e = launch_combine(d, p.head_dim, plan->kernel->dtype, plan->merge_threads, plan->isolate_merge, stream);
    if (e != cudaSuccess) return fail(LEAN_ERR_CUDA, std::string("lean_decode: merge kernel launch failed: ") + cudaGetErrorString(e));
  }
  return LEAN_OK;
}

lean_status lean_decode(lean_plan plan, const void* q, const lean_kv* kv, void* o, float* lse, void* ws, size_t bytes,
                        int32_t* record, cudaStream_t stream) {
  return decode(plan, q, kv, o, lse, ws, bytes, record, nullptr, 0, stream);
}

lean_status lean_decode_trace(lean_plan plan, const void* q, const lean_kv* kv, void* o, float* lse, void* ws, size_t bytes,
                              int64_t* trace, int max_segments, cudaStream_t stream) {
  if (!trace) return fail(LEAN_ERR_INVALID, "lean_decode_trace: trace is NULL");
  if (max_segments < 1) return fail(LEAN_ERR_INVALID, "lean_decode_trace: max_segments must be >= 1");
  return decode(plan, q, kv, o, lse, ws, bytes, nullptr, trace, max_segments, stream);
}

}  // extern "C"
