# O(1) draws from the noise distribution with Walker/Vose alias tables.
# threshold[i] = floor(p_i * 2**32) with alias[i] == i wherever p_i rounds to 1, so
# one 64-bit random number gives both the column (high half) and the coin (low half).
from libc.stdint cimport int32_t, uint32_t, uint64_t
from fastvec._random cimport rng_next

cdef inline int32_t draw_alias(uint64_t r, const uint32_t* threshold, const int32_t* alias,
                               uint32_t n) noexcept nogil:
    cdef uint32_t column = <uint32_t>(((r >> 32) * <uint64_t>n) >> 32)
    if <uint32_t>r < threshold[column]:
        return <int32_t>column
    return alias[column]

cdef inline bint keep_word(uint64_t* rng, uint32_t threshold) noexcept nogil:
    """Frequent-word subsampling: keep with probability threshold / 2**32.

    0xFFFFFFFF means "always keep" and consumes no random number."""
    if threshold == 0xFFFFFFFFU:
        return True
    return <uint32_t>(rng_next(rng) >> 32) < threshold
