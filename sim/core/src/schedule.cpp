#include "lean/schedule.hpp"

#include "lean/kernel_shape.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace lean {

const char* to_string(Policy p) {
  switch (p) {
    case Policy::stream_k: return "stream-k";
    case Policy::fixed_split: return "fixed-split";
    case Policy::no_split: return "no-split";
  }
  return "?";
}

Policy parse_policy(const std::string& s) {
  if (s == "stream-k") return Policy::stream_k;
  if (s == "fixed-split") return Policy::fixed_split;
  if (s == "no-split") return Policy::no_split;
  throw Error("policy: expected stream-k, fixed-split or no-split, got '" + s + "'");
}

const char* to_string(CtaRanges r) { return r == CtaRanges::even ? "even" : "big-first"; }

CtaRanges parse_cta_ranges(const std::string& s) {
  if (s == "even") return CtaRanges::even;
  if (s == "big-first") return CtaRanges::big_first;
  throw Error("cta ranges: expected even or big-first, got '" + s + "'");
}

FastDiv FastDiv::of(int32_t d) {
  if (d < 1) throw Error("FastDiv: divisor must be >= 1, got " + std::to_string(d));
  if (d == 1) return FastDiv{1, 0, 0};
  uint32_t log2_up = 0;  // ceil(log2(d))
  while ((int64_t{1} << log2_up) < d) ++log2_up;
  const uint32_t p = 31 + log2_up;
  return FastDiv{d, uint32_t(((uint64_t{1} << p) + uint64_t(d) - 1) / uint64_t(d)), p - 32};
}

Schedule Plan::view() const& {
  Schedule s = s_;
  s.seq_tile_begin = seq_tile_begin_.data();
  s.seq_len = seq_len_.data();
  return s;
}

namespace {
/// kInflightNeed on cards of at most kOnePerSmGbps per SM, for more than one unit: one d128 CTA's
/// 64 KB streams about 1.6% slower there than two CTAs' (H100: large ragged batches 0.6-1.6% slower
/// on 132 CTAs than on 264), not 25% as kInflightNeed has it, which had sent small, MQA and head
/// dim 64 batches to two or three CTAs an SM (b4 MQA 32/1 of 2674-15457 tokens: 21.2 us on 264
/// against 16.9 on 132; step 69). One unit keeps kInflightNeed: b1 MQA 48/1 at 7165 tokens went
/// from 132 CTAs to 76 in two 24-row blocks and lost 10%.
constexpr double kSlowInflightNeed = 65.0 * 1024;
/// Most CTAs one unit of `unit_tiles` tiles can span when each CTA takes at least `shortest`
/// tiles: its pieces, plus one where a CTA boundary cuts in front of it.
int64_t most_contributors(int64_t unit_tiles, int64_t shortest) { return (unit_tiles + shortest - 1) / shortest + 1; }
/// Bytes of one partial O (float32, group rows of head_dim).
int64_t partial_bytes(const Problem& p) { return int64_t(4) * p.group_size() * p.head_dim; }
/// The planner's view of a row split: each row block of a KV head as a KV head of its own, as
/// far as units, groups and tiles go (the kernel reads the real head's K/V for every block).
Problem rows_view(const Problem& p, int row_split) {
  if (row_split < 1 || p.num_kv_heads < 1 || p.group_size() % row_split != 0)
    throw Error("row_split " + std::to_string(row_split) + " must be >= 1 and divide the group of " +
                std::to_string(p.num_kv_heads < 1 ? 0 : p.group_size()) + " query heads per KV head");
  Problem v = p;
  v.num_kv_heads = p.num_kv_heads * row_split;
  return v;
}
}  // namespace

int choose_merge_fanin(int n, int64_t partial_bytes) {
  if (n < 4 || int64_t(n) * partial_bytes <= kFlatMergeBytes) return 0;
  return static_cast<int>(std::ceil(std::sqrt(double(n))));
}

namespace {
bool uniform_lengths(const Problem& p) {
  return std::all_of(p.seq_lens.begin(), p.seq_lens.end(), [&](int64_t l) { return l == p.seq_lens[0]; });
}
}  // namespace

