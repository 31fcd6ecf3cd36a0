// GPU tests: the decode kernel against the float64 oracle, its own record against the schedule,
// reproducibility, residency safety and API errors. Label "gpu": run only on a GPU machine.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <random>
#include <string>

#include "gpu_harness.hpp"
#include "lean/golden/io.hpp"
#include "lean/sim/compare.hpp"
#include "lean/sim/emulate.hpp"

using namespace lean;
using namespace lean::test;

namespace {

int device_count() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess ? n : 0;
}

/// A missing GPU fails loudly: Catch2 2.13 has no SKIP, and a silent pass would hide it.
void require_gpu() {
  static const bool ok = [] {
    cudaDeviceProp prop{};
    if (device_count() == 0 || cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return false;
    std::printf("GPU: %s, %d SMs, compute capability %d.%d\n", prop.name, prop.multiProcessorCount, prop.major, prop.minor);
    return true;
  }();
  REQUIRE(ok);
}

lean_policy to_api(Policy p) {
  return p == Policy::stream_k ? LEAN_STREAM_K : p == Policy::fixed_split ? LEAN_FIXED_SPLIT : LEAN_NO_SPLIT;
}

/// The output of the decode `dp` ran last with plan `h` against `expected`, every element, within
/// the emulation-derived tolerance. Returns the O error.
double check_output(const DeviceProblem& dp, PlanHandle& h, const sim::Inputs& in, const sim::Output& expected) {
  const Schedule s = cuda::host_schedule(h.plan);
  const sim::Output got = dp.output();
  const sim::Tolerance tol = sim::gpu_tolerance(in, s, expected);
  const sim::ErrorStats eo = sim::compare(got.o, expected.o, dp.problem().head_dim);
  const sim::ErrorStats el = sim::compare_lse(got.lse, expected.lse);
  INFO(describe(dp.problem()) << " policy=" << to_string(s.policy) << " ctas=" << s.num_ctas);
  INFO("O: " << eo.str() << " tol " << tol.o << "; LSE: " << el.str() << " tol " << tol.lse);
  std::printf("  %-60s %-11s ctas=%-5d O err %.2e (tol %.2e, rel_l2 %.2e)  LSE err %.2e (tol %.2e)\n", describe(dp.problem()).c_str(),
              to_string(s.policy), s.num_ctas, eo.max_err, tol.o, eo.rel_l2, el.max_err, tol.lse);
  CHECK(eo.nonfinite == 0);
  CHECK(el.nonfinite == 0);
  CHECK(eo.max_err <= tol.o);
  CHECK(el.max_err <= tol.lse);
  return eo.max_err;
}

/// Runs one (problem, policy, grid) on the GPU and checks its output (check_output).
double check_run(const DeviceProblem& dp, const sim::Inputs& in, lean_policy policy, int grid, const sim::Output& expected) {
  PlanHandle h(dp.problem(), policy, grid);
  dp.launch(h);
  return check_output(dp, h, in, expected);
}

/// One launch with the CTA record (lean_decode's `record`) poisoned first, brought back.
std::vector<int32_t> recorded_launch(const DeviceProblem& dp, PlanHandle& h, const Schedule& s) {
  DeviceBuffer rec(size_t(s.num_ctas * 4 + s.num_units()) * 4);
  cuda_check(cudaMemset(rec.ptr, 0xff, rec.bytes), "poison record");
  dp.launch(h, static_cast<int32_t*>(rec.ptr));
  std::vector<int32_t> r(rec.bytes / 4);
  cuda_check(cudaMemcpy(r.data(), rec.ptr, rec.bytes, cudaMemcpyDeviceToHost), "record");
  return r;
}

/// The record against the schedule: every CTA's range and segment count; each unit merged by
/// one of its contributors (untouched when empty); one merge per split unit over all CTAs.
void check_record(const Schedule& s, const std::vector<int32_t>& r) {
  for (int32_t c = 0; c < s.num_ctas; ++c) {
    const TileRange tr = s.cta_range(c);
    CHECK(r[c * 4 + 0] == tr.begin);
    CHECK(r[c * 4 + 1] == tr.end);
    CHECK(r[c * 4 + 2] == int32_t(segments_of(s, c).size()));
  }
  int merges = 0;
  for (int32_t u = 0; u < s.num_units(); ++u) {
    const int32_t merger = r[s.num_ctas * 4 + u], first = s.first_cta(u), n = s.num_contributors(u);
    if (n == 0) {
      CHECK(merger == -1);  // untouched: empty sequence
    } else if (s.separate_merge && n > 1) {
      CHECK(merger == LEAN_RECORD_MERGE_KERNEL);  // the merge kernel, not a contributor
    } else {
      CHECK(merger >= first);  // the last contributor to arrive merged it
      CHECK(merger < first + n);
      merges += n > 1;  // a whole unit (n == 1) was written by its only CTA: no merge
    }
  }
  int reported = 0;
  for (int32_t c = 0; c < s.num_ctas; ++c) reported += r[c * 4 + 3];
  CHECK(reported == merges);
}

std::string golden_dir() {
  const char* env = std::getenv("LEAN_GOLDEN_DIR");
  return env ? env : LEAN_SOURCE_DIR "/golden/data";
}

Problem random_problem(std::mt19937_64& rng) {
  auto pick = [&](std::initializer_list<int> v) { return *(v.begin() + rng() % v.size()); };
  Problem p;
  p.batch = 1 + int(rng() % 5);
  p.num_kv_heads = pick({1, 2, 3, 4});
  p.num_q_heads = p.num_kv_heads * pick({1, 2, 4, 5, 8, 12, 16, 24, 32, 48, 64});
  p.head_dim = pick({64, 128, 256});
  p.dtype = rng() % 2 ? DType::fp16 : DType::bf16;
  p.tile_kv = pick({64, 64, 128, 192});
  for (int b = 0; b < p.batch; ++b) {
    const int kind = int(rng() % 6);
    p.seq_lens.push_back(kind == 0 ? 0 : kind == 1 ? 1 + int64_t(rng() % 3) : int64_t(rng() % 3000));
  }
  return p;
}

}  // namespace

