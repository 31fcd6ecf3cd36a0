// lean_bench: times the three schedules of our kernel on a GPU (CUDA graph replay, median of
// --reps, inputs rotated across buffers larger than L2) against the measured read and copy
// ceilings of the same card, in the same run. Prints a table last; --csv writes every row.
#include <CLI/CLI.hpp>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "lean/cuda/lean_decode.h"
#include "bench_matrix.hpp"
#include "case_spec.hpp"
#include "lean/cuda/util.hpp"
#include <nlohmann/json.hpp>

using namespace lean;

namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "lean_bench: %s: %s\n", what, cudaGetErrorString(e));
    std::exit(2);
  }
}
void check(lean_status s, const char* what) {
  if (s != LEAN_OK) {
    std::fprintf(stderr, "lean_bench: %s: %s\n", what, lean_last_error());
    std::exit(2);
  }
}

/// A plan and its uploaded workspace, released at the end of the scope.
struct DevicePlan {
  lean_plan plan = nullptr;
  void* ws = nullptr;
  size_t bytes = 0;
  DevicePlan(const lean_problem& lp, lean_policy policy, int grid) {
    check(lean_plan_create(&lp, policy, grid, 0, &plan), "plan");
    bytes = lean_plan_workspace_bytes(plan);
    check(cudaMalloc(&ws, bytes), "workspace");
    check(lean_plan_upload(plan, ws, bytes, nullptr), "upload");
  }
  DevicePlan(const DevicePlan&) = delete;
  ~DevicePlan() {
    cudaFree(ws);
    lean_plan_destroy(plan);
  }
};

struct Row {
  std::string problem, schedule;
  int ctas;
  double us, gbps, frac_read;
};

/// Inputs for one problem, replicated so that consecutive launches read different memory.
struct Inputs {
  std::vector<void*> q, k, v;
  std::vector<int32_t*> table;  // paged: each copy's block table [batch, pages per sequence]
  void* o = nullptr;
  float* lse = nullptr;
  lean_kv kv{};
  size_t kv_bytes = 0;
};

/// `head_major`: [batch, kv head, token, dim] instead of [batch, token, kv head, dim]. `page` > 0:
/// pages of [page, kv head, dim] behind a block table, in order or shuffled.
Inputs make_inputs(const Problem& p, size_t l2_bytes, bool head_major, int page, bool shuffled) {
  Inputs in;
  int64_t max_len = 1;
  for (int64_t l : p.seq_lens) max_len = std::max(max_len, l);
  const int64_t per_seq = page > 0 ? (max_len + page - 1) / page : 0, pages = p.batch * per_seq;
  in.kv.stride_head = head_major ? max_len * p.head_dim : p.head_dim;
  in.kv.stride_token = head_major ? p.head_dim : int64_t(p.num_kv_heads) * p.head_dim;
  in.kv.stride_seq = (page > 0 ? page : max_len) * p.num_kv_heads * p.head_dim;
  if (page > 0) in.kv.block_table_stride = int32_t(per_seq), in.kv.page_size = page, in.kv.num_pages = pages;
  in.kv_bytes = size_t(page > 0 ? pages : p.batch) * in.kv.stride_seq * 2;
  const size_t q_bytes = size_t(p.batch) * p.num_q_heads * p.head_dim * 2;
  const int copies = int(std::clamp<size_t>(4 * l2_bytes / (2 * in.kv_bytes) + 1, 1, 64));
  for (int c = 0; c < copies; ++c) {
    void *q, *k, *v;
    check(cudaMalloc(&q, q_bytes), "malloc q");
    check(cudaMalloc(&k, in.kv_bytes), "malloc k");
    check(cudaMalloc(&v, in.kv_bytes), "malloc v");
    lean_kv layout = in.kv;
    layout.k = k, layout.v = v;
    if (page > 0) {
      std::vector<int32_t> ids(pages);
      std::iota(ids.begin(), ids.end(), 0);
      if (shuffled) std::shuffle(ids.begin(), ids.end(), std::mt19937(7 + c));
      int32_t* table;
      check(cudaMalloc(&table, ids.size() * 4), "malloc block table");
      check(cudaMemcpy(table, ids.data(), ids.size() * 4, cudaMemcpyHostToDevice), "block table");
      layout.block_table = table;
      in.table.push_back(table);
    }
    check(cuda::fill_inputs(make_generator(p, 1000 + c, InputMode::normal), p, q, layout, nullptr), "fill");
    in.q.push_back(q), in.k.push_back(k), in.v.push_back(v);
  }
  check(cudaMalloc(&in.o, q_bytes), "malloc o");
  check(cudaMalloc(&in.lse, size_t(p.batch) * p.num_q_heads * 4), "malloc lse");
  return in;
}

