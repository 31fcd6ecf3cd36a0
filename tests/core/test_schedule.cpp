#include <catch2/catch.hpp>

#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "lean/schedule.hpp"
#include "random_problem.hpp"

using namespace lean;

namespace {

/// Checks every structural property of a schedule against first principles.
void check_schedule(const Problem& p, const Schedule& s) {
  INFO(describe(p) << " " << s.print());
  // the line: every unit's tiles, each non-empty unit preceded by unit_pad idle tiles
  int64_t nonempty_units = 0;
  for (int b = 0; b < p.batch; ++b) nonempty_units += p.tiles_of(b) > 0 ? int64_t(p.num_kv_heads) * s.row_split : 0;
  REQUIRE(s.unit_pad >= 0);
  if (s.policy != Policy::stream_k || s.uniform_len > 0) REQUIRE(s.unit_pad == 0);
  if (s.unit_pad > 0) REQUIRE(s.tiles_per_cta > s.unit_pad);  // no CTA's range is idle tiles only
  REQUIRE(s.total_tiles == p.total_tiles() * s.row_split + nonempty_units * s.unit_pad);
  for (int32_t u = 0, at = 0; u < s.num_units(); ++u) {
    const Unit un = s.unit(u);
    REQUIRE(un.begin == at + (un.end > un.begin ? s.unit_pad : 0));
    at = un.end;
    if (u + 1 == s.num_units()) REQUIRE(at == s.total_tiles);
  }
  // units: every query head of every sequence in exactly one unit, with the KV head it attends to
  REQUIRE(s.unit_rows * s.row_split == p.group_size());
  std::vector<int> heads(size_t(p.batch) * p.num_q_heads, 0);
  for (int32_t u = 0; u < s.num_units(); ++u) {
    const Unit un = s.unit(u);
    REQUIRE(un.index == u);
    REQUIRE(un.q_head0 % s.unit_rows == 0);
    for (int r = 0; r < s.unit_rows; ++r) {
      REQUIRE((un.q_head0 + r) / p.group_size() == un.head);
      ++heads[size_t(un.seq) * p.num_q_heads + un.q_head0 + r];
    }
  }
  for (int h : heads) REQUIRE(h == 1);
  // thread blocks run every CTA exactly once
  std::vector<int> runs(size_t(s.num_ctas), 0);
  for (int32_t b = 0; b < s.num_ctas; ++b) {
    const int32_t c = s.cta_of_block(b);
    REQUIRE((c >= 0 && c < s.num_ctas));
    ++runs[size_t(c)];
  }
  for (int r : runs) REQUIRE(r == 1);
  // ranges tile [0, total) in order: every tile exactly once
  int32_t next = 0, lo = INT32_MAX, hi = 0;
  for (int32_t c = 0; c < s.num_ctas; ++c) {
    const TileRange r = s.cta_range(c);
    REQUIRE(r.begin <= r.end);
    if (s.policy == Policy::stream_k) {
      REQUIRE(r.begin == next);
      next = r.end;
      lo = std::min(lo, r.size()), hi = std::max(hi, r.size());
    }
    for (int32_t it = r.begin; it < r.end; ++it) REQUIRE(s.cta_of_tile(it) == c);
    if (r.size() > 0) REQUIRE(!segments_of(s, c).empty());  // every CTA given tiles computes some
  }
  if (s.policy == Policy::stream_k) {
    REQUIRE(next == s.total_tiles);
    REQUIRE(hi - lo <= 1);  // balanced within one tile
  }
  // every tile belongs to exactly one CTA, and the unit of each tile is right
  std::vector<int> covered(s.total_tiles, 0);
  std::map<int32_t, std::vector<int32_t>> contributors;  // unit -> CTAs in walk order
  std::map<int32_t, int> hosts;
  std::set<int32_t> slots;
  std::map<int32_t, int32_t> next_token;  // unit -> first token no segment has streamed yet
  for (int32_t c = 0; c < s.num_ctas; ++c)
    for (const Segment& seg : segments_of(s, c)) {
      const Unit un = s.unit(seg.unit);
      // a unit's segments stream its sequence's tokens in CTA order, each at least one
      const TokenRange t = s.tokens_of(seg, un);
      REQUIRE(t.begin == next_token[seg.unit]);
      REQUIRE(t.begin < t.end);
      next_token[seg.unit] = t.end;
      REQUIRE(seg.begin >= un.begin);
      REQUIRE(seg.end <= un.end);
      REQUIRE(seg.begin < seg.end);
      REQUIRE(seg.host == (seg.begin == un.begin));
      REQUIRE(seg.complete == (seg.host && seg.end == un.end));
      REQUIRE(seg.next == (seg.end == un.end ? un.end + s.unit_pad : seg.end));  // over the unit's idle tiles
      for (int32_t it = seg.begin; it < seg.end; ++it) {
        ++covered[it];
        REQUIRE(s.unit_of_tile(it).index == seg.unit);
      }
      contributors[seg.unit].push_back(c);
      hosts[seg.unit] += seg.host;
      const int32_t slot = s.partial_slot(c, seg.unit);
      REQUIRE(slot >= 0);
      REQUIRE(slot < s.num_partial_slots());
      REQUIRE(slots.insert(slot).second);  // unique
    }
  for (int32_t it = 0; it < s.total_tiles; ++it) {  // real tiles once, idle ones never
    const Unit un = s.unit_of_tile(it);
    REQUIRE((it >= un.begin - s.unit_pad && it < un.end));
    REQUIRE(covered[it] == (it >= un.begin ? 1 : 0));
  }
  for (int32_t u = 0; u < s.num_units(); ++u) {
    const Unit un = s.unit(u);
    REQUIRE(un.seq == u / (p.num_kv_heads * s.row_split));
    REQUIRE(un.end - un.begin == p.tiles_of(un.seq));
    const int32_t first = s.first_cta(u), n = s.num_contributors(u);
    if (un.begin == un.end) {
      REQUIRE(n == 0);
      REQUIRE(first == -1);
      REQUIRE(contributors.count(u) == 0);
      continue;
    }
    REQUIRE(hosts[u] == 1);  // exactly one host
    REQUIRE(next_token[u] == s.len_of(un.seq));  // and every token streamed
    const std::vector<int32_t>& got = contributors[u];
    REQUIRE(int32_t(got.size()) == n);
    for (int32_t i = 0; i < n; ++i) REQUIRE(got[i] == first + i);  // ordered and complete
    REQUIRE(s.cta_of_tile(un.begin) == first);
    if (s.policy == Policy::no_split) REQUIRE(n == 1);
    if (s.policy == Policy::fixed_split) REQUIRE(n <= s.num_splits);
  }
  // the merge kernel's list: every unit of two or more contributors, ascending, with the plan's answers
  const std::vector<SplitUnit> split = s.split_units();
  size_t listed = 0;
  for (int32_t u = 0; u < s.num_units(); ++u) {
    if (s.num_contributors(u) < 2) continue;
    REQUIRE(listed < split.size());
    const SplitUnit& su = split[listed++];
    REQUIRE(su.unit == u);
    REQUIRE(su.first_cta == s.first_cta(u));
    REQUIRE(su.contributors == s.num_contributors(u));
  }
  REQUIRE(listed == split.size());
  // the merge tree: groups cover the contributors in order; every counter is distinct
  std::set<int32_t> counters;
  for (int32_t u = 0; u < s.num_units(); ++u) {
    const int32_t n = s.num_contributors(u), groups = s.merge_groups(u);
    REQUIRE(groups >= 1);
    REQUIRE(counters.insert(u).second);
    const int32_t first = s.first_cta(u);
    for (int32_t j = 0; j < n; ++j) REQUIRE(s.group_of(first + j, u) == (groups == 1 ? 0 : j / s.merge_fanin));
    if (groups == 1) {
      REQUIRE((s.merge_fanin == 0 || n <= s.merge_fanin));
      REQUIRE(s.group_size(u, 0) == n);
      REQUIRE(s.group_counter(u, 0) == u);  // one step: the unit's own counter
      continue;
    }
    REQUIRE(s.merge_fanin >= 1);
    int32_t covered_n = 0;
    for (int32_t k = 0; k < groups; ++k) {
      const int32_t size = s.group_size(u, k);
      REQUIRE(size >= 1);
      REQUIRE(size <= s.merge_fanin);
      covered_n += size;
      const int32_t counter = s.group_counter(u, k);
      REQUIRE(counter >= s.num_units());
      REQUIRE(counter < s.num_counters());
      REQUIRE(counters.insert(counter).second);
    }
    REQUIRE(covered_n == n);
  }
}

}  // namespace

TEST_CASE("stream-K, fixed-split and no-split schedules hold their invariants on random problems", "[cpu][schedule]") {
  std::mt19937_64 rng(Catch::rngSeed());
  for (int trial = 0; trial < 3000; ++trial) {
    const Problem p = test::random_problem(rng, 6, 3000);
    const int grid = 1 + int(rng() % 300);
    const Policy pol = Policy(trial % 3);
    const int fanin = trial % 4 == 0 ? -1 : int(rng() % 6);  // the planner's, or forced (0: one level)
    const int pad = trial % 5 < 2 ? kAutoPad : int(rng() % 4);   // the planner's, or forced
    const CtaRanges ranges = trial % 7 == 0 ? CtaRanges::big_first : CtaRanges::even;  // golden schema <= 2's
    const Plan plan = make_plan(p, pol, pol == Policy::fixed_split ? 1 + int(rng() % 9) : grid, fanin, 1, pad, ranges);
    check_schedule(p, plan.view());
  }
}