TEST_CASE("every golden case matches on the GPU under all three schedules", "[gpu][golden]") {
  require_gpu();
  std::mt19937_64 rng(Catch::rngSeed());
  int cases = 0;
  for (const auto& e : std::filesystem::directory_iterator(golden_dir())) {
    if (e.path().extension() != ".h5") continue;
    const golden::Case c = golden::read(e.path().string());
    const auto in = golden::inputs_of(c);
    DeviceProblem dp(c.problem, c.inputs ? &*c.inputs : nullptr, c.seed, c.mode, Layout{}, rng);
    INFO("case " << c.name);
    for (lean_policy pol : {LEAN_STREAM_K, LEAN_FIXED_SPLIT, LEAN_NO_SPLIT}) check_run(dp, *in, pol, 0, c.expected);
    // the grid the golden file was planned with, stream-K only
    if (c.policy == Policy::stream_k) check_run(dp, *in, LEAN_STREAM_K, c.grid, c.expected);
    ++cases;
  }
  std::printf("golden cases checked on the GPU: %d\n", cases);
  REQUIRE(cases >= 10);
}

TEST_CASE("random problems, layouts and grids against the float64 replay", "[gpu][random]") {
  require_gpu();
  std::mt19937_64 rng(Catch::rngSeed() + 17);
  for (int trial = 0; trial < 40; ++trial) {
    const Problem p = random_problem(rng);
    const uint64_t seed = rng();
    const InputMode mode = trial % 4 == 3 ? InputMode::stress : InputMode::normal;
    // pages of 24-80 tokens but 32 and 64 neither divide nor are divided by a 64-token tile:
    // cp.async only; those of 24 and 40 also split a warp's 16 rows, so each row looks its page up
    constexpr int kPages[] = {16, 24, 32, 40, 48, 64, 80, 128, 256};
    const Layout layout = trial % 2 ? Layout{kPages[rng() % 9], 0} : Layout{0, int(8 * (rng() % 3))};
    const sim::GeneratedInputs in(p, seed, mode);
    const sim::Output expected = sim::naive_attention(in);
    DeviceProblem dp(p, nullptr, seed, mode, layout, rng);
    INFO("trial " << trial << " page_size " << layout.page_size << " head_pad " << layout.head_pad);
    const int grid = 1 + int(rng() % 300);
    check_run(dp, in, LEAN_STREAM_K, grid, expected);
    check_run(dp, in, to_api(Policy(rng() % 3)), int(rng() % 5), expected);
  }
}

TEST_CASE("the kernel's record matches the schedule", "[gpu][record]") {
  require_gpu();
  std::mt19937_64 rng(Catch::rngSeed() + 29);
  for (int trial = 0; trial < 12; ++trial) {
    const Problem p = random_problem(rng);
    DeviceProblem dp(p, nullptr, rng(), InputMode::normal, Layout{}, rng);
    const lean_policy pol = to_api(Policy(trial % 3));
    PlanHandle h(p, pol, pol == LEAN_STREAM_K ? 1 + int(rng() % 200) : 1 + int(rng() % 4));
    const Schedule s = cuda::host_schedule(h.plan);
    INFO(describe(p) << " " << s.print());
    check_record(s, recorded_launch(dp, h, s));
  }
}

/// Runs (policy, grid) against `expected`, then checks that a second launch repeats every bit
/// (merge counters are back at zero) and that the kernel's record matches the schedule.
/// `inspect` sees the schedule while its plan is alive.
template <typename Inspect>
void check_repeat_and_record(const DeviceProblem& dp, const sim::Inputs& in, lean_policy pol, int grid,
                             const sim::Output& expected, Inspect inspect) {
  check_run(dp, in, pol, grid, expected);
  PlanHandle h(dp.problem(), pol, grid);
  const Schedule s = cuda::host_schedule(h.plan);
  INFO(describe(dp.problem()) << " " << s.print());
  inspect(s);
  const std::vector<int32_t> record = recorded_launch(dp, h, s);
  const std::vector<uint16_t> first = dp.raw();
  dp.launch(h);
  REQUIRE(dp.raw() == first);
  check_record(s, record);
}

/// Plans made in its scope see one of lean_plan_create's environment overrides (LEAN_MERGE_FANIN,
/// LEAN_SEPARATE_MERGE, LEAN_EARLY_MERGE_LAUNCH, LEAN_TMA, LEAN_ROW_SPLIT, LEAN_UNIT_PAD,
/// LEAN_UNIFORM_KERNEL, LEAN_ISOLATE_MERGE) set to `value`.
struct ScopedEnv {
  const char* name;
  ScopedEnv(const char* n, const std::string& value) : name(n) { setenv(n, value.c_str(), 1); }
  ScopedEnv(const ScopedEnv&) = delete;
  ~ScopedEnv() { unsetenv(name); }
};

