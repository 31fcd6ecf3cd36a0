#include <catch2/catch.hpp>

#include <random>

#include "lean/generator.hpp"
#include "lean/numerics.hpp"

using namespace lean;

TEST_CASE("every fp16 and bf16 bit pattern converts to float and back exactly", "[cpu][numerics]") {
  for (uint32_t b = 0; b < 65536; ++b) {
    const uint16_t bits = static_cast<uint16_t>(b);
    const float h = half_bits_to_float(bits), f = bf16_bits_to_float(bits);
    if (!std::isnan(h)) REQUIRE(float_to_half_bits(h) == bits);
    else REQUIRE(std::isnan(half_bits_to_float(float_to_half_bits(h))));
    if (!std::isnan(f)) REQUIRE(float_to_bf16_bits(f) == bits);
  }
  REQUIRE(half_bits_to_float(0x3c00) == 1.0f);
  REQUIRE(half_bits_to_float(0x0001) == std::ldexp(1.0f, -24));  // smallest subnormal
  REQUIRE(half_bits_to_float(0x7bff) == 65504.0f);
}

TEST_CASE("float rounds to the nearest representable element, ties to even", "[cpu][numerics]") {
  std::mt19937_64 rng(Catch::rngSeed());
  for (DType t : {DType::fp16, DType::bf16}) {
    for (int i = 0; i < 200000; ++i) {
      uint32_t u = static_cast<uint32_t>(rng());
      u = (u & 0x80000000U) | ((u & 0x7fffffffU) % 0x477fe000U);  // finite, below the fp16 overflow edge
      float x;
      std::memcpy(&x, &u, 4);
      const uint16_t r = float_to_bits(x, t);
      const double err = std::fabs(double(bits_to_float(r, t)) - x);
      // neither neighbour of r is closer (neighbours by bit pattern, same sign)
      for (int step : {-1, 1}) {
        const uint16_t nb = static_cast<uint16_t>(r + step);
        if ((nb & 0x7fff) == 0x7fff || ((r & 0x7fff) == 0 && step < 0)) continue;
        const float v = bits_to_float(nb, t);
        if (!std::isfinite(v)) continue;
        INFO(to_string(t) << " x=" << x);
        REQUIRE(err <= std::fabs(double(v) - x));
      }
    }
    // ties go to the even mantissa
    const float one = 1.0f, half_ulp = t == DType::fp16 ? std::ldexp(1.0f, -11) : std::ldexp(1.0f, -8);
    REQUIRE(round_to(one + half_ulp, t) == one);
    REQUIRE(round_to(one + 3 * half_ulp, t) == one + 4 * half_ulp);
  }
}

TEST_CASE("the generator makes exact, finite, non-zero, well-spread values", "[cpu][generator]") {
  for (DType t : {DType::fp16, DType::bf16}) {
    Problem p = make_uniform(2, 4, 2, 128, 100);
    p.dtype = t;
    const InputGenerator g = make_generator(p, 12345, InputMode::normal);
    double sum = 0, sum_sq = 0;
    int n = 0, positive = 0;
    for (int b = 0; b < 2; ++b)
      for (int h = 0; h < 2; ++h)
        for (int tok = 0; tok < 100; ++tok)
          for (int d = 0; d < 128; ++d) {
            const uint16_t bits = g.k(b, h, tok, d);
            const float x = bits_to_float(bits, t);
            REQUIRE(std::isfinite(x));
            REQUIRE(std::fabs(x) >= 0.125f);
            REQUIRE(std::fabs(x) < 2.0f);
            REQUIRE(float_to_bits(x, t) == bits);  // exactly representable
            const uint32_t tk = InputGenerator::token_key(g.row_key(Tensor::k, b, h), tok);
            REQUIRE(g.float_of(InputGenerator::elem_hash(tk, d), g.exp_shift(Tensor::k, tk)) == x);
            sum += x, sum_sq += x * x, positive += x > 0, ++n;
          }
    INFO(to_string(t));
    CHECK(std::fabs(sum / n) < 0.02);
    CHECK(std::fabs(double(positive) / n - 0.5) < 0.01);
    CHECK(sum_sq / n > 0.3);
    // deterministic and seed-dependent
    REQUIRE(g.v(1, 1, 7, 3) == make_generator(p, 12345, InputMode::normal).v(1, 1, 7, 3));
    int same = 0;
    const InputGenerator g2 = make_generator(p, 12346, InputMode::normal);
    for (int d = 0; d < 128; ++d) same += g.q(0, 0, d) == g2.q(0, 0, d);
    CHECK(same < 8);
  }
}

TEST_CASE("stress mode has large queries and outlier key rows", "[cpu][generator]") {
  const Problem p = make_uniform(1, 1, 1, 64, 4096);
  const InputGenerator g = make_generator(p, 7, InputMode::stress);
  float qmax = 0;
  for (int d = 0; d < 64; ++d) qmax = std::max(qmax, std::fabs(half_bits_to_float(g.q(0, 0, d))));
  CHECK(qmax >= 16.0f);
  int outliers = 0;
  for (int t = 0; t < 4096; ++t) outliers += g.exp_shift(Tensor::k, InputGenerator::token_key(g.row_key(Tensor::k, 0, 0), t)) > 0;
  CHECK(outliers > 4096 / 32);
  CHECK(outliers < 4096 / 8);
}

TEST_CASE("merge is commutative and associative in float64, empty states included", "[cpu][numerics]") {
  std::mt19937_64 rng(Catch::rngSeed() + 5);
  std::uniform_real_distribution<double> U(-1, 1);
  const int rows = 3, d = 16;
  struct S { std::vector<double> lse, o; };
  auto random_state = [&](int kind) {
    S s{std::vector<double>(rows), std::vector<double>(rows * d)};
    for (int r = 0; r < rows; ++r) {
      s.lse[r] = kind == 0 ? -INFINITY : kind == 1 ? 2.5 : 40 * U(rng);  // empty, equal maxima, random
      for (int j = 0; j < d; ++j) s.o[r * d + j] = kind == 0 ? 0.0 : U(rng);
    }
    return s;
  };
  auto merged = [&](S a, const S& b) {
    merge_into(a.lse.data(), a.o.data(), b.lse.data(), b.o.data(), rows, d);
    return a;
  };
  auto close = [&](const S& x, const S& y) {
    for (int r = 0; r < rows; ++r) {
      if (std::isinf(x.lse[r]) || std::isinf(y.lse[r])) REQUIRE(x.lse[r] == y.lse[r]);
      else REQUIRE(x.lse[r] == Approx(y.lse[r]).epsilon(1e-14).margin(1e-14));
      for (int j = 0; j < d; ++j) REQUIRE(x.o[r * d + j] == Approx(y.o[r * d + j]).epsilon(1e-13).margin(1e-14));
    }
  };
  for (int trial = 0; trial < 500; ++trial) {
    const S a = random_state(int(rng() % 3)), b = random_state(int(rng() % 3)), c = random_state(int(rng() % 3));
    close(merged(a, b), merged(b, a));
    close(merged(merged(a, b), c), merged(a, merged(b, c)));
    for (double x : merged(a, b).o) REQUIRE(std::isfinite(x));
  }
  // merging with an empty state is the identity
  const S a = random_state(2), e = random_state(0);
  close(merged(a, e), a);
  close(merged(e, a), a);
}
