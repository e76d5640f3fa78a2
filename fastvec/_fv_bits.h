/* Bit tricks used by the co-occurrence counting kernels (portable fallbacks included). */
#ifndef FASTVEC_BITS_H
#define FASTVEC_BITS_H

#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
static inline int fv_ctz64(uint64_t x) { return __builtin_ctzll(x); }
#elif defined(_MSC_VER) && defined(_M_X64)
#include <intrin.h>
static inline int fv_ctz64(uint64_t x) { unsigned long i; _BitScanForward64(&i, x); return (int)i; }
#else
static inline int fv_ctz64(uint64_t x) { int n = 0; while (!(x & 1u)) { x >>= 1; n++; } return n; }
#endif

#endif