TEST_CASE("two-level merges match the replay, repeat bitwise and report their mergers", "[gpu][tree]") {
  require_gpu();
  std::mt19937_64 rng(Catch::rngSeed() + 53);
  int trees = 0;
  for (int trial = 0; trial < 24; ++trial) {
    Problem p = random_problem(rng);
    if (trial % 3 == 0) {  // MQA-like: many contributors of large partials, the planner's own fan-in
      p = make_uniform(1 + int(rng() % 2), 32, 1, trial % 2 ? 128 : 64, 20000 + int64_t(rng() % 50000));
      p.dtype = rng() % 2 ? DType::fp16 : DType::bf16;
    }
    const uint64_t seed = rng();
    const sim::GeneratedInputs in(p, seed, trial % 4 == 3 ? InputMode::stress : InputMode::normal);
    const sim::Output expected = sim::naive_attention(in);
    DeviceProblem dp(p, nullptr, seed, trial % 4 == 3 ? InputMode::stress : InputMode::normal, Layout{}, rng);
    const int fanin = trial % 3 == 0 ? -1 : 1 + int(rng() % 5);
    std::optional<ScopedEnv> forced;
    if (fanin > 0) forced.emplace("LEAN_MERGE_FANIN", std::to_string(fanin));
    const ScopedEnv in_kernel("LEAN_SEPARATE_MERGE", "0");  // the planner's default is the merge kernel
    const lean_policy pol = trial % 4 == 1 ? LEAN_FIXED_SPLIT : LEAN_STREAM_K;
    const int grid = pol == LEAN_STREAM_K ? (trial % 3 == 0 ? 0 : 1 + int(rng() % 300)) : 2 + int(rng() % 12);
    INFO("trial " << trial << " fan-in " << fanin);
    check_repeat_and_record(dp, in, pol, grid, expected, [&](const Schedule& s) {
      for (int32_t u = 0; u < s.num_units(); ++u) trees += s.merge_groups(u) > 1;
    });
  }
  std::printf("units merged through a two-level tree: %d\n", trees);
  REQUIRE(trees >= 10);
}

TEST_CASE("the separate merge kernel matches the replay, repeats bitwise and is recorded", "[gpu][combine]") {
  require_gpu();
  std::mt19937_64 rng(Catch::rngSeed() + 59);
  int merged = 0;
  for (int trial = 0; trial < 16; ++trial) {
    Problem p = random_problem(rng);
    if (trial % 2 == 0) {  // MQA: the planner's own choice at head dim 128 and 256
      p = make_uniform(1 + int(rng() % 3), 32, 1, trial % 4 == 0 ? 128 : 256, 1 + int64_t(rng() % 60000));
      p.dtype = rng() % 2 ? DType::fp16 : DType::bf16;
    }
    const uint64_t seed = rng();
    const InputMode mode = trial % 3 == 2 ? InputMode::stress : InputMode::normal;
    const sim::GeneratedInputs in(p, seed, mode);
    const sim::Output expected = sim::naive_attention(in);
    DeviceProblem dp(p, nullptr, seed, mode, Layout{}, rng);
    std::optional<ScopedEnv> forced;
    if (trial % 2 == 1) forced.emplace("LEAN_SEPARATE_MERGE", "1");  // the override path; small partials share a row among up to 4 thread groups
    std::optional<ScopedEnv> late;
    if (trial % 3 == 1) late.emplace("LEAN_EARLY_MERGE_LAUNCH", "0");  // the merge kernel launched as the decode kernel's CTAs exit
    std::optional<ScopedEnv> isolated;  // either merge function whatever its CTA count (KernelShape::isolates_merge)
    if (trial % 4 == 2) isolated.emplace("LEAN_ISOLATE_MERGE", trial % 8 == 2 ? "1" : "0");
    const lean_policy pol = trial % 5 == 3 ? LEAN_FIXED_SPLIT : LEAN_STREAM_K;
    const int grid = pol == LEAN_STREAM_K ? (trial % 4 == 0 ? 0 : 1 + int(rng() % 300)) : 2 + int(rng() % 12);
    INFO("trial " << trial);
    check_repeat_and_record(dp, in, pol, grid, expected, [&](const Schedule& s) {
      REQUIRE(s.separate_merge == 1);
      for (int32_t u = 0; u < s.num_units(); ++u) merged += s.num_contributors(u) > 1;
    });
  }
  std::printf("units merged by the separate kernel: %d\n", merged);
  REQUIRE(merged >= 10);
  // rows of more partials than 256 threads take in one batch each: the merge kernel's 512-thread form
  for (const int d : {64, 128, 256}) {
    const Problem p = make_uniform(1, 32, 1, d, 30000 + int64_t(rng() % 30000));
    const uint64_t seed = rng();
    const sim::GeneratedInputs in(p, seed, InputMode::normal);
    const sim::Output expected = sim::naive_attention(in);
    DeviceProblem dp(p, nullptr, seed, InputMode::normal, Layout{}, rng);
    INFO("head dim " << d);
    check_repeat_and_record(dp, in, LEAN_STREAM_K, 264, expected, [&](const Schedule& s) {
      REQUIRE(s.num_contributors(0) > KernelShape::kMergeBatch * (KernelShape::kMergeThreads / (d / 4)));
      REQUIRE(s.merge_threads(d) == KernelShape::kMaxMergeThreads);
    });
  }
}

TEST_CASE("row splits of large groups match the replay, repeat bitwise and are recorded", "[gpu][rows]") {
  require_gpu();
  std::mt19937_64 rng(Catch::rngSeed() + 71);
  int split = 0;
  for (int trial = 0; trial < 12; ++trial) {
    const int d = trial % 3 == 0 ? 64 : trial % 3 == 1 ? 128 : 256;
    const int group = d == 256 || trial % 2 ? 32 : 48;
    Problem p = make_uniform(1 + int(rng() % 2), group * (1 + int(rng() % 2)), 1, d, 0);
    p.num_kv_heads = p.num_q_heads / group;
    for (int b = 0; b < p.batch; ++b) p.seq_lens[b] = 1 + int64_t(rng() % 20000);
    p.dtype = rng() % 2 ? DType::fp16 : DType::bf16;
    const uint64_t seed = rng();
    const InputMode mode = trial % 4 == 3 ? InputMode::stress : InputMode::normal;
    const sim::GeneratedInputs in(p, seed, mode);
    const sim::Output expected = sim::naive_attention(in);
    DeviceProblem dp(p, nullptr, seed, mode, Layout{}, rng);
    // the planner's choice, whole groups, forced blocks of group/4 rows; then forced at a given grid
    for (const char* env : {"", "0", "4", "2"}) {
      std::optional<ScopedEnv> set;
      if (*env) set.emplace("LEAN_ROW_SPLIT", env);
      const int grid = *env == '2' ? 1 + int(rng() % 300) : 0;
      INFO("trial " << trial << " LEAN_ROW_SPLIT=" << env << " grid " << grid);
      check_repeat_and_record(dp, in, LEAN_STREAM_K, grid, expected, [&](const Schedule& s) {
        REQUIRE(s.row_split * s.unit_rows == group);
        if (*env) REQUIRE(s.row_split == std::max(1, std::atoi(env)));
        if (grid > 0) REQUIRE(s.num_ctas == grid);
        split += s.row_split > 1;
      });
    }
  }
  std::printf("plans with a row split: %d\n", split);
  REQUIRE(split >= 3);
}