TEST_CASE("stream-K ranges are even or big-first cuts of the line, and cta_of_tile inverts them", "[cpu][schedule]") {
  std::mt19937_64 rng(Catch::rngSeed() + 3);
  for (int trial = 0; trial < 400; ++trial) {
    const Problem p = test::random_problem(rng, 6, 3000);
    const int64_t n = p.total_tiles();
    if (n == 0) continue;
    const int grid = 1 + int(rng() % (trial % 4 == 0 ? 2 * n : std::min<int64_t>(n, 400)));
    for (const CtaRanges ranges : {CtaRanges::even, CtaRanges::big_first}) {
      const Plan plan = make_plan(p, Policy::stream_k, grid, kAutoMerge, 1, 0, ranges);
      const Schedule s = plan.view();
      INFO(describe(p) << " " << s.print());
      // more CTAs than tiles: the idle ones last under either rule; past kMaxEvenGrid too
      REQUIRE(s.cta_ranges == (grid > n || grid > kMaxEvenGrid ? CtaRanges::big_first : ranges));
      int64_t longer = 0;
      for (int32_t c = 0; c < grid; ++c) {
        const TileRange r = s.cta_range(c);
        const int64_t want = s.cta_ranges == CtaRanges::even ? int64_t(c) * n / grid
                                                              : int64_t(c) * (n / grid) + std::min<int64_t>(c, n % grid);
        REQUIRE(r.begin == want);
        REQUIRE((r.size() == n / grid || r.size() == n / grid + 1));
        longer += r.size() == n / grid + 1;
        for (int32_t it = r.begin; it < r.end; ++it) REQUIRE(s.cta_of_tile(it) == c);
      }
      REQUIRE(longer == n % grid);
      REQUIRE(s.cta_range(grid - 1).end == n);
    }
  }
  // past kMaxEvenGrid CTAs, c (N mod G) would overflow 32 bits: big-first
  const Problem wide = make_uniform(1, 32, 32, 128, 100000);  // 50016 tiles
  const Plan at = make_plan(wide, Policy::stream_k, kMaxEvenGrid), past = make_plan(wide, Policy::stream_k, kMaxEvenGrid + 1);
  REQUIRE(at.view().cta_ranges == CtaRanges::even);
  REQUIRE(at.view().cta_range(kMaxEvenGrid - 1).begin == int32_t(int64_t(kMaxEvenGrid - 1) * 50016 / kMaxEvenGrid));
  REQUIRE(past.view().cta_ranges == CtaRanges::big_first);
}

TEST_CASE("idle tiles before each unit of a ragged batch weigh a CTA's segment boundaries as work", "[cpu][schedule]") {
  // the matrix's row: one 128k sequence and 15 of 1-4k, GQA 32/8, at the H200's grid
  std::mt19937_64 rng(Catch::rngSeed() + 19);
  Problem p = make_uniform(16, 32, 8, 128, 0);
  p.seq_lens[0] = 131072;
  for (int b = 1; b < 16; ++b) p.seq_lens[b] = 1024 + int64_t(rng() % 3072);
  REQUIRE(choose_unit_pad(p, Policy::stream_k) == kSegmentPadTiles);
  REQUIRE(choose_unit_pad(p, Policy::fixed_split) == 0);
  REQUIRE(choose_unit_pad(make_uniform(16, 32, 8, 128, 4096), Policy::stream_k) == 0);
  for (int pad : {1, 2, 3}) {
    const Plan plan = make_plan(p, Policy::stream_k, 264, kAutoMerge, 1, pad);
    const Schedule s = plan.view();
    INFO("pad " << pad << " " << s.print());
    REQUIRE(s.unit_pad == pad);
    check_schedule(p, s);
    int starts_idle = 0;
    for (int32_t c = 0; c < s.num_ctas; ++c) {
      const TileRange r = s.cta_range(c);
      const std::vector<Segment> segs = segments_of(s, c);
      const int real = computed_tiles(s, c);
      int starts = 0;  // units it starts: their idle tiles lie in its range, or partly before it
      for (const Segment& g : segs) starts += g.host;
      starts_idle += segs.front().begin > r.begin;
      // its real tiles plus pad per unit it starts make its equal share, give or take the idle
      // tiles cut at either end of its range
      REQUIRE(real + pad * starts >= r.size() - pad);
      REQUIRE(real + pad * starts <= r.size() + pad);
    }
    CHECK(starts_idle > 0);
  }
  // without a pad, CTAs that start more units compute as many tiles as the rest
  const Plan flat_plan = make_plan(p, Policy::stream_k, 264, kAutoMerge, 1, 0);
  const Schedule flat = flat_plan.view();
  REQUIRE(flat.unit_pad == 0);
  check_schedule(p, flat);
  for (int32_t c = 0; c < flat.num_ctas; ++c) REQUIRE(computed_tiles(flat, c) == flat.cta_range(c).size());
  // a pad a CTA's share cannot hold is dropped, as are pads of uniform batches and other policies
  auto pad_of = [](const Problem& q, Policy pol, int n, int pad) {
    const Plan plan = make_plan(q, pol, n, kAutoMerge, 1, pad);
    return plan.view().unit_pad;
  };
  REQUIRE(pad_of(p, Policy::stream_k, int(p.total_tiles()), 1) == 0);
  REQUIRE(pad_of(make_uniform(2, 8, 2, 128, 1000), Policy::stream_k, 3, 2) == 0);
  REQUIRE(pad_of(p, Policy::fixed_split, 4, 2) == 0);
  REQUIRE_THROWS_WITH(make_plan(p, Policy::stream_k, 264, kAutoMerge, 1, -2), Catch::Contains("unit_pad"));
}

TEST_CASE("a row split cuts every KV head's query heads into units of its own", "[cpu][schedule]") {
  std::mt19937_64 rng(Catch::rngSeed() + 13);
  for (int trial = 0; trial < 300; ++trial) {
    Problem p = make_uniform(1 + int(rng() % 5), 8, 1 + int(rng() % 3), 128, 0);
    p.num_q_heads = p.num_kv_heads * int(1 + rng() % 64);
    for (int b = 0; b < p.batch; ++b) p.seq_lens[b] = trial % 3 ? 1 + int64_t(rng() % 3000) : int64_t(rng() % 3) * 700;
    std::vector<int> divisors;
    for (int d = 1; d <= p.group_size(); ++d)
      if (p.group_size() % d == 0) divisors.push_back(d);
    const int row_split = divisors[rng() % divisors.size()];
    const Policy pol = Policy(trial % 3);
    const Plan plan = make_plan(p, pol, pol == Policy::fixed_split ? 1 + int(rng() % 9) : 1 + int(rng() % 300), kAutoMerge, row_split);
    const Schedule s = plan.view();
    REQUIRE(s.row_split == row_split);
    REQUIRE(s.num_units() == p.batch * p.num_kv_heads * row_split);
    check_schedule(p, s);
  }
  // a split must divide the group
  const Problem mqa = make_uniform(1, 32, 1, 128, 16384);
  REQUIRE_THROWS_WITH(make_plan(mqa, Policy::stream_k, 64, kAutoMerge, 3), Catch::Contains("divide the group of 32"));
  REQUIRE_THROWS_WITH(make_plan(mqa, Policy::stream_k, 64, kAutoMerge, 0), Catch::Contains("row_split 0"));
  // blocks multiply the tiles: a line that fits in int32 whole may not when split
  Problem long_mqa = make_uniform(1, 32, 1, 64, 1200000000);
  long_mqa.tile_kv = 1;
  REQUIRE_NOTHROW(choose_stream_k_grid(long_mqa, 132, 2));
  REQUIRE_THROWS_WITH(make_plan(long_mqa, Policy::stream_k, 64, kAutoMerge, 2),
                      Catch::Contains("with row_split 2") && Catch::Contains("overflows the 32-bit linear tile index"));
}

