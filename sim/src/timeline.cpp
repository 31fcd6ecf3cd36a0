#include "lean/sim/timeline.hpp"

#include "lean/kernel_shape.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <deque>
#include <iterator>
#include <limits>
#include <map>
#include <iomanip>
#include <sstream>

namespace lean::sim {
namespace {

enum class PhaseType { fixed, stream };

struct Phase {
  PhaseType type;
  EventKind kind;
  double amount;  // microseconds (fixed) or bytes (stream)
  int32_t unit, tiles;
  int32_t counter = -1, target = 0;  // at the end count on counter; the target-th arrival merges
};

struct Cta {
  int32_t id, sm = -1;
  std::deque<Phase> phases;
  double remaining = 0, start = 0, event_start = 0;
  bool running = false, done = false;
};

/// Bytes of K and V one segment streams: the real tokens of its tiles.
double segment_bytes(const Problem& p, const Schedule& s, const Segment& seg) {
  const Unit un = s.unit(seg.unit);
  const TokenRange t = s.tokens_of(seg, un);
  return double(t.end - t.begin) * 2.0 * p.head_dim * 2.0;
}

}  // namespace

std::string unit_colour(int32_t u) {
  const double hue = std::fmod(u * 137.50776, 360.0);  // golden-angle hues keep neighbours apart
  std::ostringstream o;
  o << "hsl(" << std::lround(hue) << ",65%," << (u % 2 ? 55 : 68) << "%)";
  return o.str();
}

const char* to_string(EventKind k) {
  switch (k) {
    case EventKind::cta: return "cta";
    case EventKind::segment: return "segment";
    case EventKind::partial: return "partial";
    case EventKind::merge: return "merge";
  }
  return "?";
}

std::string Machine::to_json() const {
  nlohmann::ordered_json j = {{"name", name},         {"num_sms", num_sms},       {"ctas_per_sm", ctas_per_sm},
                              {"mem_gbps", mem_gbps}, {"sm_gbps", sm_gbps},       {"cta_gbps", cta_gbps}, {"mem_exp", mem_exp}, {"inflight_exp", inflight_exp},
                              {"fixed_split_us", fixed_split_us},
                              {"launch_us", launch_us}, {"segment_us", segment_us}, {"partial_us", partial_us},
                              {"merge_us", merge_us}, {"merge_us_per_kb", merge_us_per_kb}, {"l2_gbps", l2_gbps}};
  return j.dump(2) + "\n";
}

Machine Machine::from_json(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw Error(std::string("machine preset: not JSON: ") + e.what());
  }
  Machine m;
  auto num = [&](const char* key, double& out) {
    if (!j.contains(key) || !j[key].is_number()) throw Error(std::string("machine preset: missing number '") + key + "'");
    out = j[key].get<double>();
    if (!(out > 0)) throw Error(std::string("machine preset: '") + key + "' must be > 0");
  };
  double sms = 0, per = 0;
  num("num_sms", sms);
  num("ctas_per_sm", per);
  m.num_sms = int(sms), m.ctas_per_sm = int(per);
  num("mem_gbps", m.mem_gbps);
  num("sm_gbps", m.sm_gbps);
  num("cta_gbps", m.cta_gbps);
  num("mem_exp", m.mem_exp);
  num("inflight_exp", m.inflight_exp);
  num("fixed_split_us", m.fixed_split_us);
  num("launch_us", m.launch_us);
  num("segment_us", m.segment_us);
  num("partial_us", m.partial_us);
  num("merge_us", m.merge_us);
  num("merge_us_per_kb", m.merge_us_per_kb);
  if (j.contains("l2_gbps")) num("l2_gbps", m.l2_gbps);
  m.name = j.value("name", "unnamed");
  return m;
}

