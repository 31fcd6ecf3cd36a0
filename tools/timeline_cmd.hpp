// `lean timeline` and `lean plan --explain`: the per-SM model, its calibration against
// lean_bench CSVs, and measured traces from lean_bench --trace-dir.
#pragma once

#include <string>

#include "lean/sim/timeline.hpp"

namespace lean::tools {

sim::Machine read_preset(const std::string& path);

/// lean_bench CSV rows mapped back to problems of `matrix` (by describe()).
std::vector<sim::Measurement> read_bench_csv(const std::string& csv, const std::string& matrix);

/// Model (and, when `measured` is set, measured) timeline of a problem, as SVG and Chrome JSON.
int timeline_run(const Problem& p, Policy policy, int grid, const sim::Machine& m, const std::string& measured,
                 const std::string& svg, const std::string& json);

/// Predicted vs measured per row and schedule; returns the report as markdown.
std::string timeline_evaluate(const std::vector<sim::Measurement>& rows, const sim::Machine& m);

/// The same report with every problem predicted by a preset fitted (from `start`) to the other
/// problems' rows only: how well the model predicts a problem it was not fitted to.
std::string timeline_holdout(const std::vector<sim::Measurement>& rows, const sim::Machine& start, int iterations);

/// Why stream-K wins or loses on this problem and card: waves, tail, splits, merge cost.
std::string explain(const Problem& p, const sim::Machine& m);

}  // namespace lean::tools