int choose_unit_pad(const Problem& problem, Policy policy) {
  return policy == Policy::stream_k && !uniform_lengths(problem) ? kSegmentPadTiles : 0;
}

Plan make_plan(const Problem& problem, Policy policy, int n, int merge_fanin, int row_split, int unit_pad,
               CtaRanges ranges) {
  validate(problem);
  const Problem p = rows_view(problem, row_split);  // from here on, a unit is a row block
  if (row_split > 1) try {
      validate(p);  // its tile count, which a row split multiplies
    } catch (const Error& e) {
      throw Error("with row_split " + std::to_string(row_split) + ": " + e.what());
    }
  if (unit_pad < kAutoPad) throw Error("unit_pad must be >= 0 (or kAutoPad), got " + std::to_string(unit_pad));
  const bool uniform = uniform_lengths(p);
  if (unit_pad == kAutoPad) unit_pad = choose_unit_pad(problem, policy);
  if (policy != Policy::stream_k || uniform) unit_pad = 0;  // uniform: Schedule's arithmetic lookups
  if (unit_pad > 0) {  // every CTA must hold a tile of work: its range > unit_pad tiles
    int64_t nonempty = 0;
    for (int b = 0; b < p.batch; ++b) nonempty += p.tiles_of(b) > 0 ? p.num_kv_heads : 0;
    const int64_t padded = p.total_tiles() + nonempty * unit_pad;
    if (n < 1 || padded > kMaxTiles || padded / n <= unit_pad) unit_pad = 0;
  }
  Plan plan;
  // step 1: the linear iteration space, sequence-major, then unit (kv head, row block), then
  // tile; each non-empty unit preceded by unit_pad idle tiles.
  plan.seq_tile_begin_.assign(p.batch + 1, 0);
  plan.seq_len_.resize(p.batch);
  for (int b = 0; b < p.batch; ++b) {
    const int64_t stride = p.tiles_of(b) > 0 ? p.tiles_of(b) + unit_pad : 0;
    plan.seq_tile_begin_[b + 1] = plan.seq_tile_begin_[b] + static_cast<int32_t>(stride * p.num_kv_heads);
    plan.seq_len_[b] = static_cast<int32_t>(p.seq_lens[b]);
  }
  Schedule& s = plan.s_;
  s.unit_pad = unit_pad;
  s.policy = policy;
  s.num_seqs = p.batch;
  s.num_kv_heads = problem.num_kv_heads;
  s.row_split = row_split;
  s.unit_rows = p.group_size();
  s.tile_kv = p.tile_kv;
  s.total_tiles = plan.seq_tile_begin_.back();
  s.uniform_len = p.batch > 0 && uniform ? static_cast<int32_t>(p.seq_lens[0]) : 0;
  s.by_seq_units = FastDiv::of(p.num_kv_heads);
  s.by_row_split = FastDiv::of(row_split);
  s.by_unit_tiles = FastDiv::of(s.uniform_len > 0 ? static_cast<int32_t>(p.tiles_of(0)) : 1);
  const int64_t units = int64_t(p.batch) * p.num_kv_heads;
  // step 2: the grid.
  int64_t ctas = 0;
  if (policy == Policy::stream_k) {
    if (n < 1) throw Error("stream-k: grid size must be >= 1, got " + std::to_string(n));
    ctas = n;
    s.num_splits = 0;
    s.tiles_per_cta = s.total_tiles / n;
    s.big_ctas = s.total_tiles % n;
    // more CTAs than tiles: the idle ones last, so a unit's contributors stay consecutive CTAs
    s.cta_ranges = s.tiles_per_cta == 0 || n > kMaxEvenGrid ? CtaRanges::big_first : ranges;
  } else {
    const int splits = policy == Policy::no_split ? 1 : n;
    if (splits < 1) throw Error("fixed-split: split count must be >= 1, got " + std::to_string(n));
    ctas = units * splits;
    s.num_splits = splits;
    s.tiles_per_cta = 0;
    s.big_ctas = 0;
    s.cta_ranges = CtaRanges::even;
  }
  s.by_splits = FastDiv::of(std::max(1, s.num_splits));
  if (ctas + units > kMaxTiles)
    throw Error("grid of " + std::to_string(ctas) + " CTAs plus " + std::to_string(units) +
                " units overflows 32-bit workspace slot indices");
  s.num_ctas = static_cast<int32_t>(ctas);
  const FastDiv by_ctas = FastDiv::of(s.num_ctas);
  s.ctas_mul = by_ctas.mul, s.ctas_shift = static_cast<uint8_t>(by_ctas.shr);
  s.by_unit_ctas = FastDiv::of(policy != Policy::no_split && row_split > 1 && units > 0 && ctas % units == 0 ? int32_t(ctas / units) : 1);
  // step 3: the merge tree, from a bound on the contributors of the longest unit
  const int64_t max_unit = p.max_tiles();
  const int64_t most = policy == Policy::stream_k
                           ? std::min<int64_t>(ctas, max_unit == 0 ? 0 : most_contributors(max_unit, std::max(1, s.tiles_per_cta)))
                           : std::min<int64_t>(s.num_splits, max_unit);
  if (merge_fanin < kInKernelMerge) throw Error("merge fan-in must be >= 0, or kAutoMerge / kSeparateMerge / kInKernelMerge");
  s.separate_merge = merge_fanin == kSeparateMerge || merge_fanin == kAutoMerge ? 1 : 0;
  s.merge_fanin = merge_fanin >= 0 ? merge_fanin
                  : s.separate_merge ? 0
                                     : choose_merge_fanin(static_cast<int>(most), partial_bytes(p));
  return plan;
}

