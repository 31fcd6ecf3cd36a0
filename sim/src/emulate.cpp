#include "lean/sim/emulate.hpp"

#include <cmath>
#include <limits>

#include "lean/numerics.hpp"
#include "lean/sim/compare.hpp"

namespace lean::sim {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr float kLn2 = 0.6931471805599453f;

/// Tensor-core dot product: exact products, summed per 16-wide k-chunk, chunks added in fp32.
float mma_dot(const float* a, const float* b, int n) {
  float acc = 0.f;
  for (int k0 = 0; k0 < n; k0 += 16) {
    double chunk = 0;
    for (int k = k0; k < k0 + 16 && k < n; ++k) chunk += double(a[k]) * double(b[k]);
    acc += static_cast<float>(chunk);
  }
  return acc;
}

/// One warp's running state for `rows` rows over its token slices.
struct WarpState {
  std::vector<float> m, l, acc;  // [rows], [rows], [rows, D]
  WarpState(int rows, int D) : m(rows, kNegInf), l(rows, 0.f), acc(size_t(rows) * D, 0.f) {}
};

/// The kernels' merge of n partials (decode_kernel.cuh and combine.cu, passes 1 and 2): one warp
/// per row reduces the LSEs with lanes striding over contributors and an xor butterfly; the
/// weighted sum of O is split into `groups` contiguous contributor blocks added in block order,
/// `groups` set by how many output float4s one CTA of `threads` merges (`block_rows` rows of D).
template <typename LseOf, typename OOf>
void merge_like_kernel(int n, LseOf lse_of, OOf o_of, int g, int D, int block_rows, int threads, float* lse, float* o) {
  const int chunks = block_rows * (D / 4);
  const int groups = std::max(1, std::min(threads / chunks, n));
  for (int r = 0; r < g; ++r) {
    float m = kNegInf;
    for (int j = 0; j < n; ++j) m = std::max(m, lse_of(j)[r]);
    float L = kNegInf;
    if (m != kNegInf) {
      float lane[32] = {};
      for (int j = 0; j < n; ++j) lane[j % 32] += std::exp(lse_of(j)[r] - m);
      for (int off = 16; off > 0; off >>= 1) {
        float next[32];
        for (int l = 0; l < 32; ++l) next[l] = lane[l] + lane[l ^ off];
        std::copy(next, next + 32, lane);
      }
      L = m + std::log(lane[0]);
    }
    lse[r] = L;
    for (int d = 0; d < D; ++d) {
      float total = 0.f;
      for (int grp = 0; grp < groups; ++grp) {
        float acc = 0.f;
        if (L != kNegInf)
          for (int j = grp * n / groups; j < (grp + 1) * n / groups; ++j) acc += std::exp(lse_of(j)[r] - L) * o_of(j)[r * D + d];
        total = grp == 0 ? acc : total + acc;
      }
      o[r * D + d] = total;
    }
  }
}

}  // namespace

