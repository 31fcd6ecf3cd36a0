// One instantiation per file keeps CI compile time and memory bounded.
#include "../decode_kernel.cuh"

LEAN_INSTANTIATE_DECODE(64, __half, 4, page_windows)  // page windows
