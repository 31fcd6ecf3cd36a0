// Host/device qualifiers so one header serves g++, nvcc host passes and device code.
#pragma once

#if defined(__CUDACC__)
#define LEAN_HD __host__ __device__ __forceinline__
#else
#define LEAN_HD inline
#endif