Output emulate_kernel(const Inputs& in, const Schedule& s) {
  const Problem& p = in.problem();
  const int g = s.unit_rows, D = p.head_dim;  // a unit's query heads
  const int wpm = KernelShape::kWarps / KernelShape::m_tiles(g), wt = KernelShape::warp_tokens(g);
  const float scale_log2 = static_cast<float>(p.softmax_scale() * 1.4426950408889634);
  std::vector<std::vector<float>> part_o(s.num_partial_slots()), part_lse(s.num_partial_slots());
  Output out;
  out.o.assign(size_t(p.batch) * p.num_q_heads * D, 0.0);
  out.lse.assign(size_t(p.batch) * p.num_q_heads, -std::numeric_limits<double>::infinity());
  auto store_final = [&](const Unit& un, const float* o, const float* lse) {
    for (int r = 0; r < g; ++r) {
      const size_t row = size_t(un.seq) * p.num_q_heads + size_t(un.q_head0) + r;
      out.lse[row] = lse[r];
      for (int d = 0; d < D; ++d) out.o[row * D + d] = round_to(o[r * D + d], p.dtype);
    }
  };

#pragma omp parallel for schedule(dynamic, 1)
  for (int32_t c = 0; c < s.num_ctas; ++c) {
    std::vector<float> q(size_t(g) * D), k(size_t(KernelShape::kTile) * D), v(k.size()), sc(wt);
    for (const Segment& seg : segments_of(s, c)) {
      const Unit un = s.unit(seg.unit);
      const auto [t_begin, t_end] = s.tokens_of(seg, un);
      for (int r = 0; r < g; ++r) in.q(un.seq, un.q_head0 + r, q.data() + size_t(r) * D);
      std::vector<WarpState> warps(wpm, WarpState(g, D));
      for (int t0 = t_begin; t0 < t_end; t0 += KernelShape::kTile) {
        const int n = std::min(KernelShape::kTile, t_end - t0);
        in.kv(Tensor::k, un.seq, un.head, t0, n, k.data());
        in.kv(Tensor::v, un.seq, un.head, t0, n, v.data());
        for (int w = 0; w < wpm; ++w) {
          WarpState& st = warps[w];
          const int lo = w * wt, hi = std::min(n, lo + wt);  // this warp's tokens in the stage
          for (int r = 0; r < g; ++r) {
            float mx = kNegInf;
            for (int j = lo; j < hi; ++j) {
              sc[j - lo] = mma_dot(q.data() + size_t(r) * D, k.data() + size_t(j) * D, D) * scale_log2;
              mx = std::max(mx, sc[j - lo]);
            }
            const float m_new = std::max(st.m[r], mx);
            const float m_use = m_new == kNegInf ? 0.f : m_new;
            const float alpha = std::exp2(st.m[r] - m_use);
            st.m[r] = m_new;
            st.l[r] *= alpha;
            float* acc = st.acc.data() + size_t(r) * D;
            for (int d = 0; d < D; ++d) acc[d] *= alpha;
            for (int j = lo; j < hi; ++j) {
              sc[j - lo] = std::exp2(sc[j - lo] - m_use);
              st.l[r] += sc[j - lo];
            }
            // P V per 16-token k-chunk with P rounded to the element type
            for (int j0 = lo; j0 < hi; j0 += 16)
              for (int d = 0; d < D; ++d) {
                double chunk = 0;
                for (int j = j0; j < j0 + 16 && j < hi; ++j)
                  chunk += double(round_to(sc[j - lo], p.dtype)) * double(v[size_t(j) * D + d]);
                acc[d] += static_cast<float>(chunk);
              }
          }
        }
      }
      // warp merge in warp order
      std::vector<float> o(size_t(g) * D, 0.f), lse(g);
      for (int r = 0; r < g; ++r) {
        float M = kNegInf, L = 0.f;
        for (const WarpState& st : warps) M = std::max(M, st.m[r]);
        for (const WarpState& st : warps) L += st.m[r] == kNegInf ? 0.f : st.l[r] * std::exp2(st.m[r] - M);
        for (int w = 0; w < wpm; ++w) {
          const float f = warps[w].m[r] == kNegInf ? 0.f : std::exp2(warps[w].m[r] - M);
          for (int d = 0; d < D; ++d) o[size_t(r) * D + d] += warps[w].acc[size_t(r) * D + d] * f;
        }
        const float inv = 1.f / L;
        for (int d = 0; d < D; ++d) o[size_t(r) * D + d] *= inv;
        lse[r] = (M + std::log2(L)) * kLn2;
      }
      if (seg.complete) {
        store_final(un, o.data(), lse.data());
      } else {
        part_o[s.partial_slot(c, seg.unit)] = std::move(o);
        part_lse[s.partial_slot(c, seg.unit)] = std::move(lse);
      }
    }
  }
  const int merge_threads = s.merge_threads(D);
  for (const SplitUnit& su : s.split_units()) {  // the merge kernel's list
    const int32_t u = su.unit, first = su.first_cta;
    std::vector<float> o(size_t(g) * D), lse(g);
    merge_in_schedule_order<float>(
        s, u, g, D, [&](int j) -> const float* { return part_lse[s.partial_slot(first + j, u)].data(); },
        [&](int j) -> const float* { return part_o[s.partial_slot(first + j, u)].data(); }, lse.data(), o.data(),
        [&](int k, auto lse_of, auto o_of, float* ml, float* mo) {
          // combine.cu: one row per CTA of merge_threads; in-kernel: the group's rows, kThreads
          merge_like_kernel(k, lse_of, o_of, g, D, s.separate_merge ? 1 : g, s.separate_merge ? merge_threads : KernelShape::kThreads,
                            ml, mo);
        });
    store_final(s.unit(u), o.data(), lse.data());
  }
  return out;
}

