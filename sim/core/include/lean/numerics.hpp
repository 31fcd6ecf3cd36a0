// Element types and the attention-state merge rule shared by the oracle, the kernel emulation
// and (in float) the CUDA kernel.
#pragma once

#include <cmath>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <limits>

#include "lean/hd.hpp"
#include "lean/problem.hpp"

namespace lean {

/// Storage bits to float, exactly (subnormals, Inf and NaN included).
LEAN_HD float half_bits_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000U) << 16;
  uint32_t exp = (h >> 10) & 0x1fU, man = h & 0x3ffU, out;
  if (exp == 0x1fU) {
    out = sign | 0x7f800000U | (man << 13);
  } else if (exp != 0) {
    out = sign | ((exp + 112U) << 23) | (man << 13);
  } else if (man == 0) {
    out = sign;
  } else {  // subnormal: normalise
    int e = -1;
    do { man <<= 1; ++e; } while ((man & 0x400U) == 0);
    out = sign | (static_cast<uint32_t>(112 - e) << 23) | ((man & 0x3ffU) << 13);
  }
  float f;
  memcpy(&f, &out, 4);
  return f;
}
LEAN_HD float bf16_bits_to_float(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}
LEAN_HD float bits_to_float(uint16_t bits, DType t) {
  return t == DType::fp16 ? half_bits_to_float(bits) : bf16_bits_to_float(bits);
}

/// float to storage bits, round to nearest even (what cvt.rn does on the GPU).
inline uint16_t float_to_bf16_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  if ((u & 0x7fffffffU) > 0x7f800000U) return static_cast<uint16_t>((u >> 16) | 0x40U);  // quiet NaN
  u += 0x7fffU + ((u >> 16) & 1U);
  return static_cast<uint16_t>(u >> 16);
}
inline uint16_t float_to_half_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000U);
  const uint32_t a = u & 0x7fffffffU;
  if (a > 0x7f800000U) return sign | 0x7e00U;                 // NaN
  if (a >= 0x477ff000U) return sign | 0x7c00U;                // rounds to >= 65520: Inf
  if (a < 0x38800000U) {                                      // below 2^-14: subnormal or zero
    const float mag = std::fabs(f) * 16777216.0f;             // units of 2^-24, exact
    return sign | static_cast<uint16_t>(std::nearbyint(mag)); // default rounding: nearest even
  }
  const uint32_t r = a + 0xfffU + ((a >> 13) & 1U);
  return sign | static_cast<uint16_t>((r - 0x38000000U) >> 13);
}
inline uint16_t float_to_bits(float f, DType t) {
  return t == DType::fp16 ? float_to_half_bits(f) : float_to_bf16_bits(f);
}
inline float round_to(float f, DType t) { return bits_to_float(float_to_bits(f, t), t); }

/// Unit roundoff of the storage type: 2^-11 (fp16), 2^-8 (bf16).
inline double unit_roundoff(DType t) { return t == DType::fp16 ? 0x1p-11 : 0x1p-8; }

/// Softmax state of a key range, normalised: O = sum(p v) / sum(p), lse = log(sum(exp(s))).
/// An empty range is (lse = -inf, O = 0). merge() is associative and commutative in exact
/// arithmetic, so partials can be combined in any bracketing; we fix the order for bitwise
/// reproducibility.
/// a <- merge(a, b) for `rows` rows of width d. Guarded so that empty states never make NaN.
template <typename T>
void merge_into(T* a_lse, T* a_o, const T* b_lse, const T* b_o, int rows, int d) {
  constexpr T ninf = -std::numeric_limits<T>::infinity();
  for (int r = 0; r < rows; ++r) {
    const T la = a_lse[r], lb = b_lse[r];
    const T m = la > lb ? la : lb;
    if (m == ninf) continue;  // both empty
    const T wa = std::exp(la - m), wb = std::exp(lb - m), s = wa + wb;
    a_lse[r] = m + std::log(s);
    const T ca = wa / s, cb = wb / s;
    for (int j = 0; j < d; ++j) a_o[r * d + j] = ca * a_o[r * d + j] + cb * b_o[r * d + j];
  }
}

/// Merges the partial states of n consecutive contributors, in order, the way the kernel does:
/// m = max_j lse_j, s = sum_j exp(lse_j - m), lse = m + log(s), o = sum_j exp(lse_j - lse) o_j.
/// Equal to the left fold of merge_into in exact arithmetic, but its n loads are independent,
/// so the GPU keeps them in flight instead of walking a dependent chain.
/// lse_of(j) -> const T* [rows]; o_of(j) -> const T* [rows, d].
template <typename T, typename LseOf, typename OOf>
void merge_states(int n, LseOf lse_of, OOf o_of, int rows, int d, T* lse, T* o) {
  constexpr T ninf = -std::numeric_limits<T>::infinity();
  for (int r = 0; r < rows; ++r) {
    T m = ninf;
    for (int j = 0; j < n; ++j) m = std::max(m, lse_of(j)[r]);
    for (int k = 0; k < d; ++k) o[r * d + k] = 0;
    if (m == ninf) {
      lse[r] = ninf;
      continue;
    }
    T sum = 0;
    for (int j = 0; j < n; ++j) sum += std::exp(lse_of(j)[r] - m);
    lse[r] = m + std::log(sum);
    for (int j = 0; j < n; ++j) {
      const T w = std::exp(lse_of(j)[r] - lse[r]);
      const T* oj = o_of(j) + r * d;
      for (int k = 0; k < d; ++k) o[r * d + k] += w * oj[k];
    }
  }
}

}  // namespace lean