TEST_CASE("the launcher's row blocks run in step or share a small KV head in L2", "[gpu][rows]") {
  require_gpu();
  int split = 0;
  for (const int b : {1, 2})
    for (const int hq : {32, 48, 64})
      for (const int64_t len : {8192, 16384, 30000, 32768, 65536, 100000, 131072}) {
        const Problem p = make_uniform(b, hq, 1, 128, len);
        PlanHandle h(p, LEAN_STREAM_K, 0);
        const Schedule s = cuda::host_schedule(h.plan);
        INFO("b " << b << " hq " << hq << " len " << len << ": " << s.print());
        REQUIRE(s.row_split * s.unit_rows == hq);
        if (s.row_split == 1) continue;
        ++split;
        REQUIRE(s.num_ctas % s.row_split == 0);
        REQUIRE(blocks_share_l2(p, s.num_ctas, s.row_split));  // out of step past 24 MB: whole groups
      }
  std::printf("plans with a row split: %d of 42\n", split);
  REQUIRE(split >= 3);
}

TEST_CASE("groups larger than the kernel holds run in row blocks under every schedule", "[gpu][rows]") {
  require_gpu();
  std::mt19937_64 rng(Catch::rngSeed() + 79);
  for (int trial = 0; trial < 9; ++trial) {
    const int group = std::vector<int>{40, 48, 64}[trial % 3];  // head dim 256 holds 32 query heads a CTA
    Problem p = make_uniform(1 + int(rng() % 3), group * (1 + int(rng() % 2)), 1, 256, 0);
    p.num_kv_heads = p.num_q_heads / group;
    for (int b = 0; b < p.batch; ++b) p.seq_lens[b] = trial % 4 == 0 && b == 0 ? 0 : 1 + int64_t(rng() % 6000);
    p.dtype = rng() % 2 ? DType::fp16 : DType::bf16;
    const uint64_t seed = rng();
    const InputMode mode = trial % 4 == 3 ? InputMode::stress : InputMode::normal;
    const sim::GeneratedInputs in(p, seed, mode);
    const sim::Output expected = sim::naive_attention(in);
    const Layout layout = trial % 2 ? Layout{16 << (rng() % 3), 0} : Layout{};
    DeviceProblem dp(p, nullptr, seed, mode, layout, rng);
    for (const lean_policy pol : {LEAN_STREAM_K, LEAN_FIXED_SPLIT, LEAN_NO_SPLIT})
      for (const int grid : {0, pol == LEAN_STREAM_K ? 1 + int(rng() % 300) : 1 + int(rng() % 4)}) {
        INFO("trial " << trial << " " << describe(p) << " page " << layout.page_size << " policy " << int(pol) << " grid " << grid);
        check_repeat_and_record(dp, in, pol, grid, expected, [&](const Schedule& s) {
          REQUIRE(s.row_split * s.unit_rows == group);
          REQUIRE(s.unit_rows <= KernelShape::max_unit_rows(256));
          REQUIRE(s.row_split >= min_row_split(p));
        });
      }
  }
  // many blocks of a uniform batch: stream-K runs one 16-row block a CTA, a KV head's blocks neighbours
  const Problem many = make_uniform(16, 512, 16, 256, 70 + int64_t(rng() % 100));
  const uint64_t seed = rng();
  const sim::GeneratedInputs in(many, seed, InputMode::normal);
  const sim::Output expected = sim::naive_attention(in);
  DeviceProblem dp(many, nullptr, seed, InputMode::normal, Layout{}, rng);
  for (const lean_policy pol : {LEAN_STREAM_K, LEAN_FIXED_SPLIT, LEAN_NO_SPLIT}) {
    INFO(describe(many) << " policy " << int(pol));
    check_repeat_and_record(dp, in, pol, 0, expected, [&](const Schedule& s) {
      REQUIRE(s.unit_rows == 16);
      if (pol == LEAN_STREAM_K) REQUIRE(s.num_ctas == s.num_units());
    });
  }
}

TEST_CASE("the launcher's shape is choose_launch_shape's from the occupancy lean plan --explain estimates", "[gpu][rows]") {
  // `lean plan --explain` prints the launcher's choice from Occupancy::estimate: this checks the
  // estimate against CUDA's occupancy for every kernel the planner picks from
  require_gpu();
  cudaDeviceProp prop;
  REQUIRE(cudaGetDeviceProperties(&prop, 0) == cudaSuccess);
  const double peak = cuda::peak_dram_gbps(0);
  REQUIRE(peak > 0);
  std::mt19937_64 rng(Catch::rngSeed() + 89);
  int checked = 0, blocks = 0;
  for (const int d : {64, 128, 256})
    for (const int group : {1, 4, 8, 16, 24, 32, 48, 64})
      for (int trial = 0; trial < 6; ++trial) {
        Problem p = make_uniform(1 + int(rng() % 4), group * (1 + int(rng() % 2)), 1, d, 0);
        p.num_kv_heads = p.num_q_heads / group;
        for (int b = 0; b < p.batch; ++b) p.seq_lens[b] = trial % 3 == 0 ? 1 + int64_t(rng() % 200000) : int64_t(1024) << (rng() % 8);
        if (trial % 3 == 1) p.seq_lens.assign(p.batch, p.seq_lens[0]);
        p.kv_page_size = trial == 5 ? 16 : trial == 4 ? 64 : 0;
        for (const lean_policy pol : {LEAN_STREAM_K, LEAN_FIXED_SPLIT}) {
          PlanHandle h(p, pol, 0);
          const Schedule s = cuda::host_schedule(h.plan);
          const LaunchShape shape = choose_launch_shape(p, pol == LEAN_STREAM_K ? Policy::stream_k : Policy::fixed_split,
                                                        prop.multiProcessorCount, Occupancy::estimate(d, 2), peak);
          const Plan expect = make_plan(p, s.policy, shape.grid.grid, kAutoMerge, shape.row_split);
          INFO(describe(p) << " page " << p.kv_page_size << "\n launcher: " << s.print() << "\n estimate: " << expect.view().print());
          REQUIRE(s.row_split == shape.row_split);
          REQUIRE(s.num_ctas == expect.view().num_ctas);
          ++checked;
          blocks += s.row_split > 1;
        }
      }
  std::printf("launch shapes equal to the estimate's: %d (%d in row blocks)\n", checked, blocks);
  REQUIRE(blocks >= 10);
}

