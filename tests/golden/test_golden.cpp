#include <catch2/catch.hpp>
#include <hdf5.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "lean/golden/io.hpp"
#include "lean/numerics.hpp"
#include "lean/sim/compare.hpp"
#include "lean/sim/emulate.hpp"

using namespace lean;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir() {
  const fs::path d = fs::temp_directory_path() / ("lean_golden_test_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

golden::Case small_case(uint64_t seed) {
  Problem p = make_uniform(3, 4, 2, 64, 0);
  p.seq_lens = {1300, 0, 1};
  p.dtype = DType::bf16;
  return golden::make_case("small", p, seed, InputMode::stress, Policy::stream_k, 5, true);
}

/// Opens a written file and lets `edit` damage it through the HDF5 API.
template <typename F>
void edit_h5(const std::string& path, F edit) {
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(f >= 0);
  edit(f);
  H5Fclose(f);
}

std::string golden_dir() { return LEAN_SOURCE_DIR "/golden/data"; }

}  // namespace

TEST_CASE("a golden file round-trips every field", "[cpu][golden]") {
  const golden::Case c = small_case(Catch::rngSeed());
  const std::string path = (temp_dir() / "rt.h5").string();
  golden::write(path, c);
  for (const auto& e : fs::directory_iterator(fs::path(path).parent_path()))
    REQUIRE(e.path().string().find(".tmp-") == std::string::npos);  // no temporary left behind
  const golden::Case r = golden::read(path);
  REQUIRE(r.name == c.name);
  REQUIRE(r.seed == c.seed);
  REQUIRE(r.mode == c.mode);
  REQUIRE(r.policy == c.policy);
  REQUIRE(r.grid == c.grid);
  REQUIRE(c.unit_pad == kSegmentPadTiles);  // a ragged batch under stream-K: the planner pads its units
  REQUIRE(r.unit_pad == c.unit_pad);
  REQUIRE(r.cta_ranges == c.cta_ranges);
  REQUIRE(r.problem.seq_lens == c.problem.seq_lens);
  REQUIRE(r.problem.dtype == c.problem.dtype);
  REQUIRE(r.problem.softmax_scale() == c.problem.softmax_scale());
  REQUIRE(r.inputs.has_value());
  REQUIRE(r.inputs->q == c.inputs->q);
  REQUIRE(r.inputs->k == c.inputs->k);
  REQUIRE(r.inputs->v == c.inputs->v);
  REQUIRE(r.expected.o == c.expected.o);
  REQUIRE(r.expected.lse == c.expected.lse);
  REQUIRE(r.partials.size() == c.partials.size());
  for (size_t i = 0; i < r.partials.size(); ++i) {
    REQUIRE(r.partials[i].cta == c.partials[i].cta);
    REQUIRE(r.partials[i].unit == c.partials[i].unit);
    REQUIRE(r.partials[i].host == c.partials[i].host);
    REQUIRE(r.partials[i].o == c.partials[i].o);
    REQUIRE(r.partials[i].lse == c.partials[i].lse);
  }
  fs::remove_all(fs::path(path).parent_path());
}

TEST_CASE("malformed, truncated and wrong-version golden files are rejected clearly", "[cpu][golden]") {
  const fs::path dir = temp_dir();
  const std::string good = (dir / "good.h5").string();
  golden::write(good, small_case(Catch::rngSeed() + 1));
  auto copy = [&](const char* name) {
    const std::string p = (dir / name).string();
    fs::copy_file(good, p, fs::copy_options::overwrite_existing);
    return p;
  };
  REQUIRE_THROWS_WITH(golden::read((dir / "missing.h5").string()), Catch::Contains("does not exist"));
  {
    const std::string p = (dir / "text.h5").string();
    std::ofstream(p) << "not hdf5 at all\n";
    REQUIRE_THROWS_WITH(golden::read(p), Catch::Contains("not an HDF5 file"));
  }
  {
    const std::string p = copy("truncated.h5");
    fs::resize_file(p, fs::file_size(p) / 2);
    REQUIRE_THROWS_WITH(golden::read(p), Catch::Contains("golden file") && Catch::Contains("truncated"));
  }
  {
    const std::string p = copy("version.h5");
    edit_h5(p, [](hid_t f) {
      const hid_t a = H5Aopen(f, "schema_version", H5P_DEFAULT);
      const int32_t v = 4;
      H5Awrite(a, H5T_NATIVE_INT32, &v);
      H5Aclose(a);
    });
    REQUIRE_THROWS_WITH(golden::read(p), Catch::Contains("schema_version 4") && Catch::Contains("supports 1 to 3"));
  }
  // version 2 had no /schedule cta_ranges: its planner gave the first N mod G CTAs a tile more
  auto make_version = [](int32_t version) {
    return [version](hid_t f) {
      const hid_t a = H5Aopen(f, "schema_version", H5P_DEFAULT);
      H5Awrite(a, H5T_NATIVE_INT32, &version);
      H5Aclose(a);
      const hid_t g = H5Gopen2(f, "schedule", H5P_DEFAULT);
      REQUIRE(H5Adelete(g, "cta_ranges") >= 0);
      if (version < 2) REQUIRE(H5Adelete(g, "unit_pad") >= 0);
      H5Gclose(g);
    };
  };
  {
    const Problem p = make_uniform(2, 4, 2, 64, 300);  // 20 tiles over 6 CTAs: two take a tile more
    const golden::Case e = golden::make_case("even", p, 4, InputMode::normal, Policy::stream_k, 6, true);
    REQUIRE(e.cta_ranges == CtaRanges::even);
    const Plan even_plan = golden::plan_of(e);
    const ScheduleTable even = to_table(even_plan.view());
    // what a version 2 writer planned (and what `lean golden write --cta-ranges big-first` writes)
    const golden::Case c = golden::make_case("big_first", p, 4, InputMode::normal, Policy::stream_k, 6, true, {}, CtaRanges::big_first);
    REQUIRE(c.partials.front().end - c.partials.front().begin == 4);  // CTA 0 took the extra tile
    const std::string v2 = (dir / "v2.h5").string(), v2_even = (dir / "v2_even.h5").string();
    golden::write(v2, c);
    REQUIRE(golden::read(v2).cta_ranges == CtaRanges::big_first);  // version 3 stores either rule
    edit_h5(v2, make_version(2));
    const golden::Case back = golden::read(v2);
    REQUIRE(back.cta_ranges == CtaRanges::big_first);
    const Plan back_plan = golden::plan_of(back);
    const ScheduleTable big = to_table(back_plan.view());
    REQUIRE(big.cta_begin == std::vector<int32_t>{0, 4, 8, 11, 14, 17});
    REQUIRE(even.cta_begin == std::vector<int32_t>{0, 3, 6, 10, 13, 16});
    golden::write(v2_even, e);  // mislabelled below
    edit_h5(v2_even, make_version(2));
    REQUIRE_THROWS_WITH(golden::read(v2_even), Catch::Contains("schedule table disagrees"));
    const std::string bad = copy("ranges.h5");
    edit_h5(bad, [](hid_t f) {
      const hid_t g = H5Gopen2(f, "schedule", H5P_DEFAULT);
      REQUIRE(H5Adelete(g, "cta_ranges") >= 0);
      const hid_t t = H5Tcopy(H5T_C_S1);
      H5Tset_size(t, 3);
      const hid_t sp = H5Screate(H5S_SCALAR);
      const hid_t a = H5Acreate2(g, "cta_ranges", t, sp, H5P_DEFAULT, H5P_DEFAULT);
      REQUIRE(H5Awrite(a, t, "odd") >= 0);
      H5Aclose(a), H5Sclose(sp), H5Tclose(t), H5Gclose(g);
    });
    REQUIRE_THROWS_WITH(golden::read(bad), Catch::Contains("expected even or big-first") && Catch::Contains("'odd'"));
  }
  // version 1 had no /schedule unit_pad either: its plans had no idle tiles
  auto make_v1 = make_version(1);
  {
    const std::string p = (dir / "v1.h5").string();
    golden::write(p, golden::make_case("uniform", make_uniform(2, 4, 2, 64, 300), 3, InputMode::normal, Policy::stream_k, 5, true));
    edit_h5(p, make_v1);
    REQUIRE(golden::read(p).unit_pad == 0);
    const std::string padded = copy("v1_padded.h5");  // a padded plan's table under version 1
    edit_h5(padded, make_v1);
    REQUIRE_THROWS_WITH(golden::read(padded), Catch::Contains("schedule table disagrees"));
  }
  for (const int32_t pad : {50, -1}) {  // more than a CTA's share holds, and negative
    const std::string p = copy("pad.h5");
    edit_h5(p, [&](hid_t f) {
      const hid_t g = H5Gopen2(f, "schedule", H5P_DEFAULT);
      const hid_t a = H5Aopen(g, "unit_pad", H5P_DEFAULT);
      REQUIRE(H5Awrite(a, H5T_NATIVE_INT32, &pad) >= 0);
      H5Aclose(a);
      H5Gclose(g);
    });
    REQUIRE_THROWS_WITH(golden::read(p), Catch::Contains("unit_pad " + std::to_string(pad)));
  }
  {
    const std::string p = copy("magic.h5");
    edit_h5(p, [](hid_t f) { H5Adelete(f, "magic"); });
    REQUIRE_THROWS_WITH(golden::read(p), Catch::Contains("not a LeanAttention golden file"));
  }
  {
    const std::string p = copy("nodata.h5");
    edit_h5(p, [](hid_t f) { H5Ldelete(f, "/expected/o", H5P_DEFAULT); });
    REQUIRE_THROWS_WITH(golden::read(p), Catch::Contains("missing dataset o"));
  }
  {
    const std::string p = copy("shape.h5");
    edit_h5(p, [](hid_t f) {
      H5Ldelete(f, "/expected/lse", H5P_DEFAULT);
      const hsize_t dims[1] = {7};
      const hid_t s = H5Screate_simple(1, dims, nullptr);
      const hid_t d = H5Dcreate2(f, "/expected/lse", H5T_NATIVE_DOUBLE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      H5Dclose(d);
      H5Sclose(s);
    });
    REQUIRE_THROWS_WITH(golden::read(p), Catch::Contains("lse has shape [7,]"));
  }
  {
    const std::string p = copy("schedule.h5");
    edit_h5(p, [](hid_t f) {
      const hid_t d = H5Dopen2(f, "/schedule/cta_end", H5P_DEFAULT);
      std::vector<int32_t> v(5);
      H5Dread(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
      v[0] += 1;
      H5Dwrite(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
      H5Dclose(d);
    });
    REQUIRE_THROWS_WITH(golden::read(p), Catch::Contains("schedule table disagrees"));
  }
  {
    const std::string p = copy("problem.h5");
    edit_h5(p, [](hid_t f) {
      const hid_t g = H5Gopen2(f, "problem", H5P_DEFAULT);
      const hid_t a = H5Aopen(g, "head_dim", H5P_DEFAULT);
      const int32_t v = 96;
      REQUIRE(H5Awrite(a, H5T_NATIVE_INT32, &v) >= 0);
      H5Aclose(a);
      H5Gclose(g);
    });
    REQUIRE_THROWS_WITH(golden::read(p), Catch::Contains("head_dim must be 64, 128 or 256"));
  }
  REQUIRE_THROWS_WITH(golden::write("/nonexistent-dir/x.h5", small_case(1)), Catch::Contains("cannot create"));
  fs::remove_all(dir);
}

TEST_CASE("the committed golden suite covers what it promises and recomputes exactly", "[cpu][golden][suite]") {
  std::set<std::string> seen;
  int files = 0;
  for (const auto& e : fs::directory_iterator(golden_dir())) {
    if (e.path().extension() != ".h5") continue;
    ++files;
    const golden::Case c = golden::read(e.path().string());
    const Problem& p = c.problem;
    INFO(c.name << ": " << describe(p));
    const int g = p.group_size();
    seen.insert(g == 1 ? "mha" : p.num_kv_heads == 1 ? "mqa" : "gqa" + std::to_string(g));
    seen.insert("d" + std::to_string(p.head_dim));
    seen.insert(to_string(p.dtype));
    seen.insert(to_string(c.mode));
    seen.insert(to_string(c.policy));
    seen.insert(c.inputs ? "inputs" : "seed-only");
    for (int64_t l : p.seq_lens) {
      if (l == 0) seen.insert("len0");
      if (l == 1) seen.insert("len1");
      if (l % p.tile_kv) seen.insert("partial-tile");
      if (l >= 524288) seen.insert("512k");
    }
    if (p.batch > 1) {
      bool ragged = false;
      for (int64_t l : p.seq_lens) ragged |= l != p.seq_lens[0];
      if (ragged) seen.insert("ragged");
    }
    // issue 3: the kernel's numeric recipe, emulated, stays within 2 unit roundoffs of float64
    const auto in = golden::inputs_of(c);
    const Plan plan = golden::plan_of(c);
    const sim::Output emu = sim::emulate_kernel(*in, plan.view());
    const sim::ErrorStats eo = sim::compare(emu.o, c.expected.o, p.head_dim), el = sim::compare_lse(emu.lse, c.expected.lse);
    INFO("emulation O " << eo.str() << " LSE " << el.str());
    CHECK(eo.max_err <= 2 * unit_roundoff(p.dtype));
    CHECK(el.max_err <= 1e-4);
    if (c.inputs) {  // float64 recompute from the stored inputs matches the stored answer
      const sim::Replay r = sim::replay(*in, plan.view(), false);
      CHECK(sim::compare(r.out.o, c.expected.o, p.head_dim).max_err <= 1e-12);
      CHECK(sim::compare_lse(r.out.lse, c.expected.lse).max_err <= 1e-12);
    }
  }
  for (const char* want : {"mha", "gqa4", "gqa8", "mqa", "d64", "d128", "d256", "fp16", "bf16", "normal", "stress", "stream-k",
                           "fixed-split", "no-split", "inputs", "seed-only", "len0", "len1", "partial-tile", "512k", "ragged"}) {
    INFO("suite lacks " << want);
    CHECK(seen.count(want) == 1);
  }
  REQUIRE(files >= 10);
}
