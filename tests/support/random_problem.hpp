// Random problems for property tests: odd sizes, ragged lengths with 0 and 1, every head dim.
#pragma once

#include <random>

#include "lean/problem.hpp"

namespace lean::test {

inline Problem random_problem(std::mt19937_64& rng, int max_batch = 6, int64_t max_len = 5000) {
  auto pick = [&](std::initializer_list<int> v) { return *(v.begin() + rng() % v.size()); };
  Problem p;
  p.batch = 1 + int(rng() % max_batch);
  p.num_kv_heads = pick({1, 2, 3, 5, 8});
  p.num_q_heads = p.num_kv_heads * pick({1, 2, 3, 4, 8});
  p.head_dim = pick({64, 128, 256});
  p.dtype = rng() % 2 ? DType::fp16 : DType::bf16;
  p.tile_kv = pick({1, 7, 16, 64, 64, 128});
  for (int b = 0; b < p.batch; ++b) {
    const int kind = int(rng() % 5);
    p.seq_lens.push_back(kind == 0 ? 0 : kind == 1 ? 1 : int64_t(rng() % max_len));
  }
  return p;
}

}  // namespace lean::test