/// The cache of input copy c.
lean_kv kv_of(const Inputs& in, size_t c) {
  lean_kv kv = in.kv;
  kv.k = in.k[c], kv.v = in.v[c];
  if (!in.table.empty()) kv.block_table = in.table[c];
  return kv;
}

void free_inputs(Inputs& in) {
  for (size_t c = 0; c < in.q.size(); ++c) cudaFree(in.q[c]), cudaFree(in.k[c]), cudaFree(in.v[c]);
  for (int32_t* t : in.table) cudaFree(t);
  cudaFree(in.o);
  cudaFree(in.lse);
}

/// Median microseconds of one decode: a graph of `per_graph` launches cycling the input copies.
double time_decode(lean_plan plan, void* ws, size_t ws_bytes, Inputs& in, int reps) {
  cudaStream_t st;
  check(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking), "stream");
  const int per_graph = std::max<int>(8, int(in.q.size()));
  cudaGraph_t graph;
  check(cudaStreamBeginCapture(st, cudaStreamCaptureModeGlobal), "capture");
  for (int i = 0; i < per_graph; ++i) {
    const size_t c = i % in.q.size();
    const lean_kv kv = kv_of(in, c);
    check(lean_decode(plan, in.q[c], &kv, in.o, in.lse, ws, ws_bytes, nullptr, st), "decode");
  }
  check(cudaStreamEndCapture(st, &graph), "end capture");
  cudaGraphExec_t exec;
  check(cudaGraphInstantiate(&exec, graph, 0), "instantiate");
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  // warm up for at least 20 ms: clocks settle before the first timed replay (without this the
  // first schedule timed after the input fill read up to 13% slow on H100)
  auto replay_ms = [&] {
    cudaEventRecord(a, st);
    check(cudaGraphLaunch(exec, st), "graph launch");
    cudaEventRecord(b, st);
    check(cudaEventSynchronize(b), "sync");
    float t;
    cudaEventElapsedTime(&t, a, b);
    return t;
  };
  float warm = 0;
  for (int r = 0; r < 1000 && (r < 3 || warm < 20.f); ++r) warm += replay_ms();
  std::vector<float> ms;
  for (int r = 0; r < reps; ++r) ms.push_back(replay_ms());
  std::sort(ms.begin(), ms.end());
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaStreamDestroy(st);
  return ms[ms.size() / 2] * 1e3 / per_graph;
}

