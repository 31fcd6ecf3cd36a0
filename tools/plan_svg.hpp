// SVG picture of a schedule: one row per CTA along the linear tile axis.
#pragma once

#include <string>

#include "lean/schedule.hpp"

namespace lean::tools {

/// Each CTA's tile range drawn as segments coloured by unit (sequence, kv head); host segments
/// are outlined, and a vertical merge line joins the contributors of every split unit.
std::string plan_svg(const Schedule& s, const std::string& title);

}  // namespace lean::tools
