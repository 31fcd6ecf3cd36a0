// Per-SM timeline model of the decode kernel: given a schedule and a machine description, every
// CTA's events placed on its SM, and the predicted kernel time. A fluid model: streaming CTAs
// share what memory delivers for their combined demand (a soft minimum of demand and bandwidth,
// so a grid with fewer CTAs in flight streams slower), capped per SM; rates are recomputed
// whenever a phase starts or ends; fixed latencies (prologue, partial write, flag, merge) run at
// wall speed.
#pragma once

#include <string>
#include <vector>

#include "lean/problem.hpp"
#include "lean/schedule.hpp"

namespace lean::sim {

/// What the model knows about a card. Fitted per card from benchmark rows (calibrate()).
struct Machine {
  std::string name = "generic";
  int num_sms = 132;
  int ctas_per_sm = 2;          ///< co-resident CTAs per SM of the head-dim-128 kernel
  double mem_gbps = 3000;       ///< DRAM bandwidth shared by all active SMs
  double sm_gbps = 40;          ///< the most one SM streams
  double cta_gbps = 30;         ///< what one head-dim-128 CTA streams on an idle memory (its bytes in flight)
  double mem_exp = 8;           ///< sharpness of the knee where the CTAs' demand meets mem_gbps (soft minimum)
  double inflight_exp = 1.0;    ///< other head dims stream cta_gbps * (bytes in flight ratio)^this
  double launch_us = 3;         ///< launch to first CTA start
  double fixed_split_us = 1;    ///< extra start-up of a fixed-split CTA: measured, not explained (bench/NOTES.md)
  double segment_us = 1.5;      ///< per segment: Q load, pipeline fill, in-CTA warp merge
  double partial_us = 1.0;      ///< write a partial, fence, count it (flag atomic)
  double merge_us = 1.0;        ///< fixed cost of a cross-CTA merge
  double merge_us_per_kb = 0.01;  ///< per KiB of partials read by the merger
  /// What L2 delivers to the SMs: row blocks that share their K/V there (blocks_share_l2) read it
  /// once from DRAM, R times from L2 (H100 b1 MQA 64/1 128k in four blocks: 268 MB in 52.3 us).
  /// Optional in a preset; not fitted.
  double l2_gbps = 5000;
  std::string to_json() const;
  static Machine from_json(const std::string& text);  ///< throws lean::Error naming a bad field
};

enum class EventKind { cta, segment, partial, merge };
const char* to_string(EventKind k);

/// One interval on one SM. For `segment`, tiles = tiles streamed; unit = its (seq, kv head).
struct Event {
  EventKind kind;
  int32_t cta, sm, unit;  // cta -1: the separate merge kernel (Schedule::separate_merge)
  int32_t tiles;
  double t0, t1;  // microseconds from launch
};

struct Timeline {
  std::string source;  ///< "model <machine>" or "measured <card>"
  std::vector<Event> events;
  double kernel_us = 0;
  /// Each tile as its own event, interpolated inside its segment (for small problems).
  std::vector<Event> tiles() const;
};

Timeline model_timeline(const Problem& p, const Schedule& s, const Machine& m);

/// One measured benchmark row: problem, schedule argument and time.
struct Measurement {
  Problem problem;
  Policy policy;
  int grid;        ///< CTAs for stream-K, splits for fixed split
  double us;
};

/// Fits the machine's free parameters (bandwidths and latencies) to measurements by
/// Nelder-Mead on the squared log error; num_sms and ctas_per_sm are kept.
Machine calibrate(const Machine& start, const std::vector<Measurement>& rows, int iterations = 400);

/// Kernel record (lean_decode's trace) to events: per CTA [smid, t_start, t_end, segments,
/// then per segment: unit, t_begin, t_streamed, t_written, t_merged], globaltimer ns.
Timeline from_trace(const std::vector<int64_t>& trace, int num_ctas, int max_segments, const std::string& card);

/// How a timeline's grid ends: the end of each CTA, grouped by its number of segments (stream-K
/// CTAs of several segments pay an epilogue and a refill per boundary, and can end last), the
/// time from a CTA's start to its first segment, and from the end of a segment's last event
/// (streamed, partial written or merged) to the next segment's start. Times in us from the
/// timeline's origin. This is what separated a ragged row's tail from its lookups (bench/NOTES.md
/// steps 55-56).
struct TailSummary {
  struct Group {
    int segments = 0, ctas = 0;
    double end_median = 0, end_max = 0;
  };
  std::vector<Group> by_segments;  ///< ascending segments; CTAs without a segment are left out
  double first_segment_median = 0, first_segment_max = 0;
  int boundaries = 0;  ///< segment boundaries inside CTAs
  double boundary_median = 0, boundary_max = 0;
  double end_max = 0;  ///< the latest CTA end
  std::string str() const;  ///< a few lines for a terminal
};
TailSummary summarize_tail(const Timeline& tl);

/// Colour of a unit (sequence, kv head) in every picture, so plans and timelines match.
std::string unit_colour(int32_t unit);

/// Pictures: one row per SM; model above measured on one time axis when both are given.
std::string timeline_svg(const std::vector<Timeline>& timelines, const Schedule& s, const std::string& title);
std::string chrome_trace_json(const std::vector<Timeline>& timelines);

}  // namespace lean::sim
