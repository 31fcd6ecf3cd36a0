// Golden test vectors in HDF5, schema version 3 (golden/README.md documents every field).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lean/generator.hpp"
#include "lean/schedule.hpp"
#include "lean/sim/oracle.hpp"

namespace lean::golden {

inline constexpr const char* kMagic = "LEANATTN-GOLDEN";
inline constexpr int kSchemaVersion = 3;
/// Version 1 files (no /schedule unit_pad, so none) and version 2 files (no /schedule cta_ranges:
/// big-first ranges, the planner's before version 3) are still read.
inline constexpr int kOldestSchemaVersion = 1;

/// Everything a golden file holds. Schedule fields are what the writer planned; the reader
/// re-plans from (problem, policy, grid, unit_pad, cta_ranges) and refuses a file whose table disagrees.
struct Case {
  std::string name;
  Problem problem;
  uint64_t seed = 0;
  InputMode mode = InputMode::normal;
  std::string generator = kGeneratorId;
  Policy policy = Policy::stream_k;
  int grid = 1;  // num_ctas for stream-k, num_splits for fixed-split, unused for no-split
  int unit_pad = 0;  // Schedule::unit_pad the case was planned with
  CtaRanges cta_ranges = CtaRanges::even;  // Schedule::cta_ranges the case was planned with
  std::optional<sim::StoredTensors> inputs;  // stored for small cases only
  std::vector<sim::Partial> partials;        // every (cta, unit) segment, ordered by (unit, cta)
  sim::Output expected;                      // float64 replay
  std::string writer_version;                // project version and git sha of the writer
};

/// Computes a case with the float64 replay; stores inputs when `store_inputs`. `ranges`: how
/// stream-K's CTA ranges are cut (big-first for a kernel that gives its first CTAs the extra tile).
Case make_case(std::string name, const Problem& p, uint64_t seed, InputMode mode, Policy policy, int grid,
               bool store_inputs, const sim::Progress& progress = {}, CtaRanges ranges = CtaRanges::even);

/// The plan the case was computed with.
Plan plan_of(const Case& c);

/// Writes to "<path>.tmp-<pid>", then renames, so a crash never leaves a file that looks valid.
void write(const std::string& path, const Case& c);

/// Reads and checks a file; throws lean::Error naming the file and the problem for anything
/// malformed, truncated, of another magic or schema version, or inconsistent.
Case read(const std::string& path);

/// The Inputs a case describes: stored tensors when present, else the generator.
std::unique_ptr<sim::Inputs> inputs_of(const Case& c);

std::string project_version();  // "0.1.0+<git sha>"

}  // namespace lean::golden