TEST_CASE("rows split only where the grid for whole groups leaves SMs idle or one unit streams briefly", "[cpu][schedule]") {
  const Problem mqa = make_uniform(1, 32, 1, 128, 16384);
  REQUIRE(choose_row_split(mqa, 64, 132) == 2);    // MQA 16k: G = 64 for whole groups
  REQUIRE(choose_row_split(mqa, 132, 132) == 1);   // every SM busy already
  REQUIRE(choose_row_split(mqa, 99, 132) == 1);    // three quarters of them: the one-per-SM grids
  REQUIRE(choose_row_split(mqa, 98, 132) == 2);
  REQUIRE(choose_row_split(make_uniform(1, 16, 1, 128, 16384), 64, 132) == 1);  // one 16-row tile
  REQUIRE(choose_row_split(make_uniform(1, 24, 1, 128, 16384), 64, 132) == 2);  // blocks of 12 rows
  // groups of 33-64 in two blocks (H100 MQA 48/1 16k: 11.8 us against 14.2 in three, 13.7 whole),
  // in 16-row blocks only where a whole-group CTA streams at most kTinyStreamTiles tiles (8k: 9.1 against 10.1)
  REQUIRE(choose_row_split(make_uniform(1, 48, 1, 128, 16384), 64, 132) == 2);   // 4 tiles a CTA
  REQUIRE(choose_row_split(make_uniform(1, 48, 1, 128, 8192), 64, 132) == 3);    // 2
  REQUIRE(choose_row_split(make_uniform(1, 64, 1, 128, 8192), 64, 132) == 4);
  REQUIRE(choose_row_split(make_uniform(1, 64, 1, 128, 16384), 64, 132) == 2);
  REQUIRE(choose_row_split(make_uniform(1, 40, 1, 128, 16384), 64, 132) == 2);   // blocks of 20 rows
  REQUIRE(choose_row_split(make_uniform(1, 40, 1, 128, 8192), 64, 132) == 2);    // 3 blocks do not divide 40
  REQUIRE(choose_row_split(make_uniform(1, 33, 1, 128, 16384), 64, 132) == 1);   // 2 does not divide 33
  REQUIRE(choose_row_split(make_uniform(1, 33, 1, 128, 8192), 64, 132) == 3);    // 3 blocks of 11 rows
  // one CTA per SM of at most 16 tiles: split on cards of at most 30 GB/s per SM (H100: MQA 128k
  // 34.7 -> 32.3 us), not on faster ones, nor for longer streams, nor for several units (b2 MQA 32k 19.6 -> 20.6)
  const Problem mqa128k = make_uniform(1, 32, 1, 128, 131072);  // 2048 tiles: 16 a CTA at G = 128
  REQUIRE(choose_row_split(mqa128k, 128, 132, 3350) == 2);
  REQUIRE(choose_row_split(make_uniform(1, 32, 1, 128, 32768), 128, 132, 3350) == 2);
  REQUIRE(choose_row_split(make_uniform(1, 64, 1, 128, 131072), 128, 132, 3350) == 2);  // not 4: 52.3 against 35.7 us
  REQUIRE(choose_row_split(mqa128k, 128, 132, 4800) == 1);
  REQUIRE(choose_row_split(mqa128k, 128, 132) == 1);       // bandwidth unknown
  REQUIRE(choose_row_split(mqa128k, 264, 132, 3350) == 1);  // two CTAs an SM: not measured
  REQUIRE(choose_row_split(make_uniform(1, 32, 1, 128, 131073), 128, 132, 3350) == 1);  // 17 tiles a CTA
  REQUIRE(choose_row_split(make_uniform(4, 32, 1, 128, 65536), 128, 132, 3350) == 1);   // 32 tiles a CTA
  REQUIRE(choose_row_split(make_uniform(2, 32, 1, 128, 16384), 128, 132, 3350) == 1);   // two units
  REQUIRE(choose_row_split(make_uniform(2, 96, 2, 128, 8192), 128, 132, 3350) == 1);    // 15.6 whole, 17.1 in blocks
  REQUIRE(choose_row_split(make_uniform(1, 32, 1, 128, 262144), 128, 132, 3350) == 1);
  REQUIRE(choose_row_split(make_uniform(1, 8, 1, 128, 131072), 128, 132, 3350) == 1);  // one 16-row tile
  // faster cards: one unit (batch 1, one KV head) of at most 6 tiles a CTA, one CTA per SM (H200
  // MQA 32k 15.4 -> 13.3 us; 64k even; two units slower in blocks: b2 MQA 16k 12.8 -> 13.1)
  REQUIRE(choose_row_split(make_uniform(1, 32, 1, 128, 32768), 128, 132, 4800) == 2);  // 4 tiles a CTA
  REQUIRE(choose_row_split(make_uniform(1, 32, 1, 128, 49152), 128, 132, 4800) == 2);  // 6
  REQUIRE(choose_row_split(make_uniform(1, 32, 1, 128, 49153), 128, 132, 4800) == 1);  // 7
  REQUIRE(choose_row_split(make_uniform(1, 32, 1, 128, 65536), 128, 132, 4800) == 1);
  REQUIRE(choose_row_split(make_uniform(2, 32, 1, 128, 16384), 128, 132, 4800) == 1);  // two units
  REQUIRE(choose_row_split(make_uniform(1, 64, 2, 128, 16384), 128, 132, 4800) == 1);
  REQUIRE(choose_row_split(make_uniform(1, 32, 1, 128, 32768), 128, 132) == 1);        // bandwidth unknown
  REQUIRE(choose_row_split(make_uniform(1, 32, 1, 128, 32768), 264, 132, 4800) == 1);  // two CTAs an SM
  REQUIRE(choose_row_split(make_uniform(1, 16, 1, 128, 32768), 128, 132, 4800) == 1);  // one 16-row tile
  REQUIRE(choose_row_split(make_uniform(1, 48, 1, 128, 32768), 128, 132, 4800) == 2);  // 16.6 -> 14.8 us
  REQUIRE(choose_row_split(make_uniform(1, 64, 1, 128, 49152), 128, 132, 4800) == 2);  // 19.9 -> 18.6
  REQUIRE(choose_row_split(make_uniform(1, 64, 1, 128, 57344), 128, 132, 4800) == 1);  // 7 tiles a CTA
  // the launcher's sequence on an H100's numbers: whole groups pick G = 64, blocks of 16 rows one CTA per SM
  const int whole = choose_stream_k_grid(mqa, 132, 2, 3350);
  REQUIRE(whole < 132);
  REQUIRE(choose_row_split(mqa, whole, 132) == 2);
  REQUIRE(choose_stream_k_grid(mqa, 132, 2, 3350, 2) == 128);
}

TEST_CASE("row blocks run in step, or share L2, on the grids the planner gives them", "[cpu][schedule]") {
  // a grid for R blocks is a multiple of R, whatever the lengths and the card
  std::mt19937_64 rng(Catch::rngSeed() + 62);
  for (int trial = 0; trial < 200; ++trial) {
    const int rows = 2 + int(rng() % 3), group = rows * (1 + int(rng() % (64 / rows)));
    const Problem p = make_uniform(1 + int(rng() % 3), group, 1, 128, 1 + int64_t(rng() % 300000));
    const int g = choose_stream_k_grid(p, 132, 1 + int(rng() % 2), rng() % 2 ? 3350 : 4800, rows);
    INFO("trial " << trial << " rows " << rows << " group " << group << " grid " << g);
    REQUIRE(g % rows == 0);
  }
  // in step: a block's CTAs read its tiles where the other blocks' CTAs read theirs; checked here
  // against the ranges themselves
  auto offsets_agree = [](const Problem& p, int grid, int rows) {
    const Plan plan = make_plan(p, Policy::stream_k, grid, kAutoMerge, rows);
    const Schedule s = plan.view();
    for (int32_t u = 0; u + 1 < s.num_units(); ++u) {
      if ((u + 1) % rows == 0) continue;  // the next KV head
      const Unit a = s.unit(u), b = s.unit(u + 1);
      for (int32_t t = 0; t < a.end - a.begin; ++t) {
        const TileRange ra = s.cta_range(s.cta_of_tile(a.begin + t)), rb = s.cta_range(s.cta_of_tile(b.begin + t));
        if (a.begin + t - ra.begin != b.begin + t - rb.begin) return false;
      }
    }
    return true;
  };
  for (const auto& [b, hq, len, grid, rows] : std::vector<std::tuple<int, int, int64_t, int, int>>{
           {1, 32, 131072, 128, 2}, {1, 48, 131072, 256, 2}, {1, 48, 131072, 256, 3}, {1, 32, 100000, 128, 2},
           {1, 32, 30000, 128, 2}, {2, 32, 16384, 128, 2}, {2, 32, 16384, 96, 2}, {1, 64, 8192, 128, 4}, {1, 32, 64, 128, 2},
           {3, 32, 16384, 128, 2}, {3, 32, 16000, 132, 2}, {1, 48, 100000, 264, 2}, {1, 64, 77777, 130, 2}}) {
    const Problem p = make_uniform(b, hq, 1, 128, len);
    INFO("b " << b << " hq " << hq << " len " << len << " grid " << grid << " rows " << rows);
    REQUIRE(blocks_in_step(p, grid, rows) == offsets_agree(p, grid, rows));
  }
  // one KV head: even ranges keep two blocks in step at any length on any even grid
  std::mt19937_64 lens(Catch::rngSeed() + 63);
  for (int trial = 0; trial < 50; ++trial) {
    const Problem p = make_uniform(1, 32, 1, 128, 1 + int64_t(lens() % 300000));
    const int grid = 2 * (1 + int(lens() % 132));
    INFO("len " << p.seq_lens[0] << " grid " << grid);
    REQUIRE(blocks_in_step(p, grid, 2));
    REQUIRE(offsets_agree(p, grid, 2));
  }
  REQUIRE(blocks_in_step(make_uniform(1, 32, 1, 128, 100000), 128, 2));  // 1563 tiles a block: out of step big-first
  REQUIRE_FALSE(blocks_in_step(make_uniform(1, 48, 1, 128, 131072), 256, 3));  // 256 CTAs over 3 units
  REQUIRE_FALSE(blocks_in_step(make_uniform(3, 32, 1, 128, 16384), 128, 2));   // 128 CTAs over 6 units
  Problem ragged = make_uniform(2, 32, 1, 128, 4096);
  ragged.seq_lens = {4096, 2048};
  REQUIRE_FALSE(blocks_in_step(ragged, 64, 2));
  // lengths of equal tiles but not equal tokens are ragged too: idle tiles precede each unit
  Problem near = make_uniform(2, 32, 1, 128, 4000);
  near.seq_lens = {4000, 4010};  // 63 tiles each
  REQUIRE(near.tiles_of(0) == near.tiles_of(1));
  for (int grid = 2; grid <= 300; grid += 2) REQUIRE_FALSE(blocks_in_step(near, grid, 2));  // ragged: not claimed
  // out of step, blocks meet in L2 while a KV head's K/V is small (H100 MQA 30k, big-first ranges:
  // 14.6 us in blocks against 15.2 whole), not past it (100k: 35.2 against 30.1)
  REQUIRE(blocks_share_l2(make_uniform(1, 48, 1, 128, 30000), 256, 3));
  REQUIRE_FALSE(blocks_share_l2(make_uniform(1, 48, 1, 128, 100000), 256, 3));
  REQUIRE(blocks_share_l2(make_uniform(1, 32, 1, 128, 100000), 128, 2));  // in step
  REQUIRE(blocks_share_l2(make_uniform(1, 32, 1, 128, 131072), 128, 2));
  REQUIRE(blocks_share_l2(make_uniform(1, 32, 1, 128, 100000), 128, 1));  // no blocks
}

