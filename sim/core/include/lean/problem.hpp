// The decode-attention problem: what is attended, independent of how it is scheduled.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace lean {

enum class DType : uint8_t { fp16 = 0, bf16 = 1 };
const char* to_string(DType t);
DType parse_dtype(const std::string& s);  // "fp16" | "bf16"

/// Every invalid input is reported with this type; the message names the field.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// One decode step: one new query token per sequence attends over that sequence's KV cache.
struct Problem {
  int batch = 1;
  int num_q_heads = 32;
  int num_kv_heads = 32;         // divides num_q_heads: MHA (equal), GQA, MQA (1)
  int head_dim = 128;            // 64, 128 or 256
  std::vector<int64_t> seq_lens; // [batch] tokens in each sequence's KV cache; 0 allowed
  DType dtype = DType::fp16;     // storage type of Q, K, V and O
  double scale = 0.0;            // softmax scale; 0 means 1/sqrt(head_dim)
  int tile_kv = 64;              // tokens per schedule tile
  int kv_page_size = 0;          // 0: contiguous KV cache; else its page size (a planner hint)

  int group_size() const { return num_q_heads / num_kv_heads; }
  double softmax_scale() const;
  int64_t tiles_of(int b) const { return (seq_lens[b] + tile_kv - 1) / tile_kv; }
  int64_t total_tiles() const;   // over (sequence, kv head, tile)
  int64_t max_tiles() const;     // tiles of the longest sequence: one unit's length
  int64_t total_tokens() const;  // sum of seq_lens
  /// Bytes of K and V the step must read: the bandwidth floor's numerator.
  double kv_bytes() const;
  /// Bytes of K and V one unit of the longest sequence streams, in whole tiles.
  double unit_kv_bytes() const;
};

/// Empty string if valid, else a message naming the first invalid field.
std::string problem_error(const Problem& p);
/// Throws lean::Error with problem_error's message.
void validate(const Problem& p);

/// A uniform batch: every sequence has `ctx` tokens.
Problem make_uniform(int batch, int hq, int hk, int d, int64_t ctx, DType t = DType::fp16);
std::string describe(const Problem& p);  // one line: "b=1 hq=32 hk=32 d=128 fp16 ctx=..."

/// Limits that keep every index the kernel computes in 32-bit integers.
inline constexpr int64_t kMaxTiles = (int64_t{1} << 31) - 1;     // linear tile index is int32
inline constexpr int64_t kMaxSeqLen = (int64_t{1} << 31) - 65536; // token index is int32
inline constexpr int kMaxTileKv = 65536;
inline constexpr int kMaxGroup = 64;  // query heads per KV head the kernel keeps in one CTA

}  // namespace lean