Timeline model_timeline(const Problem& p, const Schedule& s, const Machine& m_in) {
  // the preset describes the head-dim-128 kernel; other head dims differ in occupancy and in
  // the bytes a CTA keeps in flight, which caps its streaming rate
  Machine m = m_in;
  m.ctas_per_sm = KernelShape::ctas_per_sm_from_preset(p.head_dim, s.unit_rows, m_in.ctas_per_sm);
  m.cta_gbps = m_in.cta_gbps * std::pow(KernelShape::inflight_bytes(p.head_dim) / KernelShape::inflight_bytes(128), m_in.inflight_exp);
  const double partial_kb = 4.0 * s.unit_rows * (p.head_dim + 1) / 1024.0;  // a unit's partial
  // row blocks that share their KV head in L2 read it from DRAM once: memory then serves R times
  // the bytes, up to what L2 delivers; out of step, each block streams it from DRAM
  const double mem_gbps = s.policy == Policy::stream_k && s.row_split > 1 && blocks_share_l2(p, s.num_ctas, s.row_split)
                              ? std::min(m.mem_gbps * s.row_split, std::max(m.mem_gbps, m.l2_gbps))
                              : m.mem_gbps;
  std::vector<Cta> ctas(s.num_ctas);
  for (int32_t c = 0; c < s.num_ctas; ++c) {
    ctas[c].id = c;
    const std::vector<Segment> segments = segments_of(s, c);
    if (s.policy == Policy::fixed_split && !segments.empty())
      ctas[c].phases.push_back({PhaseType::fixed, EventKind::segment, m.fixed_split_us, -1, 0});
    for (const Segment& seg : segments) {
      const int32_t tiles = seg.end - seg.begin;
      ctas[c].phases.push_back({PhaseType::fixed, EventKind::segment, m.segment_us, seg.unit, tiles});
      ctas[c].phases.push_back({PhaseType::stream, EventKind::segment, segment_bytes(p, s, seg), seg.unit, tiles});
      if (seg.complete) continue;
      if (s.separate_merge) {  // written, not counted: the merge kernel runs after this one
        ctas[c].phases.push_back({PhaseType::fixed, EventKind::partial, m.partial_us, seg.unit, 0});
        continue;
      }
      const int32_t k = s.group_of(c, seg.unit);
      ctas[c].phases.push_back({PhaseType::fixed, EventKind::partial, m.partial_us, seg.unit, 0, s.group_counter(seg.unit, k),
                                s.group_size(seg.unit, k)});
    }
  }
  // the merge the target-th arrival on `counter` runs (Schedule::merge_groups)
  auto merge_phase = [&](int32_t unit, int32_t counter, int32_t arrivals) {
    const double us = m.merge_us + m.merge_us_per_kb * partial_kb * arrivals;
    if (counter >= s.num_units())  // a group: merged into a partial that counts on the unit
      return Phase{PhaseType::fixed, EventKind::merge, us + m.partial_us, unit, 0, unit, s.merge_groups(unit)};
    return Phase{PhaseType::fixed, EventKind::merge, us, unit, 0};
  };
  std::vector<int32_t> arrived(s.num_counters(), 0);
  std::vector<int> on_sm(m.num_sms, 0), streaming(m.num_sms, 0);
  std::deque<int32_t> waiting;
  Timeline tl;
  tl.source = "model " + m.name;
  double now = m.launch_us;

  auto begin_phase = [&](Cta& c) {
    while (!c.phases.empty() && c.phases.front().amount <= 0) c.phases.pop_front();
    if (c.phases.empty()) {
      c.running = false, c.done = true;
      --on_sm[c.sm];
      tl.events.push_back({EventKind::cta, c.id, c.sm, -1, 0, c.start, now});
      return false;
    }
    const Phase& ph = c.phases.front();
    c.remaining = ph.amount;
    if (ph.type == PhaseType::stream) ++streaming[c.sm];
    if (ph.type == PhaseType::fixed) c.event_start = now;  // a segment's event spans its fill and its stream
    return true;
  };
  // Starts CTA id on sm; a CTA with no work ends at once and hands its slot to the next waiting.
  auto start_cta = [&](int32_t id, int sm) {
    for (;;) {
      Cta& c = ctas[id];
      c.sm = sm, c.start = now, c.running = true;
      ++on_sm[sm];
      if (begin_phase(c) || waiting.empty()) return;
      id = waiting.front();
      waiting.pop_front();
    }
  };
  // first wave round-robin over SMs, the rest queue for a free slot
  for (int32_t b = 0; b < s.num_ctas; ++b) waiting.push_back(s.cta_of_block(b));  // in thread-block order, as launched
  for (int slot = 0; slot < m.num_sms * m.ctas_per_sm && !waiting.empty(); ++slot) {
    const int32_t c = waiting.front();
    waiting.pop_front();
    start_cta(c, slot % m.num_sms);
  }
  const double bytes_per_us = 1e3;  // 1 GB/s = 1e3 bytes per microsecond
  for (int guard = 0; guard < 50 * (s.num_ctas + s.num_units()) + 1000; ++guard) {
    // Little's law: n streaming CTAs ask for n * cta_gbps; memory delivers the soft minimum of
    // that and mem_gbps (a lower mem_exp: a rounder knee, fewer CTAs in flight lose bandwidth)
    int streaming_ctas = 0;
    for (int sm = 0; sm < m.num_sms; ++sm) streaming_ctas += streaming[sm];
    const double demand = std::max(1, streaming_ctas) * m.cta_gbps;
    const double delivered = std::pow(std::pow(mem_gbps, -m.mem_exp) + std::pow(demand, -m.mem_exp), -1.0 / m.mem_exp);
    const double cta_share = delivered / std::max(1, streaming_ctas) * bytes_per_us;
    auto rate = [&](const Cta& c) {  // bytes (or microseconds, for a fixed phase) per microsecond
      return c.phases.front().type == PhaseType::fixed ? 1.0 : std::min(cta_share, m.sm_gbps * bytes_per_us / streaming[c.sm]);
    };
    double dt = std::numeric_limits<double>::infinity();
    bool any = false;
    for (Cta& c : ctas) {
      if (!c.running) continue;
      any = true;
      dt = std::min(dt, c.remaining / rate(c));
    }
    if (!any) break;
    now += dt;
    std::vector<int32_t> finished;
    for (Cta& c : ctas) {
      if (!c.running) continue;
      c.remaining -= rate(c) * dt;
      if (c.remaining <= 1e-9 * std::max(1.0, c.phases.front().amount)) finished.push_back(c.id);
    }
    for (int32_t id : finished) {
      Cta& c = ctas[id];
      const Phase ph = c.phases.front();
      c.phases.pop_front();
      if (ph.type == PhaseType::stream) {
        --streaming[c.sm];
        tl.events.push_back({EventKind::segment, c.id, c.sm, ph.unit, ph.tiles, c.event_start, now});
      } else if (ph.kind != EventKind::segment) {
        tl.events.push_back({ph.kind, c.id, c.sm, ph.unit, 0, c.event_start, now});
      }
      if (ph.counter >= 0 && ++arrived[ph.counter] == ph.target) c.phases.push_front(merge_phase(ph.unit, ph.counter, ph.target));
      if (!begin_phase(c) && !waiting.empty()) {
        const int32_t next = waiting.front();
        waiting.pop_front();
        start_cta(next, c.sm);
      }
    }
  }
  for (const Event& e : tl.events) tl.kernel_us = std::max(tl.kernel_us, e.t1);
  if (s.separate_merge) {
    // the merge kernel: one CTA per (split unit, row), each reading its row of every partial;
    // launched behind this kernel (a segment's start-up stands for the gap), in waves. Its
    // threads share a row's reads: 512 of them (Schedule::merge_threads) read it in half the time.
    const std::vector<SplitUnit> split = s.split_units();
    const double waves = std::ceil(double(split.size()) * s.unit_rows / (m.num_sms * m.ctas_per_sm));
    const double t0 = tl.kernel_us + m.segment_us, row_kb = partial_kb / s.unit_rows;
    const double thread_share = double(KernelShape::kMergeThreads) / s.merge_threads(p.head_dim);
    for (size_t i = 0; i < split.size(); ++i) {
      const double us = (m.merge_us + m.merge_us_per_kb * row_kb * split[i].contributors * thread_share) * waves;
      tl.events.push_back({EventKind::merge, -1, int(i % m.num_sms), split[i].unit, 0, t0, t0 + us});
      tl.kernel_us = std::max(tl.kernel_us, t0 + us);
    }
  }
  return tl;
}