TEST_CASE("groups larger than the kernel holds run in the fewest row blocks that fit", "[cpu][schedule]") {
  for (const int d : {64, 128, 256})
    for (int g = 1; g <= kMaxGroup; ++g) {
      const Problem p = make_uniform(1, g, 1, d, 100);
      const int r = min_row_split(p), rows = KernelShape::max_unit_rows(d);
      INFO("d " << d << " group " << g << " -> " << r);
      REQUIRE(g % r == 0);
      REQUIRE(g / r <= rows);
      for (int fewer = 1; fewer < r; ++fewer) REQUIRE((g % fewer != 0 || g / fewer > rows));
      if (g <= rows) REQUIRE(r == 1);
    }
  REQUIRE(KernelShape::max_unit_rows(256) < kMaxGroup);  // else nothing above is a row split
  // a preset's occupancy: the one-tile d128 kernel holds what the preset says; where shared
  // memory allows fewer, fewer; no kernel past max_unit_rows
  for (const int d : {64, 128, 256})
    for (const int per_sm : {1, 2, 3}) {
      const Occupancy o = Occupancy::estimate(d, per_sm);
      for (const int mt : {1, 2, 4}) {
        INFO("d " << d << " per_sm " << per_sm << " m_tiles " << mt);
        if (16 * mt > KernelShape::max_unit_rows(d)) {
          REQUIRE(o.of_rows(16 * mt) == 0);
          continue;
        }
        REQUIRE(o.of_rows(16 * mt) >= 1);
        if (d == 128 && mt == 1) REQUIRE(o.of_rows(16) == per_sm);
        if (mt > 1) REQUIRE(o.of_rows(16 * mt) <= o.of_rows(8 * mt));  // more rows, no more CTAs
      }
    }
}

TEST_CASE("the launch shape is the planner's row blocks and grid, within what the kernel holds", "[cpu][schedule]") {
  std::mt19937_64 rng(Catch::rngSeed() + 97);
  int kernel_rows = 0, blocks = 0, unspilled = 0, baseline_unspilled = 0, rejected = 0;
  for (int trial = 0; trial < 400; ++trial) {
    Problem p = test::random_problem(rng, 4, 200000);
    const int g = int(1 + rng() % kMaxGroup);
    p.num_q_heads = p.num_kv_heads * g;
    p.tile_kv = 64;
    p.kv_page_size = rng() % 3 == 0 ? 16 : 0;
    const int sms = 132, per_sm = 1 + int(rng() % 2);
    const double peak = rng() % 2 ? 3350 : 4800;
    const Occupancy occ = Occupancy::estimate(p.head_dim, per_sm);
    for (const Policy pol : {Policy::stream_k, Policy::fixed_split, Policy::no_split}) {
      const LaunchShape shape = choose_launch_shape(p, pol, sms, occ, peak);
      INFO("trial " << trial << " " << describe(p) << " " << to_string(pol) << " rows " << shape.row_split << " grid " << shape.grid.grid);
      REQUIRE(g % shape.row_split == 0);
      REQUIRE(shape.row_split >= min_row_split(p));
      REQUIRE(occ.of_rows(g / shape.row_split) >= 1);
      const int slots = sms * occ.of_rows(g / shape.row_split);
      const Plan plan = make_plan(p, pol, shape.grid.grid, kAutoMerge, shape.row_split);
      if (plan.view().total_tiles <= 20000) check_schedule(p, plan.view());
      if (pol != Policy::stream_k) {  // the fewest blocks, or at head dim 256 the unspilled ones (in step as neighbours)
        const int fewest16 = [&] { int r = 1; while (g % r != 0 || g / r > 16) ++r; return r; }();
        if (p.head_dim == 256 && fewest16 > min_row_split(p)) {
          ++baseline_unspilled;
          REQUIRE(shape.rows == RowsRule::unspilled_blocks);
          REQUIRE(shape.row_split == fewest16);
          if (pol == Policy::fixed_split) REQUIRE(plan.view().by_unit_ctas.d == shape.grid.grid);  // blocks of a chunk as neighbours
        } else {
          REQUIRE(shape.row_split == min_row_split(p));
        }
        if (pol == Policy::fixed_split) REQUIRE(shape.grid.grid == fa2_num_splits(p, slots, shape.row_split));
        continue;
      }
      REQUIRE(shape.grid.grid == choose_stream_k_grid(p, sms, occ.of_rows(g / shape.row_split), peak, shape.row_split));
      kernel_rows += shape.rows == RowsRule::kernel_rows;
      if (shape.rows == RowsRule::blocks) {
        ++blocks;
        REQUIRE(shape.row_split > min_row_split(p));
        REQUIRE(blocks_share_l2(p, shape.grid.grid, shape.row_split));
      } else if (shape.rows == RowsRule::unspilled_blocks) {  // head dim 256: blocks of <= 16 rows, in step
        ++unspilled;
        REQUIRE(p.head_dim == 256);
        REQUIRE(g / shape.row_split <= KernelShape::unspilled_unit_rows(256));
        for (int fewer = 1; fewer < shape.row_split; ++fewer) REQUIRE((g % fewer != 0 || g / fewer > 16));
        REQUIRE(blocks_in_step(p, shape.grid.grid, shape.row_split));
      } else {
        REQUIRE(shape.row_split == min_row_split(p));
      }
      if (shape.l2_rejected_split > 0) {
        ++rejected;
        REQUIRE_FALSE(blocks_share_l2(p, shape.l2_rejected_grid, shape.l2_rejected_split));
      }
      // a given grid and row split are kept
      const LaunchShape given = choose_launch_shape(p, pol, sms, occ, peak, 77, min_row_split(p));
      REQUIRE(given.grid.grid == 77);
      REQUIRE(given.row_split == min_row_split(p));
      REQUIRE(given.rows == RowsRule::given);
    }
  }
  std::printf("launch shapes: %d in the kernel's fewest blocks, %d in chosen blocks, %d in unspilled blocks (baselines: %d), %d blocks kept out of L2\n",
              kernel_rows, blocks, unspilled, baseline_unspilled, rejected);
  REQUIRE(kernel_rows >= 5);
  REQUIRE(blocks >= 5);
  REQUIRE(unspilled >= 5);
  REQUIRE(baseline_unspilled >= 5);
  // ragged MQA past kL2ShareBytes a KV head keeps whole groups where the blocks would run out of
  // step (rare with even ranges on 132 SMs; found on cards of 140-148)
  Problem ragged = make_uniform(2, 32, 1, 128, 0);
  ragged.seq_lens = {55254, 3996};
  for (int sms = 140; sms <= 148; ++sms)
    for (const double per_sm_gbps : {25.0, 37.0}) {
      const LaunchShape shape = choose_launch_shape(ragged, Policy::stream_k, sms, Occupancy::estimate(128, 2), per_sm_gbps * sms);
      if (shape.l2_rejected_split == 0) continue;
      ++rejected;
      REQUIRE(shape.row_split == 1);
      REQUIRE_FALSE(blocks_share_l2(ragged, shape.l2_rejected_grid, shape.l2_rejected_split));
    }
  REQUIRE(rejected >= 1);
  // head dim 256 holds 32 query heads a CTA: given whole groups of 64 fail with the kernel named
  const Problem wide = make_uniform(1, 64, 1, 256, 4096);
  REQUIRE_THROWS_WITH(choose_launch_shape(wide, Policy::stream_k, 132, Occupancy::estimate(256, 2), 4800, 0, 1),
                      Catch::Contains("no decode kernel holds 64 query heads at head_dim 256"));
  for (const Policy pol : {Policy::fixed_split, Policy::no_split})
    REQUIRE_THROWS_WITH(choose_launch_shape(wide, pol, 132, Occupancy::estimate(256, 2), 4800, 0, 1),
                        Catch::Contains("no decode kernel holds 64 query heads at head_dim 256"));
  REQUIRE_THROWS_WITH(choose_launch_shape(wide, Policy::stream_k, 132, Occupancy::estimate(256, 2), 4800, 0, 3),
                      Catch::Contains("must divide the group of 64"));
}

