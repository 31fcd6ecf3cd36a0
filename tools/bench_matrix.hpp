// The problems lean_bench times, shared with `lean timeline calibrate`, which maps measured
// rows back to problems by describe().
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "lean/problem.hpp"

namespace lean::tools {

inline std::vector<Problem> bench_matrix(const std::string& name) {
  std::vector<Problem> out;
  auto add = [&](int b, int hq, int hk, int d, int64_t ctx) { out.push_back(make_uniform(b, hq, hk, d, ctx)); };
  if (name == "check") {  // issue 3's first speed check
    add(1, 32, 32, 128, 524288);
  } else if (name == "large") {  // where SM-speed imbalance shows
    add(1, 32, 32, 128, 524288);
    add(16, 32, 8, 128, 131072);
    add(1, 32, 8, 128, 131072);
    add(1, 32, 32, 128, 16384);
  } else if (name == "merge") {  // many contributors: the merge tree's fan-in matters
    for (int64_t ctx : {16384, 131072, 524288}) add(1, 32, 1, 128, ctx);
    add(1, 32, 8, 128, 4096);
    add(1, 32, 32, 128, 1024);
  } else if (name == "small") {  // latency-bound rows: launch, pipeline fill and merge dominate
    for (int64_t ctx : {1024, 2048, 4096, 8192}) add(1, 32, 32, 128, ctx);
    for (int64_t ctx : {4096, 16384}) add(1, 32, 8, 128, ctx);
    add(1, 32, 1, 128, 16384);
    add(8, 32, 32, 128, 1024);
    add(16, 32, 8, 128, 4096);
  } else if (name == "paged") {  // the peers' paged row; lean_bench --page picks the page size
    add(8, 32, 8, 128, 16384);
  } else if (name == "quick") {
    for (int64_t ctx : {1024, 4096, 16384, 65536, 131072, 524288}) add(1, 32, 32, 128, ctx);
    for (int64_t ctx : {1024, 8192, 131072}) add(8, 32, 32, 128, ctx);
    for (int64_t ctx : {4096, 32768, 524288}) add(1, 32, 8, 128, ctx);
    for (int64_t ctx : {4096, 131072}) add(16, 32, 8, 128, ctx);
    add(1, 32, 1, 128, 131072);
    add(1, 64, 64, 64, 65536);
    add(1, 16, 16, 256, 65536);
    Problem r = make_uniform(16, 32, 8, 128, 0);  // one long sequence among short ones
    r.seq_lens = {131072};
    for (int i = 1; i < 16; ++i) r.seq_lens.push_back(1024 + 200 * i);
    out.push_back(r);
  } else {
    throw std::runtime_error("unknown matrix '" + name + "' (check, large, merge, small, quick, paged)");
  }
  return out;
}

}  // namespace lean::tools
