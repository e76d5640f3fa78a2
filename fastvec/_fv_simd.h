/* Short float32 vector primitives for the kernels (vectors of ~50-300 floats).
 *
 * Each kernel module is compiled several times with different ISA flags (see setup.py) and
 * fastvec._dispatch imports the best one the CPU supports, so the #if branches below are chosen
 * at compile time per variant: AVX-512 (masked tails), AVX2+FMA, or portable C that the
 * compiler vectorises for the baseline ISA (SSE2 on x86-64, NEON on arm64).
 *
 * dot() keeps four independent accumulators: a single accumulator makes a 100-float dot a
 * chain of dependent FMAs, which is what the straightforward loop compiles to. */
#ifndef FASTVEC_SIMD_H
#define FASTVEC_SIMD_H

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#if defined(__AVX512F__)

/* Tails are handled with 8- and 4-wide unmasked operations, not AVX-512 masks: rows written by
 * one training step are read by the next, and a masked load cannot be forwarded from a pending
 * store (it waits for the store to retire). Rows of 100 floats end in a 4-float tail. */

static inline float fv_hsum128(__m128 s) {
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55));
    return _mm_cvtss_f32(s);
}

static inline float fv_dot(const float *x, const float *y, int n) {
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    __m512 a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    int i = 0;
    for (; i + 64 <= n; i += 64) {
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16), a1);
        a2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 32), _mm512_loadu_ps(y + i + 32), a2);
        a3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 48), _mm512_loadu_ps(y + i + 48), a3);
    }
    for (; i + 16 <= n; i += 16) {
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), a1);
        __m512 t = a0; a0 = a1; a1 = t;  /* alternate accumulators */
    }
    __m512 acc = _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3));
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(acc), _mm512_extractf32x8_ps(acc, 1));
    if (i + 8 <= n) {
        h = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), h);
        i += 8;
    }
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    if (i + 4 <= n) {
        q = _mm_fmadd_ps(_mm_loadu_ps(x + i), _mm_loadu_ps(y + i), q);
        i += 4;
    }
    float s = fv_hsum128(q);
    for (; i < n; i++) s += x[i] * y[i];
    return s;
}

static inline void fv_axpy(float a, const float *x, float *y, int n) {
    __m512 va = _mm512_set1_ps(a);
    int i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    if (i + 8 <= n) {
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(_mm512_castps512_ps256(va), _mm256_loadu_ps(x + i),
                                                _mm256_loadu_ps(y + i)));
        i += 8;
    }
    if (i + 4 <= n) {
        _mm_storeu_ps(y + i, _mm_fmadd_ps(_mm512_castps512_ps128(va), _mm_loadu_ps(x + i), _mm_loadu_ps(y + i)));
        i += 4;
    }
    for (; i < n; i++) y[i] += a * x[i];
}

#elif defined(__AVX2__) && defined(__FMA__)

static inline float fv_dot(const float *x, const float *y, int n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8) {
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a1);
        __m256 t = a0; a0 = a1; a1 = t;
    }
    __m256 acc = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    if (i + 4 <= n) {
        q = _mm_fmadd_ps(_mm_loadu_ps(x + i), _mm_loadu_ps(y + i), q);
        i += 4;
    }
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    q = _mm_add_ss(q, _mm_shuffle_ps(q, q, 0x55));
    float s = _mm_cvtss_f32(q);
    for (; i < n; i++) s += x[i] * y[i];
    return s;
}

static inline void fv_axpy(float a, const float *x, float *y, int n) {
    __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    if (i + 4 <= n) {
        _mm_storeu_ps(y + i, _mm_fmadd_ps(_mm256_castps256_ps128(va), _mm_loadu_ps(x + i), _mm_loadu_ps(y + i)));
        i += 4;
    }
    for (; i < n; i++) y[i] += a * x[i];
}

#else  /* portable: the compiler vectorises these for the baseline ISA */

static inline float fv_dot(const float *x, const float *y, int n) {
    float s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += x[i] * y[i];
        s1 += x[i + 1] * y[i + 1];
        s2 += x[i + 2] * y[i + 2];
        s3 += x[i + 3] * y[i + 3];
    }
    for (; i < n; i++) s0 += x[i] * y[i];
    return (s0 + s1) + (s2 + s3);
}

static inline void fv_axpy(float a, const float *x, float *y, int n) {
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

#endif

/* y += x: the same instructions as axpy with a = 1 (an FMA by 1 rounds exactly as an add) */
static inline void fv_add(const float *x, float *y, int n) {
    fv_axpy(1.0f, x, y, n);
}

static inline void fv_scale(float a, float *x, int n) {
    for (int i = 0; i < n; i++) x[i] *= a;
}

static inline void fv_zero(float *x, int n) {
    for (int i = 0; i < n; i++) x[i] = 0.f;
}

#endif
