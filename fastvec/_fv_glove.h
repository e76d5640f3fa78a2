/* The GloVe AdaGrad step of one (word, context) pair over n lanes (n a multiple of 8), written
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

/* The two SIMD branches differ only in width and in the name of each instruction. */
#if defined(__AVX512F__)
#define FV_W 16
typedef __m512 fv_v;
#define fv_set1 _mm512_set1_ps
#define fv_load _mm512_loadu_ps
#define fv_store _mm512_storeu_ps
#define fv_mul _mm512_mul_ps
#define fv_sub _mm512_sub_ps
#define fv_min _mm512_min_ps
#define fv_max _mm512_max_ps
#define fv_xor _mm512_xor_ps
#define fv_fmadd _mm512_fmadd_ps
#define fv_fnmadd _mm512_fnmadd_ps
#define fv_rsqrt_estimate _mm512_rsqrt14_ps
#elif defined(__AVX2__)
#define FV_W 8
typedef __m256 fv_v;
#define fv_set1 _mm256_set1_ps
#define fv_load _mm256_loadu_ps
#define fv_store _mm256_storeu_ps
#define fv_mul _mm256_mul_ps
#define fv_sub _mm256_sub_ps
#define fv_min _mm256_min_ps
#define fv_max _mm256_max_ps
#define fv_xor _mm256_xor_ps
#define fv_fmadd _mm256_fmadd_ps
#define fv_fnmadd _mm256_fnmadd_ps
#define fv_rsqrt_estimate _mm256_rsqrt_ps
#endif

#if defined(__AVX512F__) || defined(__AVX2__)

/* 1 / sqrt(g): the hardware estimate refined by one Newton step */
static inline fv_v fv_rsqrt(fv_v g) {
    fv_v y = fv_rsqrt_estimate(g);
    fv_v half_g_y2 = fv_mul(fv_mul(g, fv_set1(0.5f)), fv_mul(y, y));
    return fv_mul(y, fv_sub(fv_set1(1.5f), half_g_y2));
}

/* FV_STEP(load, store, b): the update of lanes [b, b + FV_W) with the given load and store */
#define FV_STEP(LOAD, STORE, b) do {                                                  \
        fv_v v1 = LOAD(w1 + (b)), v2 = LOAD(w2 + (b));                                \
        fv_v s1 = LOAD(g1 + (b)), s2 = LOAD(g2 + (b));                                \
        fv_v c = LOAD(clip + (b));                                                    \
        fv_v nc = fv_xor(c, sign);                                                    \
        fv_v t1 = fv_mul(fv_max(fv_min(fv_mul(f, v2), c), nc), LOAD(eta1 + (b)));     \
        fv_v t2 = fv_mul(fv_max(fv_min(fv_mul(f, v1), c), nc), LOAD(eta2 + (b)));     \
        STORE(w1 + (b), fv_fnmadd(t1, fv_rsqrt(s1), v1));                             \
        STORE(w2 + (b), fv_fnmadd(t2, fv_rsqrt(s2), v2));                             \
        STORE(g1 + (b), fv_fmadd(t1, t1, s1));                                        \
        STORE(g2 + (b), fv_fmadd(t2, t2, s2));                                        \
    } while (0)

#if defined(__AVX512F__)
/* the last 8 lanes of a row whose lane count is 8 more than a multiple of 16: the lanes past
 * them load as 0 and are not stored (their 0 * rsqrt(0) = NaN is discarded) */
#define fv_load_half(p) _mm512_maskz_loadu_ps((__mmask16)0x00FF, (p))
#define fv_store_half(p, v) _mm512_mask_storeu_ps((p), (__mmask16)0x00FF, (v))
#endif

static inline void fv_glove_update(float *FV_RESTRICT w1, float *FV_RESTRICT w2, float *FV_RESTRICT g1,
                                   float *FV_RESTRICT g2, const float *FV_RESTRICT eta1,
                                   const float *FV_RESTRICT eta2, const float *FV_RESTRICT clip,
                                   float fdiff, int n) {
    const fv_v f = fv_set1(fdiff);
    const fv_v sign = fv_set1(-0.0f);
    int b = 0;
    for (; b + FV_W <= n; b += FV_W)
        FV_STEP(fv_load, fv_store, b);
#if defined(__AVX512F__)
    if (b < n)
        FV_STEP(fv_load_half, fv_store_half, b);
#endif
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