TEST_CASE("stream-K runs head dim 256's unspilled blocks one a CTA where out of step and they fill the waves", "[cpu][schedule]") {
  const Occupancy occ = Occupancy::estimate(256, 2);  // one CTA an SM at head dim 256
  for (const double peak : {3350.0, 4800.0}) {
    const Problem many = make_uniform(16, 512, 16, 256, 2048);  // 512 blocks of 16 rows: 3.9 waves of 132
    const LaunchShape s = choose_launch_shape(many, Policy::stream_k, 132, occ, peak);
    REQUIRE(s.rows == RowsRule::unspilled_blocks);
    REQUIRE(s.row_split == 2);
    REQUIRE(s.grid.grid == 512);
    REQUIRE(s.grid.rule == GridRule::whole_units);
    const Plan plan = make_plan(many, Policy::stream_k, s.grid.grid, kAutoMerge, s.row_split);
    REQUIRE(plan.view().split_units().empty());  // no partials
    for (int32_t b = 0; b + 1 < 512; b += 2) {   // a KV head's two blocks as neighbouring thread blocks
      const Unit u0 = plan.view().unit(plan.view().cta_of_block(b)), u1 = plan.view().unit(plan.view().cta_of_block(b + 1));
      REQUIRE((u0.seq == u1.seq && u0.head == u1.head && u0.q_head0 != u1.q_head0));
    }
    // 140 blocks fill 53% of a second wave: not one a CTA
    const LaunchShape few = choose_launch_shape(make_uniform(10, 224, 7, 256, 2048), Policy::stream_k, 132, occ, peak);
    REQUIRE(few.grid.rule != GridRule::whole_units);
    // 288 blocks fill 73% of three waves: one a CTA on the H100 (<= 30 GB/s an SM), not on the H200
    const LaunchShape mid = choose_launch_shape(make_uniform(12, 384, 12, 256, 4096), Policy::stream_k, 132, occ, peak);
    REQUIRE((mid.grid.rule == GridRule::whole_units) == (peak < 132 * kOnePerSmGbps));
    // ragged batches' blocks of unequal length do not run one a CTA
    Problem ragged = many;
    ragged.seq_lens[3] = 1500;
    REQUIRE(choose_launch_shape(ragged, Policy::stream_k, 132, occ, peak).grid.rule != GridRule::whole_units);
  }
}

TEST_CASE("the merge kernel takes 512 threads only where 256 would leave a thread several batches of loads", "[cpu][schedule]") {
  // 256 threads hold 256 / (D / 4) contributor blocks a row, each of up to kMergeBatch partials in one batch
  REQUIRE(KernelShape::merge_threads(128, 64) == 256);
  REQUIRE(KernelShape::merge_threads(128, 65) == 512);
  REQUIRE(KernelShape::merge_threads(64, 128) == 256);
  REQUIRE(KernelShape::merge_threads(64, 129) == 512);
  REQUIRE(KernelShape::merge_threads(256, 32) == 256);
  REQUIRE(KernelShape::merge_threads(256, 33) == 512);
  // MQA split over the whole grid (128 partials a row) against GQA's 16 and MHA's 4 at the same grid
  auto threads = [](const Problem& p, Policy policy, int n, int row_split = 1) {
    const Plan plan = make_plan(p, policy, n, kAutoMerge, row_split);
    return plan.view().merge_threads(p.head_dim);
  };
  REQUIRE(threads(make_uniform(1, 32, 1, 128, 131072), Policy::stream_k, 128) == 512);
  REQUIRE(threads(make_uniform(1, 32, 1, 128, 131072), Policy::stream_k, 128, 2) == 256);  // 64 a row block
  REQUIRE(threads(make_uniform(1, 32, 8, 128, 4096), Policy::stream_k, 128) == 256);
  REQUIRE(threads(make_uniform(1, 32, 32, 128, 1024), Policy::stream_k, 128) == 256);
  REQUIRE(threads(make_uniform(1, 32, 1, 128, 131072), Policy::no_split, 0) == 256);
}

TEST_CASE("only merge kernels of few CTAs are kept off the decode kernel's SMs", "[cpu][schedule]") {
  auto merge_ctas = [](const Problem& p, Policy policy, int n, int row_split = 1, int fanin = kAutoMerge) {
    const Plan plan = make_plan(p, policy, n, fanin, row_split);
    const Schedule s = plan.view();
    REQUIRE(s.merge_ctas() == (s.separate_merge ? int64_t(s.split_units().size()) * s.unit_rows : 0));
    return s.merge_ctas();
  };
  // the rows step 71 measured faster isolated: one CTA a split unit and query row, 32 of them
  for (const auto& [p, rows] : {std::pair{make_uniform(1, 32, 32, 128, 1024), 1}, std::pair{make_uniform(1, 32, 32, 128, 16384), 1},
                                std::pair{make_uniform(1, 32, 8, 128, 65536), 1}, std::pair{make_uniform(1, 32, 1, 128, 16384), 2}}) {
    INFO(describe(p));
    REQUIRE(merge_ctas(p, Policy::stream_k, 128, rows) == 32);
    REQUIRE(KernelShape::isolates_merge(merge_ctas(p, Policy::stream_k, 128, rows)));
  }
  // even at 64-128 CTAs, slower at 256 (pages of 64) and 512 (our fixed split's b16 GQA 4k)
  REQUIRE(merge_ctas(make_uniform(2, 32, 32, 128, 16384), Policy::stream_k, 128) == 64);
  REQUIRE(merge_ctas(make_uniform(8, 32, 8, 128, 16384), Policy::stream_k, 128) == 256);
  REQUIRE(merge_ctas(make_uniform(16, 32, 8, 128, 4096), Policy::fixed_split, 2) == 512);
  for (const int64_t n : {33, 64, 256, 512}) REQUIRE_FALSE(KernelShape::isolates_merge(n));
  // no merge kernel: whole units, or the in-kernel merge
  REQUIRE(merge_ctas(make_uniform(8, 32, 32, 128, 1024), Policy::stream_k, 256) == 0);
  REQUIRE(merge_ctas(make_uniform(1, 32, 32, 128, 16384), Policy::stream_k, 128, 1, kInKernelMerge) == 0);
  REQUIRE_FALSE(KernelShape::isolates_merge(0));
}

TEST_CASE("row blocks of one K/V range run as neighbouring thread blocks", "[cpu][schedule]") {
  // the planner's MQA 16k, and small batches the launcher splits where whole groups leave SMs idle
  // (b2 MQA 4k on 128 CTAs, b3 2k on 96; until step 63 the blocks paired CTAs of other sequences)
  for (const auto& [b, len, grid, rows] : {std::tuple{1, 16384, 128, 2}, std::tuple{2, 4096, 128, 2},
                                           std::tuple{3, 2048, 96, 2}, std::tuple{1, 8192, 128, 4}, std::tuple{2, 100000, 264, 2}}) {
    const Problem mqa = make_uniform(b, 32, 1, 128, len);
    const Plan plan = make_plan(mqa, Policy::stream_k, grid, kAutoMerge, rows);
    const Schedule s = plan.view();
    INFO(describe(mqa) << " " << s.print());
    REQUIRE(s.by_unit_ctas.d == grid / (b * rows));
    for (int32_t k = 0; k < grid / rows; ++k)
      for (int32_t j = 1; j < rows; ++j) {
        const TileRange ra = s.cta_range(s.cta_of_block(rows * k)), rb = s.cta_range(s.cta_of_block(rows * k + j));
        const Unit ua = s.unit_of_tile(ra.begin), ub = s.unit_of_tile(rb.begin);
        INFO("blocks " << rows * k << " and " << rows * k + j);
        REQUIRE(ua.seq == ub.seq);
        REQUIRE(ua.head == ub.head);
        REQUIRE(ua.q_head0 != ub.q_head0);
        REQUIRE(ra.begin - ua.begin == rb.begin - ub.begin);  // the same tokens of the same KV head
        REQUIRE(ra.size() == rb.size());
      }
  }
  // whole groups, a grid the units do not divide, or another policy: blocks run CTAs in order
  const Problem mqa = make_uniform(1, 32, 1, 128, 16384);
  for (const auto& [pol, n, rows] : {std::tuple{Policy::stream_k, 128, 1}, std::tuple{Policy::stream_k, 127, 2},
                                     std::tuple{Policy::fixed_split, 4, 1}, std::tuple{Policy::no_split, 0, 2}}) {
    const Plan other = make_plan(mqa, pol, n, kAutoMerge, rows);
    const Schedule o = other.view();
    REQUIRE(o.by_unit_ctas.d == 1);
    for (int32_t b = 0; b < o.num_ctas; ++b) REQUIRE(o.cta_of_block(b) == b);
  }
  // the fixed split's blocks of one chunk too (head dim 256 groups of 17-64 run in 16-row blocks)
  for (const auto& [b, len, splits, rows] : {std::tuple{1, 65536, 57, 2}, std::tuple{3, 3000, 7, 4}}) {
    const Problem wide = make_uniform(b, 16 * rows, 1, 256, len);
    const Plan plan = make_plan(wide, Policy::fixed_split, splits, kAutoMerge, rows);
    const Schedule s = plan.view();
    INFO(describe(wide) << " " << s.print());
    REQUIRE(s.by_unit_ctas.d == splits);
    for (int32_t k = 0; k < s.num_ctas / rows; ++k)
      for (int32_t j = 1; j < rows; ++j) {
        const int32_t ca = s.cta_of_block(rows * k), cb = s.cta_of_block(rows * k + j);
        const Unit ua = s.unit(s.by_splits.div(ca)), ub = s.unit(s.by_splits.div(cb));
        REQUIRE((ua.seq == ub.seq && ua.head == ub.head && ua.q_head0 != ub.q_head0));
        REQUIRE(ca % splits == cb % splits);  // the same chunk of the same KV head
      }
  }
  const Problem three = make_uniform(3, 32, 1, 128, 4096);  // 6 units over 128 CTAs
  const Plan odd = make_plan(three, Policy::stream_k, 128, kAutoMerge, 2);
  REQUIRE(odd.view().by_unit_ctas.d == 1);
}

