# O(1) draws from the noise distribution with Walker/Vose alias tables.
# Entry i packs alias[i] (high 32 bits) and threshold[i] = floor(p_i * 2**32) (low 32 bits),
# with alias[i] == i wherever p_i rounds to 1, so a draw reads one 8-byte entry, and one
# 64-bit random number gives both the column (high half) and the coin (low half).
from libc.stdint cimport int32_t, uint32_t, uint64_t
from fastvec._random cimport rng_next

cdef inline int32_t draw_alias(uint64_t r, const uint64_t* table, uint32_t n) noexcept nogil:
    cdef uint32_t column = <uint32_t>(((r >> 32) * <uint64_t>n) >> 32)
    cdef uint64_t entry = table[column]
    if <uint32_t>r < <uint32_t>entry:
        return <int32_t>column
    return <int32_t>(entry >> 32)

cdef inline bint keep_word(uint64_t* rng, uint32_t threshold) noexcept nogil:
    """Frequent-word subsampling: keep with probability threshold / 2**32.

    0xFFFFFFFF means "always keep" and consumes no random number."""
    if threshold == 0xFFFFFFFFU:
        return True
    return <uint32_t>(rng_next(rng) >> 32) < threshold
