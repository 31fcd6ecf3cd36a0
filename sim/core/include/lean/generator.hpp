// Counter-based input generator: every element of Q, K and V is a pure function of
// (seed, tensor, logical index), so the CPU model and a GPU kernel regenerate identical bits
// and large KV caches are never stored anywhere.
//
// Generator id "lean-hash32-v1": a chain of 32-bit "lowbias32" integer hashes (C. Wellons),
// one per counter word. 32-bit multiplies keep it vectorisable on the CPU and cheap on the GPU.
// The value is built directly as the storage type's bits (sign, exponent, mantissa), so it is
// exactly representable in that type and never zero, Inf or NaN:
//   normal mode: |x| in [1/8, 2), log-uniform octaves, every mantissa bit random, random sign;
//   stress mode: query magnitudes up to 16 and one K row in 16 an outlier 8x larger, giving
//                logits of tens of nats that exercise the online-softmax rescale.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "lean/hd.hpp"
#include "lean/problem.hpp"

namespace lean {

inline constexpr const char* kGeneratorId = "lean-hash32-v1";

enum class Tensor : uint32_t { q = 0, k = 1, v = 2 };
enum class InputMode : uint8_t { normal = 0, stress = 1 };

LEAN_HD uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

/// Storage bits of one element. Logical indices: Q[b, q_head, d]; K, V[b, kv_head, token, d].
struct InputGenerator {
  uint64_t seed;
  InputMode mode;
  DType dtype;
  int32_t num_q_heads, num_kv_heads, head_dim;

  /// Hash state of one logical row: Q (b, q_head) or K/V (b, kv_head).
  LEAN_HD uint32_t row_key(Tensor t, int64_t b, int32_t head) const {
    uint32_t h = mix32(static_cast<uint32_t>(seed) ^ (0x9e3779b9U * (static_cast<uint32_t>(t) + 1)));
    h = mix32(h ^ static_cast<uint32_t>(seed >> 32));
    h = mix32(h ^ static_cast<uint32_t>(b));
    return mix32(h ^ static_cast<uint32_t>(head) ^ (static_cast<uint32_t>(b >> 32) << 16));
  }
  /// Per-token state: hash of the row key and the token (0 for Q).
  LEAN_HD static uint32_t token_key(uint32_t row, int64_t token) {
    return mix32(row ^ static_cast<uint32_t>(token) ^ (static_cast<uint32_t>(token >> 32) * 0x27d4eb2dU));
  }
  /// Exponent shift of a whole row (stress mode): large queries, outlier key rows.
  LEAN_HD int32_t exp_shift(Tensor t, uint32_t tk) const {
    if (mode != InputMode::stress) return 0;
    if (t == Tensor::q) return 4;                                        // |q| up to 16
    if (t == Tensor::k && (mix32(tk ^ 0x5bd1e995U) & 15U) == 0) return 3;  // one row in 16
    return 0;
  }
  LEAN_HD static uint32_t elem_hash(uint32_t tk, int32_t d) {
    return mix32(tk + 0x632be5abU * static_cast<uint32_t>(d + 1));
  }
  /// Storage bits from the element hash: sign, exponent in [shift-3, shift], random mantissa.
  LEAN_HD uint16_t bits_of(uint32_t r, int32_t shift) const {
    const uint32_t sign = r >> 31, e = static_cast<uint32_t>(shift - static_cast<int32_t>((r >> 28) & 3U));
    if (dtype == DType::fp16) return static_cast<uint16_t>((sign << 15) | ((e + 15U) << 10) | ((r >> 8) & 0x3ffU));
    return static_cast<uint16_t>((sign << 15) | ((e + 127U) << 7) | ((r >> 8) & 0x7fU));
  }
  /// The same value as a float, built branch-free so CPU loops vectorise.
  LEAN_HD float float_of(uint32_t r, int32_t shift) const {
    const uint32_t sign = r >> 31, e = static_cast<uint32_t>(shift - static_cast<int32_t>((r >> 28) & 3U));
    const uint32_t man = dtype == DType::fp16 ? ((r >> 8) & 0x3ffU) << 13 : ((r >> 8) & 0x7fU) << 16;
    const uint32_t u = (sign << 31) | ((e + 127U) << 23) | man;
    float f;
    memcpy(&f, &u, 4);
    return f;
  }
  LEAN_HD uint16_t bits(Tensor t, int64_t b, int32_t head, int64_t token, int32_t d) const {
    const uint32_t tk = token_key(row_key(t, b, head), token);
    return bits_of(elem_hash(tk, d), exp_shift(t, tk));
  }
  LEAN_HD uint16_t q(int64_t b, int32_t qh, int32_t d) const { return bits(Tensor::q, b, qh, 0, d); }
  LEAN_HD uint16_t k(int64_t b, int32_t kh, int64_t t, int32_t d) const { return bits(Tensor::k, b, kh, t, d); }
  LEAN_HD uint16_t v(int64_t b, int32_t kh, int64_t t, int32_t d) const { return bits(Tensor::v, b, kh, t, d); }
};

InputGenerator make_generator(const Problem& p, uint64_t seed, InputMode mode);
const char* to_string(InputMode m);
InputMode parse_input_mode(const std::string& s);  // "normal" | "stress"

}  // namespace lean