TEST_CASE("idle tiles before each unit of a ragged batch match the replay, repeat bitwise and are recorded", "[gpu][pad]") {
  require_gpu();
  std::mt19937_64 rng(Catch::rngSeed() + 83);
  int idle_starts = 0, padded = 0;
  for (int trial = 0; trial < 10; ++trial) {
    Problem p = random_problem(rng);
    p.batch = 2 + int(rng() % 5);
    p.seq_lens.clear();
    for (int b = 0; b < p.batch; ++b) p.seq_lens.push_back(b == 1 && trial % 3 == 0 ? 0 : 1 + int64_t(rng() % 20000));
    const uint64_t seed = rng();
    const InputMode mode = trial % 4 == 3 ? InputMode::stress : InputMode::normal;
    const sim::GeneratedInputs in(p, seed, mode);
    const sim::Output expected = sim::naive_attention(in);
    DeviceProblem dp(p, nullptr, seed, mode, trial % 2 ? Layout{64, 0} : Layout{}, rng);
    // the planner's pad, none, and larger ones forced (dropped where a CTA's share cannot hold them)
    for (const char* env : {"", "0", "2", "5"}) {
      std::optional<ScopedEnv> set;
      if (*env) set.emplace("LEAN_UNIT_PAD", env);
      const int grid = trial % 3 == 1 && !*env ? 0 : 1 + int(rng() % 132);
      INFO("trial " << trial << " LEAN_UNIT_PAD=" << env << " grid " << grid);
      check_repeat_and_record(dp, in, LEAN_STREAM_K, grid, expected, [&](const Schedule& s) {
        if (*env) REQUIRE((s.unit_pad == std::atoi(env) || s.unit_pad == 0));
        padded += s.unit_pad > 0;
        for (int32_t c = 0; c < s.num_ctas; ++c) {
          const std::vector<Segment> segs = segments_of(s, c);
          idle_starts += !segs.empty() && segs.front().begin > s.cta_range(c).begin;
        }
      });
    }
  }
  std::printf("padded plans: %d, CTAs whose range starts on idle tiles: %d\n", padded, idle_starts);
  REQUIRE(padded >= 15);
  REQUIRE(idle_starts >= 10);
}

TEST_CASE("uniform batches give the same bits through their own kernel and the general one", "[gpu][uniform]") {
  require_gpu();
  std::mt19937_64 rng(Catch::rngSeed() + 89);
  for (int trial = 0; trial < 12; ++trial) {
    Problem p = random_problem(rng);
    p.head_dim = 128;  // the one head dim compiled as Variant::uniform
    p.seq_lens.assign(p.batch, 1 + int64_t(rng() % 5000));
    const uint64_t seed = rng();
    const InputMode mode = trial % 4 == 3 ? InputMode::stress : InputMode::normal;
    const sim::GeneratedInputs in(p, seed, mode);
    const sim::Output expected = sim::naive_attention(in);
    DeviceProblem dp(p, nullptr, seed, mode, trial % 3 == 2 ? Layout{64, 0} : Layout{}, rng);
    const lean_policy pol = to_api(Policy(trial % 3));
    const int grid = pol == LEAN_STREAM_K ? (trial % 2 ? 0 : 1 + int(rng() % 300)) : int(rng() % 5);
    INFO("trial " << trial << " " << describe(p) << " policy " << int(pol) << " grid " << grid);
    check_repeat_and_record(dp, in, pol, grid, expected, [](const Schedule& s) { REQUIRE(s.uniform_len > 0); });
    const std::vector<uint16_t> own = dp.raw();
    const ScopedEnv general("LEAN_UNIFORM_KERNEL", "0");
    check_repeat_and_record(dp, in, pol, grid, expected, [](const Schedule&) {});
    REQUIRE(dp.raw() == own);
  }
}

TEST_CASE("the merge kernel launched at the decode kernel's start or at its exit gives the same bits", "[gpu][combine]") {
  require_gpu();
  std::mt19937_64 rng(Catch::rngSeed() + 61);
  for (const Problem& p : {make_uniform(2, 32, 1, 128, 30000 + int64_t(rng() % 9000)), make_uniform(1, 32, 8, 128, 5000)}) {
    DeviceProblem dp(p, nullptr, rng(), InputMode::normal, Layout{}, rng);
    std::vector<uint16_t> bits[2];
    for (int early : {1, 0}) {
      const ScopedEnv mode("LEAN_EARLY_MERGE_LAUNCH", std::to_string(early));
      PlanHandle h(p, LEAN_STREAM_K, 0);
      REQUIRE(!cuda::host_schedule(h.plan).split_units().empty());  // the merge kernel runs
      dp.launch(h);
      bits[early] = dp.raw();
    }
    REQUIRE(bits[0] == bits[1]);
  }
}

