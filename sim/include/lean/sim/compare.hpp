// Error of an output against a float64 reference, every element checked.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lean::sim {

/// Element error is |x - ref| / (|ref| + row_scale), where row_scale is the largest |ref| in
/// that element's row (one head's D outputs). O is a convex combination of V rows, so rounding
/// errors scale with the row's magnitude, not with an element that happens to cancel to ~0;
/// this is relative error for large elements and row-relative absolute error for small ones.
struct ErrorStats {
  double max_err = 0;       // worst element error as defined above
  double rel_l2 = 0;        // ||x - ref|| / ||ref|| over the whole tensor
  int64_t worst = -1;       // index of the worst element
  int64_t nonfinite = 0;    // NaN/Inf in x where ref is finite, or vice versa mismatched
  int64_t count = 0;
  std::string str() const;
};

/// x and ref are [rows, width] (width = D for O, 1 for LSE: then the scale is |ref| itself).
ErrorStats compare(const std::vector<double>& x, const std::vector<double>& ref, int width);
/// LSE: absolute error (an LSE error e is a relative error e of the softmax weights); -inf must
/// match -inf exactly.
ErrorStats compare_lse(const std::vector<double>& x, const std::vector<double>& ref);

}  // namespace lean::sim
