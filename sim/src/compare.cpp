#include "lean/sim/compare.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace lean::sim {
namespace {

/// Shared loop: err_of(i, scale) gives element i's error, or +inf for a NaN/Inf mismatch.
template <typename ScaleOf, typename ErrOf>
ErrorStats accumulate(const std::vector<double>& x, const std::vector<double>& ref, int width, ScaleOf scale_of, ErrOf err_of) {
  if (x.size() != ref.size() || width < 1 || ref.size() % width != 0)
    throw std::invalid_argument("compare: sizes differ or width does not divide them");
  ErrorStats e;
  e.count = static_cast<int64_t>(x.size());
  double num = 0, den = 0;
  for (size_t row = 0; row < ref.size(); row += width) {
    const double scale = scale_of(row);
    for (int j = 0; j < width; ++j) {
      const size_t i = row + j;
      double err = 0;
      if (!std::isfinite(x[i]) || !std::isfinite(ref[i])) {
        err = x[i] == ref[i] ? 0.0 : INFINITY;
        e.nonfinite += err != 0;
      } else {
        err = err_of(i, scale);
        num += (x[i] - ref[i]) * (x[i] - ref[i]);
        den += ref[i] * ref[i];
      }
      if (e.worst < 0 || err > e.max_err) e.max_err = err, e.worst = static_cast<int64_t>(i);
    }
  }
  e.rel_l2 = den > 0 ? std::sqrt(num / den) : std::sqrt(num);
  return e;
}

}  // namespace

std::string ErrorStats::str() const {
  std::ostringstream o;
  o << "max_err=" << max_err << " rel_l2=" << rel_l2 << " worst=" << worst << " nonfinite=" << nonfinite << " n=" << count;
  return o.str();
}

ErrorStats compare(const std::vector<double>& x, const std::vector<double>& ref, int width) {
  return accumulate(
      x, ref, width,
      [&](size_t row) {
        double s = 0;
        for (int j = 0; j < width; ++j)
          if (std::isfinite(ref[row + j])) s = std::max(s, std::fabs(ref[row + j]));
        return s;
      },
      [&](size_t i, double scale) {
        const double denom = std::fabs(ref[i]) + scale;
        const double d = std::fabs(x[i] - ref[i]);
        return denom > 0 ? d / denom : d;
      });
}

ErrorStats compare_lse(const std::vector<double>& x, const std::vector<double>& ref) {
  return accumulate(
      x, ref, 1, [](size_t) { return 0.0; }, [&](size_t i, double) { return std::fabs(x[i] - ref[i]); });
}

}  // namespace lean::sim
