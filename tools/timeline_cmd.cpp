#include "timeline_cmd.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "bench_matrix.hpp"

namespace lean::tools {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw Error("cannot read " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void spill(const std::string& path, const std::string& text) {
  if (std::filesystem::path(path).has_parent_path()) std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream f(path);
  f << text;
  if (!f) throw Error("cannot write " + path);
}

/// The grid argument of make_plan that reproduces a measured row's CTA count.
int grid_arg(const Problem& p, Policy pol, int ctas) {
  if (pol == Policy::stream_k) return ctas;
  if (pol == Policy::fixed_split) return std::max(1, ctas / (p.batch * p.num_kv_heads));
  return 1;
}

double predict(const Problem& p, Policy pol, int grid, const sim::Machine& m) {
  const Plan plan = make_plan(p, pol, grid);
  return sim::model_timeline(p, plan.view(), m).kernel_us;
}

}  // namespace

sim::Machine read_preset(const std::string& path) { return sim::Machine::from_json(slurp(path)); }

std::vector<sim::Measurement> read_bench_csv(const std::string& csv, const std::string& matrix) {
  std::map<std::string, Problem> by_name;
  for (const Problem& p : bench_matrix(matrix)) by_name[describe(p)] = p;
  std::ifstream f(csv);
  if (!f) throw Error("cannot read " + csv);
  std::vector<sim::Measurement> rows;
  std::string line;
  std::getline(f, line);  // header
  while (std::getline(f, line)) {
    const size_t q0 = line.find('"'), q1 = line.find('"', q0 + 1);
    if (q0 == std::string::npos || q1 == std::string::npos) throw Error(csv + ": malformed row: " + line);
    const std::string name = line.substr(q0 + 1, q1 - q0 - 1);
    std::stringstream rest(line.substr(q1 + 2));
    std::string schedule, ctas, us;
    std::getline(rest, schedule, ',');
    std::getline(rest, ctas, ',');
    std::getline(rest, us, ',');
    const auto it = by_name.find(name);
    if (it == by_name.end()) throw Error(csv + ": row '" + name + "' is not in matrix " + matrix);
    const Policy pol = parse_policy(schedule);
    rows.push_back({it->second, pol, grid_arg(it->second, pol, std::stoi(ctas)), std::stod(us)});
  }
  return rows;
}

int timeline_run(const Problem& p_in, Policy policy, int grid, const sim::Machine& m, const std::string& measured,
                 const std::string& svg, const std::string& json) {
  Problem p = p_in;
  std::vector<sim::Timeline> tls;
  sim::Timeline meas;
  if (!measured.empty()) {  // the measured run defines the problem and the grid
    const nlohmann::json j = nlohmann::json::parse(slurp(measured));
    p = make_uniform(j.at("batch"), j.at("num_q_heads"), j.at("num_kv_heads"), j.at("head_dim"), 0);
    p.seq_lens = j.at("seq_lens").get<std::vector<int64_t>>();
    p.tile_kv = j.at("tile_kv");
    policy = parse_policy(j.at("policy"));
    grid = j.at("grid");
    meas = sim::from_trace(j.at("trace").get<std::vector<int64_t>>(), grid, j.at("max_segments"), j.at("card"));
  }
  const Plan plan = make_plan(p, policy, grid);
  tls.push_back(sim::model_timeline(p, plan.view(), m));
  if (!measured.empty()) tls.push_back(meas);
  fmt::print("{} {} G={}: model ({}) {:.1f} us", describe(p), to_string(policy), plan.view().num_ctas, m.name, tls[0].kernel_us);
  if (!measured.empty()) {  // the trace starts at the first CTA, so compare spans without the launch
    const double span = tls[0].kernel_us - m.launch_us;
    fmt::print(", in-kernel span: model {:.1f} us, measured {:.1f} us ({:+.1f}%)", span, meas.kernel_us, 100 * (span / meas.kernel_us - 1));
  }
  fmt::print("\n");
  for (const sim::Timeline& tl : tls) fmt::print("tail of the {} timeline:\n{}", tl.source, sim::summarize_tail(tl).str());
  if (!svg.empty()) spill(svg, sim::timeline_svg(tls, plan.view(), describe(p) + " " + to_string(policy))), fmt::print("wrote {}\n", svg);
  if (!json.empty()) spill(json, sim::chrome_trace_json(tls)), fmt::print("wrote {} (open in ui.perfetto.dev)\n", json);
  return 0;
}

namespace {

/// The per-row table and the summary line for measured rows and their predictions.
std::string report(const std::vector<sim::Measurement>& rows, const std::vector<double>& preds) {
  std::ostringstream o;
  o << "| problem | schedule | CTAs/splits | measured us | model us | error |\n|---|---|---|---|---|---|\n";
  std::vector<double> errs;
  std::map<std::string, std::map<Policy, std::pair<double, double>>> by_problem;  // measured, model
  for (size_t i = 0; i < rows.size(); ++i) {
    const sim::Measurement& r = rows[i];
    const double e = preds[i] / r.us - 1;
    errs.push_back(std::fabs(e));
    by_problem[describe(r.problem)][r.policy] = {r.us, preds[i]};
    o << fmt::format("| {} | {} | {} | {:.1f} | {:.1f} | {:+.1f}% |\n", describe(r.problem), to_string(r.policy), r.grid, r.us, preds[i],
                     100 * e);
  }
  std::sort(errs.begin(), errs.end());
  int right = 0, near = 0, total = 0;
  for (const auto& [name, by_pol] : by_problem) {
    if (by_pol.size() < 2) continue;
    auto fastest = [&](bool model) {
      return std::min_element(by_pol.begin(), by_pol.end(), [&](const auto& a, const auto& b) {
               return (model ? a.second.second : a.second.first) < (model ? b.second.second : b.second.first);
             })->first;
    };
    right += fastest(true) == fastest(false);
    near += by_pol.at(fastest(true)).first <= 1.03 * by_pol.at(fastest(false)).first;  // within run-to-run noise
    ++total;
  }
  o << fmt::format("\nmedian |error| {:.1f}%, worst {:.1f}% over {} rows; fastest schedule named exactly on {}/{} problems, "
                   "and a schedule within 3% of the fastest on {}/{}\n",
                   100 * errs[errs.size() / 2], 100 * errs.back(), errs.size(), right, total, near, total);
  return o.str();
}

}  // namespace

std::string timeline_evaluate(const std::vector<sim::Measurement>& rows, const sim::Machine& m) {
  std::vector<double> preds;
  for (const sim::Measurement& r : rows) preds.push_back(predict(r.problem, r.policy, r.grid, m));
  return report(rows, preds);
}

std::string timeline_holdout(const std::vector<sim::Measurement>& rows, const sim::Machine& start, int iterations) {
  std::vector<double> preds(rows.size());
  std::map<std::string, std::vector<size_t>> by_problem;
  for (size_t i = 0; i < rows.size(); ++i) by_problem[describe(rows[i].problem)].push_back(i);
  for (const auto& [name, held] : by_problem) {
    std::vector<sim::Measurement> train;
    for (const sim::Measurement& r : rows)
      if (describe(r.problem) != name) train.push_back(r);
    const sim::Machine m = sim::calibrate(start, train, iterations);
    for (size_t i : held) preds[i] = predict(rows[i].problem, rows[i].policy, rows[i].grid, m);
  }
  return report(rows, preds);
}

std::string explain(const Problem& p, const sim::Machine& m) {
  std::ostringstream o;
  // the launcher's choices (cuda/src/launcher.cu) from the preset's occupancy
  const Occupancy occupancy = Occupancy::estimate(p.head_dim, m.ctas_per_sm);
  const LaunchShape sk = choose_launch_shape(p, Policy::stream_k, m.num_sms, occupancy, m.mem_gbps);
  const LaunchShape fs = choose_launch_shape(p, Policy::fixed_split, m.num_sms, occupancy, m.mem_gbps);
  const LaunchShape ns = choose_launch_shape(p, Policy::no_split, m.num_sms, occupancy, m.mem_gbps);
  const int slots = m.num_sms * occupancy.of_rows(p.group_size() / sk.row_split);
  std::string rows_line;
  if (sk.l2_rejected_split > 1) {
    rows_line = fmt::format("{}: {} blocks on {} CTAs would read each tile at other places of their CTAs' ranges, "
                            "and {:.1f} MB of K/V a KV head is past the {:.0f} MB that blocks out of step share in L2",
                            sk.row_split > 1 ? fmt::format("{} blocks of {} query heads", sk.row_split, p.group_size() / sk.row_split)
                                             : std::string("whole groups"),
                            sk.l2_rejected_split, sk.l2_rejected_grid, p.unit_kv_bytes() / 1e6, kL2ShareBytes / 1e6);
  } else if (sk.row_split > 1) {
    const std::string why = sk.rows != RowsRule::blocks ? to_string(sk.rows)
                            : blocks_in_step(p, sk.grid.grid, sk.row_split) ? "in step, sharing K/V in L2"
                                                                             : "out of step, a small KV head shared in L2";
    rows_line = fmt::format("{} blocks of {} query heads a KV head on {} CTAs ({})", sk.row_split, p.group_size() / sk.row_split,
                            sk.grid.grid, why);
  } else if (p.group_size() > 16) {
    rows_line = fmt::format("whole groups of {} query heads on {} CTAs", p.group_size(), sk.grid.grid);
  }
  o << fmt::format("{} on {} ({} SMs x {} CTAs of the stream-K kernel; {:.0f} GB/s memory, {:.0f} GB/s per SM)\n", describe(p), m.name,
                   m.num_sms, slots / m.num_sms, m.mem_gbps, m.sm_gbps);
  const double floor_us = p.kv_bytes() / (m.mem_gbps * 1e3);
  o << fmt::format("  bandwidth floor: {:.1f} MB of K/V / {:.0f} GB/s = {:.1f} us (+{:.1f} us launch)\n", p.kv_bytes() / 1e6,
                   m.mem_gbps, floor_us, m.launch_us);
  if (!rows_line.empty()) o << "  stream-k rows: " << rows_line << "\n";
  for (const auto& [name, shape] : {std::pair{"fixed-split", fs}, std::pair{"no-split", ns}})
    if (shape.row_split > 1)
      o << fmt::format("  {} rows: {} blocks of {} query heads a KV head ({})\n", name, shape.row_split,
                       p.group_size() / shape.row_split, to_string(shape.rows));
  o << fmt::format("  stream-k grid: {} CTAs, {}\n", sk.grid.grid, to_string(sk.grid.rule));
  struct Option { const char* name; Policy pol; int grid, row_split; };
  double best = 1e300;
  std::string best_name;
  for (const Option& opt : {Option{"stream-k", Policy::stream_k, sk.grid.grid, sk.row_split},
                            Option{"fixed-split", Policy::fixed_split, fs.grid.grid, fs.row_split},
                            Option{"no-split", Policy::no_split, 1, ns.row_split}}) {
    const Plan plan = make_plan(p, opt.pol, opt.grid, kAutoMerge, opt.row_split);
    const Schedule s = plan.view();
    const sim::Timeline tl = sim::model_timeline(p, s, m);
    int32_t max_tiles = 0;
    for (int32_t c = 0; c < s.num_ctas; ++c) max_tiles = std::max(max_tiles, computed_tiles(s, c));
    const size_t split_units = s.split_units().size();
    const int32_t max_contrib = s.max_contributors();
    double merge_us = 0, busy_us = 0;
    for (const sim::Event& e : tl.events) {
      if (e.kind == sim::EventKind::merge || e.kind == sim::EventKind::partial) merge_us = std::max(merge_us, e.t1 - e.t0);
      if (e.kind == sim::EventKind::segment) busy_us += e.t1 - e.t0;
    }
    const double waves = double(s.num_ctas) / slots;
    const std::string tree = s.separate_merge ? std::string(", merged by the merge kernel")
                             : s.merge_fanin > 0 && max_contrib > s.merge_fanin
                                 ? fmt::format(", merged in groups of {}", s.merge_fanin)
                                 : std::string();
    o << fmt::format("  {:<11} {:>5} CTAs ({:.2f} waves), longest CTA {} tiles, {} split units (<= {} partials each{}), "
                     "longest partial/merge step {:.1f} us, SM occupancy {:.0f}%: {:.1f} us\n",
                     opt.name, s.num_ctas, waves, max_tiles, split_units, max_contrib, tree, merge_us,
                     100 * busy_us / (tl.kernel_us * slots), tl.kernel_us);
    if (tl.kernel_us < best) best = tl.kernel_us, best_name = opt.name;
  }
  o << fmt::format("  fastest by the model: {} ({:.0f}% of the bandwidth floor)\n", best_name, 100 * floor_us / best);
  return o.str();
}

}  // namespace lean::tools
