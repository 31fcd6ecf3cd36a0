// The float64 oracle: naive attention, and the stream-K replay that follows a Schedule CTA by
// CTA and merges partials in the order the kernel uses.
#pragma once

#include <functional>
#include <vector>

#include "lean/schedule.hpp"
#include "lean/sim/inputs.hpp"

namespace lean::sim {

/// Final attention output of a problem.
struct Output {
  std::vector<double> o;    // [batch, q_heads, D]
  std::vector<double> lse;  // [batch, q_heads], natural log; -inf for an empty sequence
};

/// O = softmax(q K^T * scale) V per query head, two passes over K then V, in float64.
Output naive_attention(const Inputs& in);

/// The partial state one CTA computed for one unit (its segment), normalised.
struct Partial {
  int32_t cta, unit;
  int32_t begin, end;         // linear tiles
  bool host;
  std::vector<double> lse;    // [group]
  std::vector<double> o;      // [group, D]
};

struct Replay {
  Output out;
  std::vector<Partial> partials;  // every segment of every CTA, ordered by (unit, cta)
};

using Progress = std::function<void(int64_t done, int64_t total)>;

/// Replays `s` on `in` in float64: each CTA's segments with the online softmax over its tiles,
/// then per unit merge_states over the contributors in ascending CTA order (host first), the
/// order and formula of the kernel. OpenMP over CTAs; the result does not depend on the thread count.
Replay replay(const Inputs& in, const Schedule& s, bool keep_partials = true, const Progress& progress = {});

}  // namespace lean::sim