std::vector<Event> Timeline::tiles() const {
  std::vector<Event> out;
  for (const Event& e : events) {
    if (e.kind != EventKind::segment || e.tiles <= 0) continue;
    const double w = (e.t1 - e.t0) / e.tiles;
    for (int32_t t = 0; t < e.tiles; ++t) out.push_back({EventKind::segment, e.cta, e.sm, e.unit, 1, e.t0 + t * w, e.t0 + (t + 1) * w});
  }
  return out;
}

Machine calibrate(const Machine& start, const std::vector<Measurement>& rows, int iterations) {
  // free parameters, optimised in log space so they stay positive
  static constexpr double Machine::*kFree[] = {&Machine::mem_gbps,       &Machine::sm_gbps,        &Machine::cta_gbps,
                                               &Machine::launch_us,      &Machine::segment_us,     &Machine::partial_us,
                                               &Machine::merge_us,       &Machine::merge_us_per_kb, &Machine::inflight_exp,
                                               &Machine::fixed_split_us, &Machine::mem_exp};
  auto get = [](const Machine& m) {
    std::vector<double> x;
    for (double Machine::*field : kFree) x.push_back(std::log(m.*field));
    return x;
  };
  auto set = [&](const std::vector<double>& x) {
    Machine m = start;
    for (size_t i = 0; i < x.size(); ++i) m.*kFree[i] = std::exp(x[i]);
    // the exponents stay physical: a fit without the one row that constrains one (d64 for
    // inflight_exp) otherwise runs off to predictions of 1e37%
    m.inflight_exp = std::min(m.inflight_exp, 3.0);
    m.mem_exp = std::min(m.mem_exp, 64.0);
    return m;
  };
  std::vector<Plan> plans;
  for (const Measurement& r : rows) plans.push_back(make_plan(r.problem, r.policy, r.grid));
  auto loss = [&](const std::vector<double>& x) {
    const Machine m = set(x);
    double sum = 0;
#pragma omp parallel for reduction(+ : sum) schedule(dynamic, 1)
    for (size_t i = 0; i < rows.size(); ++i) {
      const double pred = model_timeline(rows[i].problem, plans[i].view(), m).kernel_us;
      const double e = std::log(pred / rows[i].us);
      sum += e * e;
    }
    return sum / double(rows.size());
  };
  // Nelder-Mead
  const size_t n = std::size(kFree);
  std::vector<std::vector<double>> simplex(n + 1, get(start));
  for (size_t i = 0; i < n; ++i) simplex[i + 1][i] += 0.5;
  std::vector<double> f(n + 1);
  for (size_t i = 0; i <= n; ++i) f[i] = loss(simplex[i]);
  for (int it = 0; it < iterations; ++it) {
    std::vector<size_t> idx(n + 1);
    for (size_t i = 0; i <= n; ++i) idx[i] = i;
    std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return f[a] < f[b]; });
    const size_t best = idx[0], worst = idx[n], second = idx[n - 1];
    std::vector<double> centroid(n, 0.0);
    for (size_t i = 0; i < n; ++i)
      for (size_t k = 0; k < n; ++k) centroid[k] += simplex[idx[i]][k] / n;
    auto along = [&](double t) {
      std::vector<double> x(n);
      for (size_t k = 0; k < n; ++k) x[k] = centroid[k] + t * (simplex[worst][k] - centroid[k]);
      return x;
    };
    const std::vector<double> xr = along(-1.0);
    const double fr = loss(xr);
    if (fr < f[best]) {
      const std::vector<double> xe = along(-2.0);
      const double fe = loss(xe);
      if (fe < fr) simplex[worst] = xe, f[worst] = fe;
      else simplex[worst] = xr, f[worst] = fr;
    } else if (fr < f[second]) {
      simplex[worst] = xr, f[worst] = fr;
    } else {
      const std::vector<double> xc = along(0.5);
      const double fc = loss(xc);
      if (fc < f[worst]) {
        simplex[worst] = xc, f[worst] = fc;
      } else {
        for (size_t i = 1; i <= n; ++i) {
          for (size_t k = 0; k < n; ++k) simplex[idx[i]][k] = simplex[best][k] + 0.5 * (simplex[idx[i]][k] - simplex[best][k]);
          f[idx[i]] = loss(simplex[idx[i]]);
        }
      }
    }
  }
  return set(simplex[std::min_element(f.begin(), f.end()) - f.begin()]);
}

