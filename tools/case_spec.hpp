// A problem plus how to plan and generate it: shared by the CLI flags and golden/cases.txt.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lean/generator.hpp"
#include "lean/schedule.hpp"

namespace lean::tools {

struct CaseSpec {
  std::string name = "default";
  Problem problem;
  uint64_t seed = 1;
  InputMode mode = InputMode::normal;
  Policy policy = Policy::stream_k;
  int grid = 0;              // stream-k: CTAs (0 = 132 * 2, an H100 at two CTAs per SM); fixed-split: S
  CtaRanges ranges = CtaRanges::even;  // stream-k: big-first matches kernels that give the first CTAs the extra tile (CUTLASS)
  std::string store = "auto";  // inputs in golden files: yes | no | auto (when K/V are small)
  int resolved_grid() const;
  bool store_inputs() const;
};

/// Sequence lengths from "4096", "1,17,0,4096" or "random:lo:hi" (drawn from `seed`).
std::vector<int64_t> parse_lens(const std::string& spec, int batch, uint64_t seed);

/// key=value pairs (b hq hk d dtype lens tile page scale seed mode policy grid ranges store) over defaults.
CaseSpec case_from_pairs(const std::map<std::string, std::string>& kv);
/// One manifest line: "name key=value ...". Throws lean::Error naming the bad key.
CaseSpec parse_case_line(const std::string& line);
std::vector<CaseSpec> read_manifest(const std::string& path);

}  // namespace lean::tools
