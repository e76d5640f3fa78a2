"""Construction of the sampling tables and test hooks that draw with the kernels' code paths."""
import numpy as np

from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from fastvec._random cimport rng_next, rng_for_item
from fastvec._sampling cimport draw_alias, keep_word


def build_alias_table(const double[::1] probs):
    """Vose's alias method over normalised probabilities.

    Returns (threshold uint32[n], alias int32[n]) as read by ``draw_alias``.
    The caller validates ``probs`` (finite, >= 0, positive sum)."""
    cdef Py_ssize_t n = probs.shape[0], i, n_small = 0, n_large = 0, s, l
    cdef double total = 0.0
    for i in range(n):
        total += probs[i]
    scaled_arr = np.empty(n, dtype=np.float64)
    cdef double[::1] scaled = scaled_arr
    small_arr = np.empty(n, dtype=np.int64)
    large_arr = np.empty(n, dtype=np.int64)
    cdef int64_t[::1] small = small_arr, large = large_arr
    threshold_arr = np.empty(n, dtype=np.uint32)
    alias_arr = np.empty(n, dtype=np.int32)
    cdef uint32_t[::1] threshold = threshold_arr
    cdef int32_t[::1] alias = alias_arr
    cdef double p
    with nogil:
        for i in range(n):
            scaled[i] = probs[i] * n / total
            if scaled[i] < 1.0:
                small[n_small] = i
                n_small += 1
            else:
                large[n_large] = i
                n_large += 1
        while n_small > 0 and n_large > 0:
            n_small -= 1
            s = small[n_small]
            n_large -= 1
            l = large[n_large]
            p = scaled[s] * 4294967296.0
            threshold[s] = <uint32_t>p if p < 4294967295.0 else 0xFFFFFFFFU
            alias[s] = <int32_t>l
            scaled[l] = (scaled[l] + scaled[s]) - 1.0
            if scaled[l] < 1.0:
                small[n_small] = l
                n_small += 1
            else:
                large[n_large] = l
                n_large += 1
        # whatever is left has probability 1 (up to rounding): always itself
        while n_large > 0:
            n_large -= 1
            l = large[n_large]
            threshold[l] = 0xFFFFFFFFU
            alias[l] = <int32_t>l
        while n_small > 0:
            n_small -= 1
            s = small[n_small]
            threshold[s] = 0xFFFFFFFFU
            alias[s] = <int32_t>s
    return threshold_arr, alias_arr


def draw_noise(const uint64_t[::1] table, Py_ssize_t n, uint64_t seed):
    """Draw ``n`` noise words exactly as the training kernels do (test and benchmark hook)."""
    out_arr = np.empty(n, dtype=np.int32)
    cdef int32_t[::1] out = out_arr
    cdef uint64_t state = rng_for_item(seed, 0, 0)
    cdef uint32_t vocab = <uint32_t>table.shape[0]
    cdef Py_ssize_t i
    with nogil:
        for i in range(n):
            out[i] = draw_alias(rng_next(&state), &table[0], vocab)
    return out_arr


def subsample_mask(const int32_t[::1] ids, const uint32_t[::1] keep_threshold, uint64_t seed):
    """Which tokens of ``ids`` the kernels' subsampling rule keeps (test hook)."""
    out_arr = np.empty(ids.shape[0], dtype=np.bool_)
    cdef unsigned char[::1] out = out_arr.view(np.uint8)
    cdef uint64_t state = rng_for_item(seed, 0, 0)
    cdef Py_ssize_t i
    with nogil:
        for i in range(ids.shape[0]):
            out[i] = keep_word(&state, keep_threshold[ids[i]])
    return out_arr