namespace {
/// Cards of at most kOnePerSmGbps peak bandwidth an SM (the H100; 0: unknown, not slow).
bool slow_sms_card(double peak_gbps, int num_sms) { return peak_gbps > 0 && peak_gbps <= kOnePerSmGbps * num_sms; }

/// Longest unit (tiles) that runs faster whole, one unit a CTA with no partial and no merge kernel,
/// than split, for a uniform d128 contiguous batch of `units` units on `num_sms` SMs: the merge
/// kernel's launch and tail (about 3 us) outweigh shorter streams while the units keep at least a
/// quarter of the SMs busy. Measured limits (bench/NOTES.md step 66, grid sweeps of 40-112 units
/// of 4-1024 tiles): 8 tiles from a quarter of the SMs (H100 b3 MHA 16/16 512: 9.2 us against
/// 11.1; H200 9.0 against 10.4), 16 from half (b6 MHA 16/16 1024: H100 20.3 against 24.3, H200
/// 16.0 against 18.8); where those units saturate DRAM (H100, <= 30 GB/s an SM) 128 (b5 MHA 16/16
/// 8192: 110.8 against 118.1), on faster cards 64 from 70% of the SMs (H200 b6 4096: 50.8 against
/// 53.4; at 80 units and 32 tiles split won, 26.5 against 27.1).
int64_t whole_unit_limit(int64_t units, int num_sms, bool slow_sms) {
  if (units > num_sms || 4 * units < num_sms) return 0;
  if (2 * units < num_sms) return 8;
  if (slow_sms) return 128;
  return 10 * units >= 7 * int64_t(num_sms) ? 64 : 16;
}
}  // namespace

int choose_stream_k_grid(const Problem& problem, int num_sms, int ctas_per_sm, double peak_gbps, int row_split) {
  return choose_stream_k_grid_rule(problem, num_sms, ctas_per_sm, peak_gbps, row_split).grid;
}

const char* to_string(GridRule rule) {
  switch (rule) {
    case GridRule::whole_units: return "one whole unit a CTA: no partials, no merge kernel";
    case GridRule::equal_pieces: return "one CTA an SM (two at head dim 64 or for several page boxes a tile), units in equal pieces or whole";
    case GridRule::even_pieces: return "one CTA an SM (two at head dim 64 or for several page boxes a tile), units cut alike, pieces within a tile";
    case GridRule::cost_model: return "the cost model's least cost (the busiest SM's tiles plus the merge)";
    case GridRule::given: return "as given";
    case GridRule::fa2_splits: return "FlashAttention-2's split count";
    case GridRule::units: return "one CTA a unit";
  }
  return "?";
}

