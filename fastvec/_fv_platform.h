/* Small portability layer for the Cython modules: OpenMP presence, CPU features,
 * prefetch. Everything here is header-only and safe to compile without OpenMP. */
#ifndef FASTVEC_PLATFORM_H
#define FASTVEC_PLATFORM_H

#ifdef _OPENMP
#include <omp.h>
#define FV_OPENMP 1
static inline int fv_omp_max_threads(void) { return omp_get_max_threads(); }
static inline int fv_omp_num_procs(void) { return omp_get_num_procs(); }
/* OMP_THREAD_LIMIT (OpenMP 3.0; MSVC's OpenMP 2.0 has no limit to report) */
#if _OPENMP >= 200805
static inline int fv_omp_thread_limit(void) { return omp_get_thread_limit(); }
#else
static inline int fv_omp_thread_limit(void) { return 1 << 30; }
#endif
#else
#define FV_OPENMP 0
static inline int fv_omp_max_threads(void) { return 1; }
static inline int fv_omp_num_procs(void) { return 1; }
static inline int fv_omp_thread_limit(void) { return 1; }
#endif

/* CPU feature checks for runtime dispatch of the SIMD kernel variants.
 * GCC/Clang's builtin also checks that the OS saves the wide registers (XCR0). */
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define FV_HAVE_CPU_CHECK 1
static inline int fv_cpu_has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
static inline int fv_cpu_has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512cd") && fv_cpu_has_avx2();
}
#else
#define FV_HAVE_CPU_CHECK 0
static inline int fv_cpu_has_avx2(void) { return 0; }
static inline int fv_cpu_has_avx512(void) { return 0; }
#endif

/* Prefetch the cache line holding p into all cache levels (_w: a line about to be written).
 *
 * Not __builtin_prefetch on GCC: GCC counts a prefetch as no side effect, so a small function
 * whose only work is a loop of prefetches (the kernels' row prefetches) is found "looping pure"
 * when it is not inlined early, and every call to it is deleted as dead code. That happened to
 * the GloVe kernel's prefetch_rows after a two-line change (GCC 12, -O2 and -O3: epochs 50% slower,
 * no prefetch left in the binary). On GCC it is a volatile asm, a side effect the compiler must
 * keep, whose operand is an address, not a memory operand (an "m" operand tells the compiler the
 * asm reads that byte, which through a char pointer may be any of the kernel's stores: word2vec
 * epochs ran 20-30% slower with it); the kernels compile to the instructions the builtin gave.
 * tests/test_build.py checks the built kernels for the prefetch instructions. Without PRFCHW
 * in the target flags (the default builds) the _w form is a plain prefetcht0, as
 * __builtin_prefetch(p, 1, 3) compiled to. */
#if defined(__clang__)
/* LLVM models a prefetch as a write to memory no one else sees, so it never deletes one */
#define fv_prefetch(p) __builtin_prefetch((const void *)(p), 0, 3)
#define fv_prefetch_w(p) __builtin_prefetch((const void *)(p), 1, 3)
#elif defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
/* "p": the operand is an address the instruction can fold (base + index * scale + offset), as
 * the builtin's; "%a0" prints it as one. */
#define fv_prefetch(p) __asm__ __volatile__("prefetcht0 %a0" : : "p"((const void *)(p)))
#if defined(__PRFCHW__)
#define fv_prefetch_w(p) __asm__ __volatile__("prefetchw %a0" : : "p"((const void *)(p)))
#else
#define fv_prefetch_w(p) fv_prefetch(p)
#endif
#elif defined(__GNUC__)
/* other targets: the builtin, kept alive by an empty volatile asm */
#define fv_prefetch(p) do { __builtin_prefetch((const void *)(p), 0, 3); __asm__ __volatile__(""); } while (0)
#define fv_prefetch_w(p) do { __builtin_prefetch((const void *)(p), 1, 3); __asm__ __volatile__(""); } while (0)
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <xmmintrin.h>
#define fv_prefetch(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)
#define fv_prefetch_w(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)
#else
#define fv_prefetch(p) ((void)(p))
#define fv_prefetch_w(p) ((void)(p))
#endif

/* Atomic fetch-and-add on a 64-bit counter (relaxed ordering: the counters only hand out
 * indices of read-only work items; the weights are shared Hogwild-style regardless). */
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
static inline long long fv_fetch_add(long long *p, long long v) {
    return _InterlockedExchangeAdd64((volatile long long *)p, v);
}
#else
static inline long long fv_fetch_add(long long *p, long long v) {
    return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}
#endif

/* Debug builds (FASTVEC_DEBUG=1, see setup.py) check indices inside the kernels, where Cython's
 * bounds checks cannot see (raw pointers): a violated check aborts the process loudly. The
 * checks compile to nothing in normal builds. */
#ifdef FASTVEC_DEBUG
#include <stdio.h>
#include <stdlib.h>
#define FV_DEBUG 1
static inline void fv_check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "fastvec debug check failed: %s\n", what);
        abort();
    }
}
#else
#define FV_DEBUG 0
static inline void fv_check(int ok, const char *what) { (void)ok; (void)what; }
#endif

/* Which ISA the including translation unit was compiled for (reported by show_config). */
#if defined(__AVX512F__)
#define FV_COMPILED_ISA "avx512"
#elif defined(__AVX2__)
#define FV_COMPILED_ISA "avx2"
#elif defined(__aarch64__) || defined(_M_ARM64)
#define FV_COMPILED_ISA "neon"
#elif defined(__SSE2__) || defined(_M_X64)
#define FV_COMPILED_ISA "sse2"
#else
#define FV_COMPILED_ISA "generic"
#endif

#endif