Timeline from_trace(const std::vector<int64_t>& trace, int num_ctas, int max_segments, const std::string& card) {
  const size_t stride = 4 + 5 * size_t(max_segments);
  if (trace.size() < stride * size_t(num_ctas)) throw Error("trace: too short for " + std::to_string(num_ctas) + " CTAs");
  int64_t t0 = std::numeric_limits<int64_t>::max();
  for (int c = 0; c < num_ctas; ++c) t0 = std::min(t0, trace[c * stride + 1]);
  auto us = [&](int64_t ns) { return double(ns - t0) * 1e-3; };
  Timeline tl;
  tl.source = "measured " + card;
  for (int c = 0; c < num_ctas; ++c) {
    const int64_t* r = trace.data() + c * stride;
    const int32_t sm = int32_t(r[0]);
    tl.events.push_back({EventKind::cta, c, sm, -1, 0, us(r[1]), us(r[2])});
    const int nseg = int(std::min<int64_t>(r[3], max_segments));
    for (int k = 0; k < nseg; ++k) {
      const int64_t* g = r + 4 + 5 * k;
      tl.events.push_back({EventKind::segment, c, sm, int32_t(g[0]), 0, us(g[1]), us(g[2])});
      if (g[3] > g[2]) tl.events.push_back({EventKind::partial, c, sm, int32_t(g[0]), 0, us(g[2]), us(g[3])});
      if (g[4] > g[3]) tl.events.push_back({EventKind::merge, c, sm, int32_t(g[0]), 0, us(g[3]), us(g[4])});
    }
  }
  for (const Event& e : tl.events) tl.kernel_us = std::max(tl.kernel_us, e.t1);
  return tl;
}