GridChoice choose_stream_k_grid_rule(const Problem& problem, int num_sms, int ctas_per_sm, double peak_gbps, int row_split) {
  validate(problem);
  const Problem p = rows_view(problem, row_split);
  if (num_sms < 1 || ctas_per_sm < 1)
    throw Error("num_sms and ctas_per_sm must be >= 1, got " + std::to_string(num_sms) + " and " + std::to_string(ctas_per_sm));
  const int slots = num_sms * ctas_per_sm;
  const int64_t total = p.total_tiles(), units = int64_t(p.batch) * p.num_kv_heads;
  if (total == 0) return {1, GridRule::cost_model};
  const int64_t max_unit = p.max_tiles();
  const bool uniform = [&] {
    for (int b = 0; b < p.batch; ++b)
      if (p.tiles_of(b) != max_unit) return false;
    return true;
  }();
  // aligned: every unit a whole number k of equal pieces (uniform lengths divisible by k)
  auto aligned = [&](int64_t g) { return uniform && g % units == 0 && max_unit % (g / units) == 0; };
  // One CTA per SM streams 1-5% faster than two per SM on H100 when no CTA crosses a unit
  // boundary and units are long (grid sweeps, bench/NOTES.md step 18): take the largest such
  // grid of at least 3/4 of the SMs. On H200 (more bandwidth per SM) it lost up to 10% with
  // cp.async, but won once tiles came by tensor loads (prefer_tensor_loads: b16 GQA 4k 73.8 ->
  // 64.6 us, 512k MHA 1926 -> 1912, MQA 128k 38.0 -> 31.0; step 26). Ragged batches and short
  // units keep two per SM, which hide each other's epilogues. Head dim 64, whose stages hold
  // half the bytes, and paged caches whose tiles come by tensor loads in several page-sized
  // boxes take two CTAs per SM in equal pieces the same way (step 30; H100: d64 64k 357.6 us at
  // G=256 against 375.9 at 128 and 387.5 at 384; H200: d64 239.4 at 256 against 281.0 at 128 and
  // 249.4 at 396, page 16 126.4 at 256 against 226.6 at 128, step 42). Small pages by cp.async,
  // their page ids read a stage ahead, and pages of whole tiles (one box a tile) keep one per SM
  // (H100 b8 GQA 16k: page 16 185.0 us at G=128 against 185.2 at 256, page 32 183.0 against
  // 185.2, step 42; page 64 184.4 at 128).
  auto whole_pieces = [&](int64_t g) {  // aligned, or each CTA whole units of >= kLongUnitTiles tiles
    return aligned(g) || (uniform && units % g == 0 && max_unit >= kLongUnitTiles);
  };
  // Even CTA ranges (floor(c N / G)) cut every unit at the same offsets whenever U divides G, the
  // pieces differing by at most a tile: the rule's second choice, for lengths no grid of the
  // window cuts exactly (b1 MHA 100000 tokens: G = 128, pieces of 390-391 tiles, not 264 CTAs).
  auto even_pieces = [&](int64_t g) { return uniform && g % units == 0 && g / units <= max_unit; };
  // Large partials qualify when each CTA streams >= 16 tiles (MQA 512k: 107.9 us at G=128
  // against 117.5 at 256; MQA 16k, 2 tiles a CTA: 16.2 against 14.3 at 64).
  const bool tensor_loads = prefer_tensor_loads(peak_gbps, num_sms, p.kv_page_size, p.head_dim);
  // the rule applies where one CTA per SM was measured to win: at most kOnePerSmGbps per SM, tensor
  // loads, or a paged cache (H200 by cp.async, step 43: d64 page 16 246.0 us at G=256 against 250.8
  // at 396; d256 page 16 271.0 at 128 against 276.5 at 132)
  const bool slow_sms = slow_sms_card(peak_gbps, num_sms);
  const bool equal_pieces_rule = peak_gbps > 0 && (slow_sms || tensor_loads || p.kv_page_size > 0);
  const bool large_partials = partial_bytes(p) >= kLargePartialBytes;
  auto merges_allow = [&](int64_t g) { return p.group_size() <= 16 || (large_partials && total / g >= 16); };
  const bool page_boxes = tensor_loads && KernelShape::uses_page_windows(p.kv_page_size);  // several boxes a tile
  const int64_t per_sm = p.head_dim < 128 || page_boxes ? 2 : 1;
  const int64_t top = std::min<int64_t>(per_sm * num_sms, slots);  // shared memory may allow fewer CTAs an SM
  // measured for groups of one 16-row tile (MHA, GQA 32/8) in whole groups: not for MQA-like groups or row blocks
  if (peak_gbps > 0 && uniform && p.head_dim == 128 && p.kv_page_size == 0 && p.group_size() <= 16 && row_split == 1 &&
      max_unit <= whole_unit_limit(units, num_sms, slow_sms))
    return {static_cast<int>(units), GridRule::whole_units};
  auto largest_in_window = [&](auto pieces) -> int64_t {
    for (int64_t g = top; 4 * g >= 3 * top; --g)
      if (g % row_split == 0 && pieces(g) && merges_allow(g)) return g;
    return 0;
  };
  if (equal_pieces_rule && uniform) {
    // Head dim 256's whole groups in long streams take the most SMs first: equal pieces on fewer
    // lost where even pieces on more won (H100 b3 GQA 28/4 289717 tokens: 1248.7 us at G = 108,
    // 1152.3 at 132; b3 GQA 32/4 143331: 599.3 at 120, 577.0 at 132; step 70). Not for streams
    // under kShortStreamTiles a CTA (b1 GQA 16/2 18208, 4-5 tiles: 26.6 at 114, 27.1 at 132). Head
    // dim 128 measured within 1% either way.
    if (p.head_dim == 256 && row_split == 1 && total >= kShortStreamTiles * top)
      if (const int64_t g = largest_in_window(even_pieces)) return {static_cast<int>(g), GridRule::even_pieces};
    if (const int64_t g = largest_in_window(whole_pieces)) return {static_cast<int>(g), GridRule::equal_pieces};
    if (const int64_t g = largest_in_window(even_pieces)) return {static_cast<int>(g), GridRule::even_pieces};
  }
  // The merge kernel (every plan's default merge) reads a row's partials in parallel, a round trip
  // (about a tile) per round of its loads past the first; large partials pay its launch and tail as
  // well (step 65). Ragged batches keep the in-kernel merge's price, a partial's read (group/64 of a
  // tile) after another: priced like uniform ones, b2 GQA 40/8 of 3837 and 4986 tokens moved from
  // 132 to 264 CTAs and lost 13% (H100, step 67), their contributor counts being loose bounds.
  const double per_contributor = kContribCost + p.group_size() / 64.0;
  auto merge_cost = [&](int64_t n) {
    if (large_partials || uniform)
      return (large_partials ? kSplitCost : 0.0) + (kContribCost + 1.0 / 64.0) * double(n) +
             double((n - 1) / KernelShape::merge_round(p.head_dim));
    const int f = choose_merge_fanin(static_cast<int>(n), partial_bytes(p));
    return f == 0 ? per_contributor * double(n) : kSplitCost + per_contributor * double(f + (n + f - 1) / f);
  };
  // CTAs sharing an SM share its bandwidth: the critical path is the busiest SM's tiles
  // an SM with too few bytes in flight streams slower (measured: bench/NOTES.md)
  const double inflight = KernelShape::inflight_bytes(p.head_dim);
  auto cost = [&](int64_t g) {
    const int64_t per_sm = (g + num_sms - 1) / num_sms;
    const double starved = std::max(1.0, (slow_sms && units > 1 ? kSlowInflightNeed : kInflightNeed) / (double(per_sm) * inflight));
    const double longest = double((total + g - 1) / g * per_sm) * starved;
    if (even_pieces(g)) return double(longest) + (g > units ? kSplitCost + merge_cost(g / units) : 0.0);
    const int64_t shortest = std::max<int64_t>(1, total / g);
    return double(longest) + kSplitCost + merge_cost(most_contributors(max_unit, shortest));
  };
  int64_t best = slots;
  double best_cost = cost(slots);
  auto consider = [&](int64_t g) {
    if (g < 1 || g > slots || g % row_split != 0) return;
    const double c = cost(g);
    if (c < best_cost - 1e-9 || (std::fabs(c - best_cost) <= 1e-9 && g > best)) best = g, best_cost = c;
  };
  for (int64_t g = 1; g <= slots; ++g) consider(g);
  for (int64_t k = 1; units * k <= slots; ++k) consider(units * k);
  return {static_cast<int>(best), GridRule::cost_model};
}

