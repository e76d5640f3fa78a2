# Per-thread random numbers for the kernels: splitmix64 (Steele, Lea & Flood 2014).
# One 64-bit state per work item, derived from (seed, epoch, item), so results do not
# depend on which thread ran which item. fastvec/_reference.py mirrors these formulas.
from libc.stdint cimport uint32_t, uint64_t

cdef inline uint64_t mix64(uint64_t z) noexcept nogil:
    z = (z ^ (z >> 30)) * <uint64_t>0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * <uint64_t>0x94D049BB133111EBULL
    return z ^ (z >> 31)

cdef inline uint64_t rng_next(uint64_t* state) noexcept nogil:
    state[0] += <uint64_t>0x9E3779B97F4A7C15ULL
    return mix64(state[0])

cdef inline uint64_t rng_for_item(uint64_t seed, uint64_t epoch, uint64_t item) noexcept nogil:
    """Initial state of the stream that serves work item `item` of epoch `epoch`."""
    return mix64(mix64(seed ^ (epoch * <uint64_t>0xD1B54A32D192ED03ULL)) + item * <uint64_t>0x9E3779B97F4A7C15ULL)

cdef inline uint32_t rng_below(uint64_t* state, uint32_t n) noexcept nogil:
    """Uniform integer in [0, n) by multiply-shift on the high 32 bits (Lemire)."""
    return <uint32_t>(((rng_next(state) >> 32) * <uint64_t>n) >> 32)
