// Device-side helpers for tests and benchmarks: inputs from the counter-based generator, and
// the bandwidth ceilings every benchmark number is a fraction of.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "lean/cuda/lean_decode.h"
#include "lean/generator.hpp"
#include "lean/problem.hpp"
#include "lean/schedule.hpp"

namespace lean::cuda {

/// The plan's schedule over host memory (valid while the plan lives): what the CPU model replays.
Schedule host_schedule(lean_plan plan);

/// Peak DRAM bandwidth of `device` from its memory clock and bus width (double data rate), GB/s:
/// what the planner reads to tell the card classes apart; 0 where CUDA does not say.
double peak_dram_gbps(int device);

/// Writes Q [batch, q_heads, D] and every token of K and V through `layout` (contiguous or
/// paged; its block table must already be on the device), bit-identical to the CPU model's.
cudaError_t fill_inputs(const InputGenerator& gen, const Problem& p, void* q, const lean_kv& layout, cudaStream_t stream);

/// Same element bits from host arrays already in the varlen layout of sim::StoredTensors.
cudaError_t upload_inputs(const Problem& p, const uint16_t* q_host, const uint16_t* k_host, const uint16_t* v_host,
                          void* q, const lean_kv& layout, cudaStream_t stream);

/// Read-only streaming bandwidth (16-byte loads over `bytes`, reduced so nothing is elided) and
/// device-to-device copy bandwidth (bytes read + written), each the median of `reps`, GB/s.
double measure_read_bandwidth(size_t bytes, int reps);
double measure_copy_bandwidth(size_t bytes, int reps);

/// Occupies `num_ctas` CTAs with a spin of about `micros` microseconds on `stream`: a second
/// kernel sharing the GPU, for residency tests.
cudaError_t launch_spinner(int num_ctas, int micros, cudaStream_t stream);

/// A kernel that triggers its programmatic dependents at its start, spins about `micros`
/// microseconds, then copies `bytes` (a multiple of 16, 16-byte aligned) from src to dst: it
/// writes a decode's inputs after the decode kernel, launched programmatically, has started.
cudaError_t launch_late_copy(void* dst, const void* src, size_t bytes, int micros, cudaStream_t stream);

}  // namespace lean::cuda