TEST_CASE("a programmatic launch reads inputs only after the kernel before it has written them", "[gpu][pdl]") {
  require_gpu();
  std::mt19937_64 rng(Catch::rngSeed() + 67);
  Problem mqa = make_uniform(1, 32, 1, 128, 0);
  mqa.seq_lens = {16384 + int64_t(rng() % 4000)};
  Problem ragged = make_uniform(2, 32, 8, 128, 0);
  ragged.seq_lens = {9000 + int64_t(rng() % 3000), 1 + int64_t(rng() % 900)};
  for (const Problem& p : {mqa, ragged}) {
    for (lean_policy pol : {LEAN_STREAM_K, LEAN_NO_SPLIT}) {
      const uint64_t seed_old = rng(), seed_new = rng();
      const sim::GeneratedInputs in(p, seed_new, InputMode::normal);
      const sim::Output expected = sim::naive_attention(in);
      const DeviceProblem fresh(p, nullptr, seed_new, InputMode::normal, Layout{}, rng);  // what the predecessors write
      for (int pdl : {1, 0}) {
        INFO(describe(p) << " policy " << pol << " programmatic " << pdl);
        const DeviceProblem stale(p, nullptr, seed_old, InputMode::normal, Layout{}, rng);  // what a decode too early would read
        PlanHandle h(p, pol, 0);
        lean_check(lean_plan_set_programmatic_launch(h.plan, pdl), "set programmatic");
        stale.poison();
        // K and V are rewritten by ordinary kernels; the last predecessor triggers its dependents
        // at once and writes Q 200 us later, so a decode kernel reading Q before its wait would
        // see the old Q
        cuda_check(cuda::launch_late_copy(const_cast<void*>(stale.kv().k), fresh.kv().k, fresh.kv_bytes(), 0, nullptr), "copy k");
        cuda_check(cuda::launch_late_copy(const_cast<void*>(stale.kv().v), fresh.kv().v, fresh.kv_bytes(), 0, nullptr), "copy v");
        cuda_check(cuda::launch_late_copy(stale.q(), fresh.q(), fresh.q_bytes(), 200, nullptr), "late copy q");
        lean_check(lean_decode(h.plan, stale.q(), &stale.kv(), stale.o(), stale.lse(), h.ws.ptr, h.ws.bytes, nullptr, nullptr),
                   "lean_decode");
        check_output(stale, h, in, expected);
      }
    }
  }
}

TEST_CASE("back-to-back programmatic calls sharing one workspace each get their own inputs' output", "[gpu][pdl]") {
  require_gpu();
  std::mt19937_64 rng(Catch::rngSeed() + 71);
  Problem p = make_uniform(3, 32, 8, 128, 0);
  p.seq_lens = {12000 + int64_t(rng() % 4000), 700, 1 + int64_t(rng() % 5000)};
  const uint64_t seed_a = rng(), seed_b = rng();
  const sim::GeneratedInputs in_a(p, seed_a, InputMode::normal), in_b(p, seed_b, InputMode::stress);
  const sim::Output exp_a = sim::naive_attention(in_a), exp_b = sim::naive_attention(in_b);
  DeviceProblem a(p, nullptr, seed_a, InputMode::normal, Layout{}, rng), b(p, nullptr, seed_b, InputMode::stress, Layout{}, rng);
  PlanHandle h(p, LEAN_STREAM_K, 0);
  REQUIRE(!cuda::host_schedule(h.plan).split_units().empty());  // the merge kernel reads partials the next call overwrites
  lean_check(lean_plan_set_programmatic_launch(h.plan, 1), "set programmatic");
  a.poison();
  b.poison();
  // no memset or sync between the calls: each decode kernel is a programmatic dependent of the
  // previous call's merge kernel, whose partials it overwrites
  for (int i = 0; i < 6; ++i) {
    const DeviceProblem& d = i % 2 ? b : a;
    lean_check(lean_decode(h.plan, d.q(), &d.kv(), d.o(), d.lse(), h.ws.ptr, h.ws.bytes, nullptr, nullptr), "lean_decode");
  }
  check_output(a, h, in_a, exp_a);
  check_output(b, h, in_b, exp_b);
  std::vector<uint16_t> bits[2];
  for (int pdl : {1, 0}) {  // the launch mode changes no bit
    lean_check(lean_plan_set_programmatic_launch(h.plan, pdl), "set programmatic");
    a.launch(h);
    bits[pdl] = a.raw();
  }
  REQUIRE(bits[0] == bits[1]);
}

TEST_CASE("outputs are bitwise identical over 20 runs and CUDA graph replays", "[gpu][determinism]") {
  require_gpu();
  std::mt19937_64 rng(Catch::rngSeed() + 41);
  Problem p = make_uniform(3, 32, 8, 128, 0);
  p.seq_lens = {20000, 333, 7000};
  DeviceProblem dp(p, nullptr, rng(), InputMode::stress, Layout{}, rng);
  for (bool separate : {false, true}) {  // in-kernel merges, and the merge kernel behind the decode kernel
    INFO("separate merge " << separate);
    const ScopedEnv mode("LEAN_SEPARATE_MERGE", separate ? "1" : "0");
    PlanHandle h(p, LEAN_STREAM_K, 0);
    REQUIRE(cuda::host_schedule(h.plan).separate_merge == int(separate));
    dp.launch(h);
    const std::vector<uint16_t> first = dp.raw();
    for (int i = 0; i < 20; ++i) {
      dp.launch(h);
      REQUIRE(dp.raw() == first);
    }
    cudaStream_t st;
    cuda_check(cudaStreamCreate(&st), "stream");
    cudaGraph_t graph;
    cuda_check(cudaStreamBeginCapture(st, cudaStreamCaptureModeGlobal), "capture");
    dp.launch(h, nullptr, st);
    cuda_check(cudaStreamEndCapture(st, &graph), "end capture");
    cudaGraphExec_t exec;
    cuda_check(cudaGraphInstantiate(&exec, graph, 0), "instantiate");
    for (int i = 0; i < 10; ++i) {
      cuda_check(cudaGraphLaunch(exec, st), "graph launch");
      cuda_check(cudaStreamSynchronize(st), "graph sync");
      REQUIRE(dp.raw() == first);
    }
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(graph);
    cudaStreamDestroy(st);
  }
}