namespace {
double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
double max_of(const std::vector<double>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }
}  // namespace

TailSummary summarize_tail(const Timeline& tl) {
  struct Cta {
    double t0 = 0, t1 = 0;
    std::vector<std::pair<double, double>> segments;  // start, end of its last event
    std::vector<const Event*> after;                   // partials and merges
  };
  std::map<int32_t, Cta> ctas;  // the merge kernel's events (cta -1) are not a CTA's
  for (const Event& e : tl.events)
    if (e.kind == EventKind::cta) ctas[e.cta].t0 = e.t0, ctas[e.cta].t1 = e.t1;
  for (const Event& e : tl.events) {
    const auto it = ctas.find(e.cta);
    if (it == ctas.end()) continue;
    if (e.kind == EventKind::segment) it->second.segments.push_back({e.t0, e.t1});
    if (e.kind == EventKind::partial || e.kind == EventKind::merge) it->second.after.push_back(&e);
  }
  for (auto& [c, cta] : ctas) {
    std::sort(cta.segments.begin(), cta.segments.end());
    constexpr double kInf = std::numeric_limits<double>::infinity();
    for (const Event* e : cta.after) {  // it ends the last segment that started before it
      const auto next = std::upper_bound(cta.segments.begin(), cta.segments.end(), std::make_pair(e->t0, kInf));
      if (next != cta.segments.begin()) std::prev(next)->second = std::max(std::prev(next)->second, e->t1);
    }
  }
  TailSummary t;
  std::map<int, std::vector<double>> ends;
  std::vector<double> first, gaps;
  for (const auto& [c, cta] : ctas) {
    t.end_max = std::max(t.end_max, cta.t1);
    if (cta.segments.empty()) continue;
    ends[int(cta.segments.size())].push_back(cta.t1);
    first.push_back(cta.segments.front().first - cta.t0);
    for (size_t k = 1; k < cta.segments.size(); ++k) gaps.push_back(cta.segments[k].first - cta.segments[k - 1].second);
  }
  for (const auto& [n, v] : ends) t.by_segments.push_back({n, int(v.size()), median(v), max_of(v)});
  t.first_segment_median = median(first), t.first_segment_max = max_of(first);
  t.boundaries = int(gaps.size()), t.boundary_median = median(gaps), t.boundary_max = max_of(gaps);
  return t;
}

std::string TailSummary::str() const {
  std::ostringstream o;
  o << std::fixed << std::setprecision(2) << "  CTA ends by segments (us): ";
  for (size_t i = 0; i < by_segments.size(); ++i)
    o << (i ? "; " : "") << by_segments[i].segments << " seg: " << by_segments[i].ctas << " CTAs, median "
      << by_segments[i].end_median << ", max " << by_segments[i].end_max;
  o << "\n  latest CTA end " << end_max << " us; CTA start to first segment median " << first_segment_median << ", max "
    << first_segment_max << " us; " << boundaries << " segment boundaries, gap median " << boundary_median << ", max "
    << boundary_max << " us\n";
  return o.str();
}