int choose_row_split(const Problem& p, int grid, int num_sms, double peak_gbps) {
  validate(p);
  const int g = p.group_size(), blocks16 = (g + 15) / 16;
  if (blocks16 < 2 || grid < 1) return 1;
  const bool idle_sms = 4 * grid < 3 * num_sms;
  const int64_t tiles_per_cta = (p.total_tiles() + grid - 1) / grid;
  const bool slow_sms = slow_sms_card(peak_gbps, num_sms);
  const bool one_unit = int64_t(p.batch) * p.num_kv_heads == 1;  // every CTA's partial merges into it
  const int short_tiles = !one_unit || peak_gbps <= 0 ? 0 : slow_sms ? kShortStreamTiles : kOneUnitShortTiles;
  const bool short_streams = grid <= num_sms && tiles_per_cta <= short_tiles;
  if (!idle_sms && !short_streams) return 1;
  // 16-row blocks for the shortest streams; else two blocks, which read K/V through L2 half as often
  for (const int r : {tiles_per_cta <= kTinyStreamTiles ? blocks16 : 2, 2})
    if (g % r == 0) return r;
  return 1;
}

bool blocks_in_step(const Problem& p, int grid, int row_split) {
  validate(p);
  const Problem v = rows_view(p, row_split);
  const int64_t total = v.total_tiles(), unit = v.max_tiles();
  if (row_split <= 1 || grid < 1 || total == 0) return true;
  if (!uniform_lengths(p)) return false;  // ragged (idle tiles too): units start anywhere in their CTAs' ranges
  if (total <= grid) return true;            // a tile a CTA at most
  return grid % (total / unit) == 0;         // even ranges cut every unit alike where its U units divide G
}

