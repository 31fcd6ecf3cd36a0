// The one definition of who computes which KV tiles and in which order partials merge.
// A plain struct passed by value to the CUDA kernel and walked one virtual CTA at a time by
// the CPU model; the host-only planner (make_plan) fills it. Modelled on CUTLASS's
// ThreadblockSwizzleStreamK: heuristics on the host, pure index arithmetic here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lean/hd.hpp"
#include "lean/kernel_shape.hpp"
#include "lean/problem.hpp"

namespace lean {

enum class Policy : uint8_t {
  stream_k = 0,     // LeanAttention: the whole (seq x kv head x tile) line cut into G equal pieces
  fixed_split = 1,  // FlashDecoding-like: each (seq, kv head) cut into S pieces, one CTA each
  no_split = 2,     // FlashAttention-2-like: one CTA per (seq, kv head)
};
const char* to_string(Policy p);
Policy parse_policy(const std::string& s);  // "stream-k" | "fixed-split" | "no-split"

/// How stream-K cuts its line of N tiles into G CTA ranges of q = N / G or q + 1 tiles.
enum class CtaRanges : uint8_t {
  even = 0,       // CTA c starts at floor(c N / G): the longer ranges spread out, so a grid that is a
                  // multiple of the units cuts every unit at the same offsets (row blocks in step).
                  // make_plan takes big_first where G > N, which keeps a unit's contributors
                  // consecutive, and where G > kMaxEvenGrid
  big_first = 1,  // the first N mod G CTAs take q + 1 tiles (the planner before golden schema 3)
};
/// Even ranges compute c (N mod G) in 32 bits (a 64-bit division in the decode kernel's prologue
/// took it from 168 to 192 registers and our no split 13% slower, H100, bench/NOTES.md step 63).
inline constexpr int32_t kMaxEvenGrid = 46340;  // floor(sqrt(2^31 - 1))
const char* to_string(CtaRanges r);
CtaRanges parse_cta_ranges(const std::string& s);  // "even" | "big-first"

/// x / d by a multiply-high and a shift, exact for 0 <= x < 2^31 (CUTLASS's FastDivmod): the
/// unit lookups run once per segment at one warp per scheduler, where an integer division's
/// dependent chain shows (bench/results/h100/prologue_diag/).
struct FastDiv {
  int32_t d;
  uint32_t mul, shr;
  static FastDiv of(int32_t d);  ///< host: d >= 1
  LEAN_HD int32_t div(int32_t x) const {
    if (d == 1) return x;
#if defined(__CUDA_ARCH__)
    return int32_t(__umulhi(uint32_t(x), mul) >> shr);
#else
    return int32_t(uint32_t((uint64_t(uint32_t(x)) * mul) >> 32) >> shr);
#endif
  }
};

/// Half-open range of linear tile indices.
struct TileRange {
  int32_t begin, end;
  LEAN_HD int32_t size() const { return end - begin; }
};
/// Token positions [begin, end) in a sequence.
struct TokenRange {
  int32_t begin, end;
};

/// One (sequence, kv head, row block): the unit_rows query heads of a row block of a KV head
/// are processed together (the whole group when row_split is 1).
struct Unit {
  int32_t index;       // (seq * num_kv_heads + head) * row_split + row block
  int32_t seq, head;   // head: the KV head
  int32_t q_head0;     // its first query head within the sequence; unit_rows heads from there
  int32_t begin, end;  // its tiles in the linear space; begin == end for an empty sequence
};

/// A unit of two or more contributors as the merge kernel reads it: the plan's answers, so no
/// merge CTA works out a CTA range (cuda/src/combine.cu).
struct alignas(16) SplitUnit {
  int32_t unit, first_cta, contributors, pad;
};

/// One contiguous piece of a CTA's work inside one unit.
struct Segment {
  int32_t cta, unit;
  int32_t begin, end;  // linear tiles [begin, end), inside the unit
  int32_t next;        // where the CTA's walk goes on: end, or past the next unit's idle tiles when it ends its unit
  bool host;           // holds the unit's first tile
  bool complete;       // the whole unit: written directly, no merge
};

struct Schedule {
  // The first word packs four one-byte fields, so the fields even CTA ranges added (step 63) moved
  // no other field: small calls read the plan's first fields on their critical path.
  Policy policy;
  CtaRanges cta_ranges;    ///< stream-K: which CTAs take the extra tile
  uint8_t separate_merge;  ///< 1: no CTA merges; a second kernel merges every split unit row by row
                           ///< (cuda/src/combine.cu) once all partials are written. merge_fanin is 0
  uint8_t ctas_shift;      ///< with ctas_mul: x / num_ctas by FastDiv for even ranges' c * big_ctas
  int32_t num_seqs;
  int32_t num_kv_heads;
  int32_t row_split;      ///< units per (sequence, KV head): its query heads cut into this many blocks
  int32_t unit_rows;      ///< query heads of a unit: group / row_split
  int32_t tile_kv;        ///< tokens per tile
  int32_t total_tiles;    ///< length of the linear iteration space
  int32_t num_ctas;       ///< grid size G
  int32_t num_splits;     ///< fixed split: CTAs per unit (1 for no split); 0 for stream-K
  int32_t tiles_per_cta;  ///< stream-K: tiles of a normal CTA
  int32_t big_ctas;       ///< stream-K: this many CTAs (N mod G) take one tile more
  int32_t merge_fanin;    ///< 0: a split unit merges all partials at once; F: in groups of F, then the groups
  uint32_t ctas_mul;      ///< FastDiv::of(num_ctas).mul
  FastDiv by_seq_units;   ///< / units_per_seq()
  FastDiv by_row_split;   ///< / row_split
  FastDiv by_unit_tiles;  ///< / tiles of a unit when uniform_len > 0 (1 otherwise)
  FastDiv by_splits;      ///< / num_splits (1 for stream-K)
  FastDiv by_unit_ctas;   ///< / h = G / U, a unit's CTAs where R > 1 row blocks run as neighbouring thread blocks (cta_of_block; 1: none)
  int32_t uniform_len;    ///< > 0: every sequence has this many tokens, and the lookups below are
                          ///< arithmetic: no binary search or length load before a CTA's first
                          ///< tile (b8/b16 set-up 1.2 -> 0.9 us, bench/NOTES.md step 35)
  int32_t unit_pad;       ///< stream-K, ragged batches: idle tiles before each non-empty unit in
                          ///< the linear space, so a CTA's equal share counts each unit it starts
                          ///< as that much work, what a segment boundary costs it (choose_unit_pad).
                          ///< 0 otherwise; always < tiles_per_cta
  const int32_t* seq_tile_begin;  ///< [num_seqs + 1] first linear tile of each sequence
  const int32_t* seq_len;         ///< [num_seqs] tokens; masks the last tile

