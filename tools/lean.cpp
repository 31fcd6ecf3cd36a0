// lean: plan, replay and golden vectors for LeanAttention decode. `lean --help` lists commands.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "case_spec.hpp"
#include "lean/golden/io.hpp"
#include "lean/sim/compare.hpp"
#include "lean/sim/oracle.hpp"
#include "plan_svg.hpp"
#include "timeline_cmd.hpp"

namespace fs = std::filesystem;
using namespace lean;
using tools::CaseSpec;

namespace {

/// Problem flags shared by every subcommand; defaults are the built-in demo problem.
struct ProblemFlags {
  std::map<std::string, std::string> kv{{"b", "3"},   {"hq", "8"},      {"hk", "2"},   {"d", "128"},
                                        {"lens", "3000,700,0"}, {"grid", "12"}};
  void add(CLI::App* app) {
    auto flag = [&](const char* name, const char* key, const char* help) {
      app->add_option_function<std::string>(name, [this, key](const std::string& v) { kv[key] = v; }, help)
          ->default_str(kv.count(key) ? kv[key] : "");
    };
    flag("-b,--batch", "b", "sequences in the batch");
    flag("--q-heads", "hq", "query heads");
    flag("--kv-heads", "hk", "KV heads (divides q-heads; 1 = MQA)");
    flag("-d,--head-dim", "d", "head dim: 64, 128 or 256");
    flag("--dtype", "dtype", "fp16 or bf16");
    flag("--lens", "lens", "context lengths: N (all), a,b,c (one per sequence) or random:lo:hi");
    flag("--tile", "tile", "tokens per schedule tile (default 64)");
    flag("--page", "page", "page size of the KV cache the kernel will read (default 0: contiguous); a planner hint");
    flag("--scale", "scale", "softmax scale (default 1/sqrt(d))");
    flag("--seed", "seed", "input seed (default 1)");
    flag("--mode", "mode", "inputs: normal or stress (large logits, outliers)");
    flag("--policy", "policy", "stream-k, fixed-split or no-split");
    flag("-G,--grid", "grid", "stream-k: number of CTAs; fixed-split: splits per head (0 = FA2 heuristic)");
    flag("--cta-ranges", "ranges", "stream-k: even (CTA c starts at floor(c N / G), the default) or big-first (the first N mod G CTAs take a tile more)");
  }
  CaseSpec spec() const { return tools::case_from_pairs(kv); }
};

/// Prints progress on stderr for work that takes longer than a second.
sim::Progress progress_printer(const std::string& what) {
  return [what](int64_t done, int64_t total) {
    std::fprintf(stderr, "\r%s: %5.1f%% of %lld tiles", what.c_str(), 100.0 * done / std::max<int64_t>(1, total),
                 static_cast<long long>(total));
    if (done >= total) std::fprintf(stderr, "\n");
  };
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void print_plan_table(const Schedule& s, int head_dim, int max_rows) {
  fmt::print("{}\n", s.print());
  if (const size_t split = s.split_units().size(); s.separate_merge && split > 0)
    fmt::print("merge kernel: {} CTAs of {} threads, one per split unit and query row ({} x {}){}\n", s.merge_ctas(),
               s.merge_threads(head_dim), split, s.unit_rows,
               KernelShape::isolates_merge(s.merge_ctas()) ? ", kept off the decode kernel's SMs (most-L1 carveout)" : "");
  fmt::print("\n{:>5} {:>10} {:>6}  segments (unit=seq/head [tiles) ; H = host, * = whole unit)\n", "cta", "range", "tiles");
  for (int32_t c = 0; c < s.num_ctas && c < max_rows; ++c) {
    const TileRange r = s.cta_range(c);
    std::string segs;
    int32_t tiles = 0;  // the range less its idle tiles
    for (const Segment& g : segments_of(s, c)) {
      const Unit u = s.unit(g.unit);
      segs += fmt::format(" u{}={}/{}[{},{}){}", g.unit, u.seq, u.head, g.begin - u.begin, g.end - u.begin,
                          g.complete ? "*" : g.host ? "H" : "");
      tiles += g.end - g.begin;
    }
    fmt::print("{:>5} {:>10} {:>6} {}\n", c, fmt::format("{}-{}", r.begin, r.end), tiles, segs);
  }
  if (s.num_ctas > max_rows) fmt::print("  ... {} more CTAs (--rows to show)\n", s.num_ctas - max_rows);
  fmt::print("\n{:>5} {:>4} {:>5} {:>9} {:>7} {:>5} {:>6}\n", "unit", "seq", "head", "q heads", "tiles", "host", "ctas");
  for (int32_t u = 0; u < s.num_units() && u < max_rows; ++u) {
    const Unit un = s.unit(u);
    fmt::print("{:>5} {:>4} {:>5} {:>9} {:>7} {:>5} {:>6}\n", u, un.seq, un.head,
               fmt::format("{}-{}", un.q_head0, un.q_head0 + s.unit_rows - 1), un.end - un.begin, s.first_cta(u), s.num_contributors(u));
  }
  if (s.num_units() > max_rows) fmt::print("  ... {} more units\n", s.num_units() - max_rows);
}

void write_text(const std::string& path, const std::string& text) {
  if (fs::path(path).has_parent_path()) fs::create_directories(fs::path(path).parent_path());
  std::ofstream f(path);
  f << text;
  if (!f) throw Error("cannot write " + path);
}

/// The plan `lean plan` and `lean replay` show: `row_split` blocks a KV head, 0 for the fewest the kernel holds.
Plan plan_of_spec(const CaseSpec& spec, int row_split) {
  return make_plan(spec.problem, spec.policy, spec.resolved_grid(), kAutoMerge, row_split > 0 ? row_split : min_row_split(spec.problem),
                   kAutoPad, spec.ranges);
}

/// Replays a spec and checks it against the naive reference; returns the worst O error.
double replay_and_report(const CaseSpec& spec, int row_split) {
  const sim::GeneratedInputs in(spec.problem, spec.seed, spec.mode);
  const Plan plan = plan_of_spec(spec, row_split);
  auto t0 = std::chrono::steady_clock::now();
  const sim::Replay r = sim::replay(in, plan.view(), false, progress_printer("replay"));
  const double t_replay = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  const sim::Output ref = sim::naive_attention(in);
  const double t_naive = seconds_since(t0);
  const sim::ErrorStats eo = sim::compare(r.out.o, ref.o, spec.problem.head_dim);
  const sim::ErrorStats el = sim::compare_lse(r.out.lse, ref.lse);
  fmt::print("replay {} of {} ({}) in {:.2f} s; naive reference in {:.2f} s\n", to_string(spec.policy),
             describe(spec.problem), to_string(spec.mode), t_replay, t_naive);
  fmt::print("  O   vs naive: {}\n  LSE vs naive: {}\n", eo.str(), el.str());
  return std::max(eo.max_err, el.max_err);
}

int golden_check(const std::string& path, double tol) {
  const golden::Case c = golden::read(path);
  const auto in = golden::inputs_of(c);
  const Plan plan = golden::plan_of(c);
  const sim::Replay r = sim::replay(*in, plan.view(), true);
  const sim::Output ref = sim::naive_attention(*in);
  double worst = std::max({sim::compare(r.out.o, c.expected.o, c.problem.head_dim).max_err,
                           sim::compare_lse(r.out.lse, c.expected.lse).max_err,
                           sim::compare(ref.o, c.expected.o, c.problem.head_dim).max_err,
                           sim::compare_lse(ref.lse, c.expected.lse).max_err});
  if (r.partials.size() != c.partials.size()) worst = INFINITY;
  for (size_t i = 0; i < r.partials.size() && i < c.partials.size(); ++i) {
    const sim::Partial &a = r.partials[i], &b = c.partials[i];
    if (a.cta != b.cta || a.unit != b.unit || a.begin != b.begin || a.end != b.end || a.host != b.host) worst = INFINITY;
    else worst = std::max({worst, sim::compare(a.o, b.o, c.problem.head_dim).max_err, sim::compare_lse(a.lse, b.lse).max_err});
  }
  const bool ok = worst <= tol;
  fmt::print("{} {:<28} {:<60} max_err={:.2e} {}\n", ok ? "ok  " : "FAIL", c.name, describe(c.problem), worst,
             c.inputs ? "inputs stored" : "seed only");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lean: LeanAttention decode toolkit (plan, replay, golden vectors)"};
  app.require_subcommand(1);

  ProblemFlags pf_plan, pf_replay, pf_gw, pf_demo;
  int rows = 64;
  std::string svg_path;
  auto* plan = app.add_subcommand("plan", "print the stream-K partition of a problem; optionally write an SVG");
  pf_plan.add(plan);
  plan->add_option("--rows", rows, "rows of the CTA and unit tables to print")->capture_default_str();
  plan->add_option("--svg", svg_path, "write the partition picture here");
  int row_split = 0;
  const char* row_split_help = "units per KV head: its query heads cut into this many blocks (divides the group; 0: the "
                               "fewest the kernel holds, min_row_split; the launcher also splits where whole groups leave SMs idle)";
  plan->add_option("--row-split", row_split, row_split_help)->check(CLI::NonNegativeNumber)->capture_default_str();
  std::string explain_preset;
  plan->add_option("--explain", explain_preset, "card preset (sim/presets/*.json): why stream-K wins or loses here")
      ->check(CLI::ExistingFile);

  auto* rep = app.add_subcommand("replay", "replay a schedule in float64 and report its error against naive attention");
  pf_replay.add(rep);
  rep->add_option("--row-split", row_split, row_split_help)->check(CLI::NonNegativeNumber)->capture_default_str();

  auto* gold = app.add_subcommand("golden", "write, check or list HDF5 golden vectors");
  gold->require_subcommand(1);
  std::string out_path, suite, out_dir = "golden/data";
  auto* gw = gold->add_subcommand("write", "compute a case (or a whole manifest) and write it");
  pf_gw.add(gw);
  gw->add_option("-o,--out", out_path, "output .h5 file (single case)");
  gw->add_option("--suite", suite, "manifest of cases (golden/cases.txt) to write into --dir");
  gw->add_option("--dir", out_dir, "directory for --suite")->capture_default_str();
  std::vector<std::string> check_files;
  double tol = 1e-12;
  auto* gc = gold->add_subcommand("check", "read golden files, recompute them and compare");
  gc->add_option("files", check_files, "golden .h5 files")->required()->check(CLI::ExistingFile);
  gc->add_option("--tol", tol, "largest accepted error (float64 recompute)")->capture_default_str();
  std::string list_dir = "golden/data";
  auto* gl = gold->add_subcommand("list", "list the golden files in a directory");
  gl->add_option("dir", list_dir, "directory")->capture_default_str();

  ProblemFlags pf_tl;
  std::string preset, measured, tl_svg, tl_json, csv, matrix = "quick", report, fit_name, fit_out;
  int iterations = 400;
  auto* tl = app.add_subcommand("timeline", "per-SM timeline model of a problem on a card; calibrate and evaluate it");
  tl->require_subcommand(0, 1);
  pf_tl.add(tl);
  tl->add_option("--preset", preset, "card preset JSON (sim/presets/h100.json, h200.json)")->check(CLI::ExistingFile);
  tl->add_option("--measured", measured, "a trace from lean_bench --trace-dir: draw it under the model")->check(CLI::ExistingFile);
  tl->add_option("--svg", tl_svg, "Gantt chart, one row per SM");
  tl->add_option("--json", tl_json, "Chrome trace-event JSON (Perfetto)");
  auto measured_csv = [&](CLI::App* sub) {  // the measurements calibrate, evaluate and holdout read
    sub->add_option("--csv", csv, "lean_bench --csv output")->required()->check(CLI::ExistingFile);
    sub->add_option("--matrix", matrix, "the lean_bench matrix that produced it")->capture_default_str();
  };
  auto* cal = tl->add_subcommand("calibrate", "fit a preset's parameters to a lean_bench CSV");
  measured_csv(cal);
  cal->add_option("--start", preset, "starting preset")->required()->check(CLI::ExistingFile);
  cal->add_option("--name", fit_name, "name of the fitted machine")->required();
  cal->add_option("-o,--out", fit_out, "write the fitted preset here")->required();
  cal->add_option("--iterations", iterations, "Nelder-Mead iterations")->capture_default_str();
  auto* ev = tl->add_subcommand("evaluate", "model vs measured for every row of a lean_bench CSV");
  measured_csv(ev);
  ev->add_option("--preset", preset, "card preset")->required()->check(CLI::ExistingFile);
  ev->add_option("--report", report, "write the markdown table here");
  auto* ho = tl->add_subcommand("holdout", "evaluate each problem with a preset fitted to the other problems only");
  measured_csv(ho);
  ho->add_option("--start", preset, "starting preset of every fit")->required()->check(CLI::ExistingFile);
  ho->add_option("--iterations", iterations, "Nelder-Mead iterations per fit")->capture_default_str();
  ho->add_option("--report", report, "write the markdown table here");

  std::string demo_dir = "demo-out";
  auto* demo = app.add_subcommand("demo", "plan, draw, replay and write one golden file for the default problem");
  pf_demo.add(demo);
  demo->add_option("--out-dir", demo_dir, "where the SVG and golden file go")->capture_default_str();

  try {
    app.parse(argc, argv);
    if (*plan) {
      const CaseSpec spec = pf_plan.spec();
      const auto t0 = std::chrono::steady_clock::now();
      const Plan p = plan_of_spec(spec, row_split);
      const double us = seconds_since(t0) * 1e6;
      fmt::print("{}  (planned in {:.1f} us)\n", describe(spec.problem), us);
      print_plan_table(p.view(), spec.problem.head_dim, rows);
      if (!svg_path.empty()) {
        write_text(svg_path, tools::plan_svg(p.view(), describe(spec.problem)));
        fmt::print("wrote {}\n", svg_path);
      }
      if (!explain_preset.empty()) fmt::print("\n{}", tools::explain(spec.problem, tools::read_preset(explain_preset)));
    } else if (*rep) {
      return replay_and_report(pf_replay.spec(), row_split) <= 1e-12 ? 0 : 1;
    } else if (*gw) {
      std::vector<CaseSpec> specs;
      if (!suite.empty()) {
        specs = tools::read_manifest(suite);
        fs::create_directories(out_dir);
      } else {
        if (out_path.empty()) throw Error("golden write: give -o FILE or --suite MANIFEST");
        specs.push_back(pf_gw.spec());
        specs.back().name = fs::path(out_path).stem().string();
      }
      for (const CaseSpec& s : specs) {
        const std::string path = suite.empty() ? out_path : (fs::path(out_dir) / (s.name + ".h5")).string();
        const auto t0 = std::chrono::steady_clock::now();
        const golden::Case c = golden::make_case(s.name, s.problem, s.seed, s.mode, s.policy, s.resolved_grid(),
                                                 s.store_inputs(), progress_printer(s.name), s.ranges);
        golden::write(path, c);
        fmt::print("wrote {:<40} {} {} in {:.2f} s ({} KiB)\n", path, describe(s.problem), to_string(s.policy),
                   seconds_since(t0), fs::file_size(path) / 1024);
      }
    } else if (*gc) {
      int bad = 0;
      for (const std::string& f : check_files) {
        try {
          bad += golden_check(f, tol);
        } catch (const Error& e) {
          fmt::print("FAIL {}\n", e.what());
          ++bad;
        }
      }
      fmt::print("{} passed, {} failed\n", check_files.size() - bad, bad);
      return bad ? 1 : 0;
    } else if (*gl) {
      if (!fs::is_directory(list_dir)) throw Error("not a directory: " + list_dir);
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(list_dir))
        if (e.path().extension() == ".h5") files.push_back(e.path());
      std::sort(files.begin(), files.end());
      for (const fs::path& f : files) {
        const golden::Case c = golden::read(f.string());
        fmt::print("{:<28} {:<64} {:<11} G={:<4} {:<6} {:>7} KiB {}\n", c.name, describe(c.problem), to_string(c.policy),
                   c.grid, to_string(c.mode), fs::file_size(f) / 1024, c.inputs ? "inputs" : "seed-only");
      }
    } else if (*cal) {
      const auto rows = tools::read_bench_csv(csv, matrix);
      sim::Machine m = sim::calibrate(tools::read_preset(preset), rows, iterations);
      m.name = fit_name;
      write_text(fit_out, m.to_json());
      fmt::print("fitted {} to {} rows of {}: wrote {}\n{}", m.name, rows.size(), csv, fit_out, m.to_json());
      fmt::print("{}", tools::timeline_evaluate(rows, m));
    } else if (*ev || *ho) {
      const auto rows = tools::read_bench_csv(csv, matrix);
      const std::string md = *ev ? tools::timeline_evaluate(rows, tools::read_preset(preset))
                                 : tools::timeline_holdout(rows, tools::read_preset(preset), iterations);
      if (!report.empty()) write_text(report, md);
      fmt::print("{}", md);
    } else if (*tl) {
      if (preset.empty()) throw Error("timeline: --preset is required");
      const CaseSpec spec = pf_tl.spec();
      return tools::timeline_run(spec.problem, spec.policy, spec.resolved_grid(), tools::read_preset(preset), measured, tl_svg, tl_json);
    } else if (*demo) {
      const CaseSpec spec = pf_demo.spec();
      const Plan p = make_plan(spec.problem, spec.policy, spec.resolved_grid());
      fmt::print("== partition of {}\n", describe(spec.problem));
      print_plan_table(p.view(), spec.problem.head_dim, rows);
      const std::string svg = (fs::path(demo_dir) / "plan.svg").string();
      write_text(svg, tools::plan_svg(p.view(), describe(spec.problem)));
      fmt::print("\nwrote {}\n\n== float64 replay\n", svg);
      const double err = replay_and_report(spec, 0);
      const std::string h5 = (fs::path(demo_dir) / "demo.h5").string();
      golden::write(h5, golden::make_case("demo", spec.problem, spec.seed, spec.mode, spec.policy, spec.resolved_grid(), true));
      fmt::print("\n== golden file\nwrote {}\n", h5);
      golden_check(h5, 1e-12);
      return err <= 1e-12 ? 0 : 1;
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lean: error: %s\n", e.what());
    return 2;
  }
  return 0;
}