TEST_CASE("FastDiv divides exactly over the whole non-negative int32 range", "[cpu][schedule]") {
  std::mt19937_64 rng(Catch::rngSeed() + 11);
  std::vector<int32_t> divisors = {1, 2, 3, 5, 7, 32, 63, 64, 65, 127, 1000, 4095, 4096, 65537, (1 << 30) - 1, 1 << 30, (1 << 30) + 1,
                                   INT32_MAX - 1, INT32_MAX};
  for (int i = 0; i < 2000; ++i) divisors.push_back(int32_t(1 + rng() % (uint64_t(1) << (1 + rng() % 31))) & INT32_MAX | 1);
  for (int32_t d : divisors) {
    INFO("d = " << d);
    const FastDiv f = FastDiv::of(d);
    std::vector<int32_t> xs = {0, 1, d - 1, d, INT32_MAX, INT32_MAX - 1};
    if (d <= INT32_MAX / 7) xs.insert(xs.end(), {7 * d - 1, 7 * d, 7 * d + 1});
    for (int i = 0; i < 200; ++i) xs.push_back(int32_t(rng() & INT32_MAX));
    for (int32_t x : xs)
      if (x >= 0) REQUIRE(f.div(x) == x / d);
  }
  REQUIRE_THROWS_AS(FastDiv::of(0), Error);
}

TEST_CASE("uniform batches look units up by arithmetic, agreeing with the arrays everywhere", "[cpu][schedule]") {
  std::mt19937_64 rng(Catch::rngSeed() + 7);
  auto pick = [&](std::initializer_list<int> v) { return *(v.begin() + rng() % v.size()); };
  for (int trial = 0; trial < 400; ++trial) {
    Problem p = make_uniform(1 + int(rng() % 8), 8, pick({1, 2, 8}), 128, 1 + int64_t(rng() % 5000));
    p.num_q_heads = p.num_kv_heads * pick({1, 4, 6});
    p.tile_kv = pick({1, 7, 64, 128});
    const Policy pol = Policy(trial % 3);
    const int row_split = p.group_size() % 2 == 0 ? pick({1, 2}) : 1;
    const Plan plan = make_plan(p, pol, pol == Policy::fixed_split ? 1 + int(rng() % 9) : 1 + int(rng() % 300), kAutoMerge, row_split);
    const Schedule fast = plan.view();
    REQUIRE(fast.uniform_len == p.seq_lens[0]);
    check_schedule(p, fast);
    Schedule arrays = fast;  // the same plan through seq_tile_begin / seq_len
    arrays.uniform_len = 0;
    for (int32_t b = 0; b < p.batch; ++b) {
      REQUIRE(fast.len_of(b) == arrays.len_of(b));
      REQUIRE(fast.tiles_of_seq(b) == arrays.tiles_of_seq(b));
      REQUIRE(fast.tile_begin_of(b) == arrays.tile_begin_of(b));
    }
    auto same = [](const Unit& x, const Unit& y) {
      return x.index == y.index && x.seq == y.seq && x.head == y.head && x.q_head0 == y.q_head0 && x.begin == y.begin &&
             x.end == y.end;
    };
    for (int32_t u = 0; u < fast.num_units(); ++u) REQUIRE(same(fast.unit(u), arrays.unit(u)));
    for (int32_t it = 0; it < fast.total_tiles; ++it) REQUIRE(same(fast.unit_of_tile(it), arrays.unit_of_tile(it)));
    for (int32_t c = 0; c < fast.num_ctas; ++c) {
      REQUIRE(fast.cta_range(c).begin == arrays.cta_range(c).begin);
      REQUIRE(fast.cta_range(c).end == arrays.cta_range(c).end);
    }
  }
  // ragged, or every sequence empty: the arrays
  Problem ragged = make_uniform(3, 8, 2, 128, 0);
  ragged.seq_lens = {100, 100, 99};
  const Plan ragged_plan = make_plan(ragged, Policy::stream_k, 5);
  REQUIRE(ragged_plan.view().uniform_len == 0);
  ragged.seq_lens = {0, 0, 0};
  const Plan empty_plan = make_plan(ragged, Policy::stream_k, 5);
  REQUIRE(empty_plan.view().uniform_len == 0);
}

TEST_CASE("the degenerate grids reduce stream-K to data-parallel and split-K", "[cpu][schedule]") {
  std::mt19937_64 rng(Catch::rngSeed() + 1);
  for (int trial = 0; trial < 200; ++trial) {
    Problem p = make_uniform(1 + int(rng() % 4), 8, 2 + int(rng() % 2) * 2, 128, 1 + int64_t(rng() % 4000));
    p.num_q_heads = p.num_kv_heads * 2;
    const int units = p.batch * p.num_kv_heads;
    // one CTA per unit: every unit complete in its own CTA, exactly like no-split
    const Plan dp_plan = make_plan(p, Policy::stream_k, units), ns_plan = make_plan(p, Policy::no_split, 0);
    const Schedule dp = dp_plan.view(), ns = ns_plan.view();
    for (int32_t c = 0; c < units; ++c) {
      REQUIRE(dp.cta_range(c).begin == ns.cta_range(c).begin);
      REQUIRE(dp.cta_range(c).end == ns.cta_range(c).end);
    }
    // k CTAs per unit, tiles divisible by k: every unit split in k equal pieces, like fixed split
    const int k = 1 + int(rng() % 4);
    p.seq_lens.assign(p.batch, int64_t(p.tile_kv) * k * (1 + int64_t(rng() % 20)));
    const Plan sk_plan = make_plan(p, Policy::stream_k, units * k), fs_plan = make_plan(p, Policy::fixed_split, k);
    const Schedule sk = sk_plan.view(), fs = fs_plan.view();
    REQUIRE(sk.num_ctas == fs.num_ctas);
    for (int32_t c = 0; c < sk.num_ctas; ++c) {
      REQUIRE(sk.cta_range(c).begin == fs.cta_range(c).begin);
      REQUIRE(sk.cta_range(c).end == fs.cta_range(c).end);
    }
    // a single CTA walks everything; a CTA per tile takes exactly one each
    const Plan one = make_plan(p, Policy::stream_k, 1);
    REQUIRE(one.view().cta_range(0).size() == one.view().total_tiles);
    const Plan per_tile_plan = make_plan(p, Policy::stream_k, int(p.total_tiles()));
    const Schedule per_tile = per_tile_plan.view();
    for (int32_t c = 0; c < per_tile.num_ctas; ++c) REQUIRE(per_tile.cta_range(c).size() == 1);
  }
}

TEST_CASE("more CTAs than tiles leaves the extra CTAs idle", "[cpu][schedule]") {
  Problem p = make_uniform(1, 2, 1, 64, 100);
  const Plan plan = make_plan(p, Policy::stream_k, 50);
  const Schedule s = plan.view();
  check_schedule(p, s);
  int busy = 0;
  for (int32_t c = 0; c < s.num_ctas; ++c) busy += s.cta_range(c).size() > 0;
  REQUIRE(busy == 2);
}

TEST_CASE("print shows every derived value", "[cpu][schedule]") {
  const Problem p = make_uniform(2, 8, 2, 128, 1000);
  const Plan plan = make_plan(p, Policy::stream_k, 7);
  const std::string s = plan.view().print();
  for (const char* key : {"policy=stream-k", "neighbour_blocks=1", "units=4", "uniform_len=1000", "total_tiles=", "ctas=7", "tiles_per_cta=", "big_ctas=",
                          "max_contributors=", "merge_fanin=", "partial_slots="})
    CHECK(s.find(key) != std::string::npos);
}

TEST_CASE("bad grids are rejected with a message", "[cpu][schedule]") {
  const Problem p = make_uniform(2, 8, 2, 128, 1000);
  REQUIRE_THROWS_WITH(make_plan(p, Policy::stream_k, 0), Catch::Contains("grid size"));
  REQUIRE_THROWS_WITH(make_plan(p, Policy::fixed_split, -2), Catch::Contains("split count"));
  REQUIRE_THROWS_WITH(make_plan(p, Policy::stream_k, 2147483647), Catch::Contains("overflows"));
}