TEST_CASE("no deadlock with an oversubscribed grid or a kernel sharing the GPU", "[gpu][residency]") {
  require_gpu();
  std::mt19937_64 rng(Catch::rngSeed() + 53);
  Problem p = make_uniform(2, 16, 4, 128, 0);
  p.seq_lens = {50000, 9000};
  const uint64_t seed = rng();
  const sim::GeneratedInputs in(p, seed, InputMode::normal);
  const sim::Output expected = sim::naive_attention(in);
  DeviceProblem dp(p, nullptr, seed, InputMode::normal, Layout{}, rng);
  PlanHandle resident(p, LEAN_STREAM_K, 0);
  const int co = lean_plan_num_ctas(resident.plan);
  // 8x more CTAs than fit at once: later CTAs start only after earlier ones retire
  check_run(dp, in, LEAN_STREAM_K, 8 * co, expected);
  // a spinner holding most SMs while we run: our CTAs trickle through the rest
  cudaStream_t other, mine;
  cuda_check(cudaStreamCreateWithFlags(&other, cudaStreamNonBlocking), "stream");
  cuda_check(cudaStreamCreateWithFlags(&mine, cudaStreamNonBlocking), "stream");
  cuda_check(cuda::launch_spinner(co, 200000, other), "spinner");
  PlanHandle h(p, LEAN_STREAM_K, 0);
  dp.launch(h, nullptr, mine);
  cuda_check(cudaStreamSynchronize(mine), "decode next to spinner");
  const sim::Output got = dp.output();
  CHECK(sim::compare(got.o, expected.o, p.head_dim).max_err <= 8 * unit_roundoff(p.dtype));
  cuda_check(cudaStreamSynchronize(other), "spinner");
  cudaStreamDestroy(other);
  cudaStreamDestroy(mine);
}

