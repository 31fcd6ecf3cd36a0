// Where the CPU model reads Q, K and V from: the counter-based generator (any size, nothing
// stored) or arrays of storage bits (small golden cases, or another kernel's inputs).
#pragma once

#include <cstdint>
#include <vector>

#include "lean/generator.hpp"
#include "lean/problem.hpp"

namespace lean::sim {

class Inputs {
 public:
  explicit Inputs(Problem p) : problem_(std::move(p)) {}
  virtual ~Inputs() = default;
  const Problem& problem() const { return problem_; }
  /// Query row of (b, q head) as exact float values.
  virtual void q(int b, int qh, float* out /*[D]*/) const = 0;
  /// n consecutive rows of K or V of (b, kv head) from token t0, as exact float values.
  virtual void kv(Tensor t, int b, int kh, int64_t t0, int n, float* out /*[n, D]*/) const = 0;

 private:
  Problem problem_;
};

class GeneratedInputs final : public Inputs {
 public:
  GeneratedInputs(const Problem& p, uint64_t seed, InputMode mode);
  const InputGenerator& generator() const { return gen_; }
  void q(int b, int qh, float* out) const override;
  void kv(Tensor t, int b, int kh, int64_t t0, int n, float* out) const override;

 private:
  InputGenerator gen_;
};

/// Storage bits, ragged KV concatenated over sequences ("varlen" layout).
struct StoredTensors {
  std::vector<uint16_t> q;  // [batch, q_heads, D]
  std::vector<uint16_t> k;  // [total_tokens, kv_heads, D]
  std::vector<uint16_t> v;  // [total_tokens, kv_heads, D]
};
StoredTensors materialize(const GeneratedInputs& in);

class StoredInputs final : public Inputs {
 public:
  StoredInputs(const Problem& p, StoredTensors t);  // checks the sizes against the problem
  const StoredTensors& tensors() const { return t_; }
  void q(int b, int qh, float* out) const override;
  void kv(Tensor t, int b, int kh, int64_t t0, int n, float* out) const override;

 private:
  StoredTensors t_;
  std::vector<int64_t> seq_begin_;  // [batch + 1] first token of each sequence
};

}  // namespace lean::sim