std::string timeline_svg(const std::vector<Timeline>& tls, const Schedule& s, const std::string& title) {
  int num_sms = 0;
  double t_max = 0;
  for (const Timeline& tl : tls)
    for (const Event& e : tl.events) num_sms = std::max(num_sms, e.sm + 1), t_max = std::max(t_max, e.t1);
  // lanes: CTAs that overlap on one SM get their own lane
  const double left = 90, width = 1000, lane_h = 4, gap = 30;
  std::vector<std::vector<int>> lane_of(tls.size());
  int lanes = 1;
  for (size_t i = 0; i < tls.size(); ++i) {
    std::vector<std::vector<double>> free_at(num_sms);
    std::vector<const Event*> ctas;
    for (const Event& e : tls[i].events)
      if (e.kind == EventKind::cta) ctas.push_back(&e);
    std::sort(ctas.begin(), ctas.end(), [](const Event* a, const Event* b) { return a->t0 < b->t0; });
    lane_of[i].assign(s.num_ctas, 0);
    for (const Event* e : ctas) {
      auto& f = free_at[e->sm];
      size_t l = 0;
      while (l < f.size() && f[l] > e->t0 + 1e-9) ++l;
      if (l == f.size()) f.push_back(0);
      f[l] = e->t1;
      lane_of[i][e->cta] = int(l);
      lanes = std::max(lanes, int(l) + 1);
    }
  }
  const double sm_h = lane_h * lanes + 1, panel_h = sm_h * num_sms;
  const double height = 60 + tls.size() * (panel_h + gap) + 30;
  auto x = [&](double t) { return left + t / std::max(1e-9, t_max) * width; };
  std::ostringstream o;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << left + width + 30 << "' height='" << height
    << "' font-family='monospace' font-size='11'>\n<rect width='100%' height='100%' fill='white'/>\n"
    << "<text x='" << left << "' y='18' font-size='13'>" << title << "</text>\n<text x='" << left
    << "' y='34'>one band per SM, one lane per co-resident CTA; colour: (sequence, kv head); grey: partial written; "
       "black: merge</text>\n";
  for (size_t i = 0; i < tls.size(); ++i) {
    const double top = 60 + i * (panel_h + gap);
    o << "<text x='" << left << "' y='" << top - 4 << "'>" << tls[i].source << ": " << std::fixed << std::setprecision(1)
      << tls[i].kernel_us << " us</text>\n<text x='" << left - 6 << "' y='" << top + 10 << "' text-anchor='end'>SM 0</text>\n";
    o << "<rect x='" << left << "' y='" << top << "' width='" << width << "' height='" << panel_h
      << "' fill='none' stroke='#ccc'/>\n";
    for (const Event& e : tls[i].events) {
      if (e.kind == EventKind::cta) continue;
      const double y = top + e.sm * sm_h + (e.cta >= 0 ? lane_of[i][e.cta] : 0) * lane_h;  // cta -1: the merge kernel
      const std::string fill = e.kind == EventKind::segment ? unit_colour(e.unit) : e.kind == EventKind::partial ? "#999" : "black";
      o << "<rect x='" << x(e.t0) << "' y='" << y << "' width='" << std::max(0.3, x(e.t1) - x(e.t0)) << "' height='" << lane_h
        << "' fill='" << fill << "'><title>" << to_string(e.kind) << " cta " << e.cta << " sm " << e.sm << " unit " << e.unit
        << " " << e.t0 << "-" << e.t1 << " us</title></rect>\n";
    }
  }
  const double axis_y = height - 20;
  for (int k = 0; k <= 10; ++k) {
    const double t = t_max * k / 10;
    o << "<text x='" << x(t) << "' y='" << axis_y << "' text-anchor='middle'>" << std::setprecision(0) << t << "</text>\n";
  }
  o << "<text x='" << left + width << "' y='" << axis_y + 14 << "' text-anchor='end'>microseconds</text>\n</svg>\n";
  return o.str();
}

std::string chrome_trace_json(const std::vector<Timeline>& tls) {
  nlohmann::json events = nlohmann::json::array();
  for (size_t i = 0; i < tls.size(); ++i) {
    events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", i}, {"args", {{"name", tls[i].source}}}});
    for (const Event& e : tls[i].events) {
      nlohmann::json ev = {{"name", e.kind == EventKind::cta ? "cta " + std::to_string(e.cta)
                                                             : std::string(to_string(e.kind)) + " u" + std::to_string(e.unit)},
                           {"cat", to_string(e.kind)},
                           {"ph", "X"},
                           {"ts", e.t0},
                           {"dur", std::max(0.0, e.t1 - e.t0)},
                           {"pid", i},
                           {"tid", e.sm},
                           {"args", {{"cta", e.cta}, {"unit", e.unit}, {"tiles", e.tiles}}}};
      events.push_back(ev);
    }
  }
  return nlohmann::json({{"traceEvents", events}, {"displayTimeUnit", "ns"}}).dump() + "\n";
}

}  // namespace lean::sim