Output naive_float32(const Inputs& in) {
  const Problem& p = in.problem();
  const int g = p.group_size(), D = p.head_dim;
  const float scale = static_cast<float>(p.softmax_scale());
  Output out;
  out.o.assign(size_t(p.batch) * p.num_q_heads * D, 0.0);
  out.lse.assign(size_t(p.batch) * p.num_q_heads, -std::numeric_limits<double>::infinity());
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t u = 0; u < int64_t(p.batch) * p.num_kv_heads; ++u) {
    const int b = static_cast<int>(u / p.num_kv_heads), kh = static_cast<int>(u % p.num_kv_heads);
    const int64_t len = p.seq_lens[b];
    if (len == 0) continue;
    std::vector<float> q(D), k(size_t(len) * D), v(size_t(len) * D), s(len);
    in.kv(Tensor::k, b, kh, 0, static_cast<int>(len), k.data());
    in.kv(Tensor::v, b, kh, 0, static_cast<int>(len), v.data());
    for (int r = 0; r < g; ++r) {
      in.q(b, kh * g + r, q.data());
      float m = kNegInf;
      for (int64_t t = 0; t < len; ++t) {
        float dot = 0.f;
        for (int d = 0; d < D; ++d) dot += q[d] * k[t * D + d];
        s[t] = dot * scale;
        m = std::max(m, s[t]);
      }
      float l = 0.f;
      std::vector<float> acc(D, 0.f);
      for (int64_t t = 0; t < len; ++t) {
        const float e = std::exp(s[t] - m);
        l += e;
        for (int d = 0; d < D; ++d) acc[d] += e * v[t * D + d];
      }
      const size_t row = size_t(b) * p.num_q_heads + size_t(kh) * g + r;
      out.lse[row] = m + std::log(l);
      for (int d = 0; d < D; ++d) out.o[row * D + d] = round_to(acc[d] / l, p.dtype);
    }
  }
  return out;
}

Tolerance gpu_tolerance(const Inputs& in, const Schedule& s, const Output& expected) {
  const Problem& p = in.problem();
  const Output emu = emulate_kernel(in, s), naive = naive_float32(in);
  const double o = std::max({compare(emu.o, expected.o, p.head_dim).max_err, compare(naive.o, expected.o, p.head_dim).max_err,
                             unit_roundoff(p.dtype)});
  // LSE floor: 4 float32 ulps of the largest |LSE|. Its scores come from tensor-core sums whose
  // order the emulation approximates, so at |LSE| ~ 500 (stress inputs) the two may differ by an
  // ulp (6e-5) where the emulation happened to round exactly.
  double lse_mag = 0;
  for (double l : expected.lse)
    if (std::isfinite(l)) lse_mag = std::max(lse_mag, std::abs(l));
  const double lse = std::max({compare_lse(emu.lse, expected.lse).max_err, compare_lse(naive.lse, expected.lse).max_err, 1e-6,
                               4 * lse_mag * std::numeric_limits<float>::epsilon()});
  return Tolerance{2 * o, 2 * lse};
}

}  // namespace lean::sim