TEST_CASE("FA2's split heuristic stays within its bounds", "[cpu][schedule]") {
  std::mt19937_64 rng(Catch::rngSeed() + 2);
  for (int trial = 0; trial < 500; ++trial) {
    const Problem p = test::random_problem(rng, 8, 200000);
    const int slots = 1 + int(rng() % 528);
    const int s = fa2_num_splits(p, slots);
    REQUIRE(s >= 1);
    REQUIRE(s <= 128);
    if (p.batch * p.num_kv_heads >= 0.8 * slots) REQUIRE(s == 1);
  }
  // batch 1, 32 heads, 512k on 264 slots splits (that is FlashDecoding's whole point)
  REQUIRE(fa2_num_splits(make_uniform(1, 32, 32, 128, 524288), 264) > 1);
}

TEST_CASE("the stream-K grid heuristic aligns with units when it can and stays in range", "[cpu][schedule]") {
  // 256 units of 16 tiles on 132 SMs x 2: one CTA per unit beats splitting every unit in two
  REQUIRE(choose_stream_k_grid(make_uniform(8, 32, 32, 128, 1024), 132, 2, 3350) == 256);
  // 128 units of 64 tiles: CTA ranges stay aligned with units (no unit spans two pieces unevenly)
  REQUIRE(choose_stream_k_grid(make_uniform(16, 32, 8, 128, 4096), 132, 2) % 128 == 0);
  // one long sequence on an H100-like card (3350 GB/s, 25 per SM) and an H200-like one (4800
  // GB/s, tensor loads): one CTA per SM, each head in 4 equal pieces (128 of 132 SMs), and at
  // head dim 64 (half the bytes a stage) two per SM in equal pieces (256); on an unknown card
  // the cost model's grid
  const Problem long_seq = make_uniform(1, 32, 32, 128, 524288);
  REQUIRE(choose_stream_k_grid(long_seq, 132, 2, 3350) == 128);
  REQUIRE(choose_stream_k_grid(long_seq, 132, 2, 4800) == 128);
  REQUIRE(choose_stream_k_grid(make_uniform(1, 64, 64, 64, 65536), 132, 3, 4800) == 256);
  REQUIRE(choose_stream_k_grid(make_uniform(1, 64, 64, 64, 65536), 132, 3, 3350) == 256);
  REQUIRE(choose_stream_k_grid(long_seq, 132, 2) > 132);
  // lengths no grid of [99, 132] cuts exactly: the largest multiple of the unit count, even pieces
  // (before step 64 these fell to the cost model's 264 CTAs, two per SM)
  for (const int len : {3000, 100000, 500000}) {
    REQUIRE(choose_stream_k_grid(make_uniform(1, 32, 32, 128, len), 132, 2, 3350) == 128);
    REQUIRE(choose_stream_k_grid(make_uniform(1, 32, 32, 128, len), 132, 2, 4800) == 128);
  }
  REQUIRE(choose_stream_k_grid(make_uniform(4, 32, 8, 128, 10000), 132, 2, 3350) == 128);
  REQUIRE(choose_stream_k_grid(make_uniform(1, 64, 64, 64, 100000), 132, 3, 3350) == 256);
  // exact pieces still come first: GQA 32/8 at 500000 tokens (7813 tiles a unit) cuts into 13 on 104
  REQUIRE(choose_stream_k_grid(make_uniform(1, 32, 8, 128, 500000), 132, 2, 3350) == 104);
  // and on random uniform lengths the rule's grid cuts every unit at the same offsets: a multiple
  // of the unit count, each CTA inside one unit, the pieces within a tile of each other
  {
    std::mt19937_64 rng(Catch::rngSeed() + 64);
    for (int i = 0; i < 200; ++i) {
      const int kv = std::vector<int>{2, 4, 8, 16, 32}[rng() % 5];  // groups of <= 16 rows
      const Problem p = make_uniform(1 + int(rng() % 4), 32, kv, 128, 4096 + int(rng() % 600000));
      const int g = choose_stream_k_grid(p, 132, 2, 3350);
      const int64_t units = int64_t(p.batch) * p.num_kv_heads;
      if (4 * (132 / units * units) < 3 * 132) continue;  // no multiple of U in [99, 132]: not this rule
      INFO("b=" << p.batch << " kv=" << kv << " len=" << p.seq_lens[0] << " G=" << g);
      REQUIRE(g % units == 0);
      REQUIRE(4 * g >= 3 * 132);
      const Plan plan = make_plan(p, Policy::stream_k, g);
      const Schedule s = plan.view();
      const int64_t unit_tiles = p.tiles_of(0);
      for (int c = 0; c < g; ++c) {
        const TileRange r = s.cta_range(c);
        const int64_t b = r.begin, e = r.end;
        REQUIRE(b / unit_tiles == (e - 1) / unit_tiles);
        REQUIRE(std::abs((e - b) - unit_tiles * units / g) <= 1);
      }
    }
  }
  // one MQA unit by the cost model (H200-like card, whole groups): no grid whose row needs a second
  // round of the merge kernel's loads (more than 128 partials at d128; step 65), and the
  // contributor count of even pieces is exact, so 132 CTAs lose to fewer
  for (const int len : {50000, 68000, 77777, 100000}) {
    const int g = choose_stream_k_grid(make_uniform(1, 32, 1, 128, len), 132, 2, 4800);
    INFO("len=" << len << " G=" << g);
    REQUIRE(g <= KernelShape::merge_round(128));
    REQUIRE(4 * g >= 3 * 132);
  }
  // a quarter to all of the SMs' worth of short uniform d128 units: one whole unit a CTA, no merge
  // kernel (step 66); the limits: 8 tiles from a quarter of the SMs, 16 from half, then 128 on an
  // H100-like card and 64 from 70% of the SMs on an H200-like one
  for (const double gbps : {3350.0, 4800.0}) {
    INFO("peak " << gbps << " GB/s");
    REQUIRE(choose_stream_k_grid(make_uniform(3, 16, 16, 128, 512), 132, 2, gbps) == 48);
    REQUIRE(choose_stream_k_grid(make_uniform(3, 16, 16, 128, 1024), 132, 2, gbps) != 48);
    REQUIRE(choose_stream_k_grid(make_uniform(6, 16, 16, 128, 1024), 132, 2, gbps) == 96);
    REQUIRE(choose_stream_k_grid(make_uniform(12, 32, 8, 128, 4096), 132, 2, gbps) == 96);
    REQUIRE(choose_stream_k_grid(make_uniform(3, 32, 32, 128, 16384), 132, 2, gbps) != 96);
    REQUIRE(choose_stream_k_grid(make_uniform(2, 16, 16, 128, 512), 132, 2, gbps) != 32);  // under a quarter
    REQUIRE(choose_stream_k_grid(make_uniform(6, 16, 16, 64, 1024), 132, 3, gbps) != 96);  // d128 only (measured)
    REQUIRE(choose_stream_k_grid_rule(make_uniform(96, 32, 1, 128, 4096), 132, 2, gbps).rule != GridRule::whole_units);  // groups of one m-tile only
    REQUIRE(choose_stream_k_grid_rule(make_uniform(48, 32, 1, 128, 512), 132, 2, gbps, 2).rule != GridRule::whole_units);  // nor row blocks
  }
  REQUIRE(choose_stream_k_grid(make_uniform(5, 16, 16, 128, 8192), 132, 2, 3350) == 80);
  REQUIRE(choose_stream_k_grid(make_uniform(5, 16, 16, 128, 2048), 132, 2, 4800) != 80);
  // step 67: the merge kernel reads a row's partials in parallel, so two short units split one tile a
  // CTA (b1 GQA 16/2 at 1665 tokens, 27 tiles a unit: 6.6 us against 7.3 at two tiles a CTA);
  // ragged batches keep the serial price (b2 GQA 40/8 of 3837 and 4986 tokens lost 13% on 264 CTAs)
  for (const double gbps : {3350.0, 4800.0}) {
    REQUIRE(choose_stream_k_grid(make_uniform(1, 16, 2, 128, 1665), 132, 2, gbps) >= 54);
    Problem two = make_uniform(2, 40, 8, 128, 0);
    two.seq_lens = {3837, 4986};
    REQUIRE(choose_stream_k_grid(two, 132, 2, gbps) <= 132);
  }
  // the rule that chose each grid, as `lean plan --explain` names it, and the same grid
  const std::vector<std::pair<Problem, GridRule>> rules = {{make_uniform(6, 16, 16, 128, 1124), GridRule::whole_units},
                                                           {make_uniform(1, 32, 32, 128, 65536), GridRule::equal_pieces},
                                                           {make_uniform(1, 32, 32, 128, 100000), GridRule::even_pieces},
                                                           {make_uniform(1, 16, 2, 128, 1665), GridRule::cost_model}};
  for (const auto& [problem, rule] : rules) {
    const GridChoice c = choose_stream_k_grid_rule(problem, 132, 2, 3350);
    REQUIRE(c.rule == rule);
    REQUIRE(c.grid == choose_stream_k_grid(problem, 132, 2, 3350));
    REQUIRE(std::string(to_string(c.rule)).size() > 10);
  }
  // 256 units of 128 tiles: two whole units per CTA, one CTA per SM
  REQUIRE(choose_stream_k_grid(make_uniform(8, 32, 32, 128, 8192), 132, 2, 3350) == 128);
  // ragged: CTAs cross unit boundaries, so two per SM hide each other's epilogues on the H200; on
  // the H100 one d128 CTA an SM streams within 2% of two, so fewer partials win (step 69)
  Problem ragged = make_uniform(4, 32, 8, 128, 0);
  ragged.seq_lens = {131072, 2000, 3000, 4000};
  REQUIRE(choose_stream_k_grid(ragged, 132, 2, 4800) > 132);
  REQUIRE(choose_stream_k_grid(ragged, 132, 2, 3350) <= 132);
  // b4 MQA 32/1 of 2674-15457 tokens: 21.2 us on 264 CTAs, 16.9 on 132 (H100); one unit keeps the
  // in-flight price (b1 MQA 48/1 7165: 76 CTAs in two blocks lost 10% against three on 132)
  Problem small = make_uniform(4, 32, 1, 128, 0);
  small.seq_lens = {15457, 8896, 2674, 7833};
  const Occupancy occ = Occupancy::estimate(128, 2);
  REQUIRE(choose_launch_shape(small, Policy::stream_k, 132, occ, 3350).grid.grid <= 132);
  REQUIRE(choose_launch_shape(small, Policy::stream_k, 132, occ, 4800).grid.grid > 132);
  const Problem one_unit = make_uniform(1, 48, 1, 128, 7165);
  REQUIRE(choose_launch_shape(one_unit, Policy::stream_k, 132, occ, 3350).grid.grid == 132);
  // a paged cache by cp.async reads its page ids a stage ahead: one CTA per SM, units in equal
  // pieces; by tensor loads in several page-sized boxes a tile, two per SM; pages of whole tiles
  // come by tensor loads, one box a tile, and keep one per SM
  Problem paged = make_uniform(8, 32, 8, 128, 16384);
  paged.kv_page_size = 16;
  REQUIRE_FALSE(prefer_tensor_loads(3350, 132, 16));
  REQUIRE(choose_stream_k_grid(paged, 132, 2, 3350) == 128);
  REQUIRE(choose_stream_k_grid(paged, 132, 2, 4800) == 256);  // tensor loads, four boxes a tile
  paged.kv_page_size = 64;
  REQUIRE(prefer_tensor_loads(3350, 132, 64));
  REQUIRE(choose_stream_k_grid(paged, 132, 2, 3350) == 128);
  // small pages by tensor loads only at head dim >= 128 and <= 16 boxes a tile (H200, step 43);
  // elsewhere by cp.async, in equal pieces on either card, within what shared memory allows
  for (int page : {16, 32}) {
    REQUIRE_FALSE(prefer_tensor_loads(3350, 132, page, 128));
    REQUIRE(prefer_tensor_loads(4800, 132, page, 128));
    REQUIRE_FALSE(prefer_tensor_loads(4800, 132, page, 64));
  }
  REQUIRE_FALSE(prefer_tensor_loads(4800, 132, 16, 256));  // 32 boxes a tile
  REQUIRE(prefer_tensor_loads(4800, 132, 32, 256));
  for (double peak : {3350.0, 4800.0})
    for (int page : {16, 32}) {
      Problem d64 = make_uniform(8, 32, 8, 64, 16384), d256 = make_uniform(8, 16, 4, 256, 16384);
      d64.kv_page_size = d256.kv_page_size = page;
      CHECK(choose_stream_k_grid(d64, 132, 3, peak) == 256);
      CHECK(choose_stream_k_grid(d256, 132, 1, peak) == 128);
    }
  // MQA: 32 query rows per partial make merges expensive, so fewer, longer CTAs
  REQUIRE(choose_stream_k_grid(make_uniform(1, 32, 1, 128, 131072), 132, 2) < 132);
  // MQA merged by the merge kernel, long enough for 16 tiles a CTA: one CTA per SM on an H100
  REQUIRE(choose_stream_k_grid(make_uniform(1, 32, 1, 128, 524288), 132, 2, 3350) == 128);
  REQUIRE(choose_stream_k_grid(make_uniform(1, 32, 1, 128, 16384), 132, 2, 3350) < 128);
  std::mt19937_64 rng(Catch::rngSeed() + 3);
  for (int trial = 0; trial < 300; ++trial) {
    const Problem p = test::random_problem(rng, 8, 100000);
    const int sms = 1 + int(rng() % 264), per_sm = 1 + int(rng() % 4), g = choose_stream_k_grid(p, sms, per_sm);
    REQUIRE(g >= 1);
    REQUIRE(g <= sms * per_sm);
  }
}

