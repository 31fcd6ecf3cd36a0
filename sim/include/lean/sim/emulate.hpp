// CPU emulation of the CUDA kernel's arithmetic, so a change to its numeric recipe fails CI
// without a GPU. Follows cuda/src/decode_kernel.cuh step by step: inputs in the element type,
// float32 dot products summed per 16-wide tensor-core k-chunk, the exp2 online softmax per warp
// token slice, P rounded to the element type before P V, the in-CTA warp merge in warp order,
// float32 partials folded in schedule order, the output rounded to the element type.
// Not bitwise: the tensor cores' internal summation and the GPU's exp2/exp/log differ in the
// last bits; the emulation's error against float64 is what the GPU's is compared with.
#pragma once

#include "lean/kernel_shape.hpp"
#include "lean/schedule.hpp"
#include "lean/sim/inputs.hpp"
#include "lean/sim/oracle.hpp"

namespace lean::sim {

/// The kernel's output (O rounded to the element type, LSE in float32) as float64 values.
Output emulate_kernel(const Inputs& in, const Schedule& s);

/// A naive low-precision baseline: float32 logits and accumulators, one pass with the max
/// known in advance, output rounded to the element type.
Output naive_float32(const Inputs& in);

/// Tolerance for a GPU output: 2x the worse of the emulation's and the naive float32's error
/// against float64, with floors of one unit roundoff of the element type for O (output
/// rounding) and 4 float32 ulps of the largest |LSE| for the LSE.
struct Tolerance {
  double o, lse;
};
Tolerance gpu_tolerance(const Inputs& in, const Schedule& s, const Output& expected);

}  // namespace lean::sim