bool blocks_share_l2(const Problem& p, int grid, int row_split) {
  return p.unit_kv_bytes() <= kL2ShareBytes || blocks_in_step(p, grid, row_split);
}

namespace {
/// Stream-K's unspilled blocks run one a CTA where that fills at least this much of the SMs' waves
/// (fa2_num_splits' measure). Both cards won at 0.97 (b16 hq512/hk16 d256 2048, 512 blocks: H100
/// 254.2 -> 193.6 us, H200 186.6 -> 160.3); at 0.73 (b12 hq384/hk12 4096, 288 blocks) the H100 won
/// (271.8 -> 249.1) and the H200, whose whole groups stream faster, lost (195.6 -> 211.0; step 70).
constexpr double kWholeBlockWaveFillSlowSms = 0.7, kWholeBlockWaveFill = 0.85;
/// How full `ctas` keep the waves of `slots` concurrent CTAs: 1 when they fill whole waves.
double wave_fill(int64_t ctas, int64_t slots) {
  const double waves = double(ctas) / double(slots);
  return waves / std::ceil(waves);
}
/// The fewest blocks of at most `rows` query heads a group divides into.
int fewest_blocks(const Problem& p, int rows) {
  const int g = p.group_size();
  int r = 1;
  while (g % r != 0 || g / r > rows) ++r;
  return r;
}
}  // namespace

int min_row_split(const Problem& p) {
  validate(p);
  return fewest_blocks(p, KernelShape::max_unit_rows(p.head_dim));
}

Occupancy Occupancy::estimate(int head_dim, int ctas_per_sm) {
  Occupancy o;
  for (const int mt : {1, 2, 4})
    if (16 * mt <= KernelShape::max_unit_rows(head_dim))
      o.by_m_tiles[mt] = KernelShape::ctas_per_sm_from_preset(head_dim, 16 * mt, ctas_per_sm);
  return o;
}

const char* to_string(RowsRule rule) {
  switch (rule) {
    case RowsRule::whole_groups: return "whole groups";
    case RowsRule::kernel_rows: return "the fewest row blocks the kernel holds";
    case RowsRule::blocks: return "row blocks (choose_row_split)";
    case RowsRule::unspilled_blocks: return "in step, in blocks the kernel holds without spilling";
    case RowsRule::given: return "row blocks as given";
  }
  return "?";
}

