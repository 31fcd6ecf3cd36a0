#include "lean/sim/inputs.hpp"

#include <string>

#include "lean/numerics.hpp"

namespace lean::sim {

GeneratedInputs::GeneratedInputs(const Problem& p, uint64_t seed, InputMode mode)
    : Inputs(p), gen_(make_generator(p, seed, mode)) {
  validate(p);
}

void GeneratedInputs::q(int b, int qh, float* out) const {
  const uint32_t tk = InputGenerator::token_key(gen_.row_key(Tensor::q, b, qh), 0);
  const int32_t shift = gen_.exp_shift(Tensor::q, tk);
  for (int d = 0; d < gen_.head_dim; ++d) out[d] = gen_.float_of(InputGenerator::elem_hash(tk, d), shift);
}

void GeneratedInputs::kv(Tensor t, int b, int kh, int64_t t0, int n, float* out) const {
  const uint32_t key = gen_.row_key(t, b, kh);
  const int D = gen_.head_dim;
  for (int i = 0; i < n; ++i) {
    const uint32_t tk = InputGenerator::token_key(key, t0 + i);
    const int32_t shift = gen_.exp_shift(t, tk);
    float* row = out + int64_t(i) * D;
    for (int d = 0; d < D; ++d) row[d] = gen_.float_of(InputGenerator::elem_hash(tk, d), shift);
  }
}

StoredTensors materialize(const GeneratedInputs& in) {
  const Problem& p = in.problem();
  const InputGenerator& g = in.generator();
  const int D = p.head_dim;
  StoredTensors t;
  t.q.resize(size_t(p.batch) * p.num_q_heads * D);
  for (int b = 0; b < p.batch; ++b)
    for (int h = 0; h < p.num_q_heads; ++h)
      for (int d = 0; d < D; ++d) t.q[(size_t(b) * p.num_q_heads + h) * D + d] = g.q(b, h, d);
  const size_t kv = size_t(p.total_tokens()) * p.num_kv_heads * D;
  t.k.resize(kv);
  t.v.resize(kv);
  size_t tok0 = 0;
  for (int b = 0; b < p.batch; ++b) {
    for (int64_t s = 0; s < p.seq_lens[b]; ++s)
      for (int h = 0; h < p.num_kv_heads; ++h)
        for (int d = 0; d < D; ++d) {
          const size_t i = ((tok0 + s) * p.num_kv_heads + h) * D + d;
          t.k[i] = g.k(b, h, s, d);
          t.v[i] = g.v(b, h, s, d);
        }
    tok0 += p.seq_lens[b];
  }
  return t;
}

StoredInputs::StoredInputs(const Problem& p, StoredTensors t) : Inputs(p), t_(std::move(t)) {
  validate(p);
  const size_t nq = size_t(p.batch) * p.num_q_heads * p.head_dim;
  const size_t nkv = size_t(p.total_tokens()) * p.num_kv_heads * p.head_dim;
  if (t_.q.size() != nq) throw Error("inputs: q has " + std::to_string(t_.q.size()) + " elements, expected " + std::to_string(nq));
  if (t_.k.size() != nkv) throw Error("inputs: k has " + std::to_string(t_.k.size()) + " elements, expected " + std::to_string(nkv));
  if (t_.v.size() != nkv) throw Error("inputs: v has " + std::to_string(t_.v.size()) + " elements, expected " + std::to_string(nkv));
  seq_begin_.assign(p.batch + 1, 0);
  for (int b = 0; b < p.batch; ++b) seq_begin_[b + 1] = seq_begin_[b] + p.seq_lens[b];
}

void StoredInputs::q(int b, int qh, float* out) const {
  const Problem& p = problem();
  const uint16_t* src = t_.q.data() + (size_t(b) * p.num_q_heads + qh) * p.head_dim;
  for (int d = 0; d < p.head_dim; ++d) out[d] = bits_to_float(src[d], p.dtype);
}

void StoredInputs::kv(Tensor t, int b, int kh, int64_t t0, int n, float* out) const {
  const Problem& p = problem();
  const std::vector<uint16_t>& src = t == Tensor::k ? t_.k : t_.v;
  const int D = p.head_dim;
  for (int i = 0; i < n; ++i) {
    const uint16_t* row = src.data() + (size_t(seq_begin_[b] + t0 + i) * p.num_kv_heads + kh) * D;
    for (int d = 0; d < D; ++d) out[int64_t(i) * D + d] = bits_to_float(row[d], p.dtype);
  }
}

}  // namespace lean::sim
