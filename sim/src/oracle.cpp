#include "lean/sim/oracle.hpp"

#include <Eigen/Dense>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>

#include "lean/numerics.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace lean::sim {
namespace {

using Mat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr int kChunk = 256;  // tokens per streamed block in the naive reference

/// The group's query rows of one unit, in float64.
/// Query heads h0 .. h0 + rows - 1 of sequence b: [rows, D]
Mat load_queries(const Inputs& in, int b, int h0, int rows) {
  MatF qf(rows, in.problem().head_dim);
  for (int r = 0; r < rows; ++r) in.q(b, h0 + r, qf.row(r).data());
  return qf.cast<double>();
}

/// Online-softmax state of `rows` query rows over a key range, unnormalised.
struct Online {
  Eigen::VectorXd m, l;  // running max and sum of exp(s - m)
  Mat acc;               // sum of exp(s - m) v
  Online(int rows, int D) : m(Eigen::VectorXd::Constant(rows, kNegInf)), l(Eigen::VectorXd::Zero(rows)), acc(Mat::Zero(rows, D)) {}
  /// Folds in scores s [rows, n] (already scaled) and values v [n, D].
  void add(const Mat& s, const Mat& v) {
    for (int r = 0; r < s.rows(); ++r) {
      const double m_new = std::max(m(r), s.row(r).maxCoeff());
      const double alpha = m(r) == kNegInf ? 0.0 : std::exp(m(r) - m_new);
      m(r) = m_new;
      l(r) *= alpha;
      acc.row(r) *= alpha;
    }
    Mat pm(s.rows(), s.cols());
    for (int r = 0; r < s.rows(); ++r) pm.row(r) = (s.row(r).array() - m(r)).exp().matrix();
    l += pm.rowwise().sum();
    acc.noalias() += pm * v;
  }
  /// Normalised (lse, O); an empty range gives (-inf, 0).
  void finish(double* lse, double* o) const {
    const int D = static_cast<int>(acc.cols());
    for (int r = 0; r < m.size(); ++r) {
      const bool empty = l(r) == 0.0;
      lse[r] = empty ? kNegInf : m(r) + std::log(l(r));
      for (int j = 0; j < D; ++j) o[r * D + j] = empty ? 0.0 : acc(r, j) / l(r);
    }
  }
};

Mat load_rows(const Inputs& in, Tensor t, int b, int kh, int64_t t0, int n, MatF& scratch) {
  scratch.resize(n, in.problem().head_dim);
  in.kv(t, b, kh, t0, n, scratch.data());
  return scratch.cast<double>();
}

}  // namespace

Output naive_attention(const Inputs& in) {
  const Problem& p = in.problem();
  const int g = p.group_size(), D = p.head_dim;
  const double scale = p.softmax_scale();
  Output out;
  out.o.assign(size_t(p.batch) * p.num_q_heads * D, 0.0);
  out.lse.assign(size_t(p.batch) * p.num_q_heads, kNegInf);
  const int64_t units = int64_t(p.batch) * p.num_kv_heads;
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t u = 0; u < units; ++u) {
    const int b = static_cast<int>(u / p.num_kv_heads), kh = static_cast<int>(u % p.num_kv_heads);
    const int64_t len = p.seq_lens[b];
    if (len == 0) continue;
    const Mat q = load_queries(in, b, kh * g, g);
    MatF scratch;
    Mat s(g, len);  // every logit of the group: the naive way
    for (int64_t t0 = 0; t0 < len; t0 += kChunk) {
      const int n = static_cast<int>(std::min<int64_t>(kChunk, len - t0));
      s.middleCols(t0, n).noalias() = scale * (q * load_rows(in, Tensor::k, b, kh, t0, n, scratch).transpose());
    }
    const Eigen::VectorXd m = s.rowwise().maxCoeff();
    for (int r = 0; r < g; ++r) s.row(r) = (s.row(r).array() - m(r)).exp().matrix();
    const Eigen::VectorXd l = s.rowwise().sum();
    Mat acc = Mat::Zero(g, D);
    for (int64_t t0 = 0; t0 < len; t0 += kChunk) {
      const int n = static_cast<int>(std::min<int64_t>(kChunk, len - t0));
      acc.noalias() += s.middleCols(t0, n) * load_rows(in, Tensor::v, b, kh, t0, n, scratch);
    }
    for (int r = 0; r < g; ++r) {
      const size_t row = size_t(b) * p.num_q_heads + kh * g + r;
      out.lse[row] = m(r) + std::log(l(r));
      for (int j = 0; j < D; ++j) out.o[row * D + j] = acc(r, j) / l(r);
    }
  }
  return out;
}

