#include <catch2/catch.hpp>

#include <algorithm>
#include <climits>
#include <map>
#include <tuple>
#include <nlohmann/json.hpp>
#include <random>

#include "lean/sim/timeline.hpp"
#include "random_problem.hpp"

using namespace lean;

namespace {

sim::Machine test_machine() {
  sim::Machine m;
  m.name = "test";
  return m;
}

}  // namespace

TEST_CASE("the timeline model places every segment, partial and merge of the schedule", "[cpu][timeline]") {
  std::mt19937_64 rng(Catch::rngSeed());
  const sim::Machine m = test_machine();
  for (int trial = 0; trial < 60; ++trial) {
    Problem p = test::random_problem(rng, 5, 20000);
    p.tile_kv = 64;
    const Policy pol = Policy(trial % 3);
    const Plan plan = make_plan(p, pol, pol == Policy::fixed_split ? 1 + int(rng() % 5) : 1 + int(rng() % 400),
                                trial % 4 == 1 ? 2 + int(rng() % 4) : -1);
    const Schedule s = plan.view();
    const sim::Timeline tl = sim::model_timeline(p, s, m);
    INFO(describe(p) << " " << s.print());
    std::map<int32_t, int> segs, partials, ctas;
    int merges = 0;
    for (const sim::Event& e : tl.events) {
      REQUIRE(e.t0 >= 0);
      REQUIRE(e.t1 >= e.t0);
      REQUIRE(e.t1 <= tl.kernel_us + 1e-9);
      REQUIRE(e.sm >= 0);
      REQUIRE(e.sm < m.num_sms);
      if (e.kind == sim::EventKind::segment) ++segs[e.cta];
      if (e.kind == sim::EventKind::partial) ++partials[e.cta];
      if (e.kind == sim::EventKind::cta) ++ctas[e.cta];
      merges += e.kind == sim::EventKind::merge;
    }
    int expected_merges = 0;  // one per split unit, plus one per group of a two-level merge
    for (int32_t u = 0; u < s.num_units(); ++u)
      expected_merges += (s.num_contributors(u) > 1) + (s.merge_groups(u) > 1 ? s.merge_groups(u) : 0);
    std::map<int32_t, int> merges_of;
    for (const sim::Event& e : tl.events) merges_of[e.unit] += e.kind == sim::EventKind::merge;
    for (int32_t u = 0; u < s.num_units(); ++u) {
      INFO("unit " << u << " of " << s.num_contributors(u) << " contributors, " << s.merge_groups(u) << " groups");
      CHECK(merges_of[u] == (s.num_contributors(u) > 1) + (s.merge_groups(u) > 1 ? s.merge_groups(u) : 0));
    }
    REQUIRE(merges == expected_merges);
    for (int32_t c = 0; c < s.num_ctas; ++c) {
      const auto segments = segments_of(s, c);
      int incomplete = 0;
      for (const Segment& g : segments) incomplete += !g.complete;
      REQUIRE(segs[c] == int(segments.size()));
      REQUIRE(partials[c] == incomplete);
      REQUIRE(ctas[c] == 1);
    }
    // never faster than the bytes over the memory bandwidth
    REQUIRE(tl.kernel_us >= p.kv_bytes() / (m.mem_gbps * 1e3));
    // deterministic
    REQUIRE(sim::model_timeline(p, s, m).kernel_us == tl.kernel_us);
  }
}

TEST_CASE("the model's merge kernel shares a row's reads among its threads", "[cpu][timeline]") {
  const sim::Machine m = test_machine();
  const Problem mqa = make_uniform(1, 32, 1, 128, 131072);
  auto merge_us = [&](int grid) {  // the one split unit's merge, 32 rows in one wave
    const Plan plan = make_plan(mqa, Policy::stream_k, grid);
    const Schedule s = plan.view();
    for (const sim::Event& e : sim::model_timeline(mqa, s, m).events)
      if (e.kind == sim::EventKind::merge) return std::make_pair(e.t1 - e.t0, s.merge_threads(mqa.head_dim));
    return std::make_pair(-1.0, 0);
  };
  const auto [us64, threads64] = merge_us(64);    // 64 partials a row: 256 threads
  const auto [us128, threads128] = merge_us(128);  // 128: 512 threads, the same reads a thread
  REQUIRE(threads64 == KernelShape::kMergeThreads);
  REQUIRE(threads128 == KernelShape::kMaxMergeThreads);
  REQUIRE(us64 > 0);
  REQUIRE(us128 == Approx(us64));
  REQUIRE(merge_us(96).first < us64);  // 96 partials at 512 threads read less a thread than 64 at 256
}