LaunchShape choose_launch_shape(const Problem& p, Policy policy, int num_sms, const Occupancy& occupancy, double peak_gbps,
                                int grid, int row_split) {
  const int least = min_row_split(p), g = p.group_size();
  LaunchShape s;
  s.row_split = row_split > 0 ? row_split : least;
  s.rows = row_split > 0 ? RowsRule::given : least > 1 ? RowsRule::kernel_rows : RowsRule::whole_groups;
  if (g % s.row_split != 0)
    throw Error("row_split " + std::to_string(s.row_split) + " must divide the group of " + std::to_string(g) + " query heads per KV head");
  auto per_sm = [&](int r) {
    const int n = occupancy.of_rows(g / r);
    if (n < 1)
      throw Error("no decode kernel holds " + std::to_string(g / r) + " query heads at head_dim " + std::to_string(p.head_dim) +
                  " (up to " + std::to_string(KernelShape::max_unit_rows(p.head_dim)) + ")");
    return n;
  };
  const int ctas_per_sm = per_sm(s.row_split), unspilled = fewest_blocks(p, KernelShape::unspilled_unit_rows(p.head_dim));
  if (policy != Policy::stream_k) {
    // a KV head's blocks run as neighbouring thread blocks (cta_of_block), in step at any grid
    if (row_split <= 0 && !(grid > 0 && policy == Policy::fixed_split) && unspilled > least)
      s.row_split = unspilled, s.rows = RowsRule::unspilled_blocks;
    if (policy == Policy::no_split)
      s.grid = {int(int64_t(p.batch) * p.num_kv_heads * s.row_split), GridRule::units};
    else if (grid > 0)
      s.grid = {grid, GridRule::given};
    else
      s.grid = {fa2_num_splits(p, per_sm(s.row_split) * num_sms, s.row_split), GridRule::fa2_splits};
    return s;
  }
  if (grid > 0) {
    s.grid = {grid, GridRule::given};
    return s;
  }
  s.grid = choose_stream_k_grid_rule(p, num_sms, ctas_per_sm, peak_gbps, s.row_split);
  if (row_split > 0) return s;
  const int r = choose_row_split(p, s.grid.grid, num_sms, peak_gbps);
  if (unspilled > std::max(r, least)) {  // only in step: out of step each block may stream K/V from DRAM
    const GridChoice blocks = choose_stream_k_grid_rule(p, num_sms, per_sm(unspilled), peak_gbps, unspilled);
    if (blocks_in_step(p, blocks.grid, unspilled)) {
      s.row_split = unspilled, s.grid = blocks, s.rows = RowsRule::unspilled_blocks;
      return s;
    }
    // else a block a CTA, in step, where the blocks fill the SMs' waves (H100 b16 hq512/hk16 d256
    // 2048: 193.6 us against 254.2 in whole groups on 132 CTAs, 206.4 by no split in whole groups)
    const int64_t n_blocks = int64_t(p.batch) * p.num_kv_heads * unspilled, slots = int64_t(per_sm(unspilled)) * num_sms;
    const double fill = slow_sms_card(peak_gbps, num_sms) ? kWholeBlockWaveFillSlowSms : kWholeBlockWaveFill;
    if (uniform_lengths(p) && n_blocks >= slots && n_blocks <= kMaxTiles && wave_fill(n_blocks, slots) >= fill) {
      s.row_split = unspilled, s.grid = {int(n_blocks), GridRule::whole_units}, s.rows = RowsRule::unspilled_blocks;
      return s;
    }
  }
  if (r <= least) return s;
  const GridChoice blocks = choose_stream_k_grid_rule(p, num_sms, per_sm(r), peak_gbps, r);
  if (!blocks_share_l2(p, blocks.grid, r)) {  // out of step past L2: each block would stream K/V from DRAM
    s.l2_rejected_split = r, s.l2_rejected_grid = blocks.grid;
    return s;
  }
  s.row_split = r, s.grid = blocks, s.rows = RowsRule::blocks;
  return s;
}

