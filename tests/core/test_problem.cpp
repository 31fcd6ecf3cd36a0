#include <catch2/catch.hpp>

#include "lean/problem.hpp"

using namespace lean;

TEST_CASE("every invalid problem is rejected with a message naming the field", "[cpu][problem]") {
  const Problem good = make_uniform(2, 8, 2, 128, 1000);
  REQUIRE(problem_error(good).empty());
  auto expect = [](Problem p, const char* needle) {
    INFO(needle);
    REQUIRE_THROWS_WITH(validate(p), Catch::Contains(needle));
  };
  Problem p = good;
  p.batch = 0, p.seq_lens.clear();
  expect(p, "batch");
  p = good, p.num_q_heads = 0;
  expect(p, "num_q_heads");
  p = good, p.num_kv_heads = 0;
  expect(p, "num_kv_heads");
  p = good, p.num_kv_heads = 3;
  expect(p, "must divide num_q_heads");
  p = good, p.num_q_heads = 2 * 128;
  expect(p, "group");
  for (int d : {0, 32, 96, 100, 512}) {
    p = good, p.head_dim = d;
    expect(p, "head_dim");
  }
  p = good, p.tile_kv = 0;
  expect(p, "tile_kv");
  p = good, p.tile_kv = kMaxTileKv + 1;
  expect(p, "tile_kv");
  p = good, p.scale = -1;
  expect(p, "scale");
  p = good, p.scale = std::nan("");
  expect(p, "scale");
  p = good, p.seq_lens = {1000};
  expect(p, "seq_lens has 1 entries");
  p = good, p.seq_lens = {1000, -5};
  expect(p, "seq_lens[1] is negative");
  p = good, p.seq_lens = {int64_t(1) << 31, 5};
  expect(p, "seq_lens[0]");
  // tiles that overflow the 32-bit linear index: 64 heads x 2^30 tokens / tile 1
  p = make_uniform(4, 64, 64, 128, int64_t(1) << 30);
  p.tile_kv = 1;
  expect(p, "overflows the 32-bit linear tile index");
  // Q/O elements that overflow 32-bit indices
  p = make_uniform(1 << 20, 64, 64, 128, 1);
  expect(p, "overflows 32-bit element indices");
}

TEST_CASE("zero-length sequences are valid and produce no tiles", "[cpu][problem]") {
  Problem p = make_uniform(3, 4, 2, 64, 0);
  p.seq_lens = {0, 65, 0};
  REQUIRE(problem_error(p).empty());
  REQUIRE(p.total_tiles() == 2 * 2);
  REQUIRE(p.tiles_of(0) == 0);
}

TEST_CASE("names parse and print", "[cpu][problem]") {
  REQUIRE(parse_dtype("bf16") == DType::bf16);
  REQUIRE_THROWS_WITH(parse_dtype("fp8"), Catch::Contains("fp16 or bf16"));
  const Problem p = make_uniform(1, 32, 8, 128, 4096);
  REQUIRE(describe(p) == "b=1 hq=32 hk=8 d=128 fp16 tile=64 ctx=4096");
  REQUIRE(p.softmax_scale() == Approx(1.0 / std::sqrt(128.0)));
  REQUIRE(p.kv_bytes() == 2.0 * 2 * 4096 * 8 * 128);
}