/// One traced launch (after a warm-up) written as JSON for `lean timeline --measured`.
void write_trace(const std::string& dir, size_t index, const Problem& p, lean_plan plan, void* ws, size_t ws_bytes, Inputs& in,
                 const std::string& card) {
  constexpr int kSegments = 8;
  const int ctas = lean_plan_num_ctas(plan);
  const size_t n = size_t(ctas) * (4 + 5 * kSegments);
  int64_t* dev;
  check(cudaMalloc(&dev, n * 8), "trace buffer");
  check(cudaMemset(dev, 0, n * 8), "trace clear");
  const lean_kv kv = kv_of(in, 0);
  check(lean_decode(plan, in.q[0], &kv, in.o, in.lse, ws, ws_bytes, nullptr, nullptr), "warm-up");
  check(lean_decode_trace(plan, in.q[0], &kv, in.o, in.lse, ws, ws_bytes, dev, kSegments, nullptr), "traced decode");
  std::vector<int64_t> host(n);
  check(cudaMemcpy(host.data(), dev, n * 8, cudaMemcpyDeviceToHost), "trace copy");
  cudaFree(dev);
  const nlohmann::json j = {{"card", card}, {"batch", p.batch}, {"num_q_heads", p.num_q_heads}, {"num_kv_heads", p.num_kv_heads},
                            {"head_dim", p.head_dim}, {"seq_lens", p.seq_lens}, {"tile_kv", p.tile_kv}, {"policy", "stream-k"},
                            {"grid", ctas}, {"max_segments", kSegments}, {"trace", host}};
  std::ofstream(dir + "/trace_" + std::to_string(index) + ".json") << j.dump() << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lean_bench: time stream-K, fixed-split and no-split decode against the card's bandwidth"};
  std::string which = "quick", csv;
  int reps = 50;
  app.add_option("--matrix", which, "problem set: check | large | merge | small | quick | paged")->capture_default_str();
  app.add_option("--reps", reps, "timed graph replays per row (median)")->capture_default_str();
  app.add_option("--csv", csv, "write every row here");
  std::string trace_dir;
  std::vector<int> sweep;
  app.add_option("--sweep-grid", sweep, "also time stream-K at these grid sizes (an experiment; printed as 'sweep ...' lines)")->delimiter(',');
  app.add_option("--trace-dir", trace_dir, "also record one traced stream-K run per row as <dir>/trace_<row>.json");
  std::string only, case_text;
  app.add_option("--only", only, "time only the rows whose description contains this text, e.g. 'd=64'");
  app.add_option("--case", case_text, "time this one problem instead of a matrix, as key=value pairs (golden/cases.txt's keys), "
                                      "e.g. 'b=1 hq=32 hk=8 d=128 lens=65536'");
  std::string layout = "bshd";
  app.add_option("--layout", layout, "K/V layout: bshd ([batch, token, head, dim], the peers') | bhsd (head-major)")
      ->check(CLI::IsMember({"bshd", "bhsd"}))
      ->capture_default_str();
  int page = 0;
  app.add_option("--page", page, "paged K/V with this many tokens a page, 16 to 256 (bshd pages; 0: contiguous)")
      ->check(CLI::IsMember({0}) | CLI::Range(16, 256));  // the library takes pages of 16 to 256 tokens
  std::string page_order = "shuffled";
  app.add_option("--page-order", page_order, "paged: the block table's pages shuffled or in order (sequential)")
      ->check(CLI::IsMember({"shuffled", "sequential"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::vector<Problem> problems;
  try {
    if (case_text.empty()) {
      problems = tools::bench_matrix(which);
    } else {
      std::istringstream words(case_text);
      for (std::string w; words >> w;) {  // only what shapes the problem: lean_bench times every policy, tile 64, fp16
        const std::string key = w.substr(0, w.find('='));
        if (key != "b" && key != "hq" && key != "hk" && key != "d" && key != "lens" && key != "page" && key != "dtype")
          throw Error("--case: '" + key + "' is not a key lean_bench uses (b hq hk d lens page dtype)");
      }
      const tools::CaseSpec c = tools::parse_case_line("--case " + case_text);
      if (c.problem.dtype != DType::fp16) throw Error("lean_bench times fp16 only, got dtype=" + std::string(to_string(c.problem.dtype)));
      if (c.problem.kv_page_size > 0 && page == 0) page = c.problem.kv_page_size;
      problems = {c.problem};
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lean_bench: %s\n", e.what());
    return 2;
  }
  if (page > 0 && layout == "bhsd") {
    std::fprintf(stderr, "lean_bench: --page needs --layout bshd (pages hold [page, kv head, dim])\n");
    return 2;
  }

  cudaDeviceProp prop;
  check(cudaGetDeviceProperties(&prop, 0), "device");
  int clock_khz = 0, mem_khz = 0;
  cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, 0);
  cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, 0);
  const double read_gbps = cuda::measure_read_bandwidth(size_t(4) << 30, 20);
  const double copy_gbps = cuda::measure_copy_bandwidth(size_t(2) << 30, 20);
  std::printf("card: %s, %d SMs, L2 %d MB, SM clock %d MHz, memory clock %d MHz\n", prop.name, prop.multiProcessorCount,
              prop.l2CacheSize >> 20, clock_khz / 1000, mem_khz / 1000);
  std::printf("K/V layout: %s%s\n", layout.c_str(), page > 0 ? (", pages of " + std::to_string(page) + " tokens, " + page_order).c_str() : "");
  std::printf("ceilings: read %.0f GB/s (16-byte loads, 4 GiB), copy %.0f GB/s (read+write, 2 GiB)\n", read_gbps, copy_gbps);

  std::vector<Row> rows;
  for (const Problem& p : problems) {
    if (!only.empty() && describe(p).find(only) == std::string::npos) continue;
    Inputs in = make_inputs(p, size_t(prop.l2CacheSize), layout == "bhsd", page, page_order == "shuffled");
    const lean_problem lp{p.batch, p.num_q_heads, p.num_kv_heads, p.head_dim, LEAN_FP16, 0.f, 64, p.seq_lens.data(), page};
    const std::string row_name = describe(p) + (page > 0 ? " page=" + std::to_string(page) : "");
    for (lean_policy pol : {LEAN_STREAM_K, LEAN_FIXED_SPLIT, LEAN_NO_SPLIT}) {
      const DevicePlan dp(lp, pol, 0);
      const double us = time_decode(dp.plan, dp.ws, dp.bytes, in, reps);
      const double gbps = p.kv_bytes() / (us * 1e3);
      const char* name = pol == LEAN_STREAM_K ? "stream-k" : pol == LEAN_FIXED_SPLIT ? "fixed-split" : "no-split";
      rows.push_back(Row{row_name, name, lean_plan_num_ctas(dp.plan), us, gbps, gbps / read_gbps});
      std::fprintf(stderr, "%-50s %-11s %6d CTAs %10.1f us %7.0f GB/s\n", rows.back().problem.c_str(), name, rows.back().ctas, us, gbps);
      if (!trace_dir.empty() && pol == LEAN_STREAM_K)
        write_trace(trace_dir, rows.size() / 3, p, dp.plan, dp.ws, dp.bytes, in, prop.name);
    }
    for (int g : sweep) {  // stream-K at other grids, e.g. oversubscribed to let the block scheduler balance SMs
      const DevicePlan dp(lp, LEAN_STREAM_K, g);
      const double us = time_decode(dp.plan, dp.ws, dp.bytes, in, reps);
      std::printf("sweep %-50s stream-k G=%-5d %10.1f us %7.0f GB/s\n", row_name.c_str(), g, us, p.kv_bytes() / (us * 1e3));
    }
    free_inputs(in);
  }
  if (!csv.empty()) {
    std::ofstream f(csv);
    f << "card,problem,schedule,ctas,us,kv_gbps,frac_of_read,read_gbps,copy_gbps\n";
    for (const Row& r : rows)
      f << prop.name << ",\"" << r.problem << "\"," << r.schedule << ',' << r.ctas << ',' << r.us << ',' << r.gbps << ','
        << r.frac_read << ',' << read_gbps << ',' << copy_gbps << '\n';
  }
  std::printf("\n%-50s %10s %10s %10s %8s %8s %9s\n", "problem (fp16)", "stream-k", "fixed", "no-split", "GB/s", "%read",
              "sk/nosplit");
  for (size_t i = 0; i + 2 < rows.size(); i += 3)
    std::printf("%-50s %8.1fus %8.1fus %8.1fus %8.0f %7.1f%% %8.2fx\n", rows[i].problem.c_str(), rows[i].us, rows[i + 1].us,
                rows[i + 2].us, rows[i].gbps, 100 * rows[i].frac_read, rows[i + 2].us / rows[i].us);
  return 0;
}
