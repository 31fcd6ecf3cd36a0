#include "case_spec.hpp"

#include <fstream>
#include <sstream>

namespace lean::tools {
namespace {

int64_t to_int(const std::string& key, const std::string& v) {
  try {
    size_t pos = 0;
    const long long x = std::stoll(v, &pos);
    if (pos != v.size()) throw std::invalid_argument(v);
    return x;
  } catch (const std::exception&) {
    throw Error(key + ": expected an integer, got '" + v + "'");
  }
}

}  // namespace

int CaseSpec::resolved_grid() const {
  if (policy == Policy::stream_k) return grid > 0 ? grid : 264;
  if (policy == Policy::fixed_split) return grid > 0 ? grid : fa2_num_splits(problem, 264);
  return 1;
}

bool CaseSpec::store_inputs() const {
  if (store == "yes") return true;
  if (store == "no") return false;
  return double(problem.total_tokens()) * problem.num_kv_heads * problem.head_dim <= 4.0e6;
}

std::vector<int64_t> parse_lens(const std::string& spec, int batch, uint64_t seed) {
  if (batch < 1) throw Error("batch must be >= 1, got " + std::to_string(batch));
  std::vector<int64_t> lens;
  if (spec.rfind("random:", 0) == 0) {
    const std::string rest = spec.substr(7);
    const size_t colon = rest.find(':');
    if (colon == std::string::npos) throw Error("lens: expected random:lo:hi, got '" + spec + "'");
    const int64_t lo = to_int("lens lo", rest.substr(0, colon)), hi = to_int("lens hi", rest.substr(colon + 1));
    if (lo < 0 || hi < lo) throw Error("lens: need 0 <= lo <= hi in '" + spec + "'");
    for (int b = 0; b < batch; ++b) {
      const uint64_t r = (uint64_t(mix32(uint32_t(seed) ^ 0xa5a5a5a5U ^ mix32(b))) << 32) | mix32(uint32_t(seed >> 32) + b);
      lens.push_back(lo + int64_t(r % uint64_t(hi - lo + 1)));
    }
    return lens;
  }
  std::stringstream ss(spec);
  for (std::string item; std::getline(ss, item, ',');) lens.push_back(to_int("lens", item));
  if (lens.size() == 1) lens.assign(batch, lens[0]);
  if (static_cast<int>(lens.size()) != batch)
    throw Error("lens: " + std::to_string(lens.size()) + " lengths given for batch " + std::to_string(batch));
  return lens;
}

CaseSpec case_from_pairs(const std::map<std::string, std::string>& kv) {
  CaseSpec c;
  Problem& p = c.problem;
  std::string lens = "4096";
  for (const auto& [k, v] : kv) {
    if (k == "b") p.batch = static_cast<int>(to_int(k, v));
    else if (k == "hq") p.num_q_heads = static_cast<int>(to_int(k, v));
    else if (k == "hk") p.num_kv_heads = static_cast<int>(to_int(k, v));
    else if (k == "d") p.head_dim = static_cast<int>(to_int(k, v));
    else if (k == "dtype") p.dtype = parse_dtype(v);
    else if (k == "lens") lens = v;
    else if (k == "tile") p.tile_kv = static_cast<int>(to_int(k, v));
    else if (k == "page") p.kv_page_size = static_cast<int>(to_int(k, v));
    else if (k == "scale") p.scale = std::stod(v);
    else if (k == "seed") c.seed = static_cast<uint64_t>(to_int(k, v));
    else if (k == "mode") c.mode = parse_input_mode(v);
    else if (k == "policy") c.policy = parse_policy(v);
    else if (k == "grid") c.grid = static_cast<int>(to_int(k, v));
    else if (k == "ranges") c.ranges = parse_cta_ranges(v);
    else if (k == "store") c.store = v;
    else throw Error("unknown key '" + k + "'");
  }
  p.seq_lens = parse_lens(lens, p.batch, c.seed);
  validate(p);
  return c;
}

CaseSpec parse_case_line(const std::string& line) {
  std::stringstream ss(line);
  std::string name, tok;
  ss >> name;
  std::map<std::string, std::string> kv;
  while (ss >> tok) {
    const size_t eq = tok.find('=');
    if (eq == std::string::npos) throw Error("case '" + name + "': expected key=value, got '" + tok + "'");
    kv[tok.substr(0, eq)] = tok.substr(eq + 1);
  }
  try {
    CaseSpec c = case_from_pairs(kv);
    c.name = name;
    return c;
  } catch (const Error& e) {
    throw Error("case '" + name + "': " + e.what());
  }
}

std::vector<CaseSpec> read_manifest(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot open manifest " + path);
  std::vector<CaseSpec> out;
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (line.find_first_not_of(" \t") == std::string::npos || line[line.find_first_not_of(" \t")] == '#') continue;
    try {
      out.push_back(parse_case_line(line));
    } catch (const Error& e) {
      throw Error(path + ":" + std::to_string(n) + ": " + e.what());
    }
  }
  return out;
}

}  // namespace lean::tools