TEST_CASE("bad inputs return a status and a message naming the problem", "[gpu][api]") {
  require_gpu();
  std::vector<int64_t> lens = {100, 200};
  lean_problem lp{2, 8, 2, 128, LEAN_FP16, 0.f, 64, lens.data(), 0};
  lean_plan plan = nullptr;
  auto expect = [](lean_status got, lean_status want, const char* needle) {
    INFO(lean_last_error());
    CHECK(got == want);
    CHECK(std::string(lean_last_error()).find(needle) != std::string::npos);
  };
  for (const char* name : {"LEAN_TMA", "LEAN_SEPARATE_MERGE", "LEAN_EARLY_MERGE_LAUNCH", "LEAN_PDL", "LEAN_UNIFORM_KERNEL", "LEAN_ISOLATE_MERGE"}) {  // benchmark overrides
    const ScopedEnv malformed(name, "yes");
    expect(lean_plan_create(&lp, LEAN_STREAM_K, 0, 0, &plan), LEAN_ERR_INVALID, (std::string(name) + " must be 0 or 1").c_str());
  }
  for (const char* value : {"two", "-1", "65"}) {
    const ScopedEnv malformed("LEAN_ROW_SPLIT", value);
    expect(lean_plan_create(&lp, LEAN_STREAM_K, 0, 0, &plan), LEAN_ERR_INVALID, "LEAN_ROW_SPLIT must be an integer in [0, 64]");
  }
  {
    const ScopedEnv malformed("LEAN_MERGE_FANIN", "1x");
    expect(lean_plan_create(&lp, LEAN_STREAM_K, 0, 0, &plan), LEAN_ERR_INVALID, "LEAN_MERGE_FANIN must be an integer");
  }
  for (const char* value : {"one", "-1"}) {
    const ScopedEnv malformed("LEAN_UNIT_PAD", value);
    expect(lean_plan_create(&lp, LEAN_STREAM_K, 0, 0, &plan), LEAN_ERR_INVALID, "LEAN_UNIT_PAD must be an integer >= 0");
  }
  {
    const ScopedEnv three("LEAN_ROW_SPLIT", "3");  // the group of lp is 4
    expect(lean_plan_create(&lp, LEAN_STREAM_K, 0, 0, &plan), LEAN_ERR_INVALID, "LEAN_ROW_SPLIT=3 does not divide the group of 4");
  }
  lean_problem bad = lp;
  bad.head_dim = 96;
  expect(lean_plan_create(&bad, LEAN_STREAM_K, 0, 0, &plan), LEAN_ERR_INVALID, "head_dim");
  bad = lp, bad.num_kv_heads = 3;
  expect(lean_plan_create(&bad, LEAN_STREAM_K, 0, 0, &plan), LEAN_ERR_INVALID, "divide");
  {
    const ScopedEnv whole("LEAN_ROW_SPLIT", "1");  // head dim 256 holds 32 query heads a CTA
    bad = lp, bad.head_dim = 256, bad.num_q_heads = 2 * 64;
    expect(lean_plan_create(&bad, LEAN_STREAM_K, 0, 0, &plan), LEAN_ERR_UNSUPPORTED, "no kernel for head_dim 256 with 64 query heads");
  }
  bad = lp, bad.tile_kv = 96;
  expect(lean_plan_create(&bad, LEAN_STREAM_K, 0, 0, &plan), LEAN_ERR_UNSUPPORTED, "multiple of 64");
  bad = lp, bad.seq_lens = nullptr;
  expect(lean_plan_create(&bad, LEAN_STREAM_K, 0, 0, &plan), LEAN_ERR_INVALID, "seq_lens");
  std::vector<int64_t> neg = {100, -1};
  bad = lp, bad.seq_lens = neg.data();
  expect(lean_plan_create(&bad, LEAN_STREAM_K, 0, 0, &plan), LEAN_ERR_INVALID, "negative");
  std::vector<int64_t> huge = {int64_t(1) << 31, 1};
  bad = lp, bad.seq_lens = huge.data();
  expect(lean_plan_create(&bad, LEAN_STREAM_K, 0, 0, &plan), LEAN_ERR_INVALID, "32-bit");
  bad = lp, bad.batch = 0;
  expect(lean_plan_create(&bad, LEAN_STREAM_K, 0, 0, &plan), LEAN_ERR_INVALID, "batch");
  expect(lean_plan_create(&lp, LEAN_STREAM_K, 0, 0, nullptr), LEAN_ERR_INVALID, "out");

  REQUIRE(lean_plan_create(&lp, LEAN_STREAM_K, 0, 0, &plan) == LEAN_OK);
  DeviceBuffer ws(lean_plan_workspace_bytes(plan)), q(2 * 8 * 128 * 2), o(q.bytes), k(2 * 200 * 2 * 128 * 2), v(k.bytes);
  expect(lean_plan_set_programmatic_launch(nullptr, 1), LEAN_ERR_INVALID, "plan is NULL");
  expect(lean_plan_set_programmatic_launch(plan, 2), LEAN_ERR_INVALID, "0 or 1");
  expect(lean_plan_upload(plan, ws.ptr, ws.bytes - 256, nullptr), LEAN_ERR_WORKSPACE, "needs");
  REQUIRE(lean_plan_upload(plan, ws.ptr, ws.bytes, nullptr) == LEAN_OK);
  lean_kv kv{k.ptr, v.ptr, 200 * 2 * 128, 2 * 128, 128, nullptr, 0, 0, 0};
  expect(lean_decode(plan, nullptr, &kv, o.ptr, nullptr, ws.ptr, ws.bytes, nullptr, nullptr), LEAN_ERR_INVALID, "q is NULL");
  expect(lean_decode(plan, q.ptr, &kv, nullptr, nullptr, ws.ptr, ws.bytes, nullptr, nullptr), LEAN_ERR_INVALID, "o is NULL");
  expect(lean_decode(plan, q.ptr, &kv, o.ptr, nullptr, nullptr, ws.bytes, nullptr, nullptr), LEAN_ERR_WORKSPACE, "NULL");
  expect(lean_decode(plan, q.ptr, &kv, o.ptr, nullptr, ws.ptr, 16, nullptr, nullptr), LEAN_ERR_WORKSPACE, "needs");
  lean_kv bad_kv = kv;
  bad_kv.stride_token = 3;
  expect(lean_decode(plan, q.ptr, &bad_kv, o.ptr, nullptr, ws.ptr, ws.bytes, nullptr, nullptr), LEAN_ERR_INVALID, "multiples of 8");
  bad_kv = kv, bad_kv.block_table = static_cast<const int32_t*>(ws.ptr), bad_kv.page_size = 8, bad_kv.block_table_stride = 100;
  bad_kv.num_pages = 4;
  expect(lean_decode(plan, q.ptr, &bad_kv, o.ptr, nullptr, ws.ptr, ws.bytes, nullptr, nullptr), LEAN_ERR_INVALID, "page_size");
  bad_kv.page_size = 16, bad_kv.block_table_stride = 2;
  expect(lean_decode(plan, q.ptr, &bad_kv, o.ptr, nullptr, ws.ptr, ws.bytes, nullptr, nullptr), LEAN_ERR_INVALID, "block_table_stride");
  expect(lean_decode(plan, static_cast<char*>(q.ptr) + 2, &kv, o.ptr, nullptr, ws.ptr, ws.bytes, nullptr, nullptr), LEAN_ERR_INVALID, "aligned");
  REQUIRE(lean_decode(plan, q.ptr, &kv, o.ptr, nullptr, ws.ptr, ws.bytes, nullptr, nullptr) == LEAN_OK);
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  lean_plan_destroy(plan);
}

TEST_CASE("small cases for compute-sanitizer: every schedule, contiguous and paged", "[gpu][sanitize]") {
  require_gpu();
  std::mt19937_64 rng(Catch::rngSeed() + 67);
  Problem p = make_uniform(3, 8, 2, 64, 0);
  p.seq_lens = {300, 0, 129};
  const uint64_t seed = rng();
  const sim::GeneratedInputs in(p, seed, InputMode::normal);
  const sim::Output expected = sim::naive_attention(in);
  for (int page : {0, 16}) {
    DeviceProblem dp(p, nullptr, seed, InputMode::normal, Layout{page, 0}, rng);
    check_run(dp, in, LEAN_STREAM_K, 7, expected);
    check_run(dp, in, LEAN_FIXED_SPLIT, 3, expected);
    check_run(dp, in, LEAN_NO_SPLIT, 0, expected);
    {
      const ScopedEnv tree("LEAN_MERGE_FANIN", "2");  // two-level merges
      check_run(dp, in, LEAN_STREAM_K, 11, expected);
    }
    const ScopedEnv in_kernel("LEAN_SEPARATE_MERGE", "0");  // the last contributor merges (the default is the merge kernel)
    check_run(dp, in, LEAN_STREAM_K, 11, expected);
  }
  // a row split: MQA's 32 query heads as two units of 16 (a small uniform batch: G < 3/4 of the SMs)
  const Problem mqa = make_uniform(2, 32, 1, 64, 700);
  const sim::GeneratedInputs mqa_in(mqa, seed, InputMode::normal);
  DeviceProblem dp(mqa, nullptr, seed, InputMode::normal, Layout{}, rng);
  PlanHandle h(mqa, LEAN_STREAM_K, 0);
  REQUIRE(cuda::host_schedule(h.plan).row_split == 2);
  dp.launch(h);
  check_output(dp, h, mqa_in, sim::naive_attention(mqa_in));
}