Replay replay(const Inputs& in, const Schedule& s, bool keep_partials, const Progress& progress) {
  const Problem& p = in.problem();
  const int g = s.unit_rows, D = p.head_dim;  // a unit's query heads
  const double scale = p.softmax_scale();
  std::vector<Partial> slots(s.num_partial_slots());
  std::atomic<int64_t> done{0};
  auto last_report = std::chrono::steady_clock::now();

  // step 1: every CTA computes the partial state of each of its segments.
#pragma omp parallel for schedule(dynamic, 1)
  for (int32_t c = 0; c < s.num_ctas; ++c) {
    const TileRange range = s.cta_range(c);
    MatF scratch;
    for (int32_t it = range.begin; it < range.end;) {
      const Segment seg = s.segment_at(c, it, range.end);
      const Unit un = s.unit(seg.unit);
      const Mat q = load_queries(in, un.seq, un.q_head0, g);
      Online st(g, D);
      const TokenRange t = s.tokens_of(seg, un);
      for (int32_t t0 = t.begin; t0 < t.end; t0 += s.tile_kv) {
        const int n = std::min(s.tile_kv, t.end - t0);
        const Mat sc = scale * (q * load_rows(in, Tensor::k, un.seq, un.head, t0, n, scratch).transpose());
        st.add(sc, load_rows(in, Tensor::v, un.seq, un.head, t0, n, scratch));
      }
      Partial& part = slots[s.partial_slot(c, seg.unit)];
      part = Partial{c, seg.unit, seg.begin, seg.end, seg.host, std::vector<double>(g), std::vector<double>(size_t(g) * D)};
      st.finish(part.lse.data(), part.o.data());
      done += seg.end - seg.begin;
      it = seg.next;
    }
#ifdef _OPENMP
    const bool reporter = omp_get_thread_num() == 0;
#else
    const bool reporter = true;
#endif
    if (progress && reporter && std::chrono::steady_clock::now() - last_report > std::chrono::seconds(1)) {
      last_report = std::chrono::steady_clock::now();
      progress(done.load(), s.total_tiles);
    }
  }

  // step 2: per unit, merge the contributors' partials in the kernel's order (host first).
  Replay r;
  r.out.o.assign(size_t(p.batch) * p.num_q_heads * D, 0.0);
  r.out.lse.assign(size_t(p.batch) * p.num_q_heads, kNegInf);
  for (int32_t u = 0; u < s.num_units(); ++u) {
    const int32_t first = s.first_cta(u), k = s.num_contributors(u);
    if (k == 0) continue;  // empty sequence: O = 0, lse = -inf
    const Unit un = s.unit(u);
    const size_t row0 = size_t(un.seq) * p.num_q_heads + size_t(un.q_head0);
    double* lse = r.out.lse.data() + row0;
    double* o = r.out.o.data() + row0 * D;
    merge_in_schedule_order<double>(
        s, u, g, D, [&](int j) -> const double* { return slots[s.partial_slot(first + j, u)].lse.data(); },
        [&](int j) -> const double* { return slots[s.partial_slot(first + j, u)].o.data(); }, lse, o,
        [&](int n, auto lse_of, auto o_of, double* ml, double* mo) { merge_states<double>(n, lse_of, o_of, g, D, ml, mo); });
  }
  if (keep_partials)
    for (Partial& pc : slots)
      if (!pc.lse.empty()) r.partials.push_back(std::move(pc));
  if (progress) progress(s.total_tiles, s.total_tiles);
  return r;
}

}  // namespace lean::sim