TEST_CASE("the model's row blocks read K/V once from DRAM where they share it in L2", "[cpu][timeline]") {
  sim::Machine m = test_machine();
  auto stream_us = [&](const Problem& p, int grid, int rows, double l2_gbps) {
    m.l2_gbps = l2_gbps;
    const Plan plan = make_plan(p, Policy::stream_k, grid, kAutoMerge, rows);
    return sim::model_timeline(p, plan.view(), m).kernel_us;
  };
  const Problem in_step = make_uniform(1, 32, 1, 128, 131072);  // 1024 tiles a block, 8 a CTA at G = 256
  REQUIRE(blocks_share_l2(in_step, 256, 2));
  const double shared = stream_us(in_step, 256, 2, 2 * m.mem_gbps), from_dram = stream_us(in_step, 256, 2, m.mem_gbps);
  CHECK(shared < 0.8 * from_dram);
  CHECK(stream_us(in_step, 256, 2, 1.5 * m.mem_gbps) > shared);  // capped by what L2 delivers
  const Problem out_of_step = make_uniform(1, 48, 1, 128, 100000);  // 3 blocks over 256 CTAs, 51 MB of K/V
  REQUIRE_FALSE(blocks_share_l2(out_of_step, 256, 3));
  CHECK(stream_us(out_of_step, 256, 3, 2 * m.mem_gbps) == Approx(stream_us(out_of_step, 256, 3, m.mem_gbps)));
}

TEST_CASE("the model prefers stream-K where one head is long and no split where units fill the card", "[cpu][timeline]") {
  const sim::Machine m = test_machine();
  auto time = [&](const Problem& p, Policy pol, int n) {
    const Plan plan = make_plan(p, pol, n);
    return sim::model_timeline(p, plan.view(), m).kernel_us;
  };
  const Problem longp = make_uniform(1, 32, 32, 128, 524288);
  CHECK(time(longp, Policy::stream_k, 264) * 2 < time(longp, Policy::no_split, 1));
  const Problem wide = make_uniform(8, 32, 32, 128, 1024);  // 256 units of 16 tiles: already balanced
  CHECK(time(wide, Policy::no_split, 1) <= time(wide, Policy::stream_k, 264));
}

TEST_CASE("machine presets round-trip and name what is wrong", "[cpu][timeline]") {
  sim::Machine m = test_machine();
  m.mem_gbps = 4321;
  const sim::Machine r = sim::Machine::from_json(m.to_json());
  REQUIRE(r.mem_gbps == 4321);
  REQUIRE(r.name == "test");
  REQUIRE_THROWS_WITH(sim::Machine::from_json("{"), Catch::Contains("not JSON"));
  nlohmann::json j = nlohmann::json::parse(m.to_json());
  j.erase("sm_gbps");
  REQUIRE_THROWS_WITH(sim::Machine::from_json(j.dump()), Catch::Contains("sm_gbps"));
  j = nlohmann::json::parse(m.to_json());
  j["launch_us"] = -1;
  REQUIRE_THROWS_WITH(sim::Machine::from_json(j.dump()), Catch::Contains("launch_us"));
}

TEST_CASE("measured traces become the same events, and both draw and export", "[cpu][timeline]") {
  const Problem p = make_uniform(2, 8, 2, 128, 3000);
  const Plan plan = make_plan(p, Policy::stream_k, 10);
  const Schedule s = plan.view();
  // a synthetic kernel record: CTA c on SM c % 4, each segment 1 us long
  const int kseg = 4;
  std::vector<int64_t> trace(size_t(s.num_ctas) * (4 + 5 * kseg), 0);
  for (int32_t c = 0; c < s.num_ctas; ++c) {
    int64_t* r = trace.data() + c * (4 + 5 * kseg);
    const auto segments = segments_of(s, c);
    r[0] = c % 4, r[1] = 1000000 + c * 100, r[3] = int64_t(segments.size());
    int64_t t = r[1];
    for (size_t k = 0; k < segments.size(); ++k) {
      int64_t* g = r + 4 + 5 * k;
      g[0] = segments[k].unit, g[1] = t, g[2] = t + 800, g[3] = t + 900, g[4] = t + 1000;
      t += 1000;
    }
    r[2] = t;
  }
  const sim::Timeline meas = sim::from_trace(trace, s.num_ctas, kseg, "synthetic");
  int segs = 0;
  for (const sim::Event& e : meas.events) segs += e.kind == sim::EventKind::segment;
  int expected = 0;
  for (int32_t c = 0; c < s.num_ctas; ++c) expected += int(segments_of(s, c).size());
  REQUIRE(segs == expected);
  REQUIRE(meas.kernel_us > 0);
  const sim::Timeline model = sim::model_timeline(p, s, test_machine());
  const std::string svg = sim::timeline_svg({model, meas}, s, "test");
  CHECK(svg.find("<svg") == 0);
  CHECK(svg.find("measured synthetic") != std::string::npos);
  const auto j = nlohmann::json::parse(sim::chrome_trace_json({model, meas}));
  CHECK(j["traceEvents"].size() == model.events.size() + meas.events.size() + 2);
  REQUIRE_THROWS_WITH(sim::from_trace(std::vector<int64_t>(3), s.num_ctas, kseg, "x"), Catch::Contains("too short"));
}

