#include <catch2/catch.hpp>
#include <omp.h>

#include <random>

#include "lean/numerics.hpp"
#include "lean/sim/compare.hpp"
#include "lean/sim/emulate.hpp"
#include "lean/sim/oracle.hpp"
#include "random_problem.hpp"

using namespace lean;

namespace {

/// Attention of one query row straight from the definition: exp of each logit over the sum.
void definition(const sim::Inputs& in, int b, int qh, std::vector<double>& o, double& lse) {
  const Problem& p = in.problem();
  const int D = p.head_dim, kh = qh / p.group_size();
  const int64_t len = p.seq_lens[b];
  std::vector<float> q(D), k(size_t(len) * D), v(size_t(len) * D);
  in.q(b, qh, q.data());
  in.kv(Tensor::k, b, kh, 0, int(len), k.data());
  in.kv(Tensor::v, b, kh, 0, int(len), v.data());
  std::vector<long double> s(len);
  long double mx = -INFINITY, z = 0;
  for (int64_t t = 0; t < len; ++t) {
    long double dot = 0;
    for (int d = 0; d < D; ++d) dot += (long double)q[d] * k[t * D + d];
    s[t] = dot * p.softmax_scale();
    mx = std::max(mx, s[t]);
  }
  for (int64_t t = 0; t < len; ++t) z += std::exp(s[t] - mx);
  o.assign(D, 0.0);
  for (int d = 0; d < D; ++d) {
    long double acc = 0;
    for (int64_t t = 0; t < len; ++t) acc += std::exp(s[t] - mx) / z * v[t * D + d];
    o[d] = double(acc);
  }
  lse = len ? double(mx + std::log(z)) : -INFINITY;
}

}  // namespace

TEST_CASE("the naive float64 reference matches the definition", "[cpu][sim]") {
  std::mt19937_64 rng(Catch::rngSeed());
  for (int trial = 0; trial < 6; ++trial) {
    const Problem p = test::random_problem(rng, 3, 700);
    const sim::GeneratedInputs in(p, rng(), trial % 2 ? InputMode::stress : InputMode::normal);
    const sim::Output out = sim::naive_attention(in);
    std::vector<double> o;
    double lse;
    for (int b = 0; b < p.batch; ++b)
      for (int qh = 0; qh < p.num_q_heads; ++qh) {
        const size_t row = size_t(b) * p.num_q_heads + qh;
        if (p.seq_lens[b] == 0) {
          REQUIRE(out.lse[row] == -INFINITY);
          for (int d = 0; d < p.head_dim; ++d) REQUIRE(out.o[row * p.head_dim + d] == 0.0);
          continue;
        }
        definition(in, b, qh, o, lse);
        const std::vector<double> got(out.o.begin() + row * p.head_dim, out.o.begin() + (row + 1) * p.head_dim);
        REQUIRE(sim::compare(got, o, p.head_dim).max_err < 1e-13);
        REQUIRE(out.lse[row] == Approx(lse).epsilon(1e-14).margin(1e-12));
      }
  }
}

TEST_CASE("the stream-K replay agrees with naive attention to 1e-12 for every grid from 1 to 264", "[cpu][sim]") {
  std::mt19937_64 rng(Catch::rngSeed() + 1);
  Problem p = make_uniform(4, 6, 2, 64, 0);
  p.seq_lens = {0, 1, 1000, 203};
  p.tile_kv = 16;
  for (InputMode mode : {InputMode::normal, InputMode::stress}) {
    const sim::GeneratedInputs in(p, rng(), mode);
    const sim::Output ref = sim::naive_attention(in);
    double worst = 0;
    auto check = [&](Policy pol, int n, int fanin = -1, int row_split = 1) {
      const Plan plan = make_plan(p, pol, n, fanin, row_split);
      const sim::Replay r = sim::replay(in, plan.view(), false);
      const double e = std::max(sim::compare(r.out.o, ref.o, p.head_dim).max_err, sim::compare_lse(r.out.lse, ref.lse).max_err);
      INFO(to_string(pol) << " n=" << n);
      REQUIRE(e <= 1e-12);
      worst = std::max(worst, e);
    };
    for (int g = 1; g <= 264; ++g) check(Policy::stream_k, g);
    for (int g = 1; g <= 264; g += 7) check(Policy::stream_k, g, 1 + g % 5);  // two-level merges
    for (int g = 1; g <= 264; g += 5) check(Policy::stream_k, g, g % 2 ? -1 : 1 + g % 5, 3);  // units of one query head
    for (int s = 1; s <= 16; ++s) check(Policy::fixed_split, s);
    for (int s = 2; s <= 16; ++s) check(Policy::fixed_split, s, 2);
    check(Policy::no_split, 0);
    std::printf("replay vs naive (%s), worst over all grids: %.2e\n", to_string(mode), worst);
  }
}

TEST_CASE("replay keeps every partial and its bits do not depend on the thread count", "[cpu][sim]") {
  std::mt19937_64 rng(Catch::rngSeed() + 2);
  const Problem p = test::random_problem(rng, 5, 3000);
  const sim::GeneratedInputs in(p, rng(), InputMode::normal);
  const Plan plan = make_plan(p, Policy::stream_k, 37);
  const Schedule s = plan.view();
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const sim::Replay one = sim::replay(in, s);
  omp_set_num_threads(std::max(2, saved));
  const sim::Replay many = sim::replay(in, s);
  omp_set_num_threads(saved);
  REQUIRE(one.out.o == many.out.o);
  REQUIRE(one.out.lse == many.out.lse);
  size_t segments = 0;
  for (int32_t c = 0; c < s.num_ctas; ++c) segments += segments_of(s, c).size();
  REQUIRE(one.partials.size() == segments);
  for (size_t i = 1; i < one.partials.size(); ++i) {
    const auto &a = one.partials[i - 1], &b = one.partials[i];
    REQUIRE(std::make_pair(a.unit, a.cta) < std::make_pair(b.unit, b.cta));
  }
}

TEST_CASE("the kernel emulation stays within its stated tolerance of float64", "[cpu][sim]") {
  std::mt19937_64 rng(Catch::rngSeed() + 3);
  double worst = 0;
  for (int trial = 0; trial < 8; ++trial) {
    Problem p = test::random_problem(rng, 3, 1500);
    p.tile_kv = 64 * (1 + int(rng() % 2));
    const sim::GeneratedInputs in(p, rng(), trial % 2 ? InputMode::stress : InputMode::normal);
    const sim::Output ref = sim::naive_attention(in);
    const int row_split = p.group_size() % 2 == 0 && trial % 4 < 2 ? 2 : 1;  // row blocks: a 1-m-tile kernel for groups of 32
    const Plan plan = make_plan(p, Policy::stream_k, 1 + int(rng() % 40), trial % 2 ? 2 + int(rng() % 4) : -1, row_split);
    const sim::Output emu = sim::emulate_kernel(in, plan.view());
    const sim::ErrorStats eo = sim::compare(emu.o, ref.o, p.head_dim), el = sim::compare_lse(emu.lse, ref.lse);
    INFO(describe(p) << " O " << eo.str() << " LSE " << el.str());
    // P and O are rounded to the element type: 2 unit roundoffs of it bound the O error
    REQUIRE(eo.max_err <= 2 * unit_roundoff(p.dtype));
    REQUIRE(el.max_err <= 1e-4);  // float32 sums of up to a few thousand terms
    worst = std::max(worst, eo.max_err);
  }
  REQUIRE(worst > 0);  // it is not secretly float64
}