int fa2_num_splits(const Problem& problem, int slots, int row_split) {
  validate(problem);
  const Problem p = rows_view(problem, row_split);
  const int64_t units = int64_t(p.batch) * p.num_kv_heads;
  const int64_t n_blocks = p.max_tiles();
  if (slots < 1 || n_blocks <= 1 || units >= 0.8 * slots) return 1;
  const int max_splits = static_cast<int>(std::min<int64_t>({slots, n_blocks, 128}));
  auto eff = [&](int s) { return wave_fill(units * s, slots); };
  auto distinct = [&](int s) { return s == 1 || (n_blocks + s - 1) / s != (n_blocks + s - 2) / (s - 1); };
  double best = 0;
  for (int s = 1; s <= max_splits; ++s)
    if (distinct(s)) best = std::max(best, eff(s));
  for (int s = 1; s <= max_splits; ++s)
    if (distinct(s) && eff(s) >= 0.85 * best) return s;
  return 1;
}

ScheduleTable to_table(const Schedule& s) {
  ScheduleTable t;
  t.cta_begin.resize(s.num_ctas);
  t.cta_end.resize(s.num_ctas);
  for (int32_t c = 0; c < s.num_ctas; ++c) {
    const TileRange r = s.cta_range(c);
    t.cta_begin[c] = r.begin;
    t.cta_end[c] = r.end;
  }
  const int32_t U = s.num_units();
  t.unit_first_cta.resize(U);
  t.unit_num_ctas.resize(U);
  for (int32_t u = 0; u < U; ++u) {
    t.unit_first_cta[u] = s.first_cta(u);
    t.unit_num_ctas[u] = s.num_contributors(u);
  }
  return t;
}

std::vector<Segment> segments_of(const Schedule& s, int32_t c) {
  std::vector<Segment> out;
  const TileRange r = s.cta_range(c);
  for (int32_t it = r.begin; it < r.end;) {
    out.push_back(s.segment_at(c, it, r.end));
    it = out.back().next;
  }
  return out;
}

int32_t computed_tiles(const Schedule& s, int32_t c) {
  int32_t n = 0;
  for (const Segment& g : segments_of(s, c)) n += g.end - g.begin;
  return n;
}

std::vector<SplitUnit> Schedule::split_units() const {
  std::vector<SplitUnit> units;
  for (int32_t u = 0; u < num_units(); ++u)
    if (const int32_t n = num_contributors(u); n > 1) units.push_back(SplitUnit{u, first_cta(u), n, 0});
  return units;
}

int32_t Schedule::max_contributors() const {
  int32_t most = 0;
  for (int32_t u = 0; u < num_units(); ++u) most = std::max(most, num_contributors(u));
  return most;
}

int Schedule::merge_threads(int head_dim) const { return KernelShape::merge_threads(head_dim, max_contributors()); }

int64_t Schedule::merge_ctas() const { return separate_merge ? int64_t(split_units().size()) * unit_rows : 0; }

std::string Schedule::print() const {
  std::ostringstream o;
  int32_t busy = 0;
  int32_t max_tiles = 0, min_tiles = total_tiles;
  for (int32_t c = 0; c < num_ctas; ++c) {
    const int32_t n = cta_range(c).size();
    busy += n > 0;
    max_tiles = std::max(max_tiles, n);
    min_tiles = std::min(min_tiles, n);
  }
  o << "Schedule{policy=" << to_string(policy) << " seqs=" << num_seqs << " kv_heads=" << num_kv_heads
    << " row_split=" << row_split << " neighbour_blocks=" << (by_unit_ctas.d > 1 ? row_split : 1) << " unit_rows=" << unit_rows << " units=" << num_units() << " uniform_len=" << uniform_len << " unit_pad=" << unit_pad << " tile_kv=" << tile_kv << " total_tiles=" << total_tiles
    << " ctas=" << num_ctas << " busy_ctas=" << busy << " splits=" << num_splits
    << " tiles_per_cta=" << tiles_per_cta << " big_ctas=" << big_ctas << " cta_ranges=" << to_string(cta_ranges) << " cta_tiles=[" << min_tiles << ","
    << max_tiles << "] split_units=" << split_units().size() << " max_contributors=" << max_contributors()
    << " merge_fanin=" << merge_fanin << " separate_merge=" << int(separate_merge)
    << " partial_slots=" << num_partial_slots() << "}";
  return o.str();
}

}  // namespace lean
