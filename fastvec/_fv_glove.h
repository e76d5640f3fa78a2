/* The GloVe AdaGrad step of one (word, context) pair over n lanes (n a multiple of 16), written
 * once per ISA: the kernel module is compiled per variant (see setup.py) and the #if below picks
 * the branch of its flags.
 *
 * For every lane b (per-lane eta and clipping bound; see fastvec/_glove.pxi for the layout):
 *     t1 = clamp(f * w2[b], clip[b]) * eta1[b];   t2 = clamp(f * w1[b], clip[b]) * eta2[b]
 *     w1[b] -= t1 / sqrt(g1[b]);                   w2[b] -= t2 / sqrt(g2[b])
 *     g1[b] += t1 * t1;                            g2[b] += t2 * t2
 * (old values on the right). clamp maps NaN to the bound, like glove.c's fmin/fmax; the loss
 * still sees the NaN, so divergence is reported.
 *
 * Square root and division share one unit and dominated the step (8 of each per pair at
 * vector size 50). The SIMD branches use the hardware reciprocal square root estimate (2^-14
 * relative error on AVX-512, 2^-12 on AVX2) refined by one Newton step, about 1 ulp from the
 * exact quotient; the portable branch divides exactly. */
#ifndef FASTVEC_GLOVE_H
#define FASTVEC_GLOVE_H

#include <math.h>

#if defined(_MSC_VER)
#define FV_RESTRICT __restrict
#else
#define FV_RESTRICT __restrict__
#endif

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#if defined(__AVX512F__)

static inline __m512 fv_rsqrt16(__m512 g) {
    __m512 y = _mm512_rsqrt14_ps(g);
    __m512 half_g_y2 = _mm512_mul_ps(_mm512_mul_ps(g, _mm512_set1_ps(0.5f)), _mm512_mul_ps(y, y));
    return _mm512_mul_ps(y, _mm512_sub_ps(_mm512_set1_ps(1.5f), half_g_y2));
}

static inline void fv_glove_update(float *FV_RESTRICT w1, float *FV_RESTRICT w2, float *FV_RESTRICT g1,
                                   float *FV_RESTRICT g2, const float *FV_RESTRICT eta1,
                                   const float *FV_RESTRICT eta2, const float *FV_RESTRICT clip,
                                   float fdiff, int n) {
    const __m512 f = _mm512_set1_ps(fdiff);
    const __m512 sign = _mm512_set1_ps(-0.0f);
    for (int b = 0; b < n; b += 16) {
        __m512 v1 = _mm512_loadu_ps(w1 + b), v2 = _mm512_loadu_ps(w2 + b);
        __m512 s1 = _mm512_loadu_ps(g1 + b), s2 = _mm512_loadu_ps(g2 + b);
        __m512 c = _mm512_loadu_ps(clip + b);
        __m512 nc = _mm512_xor_ps(c, sign);
        __m512 t1 = _mm512_mul_ps(_mm512_max_ps(_mm512_min_ps(_mm512_mul_ps(f, v2), c), nc), _mm512_loadu_ps(eta1 + b));
        __m512 t2 = _mm512_mul_ps(_mm512_max_ps(_mm512_min_ps(_mm512_mul_ps(f, v1), c), nc), _mm512_loadu_ps(eta2 + b));
        _mm512_storeu_ps(w1 + b, _mm512_fnmadd_ps(t1, fv_rsqrt16(s1), v1));
        _mm512_storeu_ps(w2 + b, _mm512_fnmadd_ps(t2, fv_rsqrt16(s2), v2));
        _mm512_storeu_ps(g1 + b, _mm512_fmadd_ps(t1, t1, s1));
        _mm512_storeu_ps(g2 + b, _mm512_fmadd_ps(t2, t2, s2));
    }
}

#elif defined(__AVX2__)

static inline __m256 fv_rsqrt8(__m256 g) {
    __m256 y = _mm256_rsqrt_ps(g);
    __m256 half_g_y2 = _mm256_mul_ps(_mm256_mul_ps(g, _mm256_set1_ps(0.5f)), _mm256_mul_ps(y, y));
    return _mm256_mul_ps(y, _mm256_sub_ps(_mm256_set1_ps(1.5f), half_g_y2));
}

static inline void fv_glove_update(float *FV_RESTRICT w1, float *FV_RESTRICT w2, float *FV_RESTRICT g1,
                                   float *FV_RESTRICT g2, const float *FV_RESTRICT eta1,
                                   const float *FV_RESTRICT eta2, const float *FV_RESTRICT clip,
                                   float fdiff, int n) {
    const __m256 f = _mm256_set1_ps(fdiff);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int b = 0; b < n; b += 8) {
        __m256 v1 = _mm256_loadu_ps(w1 + b), v2 = _mm256_loadu_ps(w2 + b);
        __m256 s1 = _mm256_loadu_ps(g1 + b), s2 = _mm256_loadu_ps(g2 + b);
        __m256 c = _mm256_loadu_ps(clip + b);
        __m256 nc = _mm256_xor_ps(c, sign);
        __m256 t1 = _mm256_mul_ps(_mm256_max_ps(_mm256_min_ps(_mm256_mul_ps(f, v2), c), nc), _mm256_loadu_ps(eta1 + b));
        __m256 t2 = _mm256_mul_ps(_mm256_max_ps(_mm256_min_ps(_mm256_mul_ps(f, v1), c), nc), _mm256_loadu_ps(eta2 + b));
        _mm256_storeu_ps(w1 + b, _mm256_fnmadd_ps(t1, fv_rsqrt8(s1), v1));
        _mm256_storeu_ps(w2 + b, _mm256_fnmadd_ps(t2, fv_rsqrt8(s2), v2));
        _mm256_storeu_ps(g1 + b, _mm256_fmadd_ps(t1, t1, s1));
        _mm256_storeu_ps(g2 + b, _mm256_fmadd_ps(t2, t2, s2));
    }
}

#else  /* portable: exact division, vectorised by the compiler for the baseline ISA */

static inline float fv_clamp(float v, float c) {
    v = v < c ? v : c;
    return v > -c ? v : -c;
}

static inline void fv_glove_update(float *FV_RESTRICT w1, float *FV_RESTRICT w2, float *FV_RESTRICT g1,
                                   float *FV_RESTRICT g2, const float *FV_RESTRICT eta1,
                                   const float *FV_RESTRICT eta2, const float *FV_RESTRICT clip,
                                   float fdiff, int n) {
    for (int b = 0; b < n; b++) {
        float v1 = w1[b], v2 = w2[b];
        float t1 = fv_clamp(fdiff * v2, clip[b]) * eta1[b];
        float t2 = fv_clamp(fdiff * v1, clip[b]) * eta2[b];
        w1[b] = v1 - t1 / sqrtf(g1[b]);
        w2[b] = v2 - t2 / sqrtf(g2[b]);
        g1[b] += t1 * t1;
        g2[b] += t2 * t2;
    }
}

#endif

#endif