  // ---- host + device interface ------------------------------------------------------------
  LEAN_HD int32_t units_per_seq() const { return num_kv_heads * row_split; }
  LEAN_HD int32_t num_units() const { return num_seqs * units_per_seq(); }
  /// Tokens of sequence b.
  LEAN_HD int32_t len_of(int32_t b) const { return uniform_len > 0 ? uniform_len : seq_len[b]; }
  /// Linear tiles one unit of sequence b spans: unit_pad idle ones, then its tiles (0 when empty).
  LEAN_HD int32_t unit_stride_of_seq(int32_t b) const {
    if (uniform_len > 0) return by_unit_tiles.d;
    return (seq_tile_begin[b + 1] - seq_tile_begin[b]) / units_per_seq();
  }
  /// Tiles of one unit of sequence b.
  LEAN_HD int32_t tiles_of_seq(int32_t b) const {
    if (uniform_len > 0) return by_unit_tiles.d;
    const int32_t stride = unit_stride_of_seq(b);
    return stride > 0 ? stride - unit_pad : 0;
  }
  /// First linear tile of sequence b.
  LEAN_HD int32_t tile_begin_of(int32_t b) const {
    return uniform_len > 0 ? b * tiles_of_seq(0) * units_per_seq() : seq_tile_begin[b];
  }
  LEAN_HD Unit unit(int32_t u) const {
    const int32_t b = by_seq_units.div(u), v = u - b * units_per_seq(), n = tiles_of_seq(b);
    const int32_t begin = tile_begin_of(b) + v * unit_stride_of_seq(b) + (n > 0 ? unit_pad : 0);
    return Unit{u, b, by_row_split.div(v), v * unit_rows, begin, begin + n};
  }
  /// The unit holding linear tile `it` (0 <= it < total_tiles) among its tiles or its idle ones.
  LEAN_HD Unit unit_of_tile(int32_t it) const {
    if (uniform_len > 0) return unit(by_unit_tiles.div(it));
    int32_t lo = 0, hi = num_seqs;  // last b with seq_tile_begin[b] <= it
    while (hi - lo > 1) {
      const int32_t mid = (lo + hi) / 2;
      if (seq_tile_begin[mid] <= it) lo = mid; else hi = mid;
    }
    // lo is non-empty: an empty b shares its begin with b + 1, so it is never the last match.
    return unit(lo * units_per_seq() + (it - seq_tile_begin[lo]) / unit_stride_of_seq(lo));
  }
  /// The CTA that thread block b runs. Stream-K in R row blocks whose U units divide G, h = G / U
  /// CTAs each (even ranges cut every unit alike), or the fixed split in R blocks (h = S): blocks
  /// R k .. R k + R - 1 run the CTAs at the same offset c' = k mod h of the R blocks of one KV
  /// head, which stream the same K/V tiles, so neighbouring blocks land on nearby SMs, where their
  /// identical tile reads meet in L2 (H200 MQA 16k 11.5 -> 10.9 us, bench/NOTES.md step 50; the
  /// fixed split's MQA 32/1 d256 64k in 16-row blocks: 37.6 us 57 CTAs apart, 33.7 as neighbours,
  /// H100, two runs against 57.5 and 58.1 in whole groups, step 70). Otherwise (h = 1) in order.
  LEAN_HD int32_t cta_of_block(int32_t b) const {
    if (by_unit_ctas.d == 1) return b;
    const int32_t k = by_row_split.div(b), j = b - k * row_split;  // k: the offset and KV head, j: the block
    const int32_t kv = by_unit_ctas.div(k), offset = k - kv * by_unit_ctas.d;
    return (kv * row_split + j) * by_unit_ctas.d + offset;
  }
  /// Tiles computed by CTA c, in order; empty when the grid is larger than the work.
  LEAN_HD TileRange cta_range(int32_t c) const {
    if (policy == Policy::stream_k) return TileRange{stream_k_begin(c), stream_k_begin(c + 1)};
    const int32_t q = by_splits.div(c);
    const Unit un = unit(q);
    const int32_t s = c - q * num_splits, chunk = split_chunk(un);
    const int32_t b = min32(un.begin + s * chunk, un.end);
    return TileRange{b, min32(b + chunk, un.end)};
  }
  /// The CTA that computes tile `it`.
  LEAN_HD int32_t cta_of_tile(int32_t it) const {
    if (policy == Policy::stream_k) {
      if (big_ctas == 0) return it / tiles_per_cta;
      if (cta_ranges == CtaRanges::even)  // the last c with floor(c N / G) <= it
        return int32_t((int64_t(it + 1) * num_ctas - 1) / total_tiles);
      const int32_t edge = big_ctas * (tiles_per_cta + 1);
      return it < edge ? it / (tiles_per_cta + 1) : big_ctas + (it - edge) / tiles_per_cta;
    }
    const Unit un = unit_of_tile(it);
    return un.index * num_splits + (it - un.begin) / split_chunk(un);
  }
  /// CTAs contributing to unit u are first_cta(u) .. first_cta(u) + num_contributors(u) - 1.
  /// The first one is the host (it holds the unit's first tile); partials merge in this order.
  LEAN_HD int32_t first_cta(int32_t u) const {
    const Unit un = unit(u);
    return un.begin == un.end ? -1 : cta_of_tile(un.begin);
  }
  LEAN_HD int32_t num_contributors(int32_t u) const {
    const Unit un = unit(u);
    return un.begin == un.end ? 0 : cta_of_tile(un.end - 1) - cta_of_tile(un.begin) + 1;
  }
  /// Workspace slot of CTA c's partial for unit u. Ranges are monotone, so the (c, u) pairs form
  /// a staircase on which c + u strictly increases: the slot is unique and < num_ctas + units,
  /// and the contributors of one unit occupy consecutive slots.
  LEAN_HD int32_t partial_slot(int32_t c, int32_t u) const { return c + u; }
  LEAN_HD int32_t num_partial_slots() const { return num_ctas + num_units(); }
  /// Merge groups of unit u: contributors j = k*F .. k*F+F-1 form group k. With one group the
  /// last contributor to arrive merges every partial; with several, the last to arrive in a group
  /// merges the group into its first member's slot, and the last group to finish merges the groups
  /// (slots F apart) into the output. Many large partials (MQA: 16 KB each) then spread over
  /// several CTAs instead of streaming through one SM.
  LEAN_HD int32_t merge_groups(int32_t u) const {
    const int32_t n = num_contributors(u);
    return in_groups(n) ? (n + merge_fanin - 1) / merge_fanin : 1;
  }
  /// The merge group of contributor CTA c of unit u (0 when the unit merges in one step).
  LEAN_HD int32_t group_of(int32_t c, int32_t u) const {
    return in_groups(num_contributors(u)) ? (c - first_cta(u)) / merge_fanin : 0;
  }
  /// Contributors in group k of unit u (0 <= k < merge_groups(u)).
  LEAN_HD int32_t group_size(int32_t u, int32_t k) const {
    const int32_t n = num_contributors(u);
    return in_groups(n) ? min32(merge_fanin, n - k * merge_fanin) : n;
  }
  /// Arrival counters: [units] per unit, then [partial slots] per group, indexed by the slot of
  /// the group's first member. A unit that merges in one step counts its contributors on its
  /// own counter. Zero between launches (the merging CTA resets its counter).
  LEAN_HD int32_t group_counter(int32_t u, int32_t k) const {
    return merge_groups(u) == 1 ? u : num_units() + partial_slot(first_cta(u) + k * merge_fanin, u);
  }
  LEAN_HD int32_t num_counters() const { return num_units() + num_partial_slots(); }
  /// The tokens segment `seg` of unit `un` streams: whole tiles, the last cut by the sequence's
  /// end. int32 is enough: a length is at most kMaxSeqLen = 2^31 - kMaxTileKv.
  LEAN_HD TokenRange tokens_of(const Segment& seg, const Unit& un) const {
    return TokenRange{(seg.begin - un.begin) * tile_kv, min32((seg.end - un.begin) * tile_kv, len_of(un.seq))};
  }
  /// The segment of CTA c that starts at tile `it` of its range [.., range_end). A CTA walks
  /// its range as: it = begin; while (it < end) { seg = segment_at(c, it, end); ...; it = seg.next; }
  /// A range that starts on a unit's idle tiles starts its first segment at the unit's first
  /// tile, which lies inside the range because unit_pad < tiles_per_cta; a segment that ends its
  /// unit hands on past the next unit's idle tiles.
  LEAN_HD Segment segment_at(int32_t c, int32_t it, int32_t range_end) const {
    const Unit un = unit_of_tile(it);
    const int32_t b = max32(it, un.begin), e = min32(range_end, un.end);
    return Segment{c, un.index, b, e, e == un.end ? e + unit_pad : e, b == un.begin, b == un.begin && e == un.end};
  }

