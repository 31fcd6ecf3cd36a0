// CPU benchmarks of issue 2: planning time for large problems, and the float64 replay of
// batch 1, 32 heads, head dim 128, 512k tokens (time and peak memory). Not a test: run it,
// commit its output under bench/results/ with the machine named.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "lean/schedule.hpp"
#include "lean/sim/compare.hpp"
#include "lean/sim/oracle.hpp"
#include "lean/sim/timeline.hpp"

using namespace lean;
using Clock = std::chrono::steady_clock;

namespace {

double median_us(int reps, const auto& body) {
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto a = Clock::now();
    body();
    t.push_back(std::chrono::duration<double, std::micro>(Clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

std::string cpu_name() {
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

}  // namespace

int main() {
  std::printf("machine: %s, %u hardware threads\n\n", cpu_name().c_str(), std::thread::hardware_concurrency());
  std::printf("%-58s %-11s %10s %12s\n", "planning (make_plan)", "policy", "median us", "ctas");
  struct Case { int b, hq, hk; int64_t ctx; };
  for (const Case& c : {Case{1, 32, 32, 524288}, Case{256, 64, 64, 524288}, Case{256, 64, 8, 524288}, Case{64, 32, 8, 131072}}) {
    const Problem p = make_uniform(c.b, c.hq, c.hk, 128, c.ctx);
    for (Policy pol : {Policy::stream_k, Policy::fixed_split, Policy::no_split}) {
      int ctas = 0;
      const double us = median_us(200, [&] {
        const Plan pl = make_plan(p, pol, pol == Policy::fixed_split ? 4 : 264);
        ctas = pl.view().num_ctas;
      });
      std::printf("%-58s %-11s %10.1f %12d\n", describe(p).c_str(), to_string(pol), us, ctas);
    }
  }
  const Problem p = make_uniform(1, 32, 32, 128, 524288);
  std::printf("\n%-58s %-11s %10s %12s\n", "timeline model (issue 5)", "policy", "median us", "events");
  for (Policy pol : {Policy::stream_k, Policy::fixed_split, Policy::no_split}) {
    const Plan pl = make_plan(p, pol, pol == Policy::fixed_split ? 8 : 264);
    size_t events = 0;
    const double us = median_us(50, [&] { events = sim::model_timeline(p, pl.view(), sim::Machine{}).events.size(); });
    std::printf("%-58s %-11s %10.1f %12zu\n", describe(p).c_str(), to_string(pol), us, events);
  }
  const sim::GeneratedInputs in(p, 1, InputMode::normal);
  const Plan plan = make_plan(p, Policy::stream_k, 264);
  const auto a = Clock::now();
  const sim::Replay r = sim::replay(in, plan.view(), true);
  const double s = std::chrono::duration<double>(Clock::now() - a).count();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("\nfloat64 replay, %s, stream-k G=264: %.2f s, %zu partials kept, peak RSS %.0f MiB\n", describe(p).c_str(), s,
              r.partials.size(), ru.ru_maxrss / 1024.0);
  return 0;
}