TEST_CASE("the tail summary groups CTA ends by segments and measures each CTA's start and boundaries", "[cpu][timeline]") {
  std::mt19937_64 rng(Catch::rngSeed() + 41);
  std::uniform_real_distribution<double> dur(0.1, 20.0);
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  };
  for (int trial = 0; trial < 50; ++trial) {
    // a random trace in lean_decode_trace's layout: [sm, start, end, segments, per segment: unit,
    // begin, streamed, written, merged], nanoseconds
    const int ctas = 2 + int(rng() % 40), max_segments = 1 + int(rng() % 5);
    std::vector<int64_t> trace(size_t(ctas) * (4 + 5 * max_segments), 0);
    std::map<int, std::vector<double>> ends;
    std::vector<double> first, gaps;
    const int64_t origin = 1000000 + int64_t(rng() % 1000);
    std::vector<std::tuple<int64_t, int64_t, int>> rows;  // start, end, segments
    int64_t t0 = INT64_MAX;
    for (int c = 0; c < ctas; ++c) {
      int64_t* r = trace.data() + size_t(c) * (4 + 5 * max_segments);
      const int n = int(rng() % (max_segments + 1));  // 0: an idle CTA
      int64_t t = origin + int64_t(dur(rng) * 1e3);
      r[0] = c % 7, r[1] = t, r[3] = n;
      int64_t prev_end = 0;
      for (int k = 0; k < n; ++k) {
        int64_t* g = r + 4 + 5 * k;
        g[0] = c + k, g[1] = t += int64_t(dur(rng) * 1e3), g[2] = t += int64_t(dur(rng) * 1e3);
        g[3] = t += rng() % 2 ? int64_t(dur(rng) * 1e3) : 0;
        g[4] = t += rng() % 3 ? 0 : int64_t(dur(rng) * 1e3);
        if (k == 0) first.push_back(double(g[1] - r[1]) * 1e-3);
        else gaps.push_back(double(g[1] - prev_end) * 1e-3);
        prev_end = t;
      }
      r[2] = t += int64_t(dur(rng) * 1e3);
      t0 = std::min(t0, r[1]);
      rows.emplace_back(r[1], r[2], n);
    }
    double latest = 0;
    for (const auto& [start, end, n] : rows) {
      latest = std::max(latest, double(end - t0) * 1e-3);
      if (n > 0) ends[n].push_back(double(end - t0) * 1e-3);
    }
    const sim::TailSummary t = sim::summarize_tail(sim::from_trace(trace, ctas, max_segments, "test"));
    INFO(t.str());
    REQUIRE(t.by_segments.size() == ends.size());
    size_t i = 0;
    for (const auto& [n, v] : ends) {
      const sim::TailSummary::Group& grp = t.by_segments[i++];
      CHECK(grp.segments == n);
      CHECK(grp.ctas == int(v.size()));
      CHECK(grp.end_median == Approx(median(v)).epsilon(1e-12));
      CHECK(grp.end_max == Approx(*std::max_element(v.begin(), v.end())).epsilon(1e-12));
    }
    CHECK(t.end_max == Approx(latest).epsilon(1e-12));
    CHECK(t.boundaries == int(gaps.size()));
    if (!first.empty()) CHECK(t.first_segment_median == Approx(median(first)).epsilon(1e-12));
    if (!gaps.empty()) {
      CHECK(t.boundary_median == Approx(median(gaps)).epsilon(1e-12));
      CHECK(t.boundary_max == Approx(*std::max_element(gaps.begin(), gaps.end())).epsilon(1e-12));
    }
  }
}

TEST_CASE("the model's tail counts every CTA's segments and boundaries", "[cpu][timeline]") {
  std::mt19937_64 rng(Catch::rngSeed() + 43);
  const sim::Machine m = test_machine();
  for (int trial = 0; trial < 40; ++trial) {
    Problem p = test::random_problem(rng, 8, 20000);
    p.tile_kv = 64;
    const Plan plan = make_plan(p, Policy::stream_k, 1 + int(rng() % 300));
    const Schedule s = plan.view();
    const sim::TailSummary t = sim::summarize_tail(sim::model_timeline(p, s, m));
    std::map<int, int> ctas_of;
    int boundaries = 0;
    for (int32_t c = 0; c < s.num_ctas; ++c) {
      const int n = int(segments_of(s, c).size());
      if (n > 0) ++ctas_of[n], boundaries += n - 1;
    }
    INFO(describe(p) << " " << s.print() << "\n" << t.str());
    REQUIRE(t.by_segments.size() == ctas_of.size());
    for (const sim::TailSummary::Group& g : t.by_segments) {
      CHECK(g.ctas == ctas_of[g.segments]);
      CHECK(g.end_median <= g.end_max);
      CHECK(g.end_max <= t.end_max + 1e-9);
    }
    CHECK(t.boundaries == boundaries);
    CHECK(t.first_segment_median >= 0);
    CHECK(t.boundary_median >= 0);
  }
}