  // ---- host-only interface ------------------------------------------------------------------
  std::string print() const;  ///< every derived value on one line
  /// Units of two or more contributors, ascending: the separate merge kernel's grid.
  std::vector<SplitUnit> split_units() const;
  /// The most contributors any unit has (0 when every unit is empty).
  int32_t max_contributors() const;
  /// The separate merge kernel's threads a CTA for head dim `head_dim`: KernelShape::merge_threads
  /// of the most contributors any unit has.
  int merge_threads(int head_dim) const;
  /// The separate merge kernel's CTAs: one per split unit and query row (0 without that kernel).
  int64_t merge_ctas() const;

 private:
  LEAN_HD static int32_t min32(int32_t a, int32_t b) { return a < b ? a : b; }
  LEAN_HD static int32_t max32(int32_t a, int32_t b) { return a < b ? b : a; }
  LEAN_HD bool in_groups(int32_t contributors) const { return merge_fanin > 0 && contributors > merge_fanin; }
  /// First tile of stream-K CTA c (0 <= c <= num_ctas): c q plus the longer ranges before it.
  LEAN_HD int32_t stream_k_begin(int32_t c) const {
    const int32_t longer = big_ctas == 0                      ? 0
                           : cta_ranges == CtaRanges::even ? FastDiv{num_ctas, ctas_mul, ctas_shift}.div(c * big_ctas)
                                                           : min32(c, big_ctas);
    return c * tiles_per_cta + longer;
  }
  LEAN_HD int32_t split_chunk(const Unit& un) const {
    return by_splits.div(un.end - un.begin + num_splits - 1);
  }
};

/// Owns the arrays a Schedule points at. view() hands out a Schedule over host memory; the CUDA
/// launcher copies the same arrays to the device and repoints the two pointers.
class Plan {
 public:
  Plan() = default;
  Schedule view() const&;
  Schedule view() const&& = delete;  // the view points into this Plan: keep the Plan alive
  const std::vector<int32_t>& seq_tile_begin() const { return seq_tile_begin_; }
  const std::vector<int32_t>& seq_len() const { return seq_len_; }

