#include "lean/golden/io.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "lean/numerics.hpp"

#ifndef LEAN_VERSION
#define LEAN_VERSION "unknown"
#endif

namespace lean::golden {
namespace {

/// Owns one HDF5 identifier; closes it with the matching H5?close.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { if (id_ >= 0) close_(id_); }
  operator hid_t() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

/// HDF5 printing its own error stack would duplicate ours; silence it once.
void quiet_hdf5() {
  static const bool once = (H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr), true);
  (void)once;
}

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw Error("golden file " + file + ": " + what);
}

template <typename T> hid_t h5type();
template <> hid_t h5type<double>() { return H5T_NATIVE_DOUBLE; }
template <> hid_t h5type<int32_t>() { return H5T_NATIVE_INT32; }
template <> hid_t h5type<int64_t>() { return H5T_NATIVE_INT64; }
template <> hid_t h5type<uint64_t>() { return H5T_NATIVE_UINT64; }
template <> hid_t h5type<uint16_t>() { return H5T_NATIVE_UINT16; }
template <> hid_t h5type<uint8_t>() { return H5T_NATIVE_UINT8; }

struct Writer {
  std::string file;
  void check(herr_t rc, const std::string& what) const { if (rc < 0) fail(file, "cannot write " + what); }
  hid_t group(hid_t loc, const char* name) const {
    const hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) fail(file, std::string("cannot create group ") + name);
    return g;
  }
  template <typename T>
  void dataset(hid_t loc, const char* name, const std::vector<T>& data, std::vector<hsize_t> dims) const {
    hsize_t n = 1;
    for (hsize_t d : dims) n *= d;
    if (n != data.size()) fail(file, std::string("internal: dataset ") + name + " size mismatch");
    Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
    Handle ds(H5Dcreate2(loc, name, h5type<T>(), space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
    if (!ds.ok()) fail(file, std::string("cannot create dataset ") + name);
    if (n) check(H5Dwrite(ds, h5type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), name);
  }
  template <typename T>
  void attr(hid_t loc, const char* name, T value) const {
    Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    Handle a(H5Acreate2(loc, name, h5type<T>(), space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    if (!a.ok()) fail(file, std::string("cannot create attribute ") + name);
    check(H5Awrite(a, h5type<T>(), &value), name);
  }
  void attr(hid_t loc, const char* name, const std::string& value) const {
    Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type, value.size() + 1);
    H5Tset_strpad(type, H5T_STR_NULLTERM);
    Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    Handle a(H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    if (!a.ok()) fail(file, std::string("cannot create attribute ") + name);
    check(H5Awrite(a, type, value.c_str()), name);
  }
};

struct Reader {
  std::string file;
  hid_t group(hid_t loc, const char* name) const {
    const hid_t g = H5Gopen2(loc, name, H5P_DEFAULT);
    if (g < 0) fail(file, std::string("missing group /") + name);
    return g;
  }
  bool has(hid_t loc, const char* name) const { return H5Lexists(loc, name, H5P_DEFAULT) > 0; }
  template <typename T>
  std::vector<T> dataset(hid_t loc, const char* name, const std::vector<hsize_t>& dims) const {
    Handle ds(H5Dopen2(loc, name, H5P_DEFAULT), H5Dclose);
    if (!ds.ok()) fail(file, std::string("missing dataset ") + name);
    Handle space(H5Dget_space(ds), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space);
    std::vector<hsize_t> got(rank > 0 ? rank : 0);
    if (rank < 0 || H5Sget_simple_extent_dims(space, got.data(), nullptr) < 0) fail(file, std::string("unreadable shape of ") + name);
    if (got != dims) {
      std::string g, w;
      for (hsize_t d : got) g += std::to_string(d) + ",";
      for (hsize_t d : dims) w += std::to_string(d) + ",";
      fail(file, std::string("dataset ") + name + " has shape [" + g + "], expected [" + w + "]");
    }
    hsize_t n = 1;
    for (hsize_t d : dims) n *= d;
    std::vector<T> out(n);
    if (n && H5Dread(ds, h5type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
      fail(file, std::string("cannot read dataset ") + name + " (truncated or corrupt)");
    return out;
  }
  template <typename T>
  T attr(hid_t loc, const char* name) const {
    Handle a(H5Aopen(loc, name, H5P_DEFAULT), H5Aclose);
    if (!a.ok()) fail(file, std::string("missing attribute ") + name);
    T v{};
    if (H5Aread(a, h5type<T>(), &v) < 0) fail(file, std::string("cannot read attribute ") + name);
    return v;
  }
  std::string str(hid_t loc, const char* name) const {
    Handle a(H5Aopen(loc, name, H5P_DEFAULT), H5Aclose);
    if (!a.ok()) fail(file, std::string("missing attribute ") + name);
    Handle type(H5Aget_type(a), H5Tclose);
    if (H5Tget_class(type) != H5T_STRING || H5Tis_variable_str(type) > 0)
      fail(file, std::string("attribute ") + name + " is not a fixed-length string");
    const size_t n = H5Tget_size(type);
    std::string s(n, '\0');
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem, n);
    if (H5Aread(a, mem, s.data()) < 0) fail(file, std::string("cannot read attribute ") + name);
    s.resize(s.find('\0') == std::string::npos ? n : s.find('\0'));
    return s;
  }
};

hsize_t H(int64_t v) { return static_cast<hsize_t>(v); }

}  // namespace

std::string project_version() { return std::string(LEAN_VERSION); }

Case make_case(std::string name, const Problem& p, uint64_t seed, InputMode mode, Policy policy, int grid,
               bool store_inputs, const sim::Progress& progress, CtaRanges ranges) {
  Case c;
  c.name = std::move(name);
  c.problem = p;
  c.seed = seed;
  c.mode = mode;
  c.policy = policy;
  c.grid = grid;
  c.writer_version = project_version();
  const sim::GeneratedInputs gen(p, seed, mode);
  if (store_inputs) c.inputs = sim::materialize(gen);
  const Plan plan = make_plan(p, policy, grid, kAutoMerge, 1, kAutoPad, ranges);
  c.unit_pad = plan.view().unit_pad;
  c.cta_ranges = plan.view().cta_ranges;
  sim::Replay r = sim::replay(gen, plan.view(), true, progress);
  c.partials = std::move(r.partials);
  c.expected = std::move(r.out);
  return c;
}

Plan plan_of(const Case& c) { return make_plan(c.problem, c.policy, c.grid, kAutoMerge, 1, c.unit_pad, c.cta_ranges); }

std::unique_ptr<sim::Inputs> inputs_of(const Case& c) {
  if (c.inputs) return std::make_unique<sim::StoredInputs>(c.problem, *c.inputs);
  return std::make_unique<sim::GeneratedInputs>(c.problem, c.seed, c.mode);
}

void write(const std::string& path, const Case& c) {
  quiet_hdf5();
  const Problem& p = c.problem;
  validate(p);
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  {
    Writer w{path};
    Handle f(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    if (!f.ok()) fail(path, "cannot create " + tmp);
    w.attr(f, "magic", std::string(kMagic));
    w.attr(f, "schema_version", int32_t{kSchemaVersion});
    w.attr(f, "name", c.name);
    w.attr(f, "writer_version", c.writer_version);
    w.attr(f, "generator", c.generator);
    w.attr(f, "seed", c.seed);
    w.attr(f, "input_mode", std::string(to_string(c.mode)));

    const int B = p.batch, Hq = p.num_q_heads, Hk = p.num_kv_heads, D = p.head_dim, g = p.group_size();
    {
      Handle gp(w.group(f, "problem"), H5Gclose);
      w.attr(gp, "batch", int32_t(B));
      w.attr(gp, "num_q_heads", int32_t(Hq));
      w.attr(gp, "num_kv_heads", int32_t(Hk));
      w.attr(gp, "head_dim", int32_t(D));
      w.attr(gp, "dtype", std::string(to_string(p.dtype)));
      w.attr(gp, "scale", p.softmax_scale());
      w.attr(gp, "tile_kv", int32_t(p.tile_kv));
      w.dataset(gp, "seq_lens", p.seq_lens, {H(B)});
    }
    const Plan plan = plan_of(c);
    const Schedule s = plan.view();
    {
      const ScheduleTable t = to_table(s);
      Handle gs(w.group(f, "schedule"), H5Gclose);
      w.attr(gs, "policy", std::string(to_string(c.policy)));
      w.attr(gs, "grid", int32_t(c.grid));
      w.attr(gs, "num_ctas", s.num_ctas);
      w.attr(gs, "num_splits", s.num_splits);
      w.attr(gs, "total_tiles", s.total_tiles);
      w.attr(gs, "unit_pad", s.unit_pad);
      w.attr(gs, "cta_ranges", std::string(to_string(s.cta_ranges)));
      w.dataset(gs, "seq_tile_begin", plan.seq_tile_begin(), {H(B + 1)});
      w.dataset(gs, "cta_begin", t.cta_begin, {H(s.num_ctas)});
      w.dataset(gs, "cta_end", t.cta_end, {H(s.num_ctas)});
      w.dataset(gs, "unit_first_cta", t.unit_first_cta, {H(s.num_units())});
      w.dataset(gs, "unit_num_ctas", t.unit_num_ctas, {H(s.num_units())});
    }
    if (c.inputs) {
      Handle gi(w.group(f, "inputs"), H5Gclose);
      w.attr(gi, "encoding", std::string(to_string(p.dtype)) + " bits as uint16");
      w.dataset(gi, "q", c.inputs->q, {H(B), H(Hq), H(D)});
      w.dataset(gi, "k", c.inputs->k, {H(p.total_tokens()), H(Hk), H(D)});
      w.dataset(gi, "v", c.inputs->v, {H(p.total_tokens()), H(Hk), H(D)});
    }
    {
      const size_t P = c.partials.size();
      std::vector<int32_t> cta(P), unit(P), begin(P), end(P);
      std::vector<uint8_t> host(P);
      std::vector<double> lse, o;
      lse.reserve(P * g);
      o.reserve(P * g * D);
      for (size_t i = 0; i < P; ++i) {
        const sim::Partial& q = c.partials[i];
        cta[i] = q.cta, unit[i] = q.unit, begin[i] = q.begin, end[i] = q.end, host[i] = q.host;
        lse.insert(lse.end(), q.lse.begin(), q.lse.end());
        o.insert(o.end(), q.o.begin(), q.o.end());
      }
      Handle gq(w.group(f, "partials"), H5Gclose);
      w.dataset(gq, "cta", cta, {P});
      w.dataset(gq, "unit", unit, {P});
      w.dataset(gq, "tile_begin", begin, {P});
      w.dataset(gq, "tile_end", end, {P});
      w.dataset(gq, "host", host, {P});
      w.dataset(gq, "lse", lse, {P, H(g)});
      w.dataset(gq, "o", o, {P, H(g), H(D)});
    }
    {
      Handle ge(w.group(f, "expected"), H5Gclose);
      w.dataset(ge, "o", c.expected.o, {H(B), H(Hq), H(D)});
      w.dataset(ge, "lse", c.expected.lse, {H(B), H(Hq)});
    }
    if (H5Fflush(f, H5F_SCOPE_GLOBAL) < 0) fail(path, "cannot flush " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    fail(path, "cannot rename " + tmp + ": " + ec.message());
  }
}

Case read(const std::string& path) {
  quiet_hdf5();
  Reader r{path};
  if (!std::filesystem::exists(path)) fail(path, "does not exist");
  if (H5Fis_hdf5(path.c_str()) <= 0) fail(path, "is not an HDF5 file (or its superblock is truncated)");
  Handle f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!f.ok()) fail(path, "cannot be opened as HDF5 (truncated or corrupt)");
  if (H5Aexists(f, "magic") <= 0 || r.str(f, "magic") != kMagic) fail(path, std::string("is not a LeanAttention golden file (no magic '") + kMagic + "')");
  const int32_t version = r.attr<int32_t>(f, "schema_version");
  if (version < kOldestSchemaVersion || version > kSchemaVersion)
    fail(path, "has schema_version " + std::to_string(version) + "; this reader supports " + std::to_string(kOldestSchemaVersion) + " to " +
                   std::to_string(kSchemaVersion));
  Case c;
  c.name = r.str(f, "name");
  c.writer_version = r.str(f, "writer_version");
  c.generator = r.str(f, "generator");
  if (c.generator != kGeneratorId) fail(path, "uses generator '" + c.generator + "'; this build has " + kGeneratorId);
  c.seed = r.attr<uint64_t>(f, "seed");
  try {
    c.mode = parse_input_mode(r.str(f, "input_mode"));
    Problem& p = c.problem;
    {
      Handle gp(r.group(f, "problem"), H5Gclose);
      p.batch = r.attr<int32_t>(gp, "batch");
      p.num_q_heads = r.attr<int32_t>(gp, "num_q_heads");
      p.num_kv_heads = r.attr<int32_t>(gp, "num_kv_heads");
      p.head_dim = r.attr<int32_t>(gp, "head_dim");
      p.dtype = parse_dtype(r.str(gp, "dtype"));
      p.scale = r.attr<double>(gp, "scale");
      p.tile_kv = r.attr<int32_t>(gp, "tile_kv");
      if (p.batch < 1 || p.batch > (1 << 24)) fail(path, "implausible batch " + std::to_string(p.batch));
      p.seq_lens = r.dataset<int64_t>(gp, "seq_lens", {H(p.batch)});
    }
    validate(p);
    const int B = p.batch, Hq = p.num_q_heads, Hk = p.num_kv_heads, D = p.head_dim, g = p.group_size();
    {
      Handle gs(r.group(f, "schedule"), H5Gclose);
      c.policy = parse_policy(r.str(gs, "policy"));
      c.grid = r.attr<int32_t>(gs, "grid");
      c.unit_pad = version >= 2 ? r.attr<int32_t>(gs, "unit_pad") : 0;
      if (c.unit_pad < 0) fail(path, "negative /schedule unit_pad " + std::to_string(c.unit_pad));
      c.cta_ranges = version >= 3 ? parse_cta_ranges(r.str(gs, "cta_ranges")) : CtaRanges::big_first;
      const Plan plan = plan_of(c);
      if (plan.view().unit_pad != c.unit_pad)
        fail(path, "/schedule unit_pad " + std::to_string(c.unit_pad) + " is not one this build's planner makes for the stored problem and grid");
      const Schedule s = plan.view();
      const ScheduleTable t = to_table(s);
      if (r.attr<int32_t>(gs, "num_ctas") != s.num_ctas || r.attr<int32_t>(gs, "total_tiles") != s.total_tiles ||
          r.dataset<int32_t>(gs, "seq_tile_begin", {H(B + 1)}) != plan.seq_tile_begin() ||
          r.dataset<int32_t>(gs, "cta_begin", {H(s.num_ctas)}) != t.cta_begin ||
          r.dataset<int32_t>(gs, "cta_end", {H(s.num_ctas)}) != t.cta_end ||
          r.dataset<int32_t>(gs, "unit_first_cta", {H(s.num_units())}) != t.unit_first_cta ||
          r.dataset<int32_t>(gs, "unit_num_ctas", {H(s.num_units())}) != t.unit_num_ctas)
        fail(path, "schedule table disagrees with this build's planner for the stored problem");
    }
    if (r.has(f, "inputs")) {
      Handle gi(r.group(f, "inputs"), H5Gclose);
      sim::StoredTensors t;
      t.q = r.dataset<uint16_t>(gi, "q", {H(B), H(Hq), H(D)});
      t.k = r.dataset<uint16_t>(gi, "k", {H(p.total_tokens()), H(Hk), H(D)});
      t.v = r.dataset<uint16_t>(gi, "v", {H(p.total_tokens()), H(Hk), H(D)});
      c.inputs = std::move(t);
    }
    {
      Handle gq(r.group(f, "partials"), H5Gclose);
      Handle ds(H5Dopen2(gq, "cta", H5P_DEFAULT), H5Dclose);
      if (!ds.ok()) fail(path, "missing dataset partials/cta");
      Handle space(H5Dget_space(ds), H5Sclose);
      hsize_t P = 0;
      if (H5Sget_simple_extent_ndims(space) != 1 || H5Sget_simple_extent_dims(space, &P, nullptr) < 0) fail(path, "partials/cta is not 1-D");
      const auto cta = r.dataset<int32_t>(gq, "cta", {P});
      const auto unit = r.dataset<int32_t>(gq, "unit", {P});
      const auto begin = r.dataset<int32_t>(gq, "tile_begin", {P});
      const auto end = r.dataset<int32_t>(gq, "tile_end", {P});
      const auto host = r.dataset<uint8_t>(gq, "host", {P});
      const auto lse = r.dataset<double>(gq, "lse", {P, H(g)});
      const auto o = r.dataset<double>(gq, "o", {P, H(g), H(D)});
      for (hsize_t i = 0; i < P; ++i)
        c.partials.push_back(sim::Partial{cta[i], unit[i], begin[i], end[i], host[i] != 0,
                                          std::vector<double>(lse.begin() + i * g, lse.begin() + (i + 1) * g),
                                          std::vector<double>(o.begin() + i * g * D, o.begin() + (i + 1) * g * D)});
    }
    {
      Handle ge(r.group(f, "expected"), H5Gclose);
      c.expected.o = r.dataset<double>(ge, "o", {H(B), H(Hq), H(D)});
      c.expected.lse = r.dataset<double>(ge, "lse", {H(B), H(Hq)});
    }
  } catch (const Error& e) {
    const std::string m = e.what();
    if (m.rfind("golden file ", 0) == 0) throw;
    fail(path, m);
  }
  return c;
}

}  // namespace lean::golden