TEST_CASE("the planner merges through a tree only when one merge would read many large partials", "[cpu][schedule]") {
  // MQA, 32 query heads on one KV head: 16 KB partials at head dim 128
  const Problem mqa = make_uniform(1, 32, 1, 128, 131072);
  const Plan many = make_plan(mqa, Policy::stream_k, 264, kInKernelMerge);
  const Schedule s = many.view();
  INFO(s.print());
  REQUIRE(s.num_contributors(0) == 264);
  REQUIRE(s.separate_merge == 0);
  REQUIRE(s.merge_fanin == choose_merge_fanin(264, 4 * 32 * 128));
  REQUIRE(s.merge_fanin * s.merge_fanin >= 264);  // about sqrt(n) per level
  REQUIRE(s.merge_groups(0) == (264 + s.merge_fanin - 1) / s.merge_fanin);
  // MHA: 512-byte partials, few per unit: one merge
  const Problem mha = make_uniform(1, 32, 32, 128, 65536);
  const Plan few = make_plan(mha, Policy::stream_k, 264), few_in_kernel = make_plan(mha, Policy::stream_k, 264, kInKernelMerge);
  REQUIRE(few.view().merge_fanin == 0);
  REQUIRE(few_in_kernel.view().merge_fanin == 0);
  REQUIRE(few_in_kernel.view().separate_merge == 0);
  REQUIRE(few.view().separate_merge == 1);  // the planner's default: the merge kernel, flat
  const Plan planned = make_plan(mqa, Policy::stream_k, 264);
  REQUIRE(planned.view().separate_merge == 1);
  REQUIRE(planned.view().merge_fanin == 0);
  REQUIRE(planned.view().merge_groups(0) == 1);
  const Plan forced_mqa = make_plan(mqa, Policy::stream_k, 264, kSeparateMerge),
             forced_mha = make_plan(mha, Policy::stream_k, 264, kSeparateMerge);
  REQUIRE(forced_mqa.view().separate_merge == 1);
  REQUIRE(forced_mha.view().separate_merge == 1);
  REQUIRE_THROWS_AS(make_plan(mqa, Policy::stream_k, 264, -4), Error);
  REQUIRE(choose_merge_fanin(3, 1 << 20) == 0);           // too few to split
  REQUIRE(choose_merge_fanin(256, 512) == 0);             // 128 KB: one CTA reads it
  REQUIRE(choose_merge_fanin(257, 512) == 17);
  // forced
  const Plan flat = make_plan(mqa, Policy::stream_k, 264, 0), fives = make_plan(mqa, Policy::stream_k, 264, 5);
  REQUIRE(flat.view().merge_groups(0) == 1);
  REQUIRE(fives.view().merge_groups(0) == 53);
  REQUIRE(fives.view().group_size(0, 52) == 4);
}

TEST_CASE("the load path follows the measured rules on H100- and H200-like cards", "[cpu][schedule]") {
  const double h100 = 3350, h200 = 4800;  // GB/s over 132 SMs: 25 and 36 per SM
  auto tensor_loads = [](const Problem& p, Policy policy, int n, double peak) {
    const Plan plan = make_plan(p, policy, n);
    return plan_uses_tensor_loads(p, plan.view(), peak, 132);
  };
  const Problem mha_1k = make_uniform(1, 32, 32, 128, 1024), mha_16k = make_uniform(1, 32, 32, 128, 16384);
  // the H200 streams every d128 stream-K grid by tensor loads; the H100 its one-per-SM grids by
  // cp.async, except short streams (b1 MHA 1k: 4 tiles a CTA at G = 128)
  REQUIRE(tensor_loads(mha_16k, Policy::stream_k, 128, h200));
  REQUIRE_FALSE(tensor_loads(mha_16k, Policy::stream_k, 128, h100));
  REQUIRE(tensor_loads(mha_1k, Policy::stream_k, 128, h100));
  REQUIRE(tensor_loads(make_uniform(1, 32, 32, 128, 4096), Policy::stream_k, 128, h100));  // 16 tiles
  REQUIRE_FALSE(tensor_loads(make_uniform(1, 32, 32, 128, 8192), Policy::stream_k, 128, h100));  // 32
  // ... but not two CTAs per SM (b8 MHA 1k, one CTA per 16-tile unit), other head dims, paged
  // caches of small pages, or the fixed split
  REQUIRE_FALSE(tensor_loads(make_uniform(8, 32, 32, 128, 1024), Policy::stream_k, 256, h100));
  REQUIRE_FALSE(tensor_loads(make_uniform(1, 64, 64, 64, 1024), Policy::stream_k, 128, h100));
  Problem paged = mha_1k;
  paged.kv_page_size = 16;
  REQUIRE_FALSE(tensor_loads(paged, Policy::stream_k, 128, h100));
  REQUIRE_FALSE(tensor_loads(mha_1k, Policy::fixed_split, 4, h100));
  // a grid leaving over a quarter of the SMs idle, and no split, take them on any card
  REQUIRE(tensor_loads(mha_16k, Policy::stream_k, 64, h100));
  REQUIRE(tensor_loads(mha_16k, Policy::no_split, 1, h100));
}
