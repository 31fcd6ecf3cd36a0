#include "lean/problem.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "lean/generator.hpp"

namespace lean {

const char* to_string(DType t) { return t == DType::fp16 ? "fp16" : "bf16"; }

DType parse_dtype(const std::string& s) {
  if (s == "fp16") return DType::fp16;
  if (s == "bf16") return DType::bf16;
  throw Error("dtype: expected fp16 or bf16, got '" + s + "'");
}

const char* to_string(InputMode m) { return m == InputMode::normal ? "normal" : "stress"; }

InputMode parse_input_mode(const std::string& s) {
  if (s == "normal") return InputMode::normal;
  if (s == "stress") return InputMode::stress;
  throw Error("input mode: expected normal or stress, got '" + s + "'");
}

double Problem::softmax_scale() const { return scale != 0.0 ? scale : 1.0 / std::sqrt(double(head_dim)); }

int64_t Problem::total_tiles() const {
  int64_t n = 0;
  for (int b = 0; b < batch; ++b) n += tiles_of(b);
  return n * num_kv_heads;
}

int64_t Problem::max_tiles() const {
  int64_t n = 0;
  for (int b = 0; b < batch; ++b) n = std::max(n, tiles_of(b));
  return n;
}

int64_t Problem::total_tokens() const {
  int64_t n = 0;
  for (int64_t l : seq_lens) n += l;
  return n;
}

double Problem::kv_bytes() const { return 2.0 * 2.0 * double(total_tokens()) * num_kv_heads * head_dim; }
double Problem::unit_kv_bytes() const { return 2.0 * 2.0 * double(max_tiles()) * tile_kv * head_dim; }

std::string problem_error(const Problem& p) {
  std::ostringstream e;
  if (p.batch < 1) e << "batch must be >= 1, got " << p.batch;
  else if (p.num_q_heads < 1) e << "num_q_heads must be >= 1, got " << p.num_q_heads;
  else if (p.num_kv_heads < 1) e << "num_kv_heads must be >= 1, got " << p.num_kv_heads;
  else if (p.num_q_heads % p.num_kv_heads != 0)
    e << "num_kv_heads (" << p.num_kv_heads << ") must divide num_q_heads (" << p.num_q_heads << ")";
  else if (p.group_size() > kMaxGroup)
    e << "num_q_heads / num_kv_heads = " << p.group_size() << " exceeds the supported group of " << kMaxGroup;
  else if (p.head_dim != 64 && p.head_dim != 128 && p.head_dim != 256)
    e << "head_dim must be 64, 128 or 256, got " << p.head_dim;
  else if (p.tile_kv < 1 || p.tile_kv > kMaxTileKv)
    e << "tile_kv must be in [1, " << kMaxTileKv << "], got " << p.tile_kv;
  else if (p.kv_page_size < 0)
    e << "kv_page_size must be >= 0 (0: contiguous), got " << p.kv_page_size;
  else if (!(std::isfinite(p.scale) && p.scale >= 0.0))
    e << "scale must be finite and > 0 (0 selects 1/sqrt(head_dim)), got " << p.scale;
  else if (static_cast<int64_t>(p.seq_lens.size()) != p.batch)
    e << "seq_lens has " << p.seq_lens.size() << " entries, batch is " << p.batch;
  else if (int64_t(p.batch) * p.num_q_heads * p.head_dim > kMaxTiles)
    e << "batch * num_q_heads * head_dim = " << int64_t(p.batch) * p.num_q_heads * p.head_dim
      << " overflows 32-bit element indices of Q/O";
  if (!e.str().empty()) return e.str();
  for (int b = 0; b < p.batch; ++b) {
    const int64_t l = p.seq_lens[b];
    if (l < 0) { e << "seq_lens[" << b << "] is negative (" << l << ")"; return e.str(); }
    if (l > kMaxSeqLen) {
      e << "seq_lens[" << b << "] = " << l << " exceeds " << kMaxSeqLen << " (32-bit token index)";
      return e.str();
    }
  }
  if (p.total_tiles() > kMaxTiles)
    e << "total tiles (sum over sequences of ceil(len/tile_kv) * num_kv_heads) = " << p.total_tiles()
      << " overflows the 32-bit linear tile index; raise tile_kv or split the batch";
  return e.str();
}

void validate(const Problem& p) {
  const std::string e = problem_error(p);
  if (!e.empty()) throw Error("invalid problem: " + e);
}

Problem make_uniform(int batch, int hq, int hk, int d, int64_t ctx, DType t) {
  Problem p;
  p.batch = batch;
  p.num_q_heads = hq;
  p.num_kv_heads = hk;
  p.head_dim = d;
  p.dtype = t;
  p.seq_lens.assign(batch > 0 ? batch : 0, ctx);
  return p;
}

std::string describe(const Problem& p) {
  std::ostringstream o;
  o << "b=" << p.batch << " hq=" << p.num_q_heads << " hk=" << p.num_kv_heads << " d=" << p.head_dim << ' '
    << to_string(p.dtype) << " tile=" << p.tile_kv << " ctx=";
  bool uniform = true;
  for (int64_t l : p.seq_lens) uniform = uniform && l == p.seq_lens.front();
  if (p.seq_lens.empty()) o << "none";
  else if (uniform) o << p.seq_lens.front();
  else {
    int64_t lo = p.seq_lens[0], hi = lo;
    for (int64_t l : p.seq_lens) { lo = l < lo ? l : lo; hi = l > hi ? l : hi; }
    o << "ragged[" << lo << ".." << hi << "] total=" << p.total_tokens();
  }
  return o.str();
}

InputGenerator make_generator(const Problem& p, uint64_t seed, InputMode mode) {
  return InputGenerator{seed, mode, p.dtype, p.num_q_heads, p.num_kv_heads, p.head_dim};
}

}  // namespace lean