 private:
  friend Plan make_plan(const Problem&, Policy, int, int, int, int, CtaRanges);
  Schedule s_{};
  std::vector<int32_t> seq_tile_begin_, seq_len_;
};

/// Plans `problem` under `policy`. `n` is the grid size G for stream-K (the launcher passes the
/// co-resident CTA count; tests sweep it) and the split count S for fixed split; ignored for no
/// split. `merge_fanin`: kAutoMerge and kSeparateMerge merge in the separate merge kernel (the
/// default: measured faster than the in-kernel merge on every row of H100 and H200,
/// bench/NOTES.md step 20); kInKernelMerge merges in the decode kernel with choose_merge_fanin's
/// fan-in; 0 one in-kernel merge per unit; F > 0 in-kernel groups of F.
/// `row_split` cuts each KV head's query heads into that many units (choose_row_split); it must
/// divide the group. `unit_pad`: Schedule::unit_pad for stream-K, kAutoPad for choose_unit_pad's;
/// a pad that would leave a CTA no more than its idle tiles becomes 0. Validates the problem
/// first and throws lean::Error naming what is wrong.
inline constexpr int kAutoMerge = -1, kSeparateMerge = -2, kInKernelMerge = -3;
inline constexpr int kAutoPad = -1;
Plan make_plan(const Problem& problem, Policy policy, int n, int merge_fanin = kAutoMerge, int row_split = 1,
               int unit_pad = kAutoPad, CtaRanges ranges = CtaRanges::even);
/// Idle tiles before each unit for stream-K: kSegmentPadTiles on ragged batches, whose CTAs hold
/// from one to several unit boundaries (H200, one 128k sequence and 15 short ones at G = 264: CTAs
/// of five segments ended 8.4 us after those of one, about a tile's streaming a boundary; pads of
/// 4 were the fastest of 0-6 there and on 64 random lengths; bench/NOTES.md step 58).
/// 0 on uniform batches, whose CTAs hold the same number of boundaries give or take one (and whose
/// kernel, Variant::uniform, is compiled without idle tiles), and for the other policies.
int choose_unit_pad(const Problem& problem, Policy policy);
inline constexpr int kSegmentPadTiles = 4;
/// Partials of at least this size (MQA at head dim 128: 32 rows x 512 bytes) are where the
/// merge kernel gains most (MQA 128k: 73 -> 38 us, H100); the grid heuristic costs their merge
/// as one row per merging CTA, smaller ones with its in-kernel terms.
inline constexpr int64_t kLargePartialBytes = 16 * 1024;

/// Stream-K grid for a card of `num_sms` SMs holding `ctas_per_sm` CTAs each, with peak DRAM
/// bandwidth `peak_gbps` (0: unknown). On a card of at most kOnePerSmGbps per SM (or above it,
/// where tiles come by tensor loads), a
/// uniform batch with group <= 16 takes the largest G in [3/4 num_sms, num_sms] that cuts every
/// unit into equal pieces (or hands each CTA whole units of >= kLongUnitTiles tiles): one CTA
/// per SM, measured faster than two on H100 (25 GB/s per SM) and, with tensor loads, on H200
/// (37 GB/s per SM), where with cp.async one CTA's 64 KB in flight had not covered the latency
/// at large sizes (bench/NOTES.md steps 18, 26). Head dim 64 (half the bytes a stage) and paged
/// caches whose tiles span several pages take two per SM that way, in [3/2 num_sms, 2 num_sms]
/// (step 30). Before that rule, uniform d128 contiguous batches of a quarter to all of the SMs'
/// worth of short units, groups of up to 16 query heads, take G = units, one whole unit a CTA
/// without the merge kernel (step 66).
/// Where no G of the window cuts every unit exactly, the largest that the unit count
/// divides: even CTA ranges then cut every unit at the same offsets, pieces differing by at most a
/// tile (step 64: b1 MHA 100000 tokens 537 -> 520 us on H100, 375 -> 364 on H200). Head dim 256's
/// whole groups in streams of at least kShortStreamTiles a CTA take that grid first (step 70: on
/// fewer SMs they lost up to 8%). Otherwise the G in
/// [1, num_sms * ctas_per_sm] of least cost in tiles: the busiest SM's tiles (CTAs on one SM
/// share its bandwidth; scaled up when its CTAs keep fewer than kInflightNeed bytes in flight,
/// 65 KB on cards of at most kOnePerSmGbps per SM for several units, step 69),
/// plus kSplitCost if any unit is split (partial write, fence, atomic and
/// the merge on the critical path), plus the most-split unit's merge: for uniform batches and large
/// partials the merge kernel's, kContribCost + 1/64 of a tile a partial and about a tile for each
/// round of its loads past the first (KernelShape::merge_round; steps 65, 67), large partials paying
/// a second kSplitCost; for ragged batches of small partials the serial reads of the in-kernel merge
/// (kContribCost + group/64 a partial, or F + n/F of them through a tree). Multiples of the unit count
/// that cut uniform units evenly are costed exactly: G / U partials a unit, none for G = U.
/// The constants come from H100/H200 measurements (bench/NOTES.md). With `row_split` blocks only
/// multiples of it, so blocks pair up as neighbouring thread blocks (cta_of_block).
int choose_stream_k_grid(const Problem& problem, int num_sms, int ctas_per_sm, double peak_gbps = 0, int row_split = 1);
/// Which of choose_stream_k_grid's rules chose its grid, for `lean plan --explain`.
enum class GridRule : uint8_t { whole_units, equal_pieces, even_pieces, cost_model, given, fa2_splits, units };
const char* to_string(GridRule rule);
struct GridChoice {
  int grid;
  GridRule rule;
};
/// choose_stream_k_grid's grid and the rule that chose it.
GridChoice choose_stream_k_grid_rule(const Problem& problem, int num_sms, int ctas_per_sm, double peak_gbps = 0, int row_split = 1);
/// Row blocks per KV head for stream-K, given `grid`, the grid chosen for whole groups. A group
/// spanning several 16-row tensor-core tiles is cut where `grid` leaves over a quarter of the SMs
/// idle (MQA 32/1 at 16k: G = 64), and, for one unit (batch 1, one KV head), where `grid` is one
/// CTA per SM of short streams: at most kShortStreamTiles tiles a CTA on cards of at most
/// kOnePerSmGbps per SM (`peak_gbps`, 0: unknown), at most kOneUnitShortTiles on faster cards.
/// Blocks give more CTAs without more partial bytes, and a merged row fewer contributors; K/V is
/// read once per block, mostly from L2 (as cuDNN's 16-row tiles, grid [64, 2]). Two blocks,
/// except 16-row blocks where a CTA of `grid` streams at most kTinyStreamTiles tiles: more blocks
/// multiply the L2 reads (H100 b1 MQA 64/1 in four blocks against two: 8k 9.4 against 10.4 us,
/// 32k 18.0 against 15.6, 128k 52.3 against 35.7). Measured, whole -> blocks: H100 MQA 32/1 32k
/// 16.7 -> 13.7 us, 128k 34.7 -> 32.3; two units even or slower (b2 MQA 32k 19.6 -> 20.6, b2
/// hq96/hk2 8k 15.6 -> 17.1); H200 MQA 32/1 32k 15.4 -> 13.3, 64k 19.1 -> 19.3, MQA 48/1 32k
/// 16.6 -> 14.8, MQA 64/1 128k 32.3 -> 35.1 (bench/NOTES.md steps 40, 59, 60, 62). 1 where neither
/// two nor the 16-row blocks divide the group. The launcher then keeps whole groups where the
/// blocks would not share L2 (blocks_share_l2).
int choose_row_split(const Problem& problem, int grid, int num_sms, double peak_gbps = 0);
/// Whether the `row_split` blocks of each KV head take the same tiles at the same places of their
/// CTAs' ranges in the planner's stream-K grid of `grid` CTAs (even ranges): a uniform batch
/// whose U units divide the grid, so each unit holds G/U range starts at the same offsets (or at
/// most a tile a CTA). Out of step, blocks read a tile at different times, and once a KV head's
/// K/V outgrows L2 each block streams it from DRAM (big-first ranges, H100 b1 MQA 32/1 100k
/// tokens, 1563 tiles a block at G = 128: 35.2 us in blocks against 30.1 whole; MQA 48/1 128k in
/// three blocks at G = 256: 74.4 against 36.0; bench/NOTES.md step 62).
bool blocks_in_step(const Problem& problem, int grid, int row_split);
/// A KV head's K/V up to this size meets its blocks in L2 even out of step (Hopper: 50-60 MB of
/// L2; H100 b1 MQA 32/1 30k tokens, 15 MB: 15.2 us whole against 14.6 in blocks out of step).
inline constexpr double kL2ShareBytes = 24e6;
/// Whether the row blocks of a stream-K plan of `grid` CTAs read each K/V tile once from DRAM:
/// they run in step, or their KV head fits kL2ShareBytes. The launcher keeps whole groups where
/// choose_row_split's blocks would not.
bool blocks_share_l2(const Problem& problem, int grid, int row_split);
/// Row blocks a KV head needs for the decode kernel: the least r dividing the group with group / r
/// at most KernelShape::max_unit_rows (head dim 256: a group of 48 or 64 in two blocks).
int min_row_split(const Problem& problem);

/// CTAs of the decode kernel an SM holds, by its m-tiles (units of up to 16, 32 and 64 query
/// heads); 0 where no kernel is built. The launcher asks CUDA; a preset estimates it.
struct Occupancy {
  int by_m_tiles[5] = {};
  int of_rows(int rows) const { return by_m_tiles[KernelShape::m_tiles(rows)]; }
  /// From a timeline preset's count for head dim 128's one-tile kernel, as the timeline model
  /// estimates it (KernelShape::ctas_per_sm_from_preset); 0 past max_unit_rows.
  static Occupancy estimate(int head_dim, int ctas_per_sm);
};

/// How choose_launch_shape cut each KV head's query heads.
enum class RowsRule : uint8_t { whole_groups, kernel_rows, blocks, unspilled_blocks, given };
const char* to_string(RowsRule rule);
struct LaunchShape {
  int row_split = 1;         ///< row blocks a KV head (make_plan's row_split)
  GridChoice grid{0, GridRule::given};  ///< stream-K's G, fixed split's S, no split's unit count
  RowsRule rows = RowsRule::whole_groups;
  int l2_rejected_split = 0;  ///< choose_row_split's blocks, kept out by blocks_share_l2 (0: none)
  int l2_rejected_grid = 0;   ///< the grid they would have run on
};
/// The launcher's shape of a plan (cuda/src/launcher.cu), which `lean plan --explain` prints from
/// a preset's occupancy: at least min_row_split's blocks; for stream-K the grid for them, then
/// blocks of KernelShape::unspilled_unit_rows where they run in step (blocks_in_step; head dim
/// 256, groups of 17-64: H200 MQA 32/1 64k 37.2 -> 27.1 us, MQA 48/1 32k 30.0 -> 21.7, step 68)
/// or, out of step in a uniform batch, one a CTA where they fill the SMs' waves (step 70), else
/// choose_row_split's blocks with their own grid where they share L2 (blocks_share_l2). The fixed
/// and no split take the unspilled blocks, whose blocks of a chunk run as neighbouring thread
/// blocks (step 70). `grid` > 0 is used as given (S for fixed split; no row blocks chosen then),
/// `row_split` > 0 as given. Throws lean::Error where no kernel holds the given blocks.
LaunchShape choose_launch_shape(const Problem& problem, Policy policy, int num_sms, const Occupancy& occupancy,
                                double peak_gbps, int grid = 0, int row_split = 0);

/// Merge fan-in for units of up to `max_contributors` partials of `partial_bytes` each: 0 (one
/// merge) while one CTA reads at most kFlatMergeBytes, else about sqrt(n), which minimises the
/// bytes the slower of the two levels reads (F + n/F partials).
int choose_merge_fanin(int max_contributors, int64_t partial_bytes);
inline constexpr int64_t kFlatMergeBytes = 128 * 1024;
inline constexpr double kSplitCost = 2.0;
inline constexpr double kContribCost = 0.05;
/// K/V bytes an SM needs in flight to stream at full rate; fewer slow it proportionally.
inline constexpr double kInflightNeed = 80.0 * 1024;
/// Units at least this long may be handed whole, several per CTA, to a one-per-SM grid (at 16
/// tiles, b8 1k, two CTAs per SM were faster: their epilogues overlap).
inline constexpr int64_t kLongUnitTiles = 64;
inline constexpr double kOnePerSmGbps = 30.0;
/// Stream-K CTAs of at most this many tiles are short streams, where the prologue is a large share
/// of the call (plan_uses_tensor_loads, choose_row_split).
inline constexpr int kShortStreamTiles = 16;
/// choose_row_split on cards above kOnePerSmGbps per SM: one unit's streams of at most this many tiles.
inline constexpr int kOneUnitShortTiles = 6;
/// choose_row_split: streams this short (tiles a CTA of the whole-group grid) take 16-row blocks
/// rather than two blocks (H100 b1 MQA 48/1 8k: 9.1 us in three against 10.1 in two; at 16k, four
/// tiles a CTA, 14.2 against 11.8).
inline constexpr int kTinyStreamTiles = 2;
/// Whole K/V tiles by tensor memory access rather than cp.async: on cards above kOnePerSmGbps
/// per SM (H200: b1 MHA 512k 1992 -> 1924 us, 99.8% of the read probe); on the H100, with one
/// CTA per SM, cp.async stayed ahead (2745 vs 2761 us), bench/NOTES.md step 22, except for pages
/// of whole tiles (`page_size` a multiple of 64), where one copy per page replaces a block-table
/// lookup per row (H100, b8 GQA 16k page 64: 184.4 us at G=128 against 188.1 by cp.async at its
/// best grid, 256; page 16, four small boxes a tile, lost: 196.4 against 188.6; step 30). Pages
/// smaller than a tile come in 2 x head_dim / page_size boxes a tile: tensor loads win there only
/// at head dim >= 128 and at most 16 boxes (H200: d128 page 16 126.4 us against 137.7 by cp.async;
/// d256 page 32 266.4 against 278.0; but d256 page 16 370.0 against 277.1, d64 page 16 358.7
/// against 246.6, d64 page 32 278.5 against 245.7; step 43).
inline bool prefer_tensor_loads(double peak_gbps, int num_sms, int page_size = 0, int head_dim = 128) {
  if (KernelShape::uses_page_windows(page_size))
    return peak_gbps > kOnePerSmGbps * num_sms && head_dim >= 128 && 2 * head_dim / page_size <= 16;
  return peak_gbps > kOnePerSmGbps * num_sms || page_size > 0;
}

/// The load path of a planned launch on a card of `num_sms` SMs and `peak_gbps`: the card's and
/// cache's preference (prefer_tensor_loads), and on any card the launches that stream faster by
/// tensor loads. A grid that leaves over a quarter of the SMs idle: a CTA alone on its SM streams
/// faster by them (H100 no split, b1 MHA 512k: 5462 vs 6707 us, step 33; stream-K MQA 16k at
/// G = 64: 11.9 vs 12.6 us, step 39), while the H100's one-per-SM grids of 99-132 CTAs stay
/// faster by cp.async (512k at G = 128: 2737 vs 2757 us). Row blocks, which stream the same tiles
/// (H100 MQA 16k: 11.9 vs 12.6 us, step 40). No split always: our baseline should be our best.
/// Short streams of a contiguous cache at head dim 128 and one CTA per SM (stream-K CTAs of at
/// most 16 tiles), whose first tiles by tensor loads leave before the prologue (step 51): H100 b1
/// MHA 1k 11.7 -> 11.4 us, 2k 16.7 -> 16.2, where 8k (32 tiles) is even, 16k (64) loses 0.6 us
/// and b8 MHA 1k (16 tiles, two CTAs per SM) 0.2 (bench/NOTES.md step 54).
inline bool plan_uses_tensor_loads(const Problem& p, const Schedule& s, double peak_gbps, int num_sms) {
  const bool short_stream = s.policy == Policy::stream_k && p.head_dim == 128 && p.kv_page_size == 0 &&
                            s.tiles_per_cta + (s.big_ctas > 0) <= kShortStreamTiles && s.num_ctas <= num_sms;
  return prefer_tensor_loads(peak_gbps, num_sms, p.kv_page_size, p.head_dim) || s.policy == Policy::no_split ||
         4 * s.num_ctas < 3 * num_sms || s.row_split > 1 || short_stream;
}

/// FlashAttention-2's split count for fixed split: the smallest S whose wave efficiency over
/// `slots` concurrent CTAs is within 85% of the best, so our FlashDecoding baseline splits the
/// way that peer does. Each of `row_split` row blocks a KV head counts as a unit.
int fa2_num_splits(const Problem& problem, int slots, int row_split = 1);

/// Merges unit u's partials in the kernel's order: contributor j's state is (lse_of(j), o_of(j));
/// `merge(n, lse_of, o_of, out_lse, out_o)` merges n states in order. With several merge groups,
/// each group is merged first, then the group states in group order (Schedule::merge_groups).
template <typename T, typename LseOf, typename OOf, typename Merge>
void merge_in_schedule_order(const Schedule& s, int32_t u, int rows, int d, LseOf lse_of, OOf o_of, T* lse, T* o,
                             Merge merge) {
  const int32_t groups = s.merge_groups(u);
  if (groups == 1) return merge(s.num_contributors(u), lse_of, o_of, lse, o);
  std::vector<T> glse(size_t(groups) * rows), go(size_t(groups) * rows * d);
  for (int32_t k = 0; k < groups; ++k) {
    const int32_t j0 = k * s.merge_fanin;
    merge(s.group_size(u, k), [&](int j) { return lse_of(j0 + j); }, [&](int j) { return o_of(j0 + j); },
          glse.data() + size_t(k) * rows, go.data() + size_t(k) * rows * d);
  }
  merge(groups, [&](int k) { return static_cast<const T*>(glse.data() + size_t(k) * rows); },
        [&](int k) { return static_cast<const T*>(go.data() + size_t(k) * rows * d); }, lse, o);
}

/// The schedule flattened to index arrays: for golden files, the plan table and the SVG.
struct ScheduleTable {
  std::vector<int32_t> cta_begin, cta_end;         // [G] linear tile range of each CTA
  std::vector<int32_t> unit_first_cta;             // [U] host CTA, -1 for an empty unit
  std::vector<int32_t> unit_num_ctas;              // [U] contributors, 0 for an empty unit
};
ScheduleTable to_table(const Schedule& s);

/// The segments of CTA c, in the order it computes them (host+device code walks the same way).
std::vector<Segment> segments_of(const Schedule& s, int32_t c);
/// Tiles CTA c computes: its range less the idle tiles in it.
int32_t computed_tiles(const Schedule& s, int32_t c);

}  // namespace lean
