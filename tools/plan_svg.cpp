#include "plan_svg.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "lean/sim/timeline.hpp"

namespace lean::tools {
using sim::unit_colour;

std::string plan_svg(const Schedule& s, const std::string& title) {
  const double left = 70, top = 40, width = 1100;
  const double row_h = std::clamp(900.0 / std::max(1, s.num_ctas), 3.0, 18.0);
  const double height = top + row_h * s.num_ctas + 40;
  const double per_tile = width / std::max(1, s.total_tiles);
  auto x = [&](int32_t tile) { return left + tile * per_tile; };
  std::string o = fmt::format(
      "<svg xmlns='http://www.w3.org/2000/svg' width='{:.0f}' height='{:.0f}' font-family='monospace' font-size='11'>\n"
      "<rect width='100%' height='100%' fill='white'/>\n<text x='{}' y='18' font-size='13'>{}</text>\n"
      "<text x='{}' y='32'>x: linear tile index (sequence, kv head, tile); rows: CTAs; outline: host segment; "
      "black bar: merge of a split unit</text>\n",
      left + width + 20, height, left, title, left);
  // unit boundaries
  for (int32_t u = 0; u < s.num_units(); ++u) {
    const Unit un = s.unit(u);
    if (un.begin == un.end) continue;
    o += fmt::format("<line x1='{:.1f}' y1='{}' x2='{:.1f}' y2='{:.1f}' stroke='#ddd'/>\n", x(un.begin), top, x(un.begin),
                     top + row_h * s.num_ctas);
  }
  for (int32_t c = 0; c < s.num_ctas; ++c) {
    const double y = top + c * row_h;
    if (row_h >= 9 || c % 8 == 0)
      o += fmt::format("<text x='{}' y='{:.1f}' text-anchor='end'>{}</text>\n", left - 6, y + row_h * 0.8, c);
    for (const Segment& seg : segments_of(s, c)) {
      const Unit un = s.unit(seg.unit);
      o += fmt::format(
          "<rect x='{:.2f}' y='{:.1f}' width='{:.2f}' height='{:.1f}' fill='{}' stroke='{}' stroke-width='{}'>"
          "<title>cta {} unit {} (seq {}, kv head {}, q heads {}-{}) tiles [{}, {}){}</title></rect>\n",
          x(seg.begin), y + 0.5, std::max(0.5, (seg.end - seg.begin) * per_tile), row_h - 1, unit_colour(seg.unit),
          seg.host ? "black" : "none", seg.host ? 1 : 0, c, seg.unit, un.seq, un.head, un.q_head0, un.q_head0 + s.unit_rows - 1,
          seg.begin, seg.end, seg.host ? " host" : "");
    }
  }
  // merges: a bar from the host row to the last contributor's row, at the unit's end
  for (int32_t u = 0; u < s.num_units(); ++u) {
    const int32_t k = s.num_contributors(u);
    if (k < 2) continue;
    const int32_t first = s.first_cta(u);
    const double xe = x(s.unit(u).end) - 1.5;
    o += fmt::format("<line x1='{:.1f}' y1='{:.1f}' x2='{:.1f}' y2='{:.1f}' stroke='black' stroke-width='2'>"
                     "<title>unit {}: {} partials merged in CTA order {}..{}</title></line>\n",
                     xe, top + first * row_h + 1, xe, top + (first + k) * row_h - 1, u, k, first, first + k - 1);
  }
  o += fmt::format("<text x='{}' y='{:.0f}'>{}</text>\n</svg>\n", left, height - 12, s.print());
  return o;
}

}  // namespace lean::tools
