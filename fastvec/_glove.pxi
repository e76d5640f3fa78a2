# GloVe epoch kernel: AdaGrad on f(X_ij) (w_i.w~_j + b_i + b~_j - log X_ij)^2 over the
# non-zeros of a co-occurrence matrix in CSR form.
#
# Included by _glove_baseline.pyx, _glove_avx2.pyx and _glove_avx512.pyx, which differ only in
# the ISA flags setup.py compiles them with; fastvec._dispatch picks the best one.
#
# Parameters live in one float32 array `state` of 2V rows (words, then contexts), each row
#     [ vector | A, B | 0... (dpad lanes) || squared-gradient sums (dpad lanes, padding 1) ]
# with dpad = vector_size + 2 rounded up to 8 floats and A = vector_size, B = A + 1. A word row
# holds its bias in lane A and the constant 1 in lane B; a context row the constant in A and its
# bias in B. The dot product over all dpad lanes is then w.w~ + b + b~, and the gradient of a
# bias lane is f*diff, so one loop of whole SIMD vectors updates vectors and biases alike, with
# per-lane learning rates (eta for vector lanes, 1 for bias lanes, 0 for the constant lanes and
# the padding) and clipping bounds (+inf for bias lanes). Padding lanes stay 0. Everything one
# update touches lies in 2 * dpad / 16 contiguous cache lines (7 for vector_size 50) when the
# state starts on a cache line (fastvec.glove allocates it so; NumPy alone aligns to 16 bytes,
# which costs one more line per row and made epochs 7-13% slower): the kernel is bound by
# fetching these rows, so every line counts.
#
# The update is the Stanford reference's (glove.c, current master): each gradient component
# f*diff*w is clipped to [-clip, clip] and multiplied by eta, the step divides it by the square
# root of the component's running sum (initialised to 1) before that sum grows by its square;
# biases take the unclipped f*diff without eta. Word and context step both use the old vectors.
# Float32 arithmetic (the step itself per ISA in fastvec/_fv_glove.h), float64 loss tallies.
#
# Order of the non-zeros (a fresh one every epoch, cheap and cache-friendly): the CSR arrays are
# cut into blocks of `block` consecutive non-zeros (fastvec.glove uses 1: a uniformly random
# order; see its BLOCK for what larger blocks cost); a keyed Feistel network (4 rounds of
# splitmix64, cycle-walking to the exact range; keys from seed and epoch) permutes the blocks;
# a work item is `blocks_per_item` consecutive blocks of that permutation, which one thread
# gathers into a private buffer (the CSR reads prefetched 64 non-zeros ahead), shuffles there
# (Fisher-Yates with the item's own random stream) and then trains, prefetching the parameter
# rows 8 records ahead. No per-epoch array is built, nothing is copied globally, the order
# depends only on (seed, epoch), never on the thread count, and the buffer (48 KB) stays in L1/L2.
#
# Concurrency (Hogwild, Recht et al. 2011): threads take work items from a dynamic schedule and
# update the shared `state` without locks, as glove.c's pthreads do. Two threads may touch the
# same row at the same moment; the lost update is noise of the order of one SGD step. Buffers,
# random streams and the float64 loss tallies (one cache line per thread) are thread-owned.
#
# The NumPy twin of this kernel is fastvec/_reference_glove.py.

import numpy as np

from cython.parallel cimport prange, threadid
from libc.math cimport expf, logf
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t, uintptr_t

from fastvec._random cimport mix64, rng_below, rng_for_item
from fastvec._vec cimport dot

cdef extern from "_fv_glove.h" nogil:
    void fv_glove_update(float* w1, float* w2, float* g1, float* g2, const float* eta1, const float* eta2,
                         const float* clip, float fdiff, int n) noexcept

cdef extern from "_fv_platform.h" nogil:
    const char* FV_COMPILED_ISA
    void fv_prefetch(const void* p) noexcept
    void fv_prefetch_w(const void* p) noexcept

cdef enum:
    TALLY_STRIDE = 8         # 8 x 8 bytes = one cache line per thread
    FEISTEL_ROUNDS = 4
    PREFETCH_RECORDS = 8     # parameter rows fetched this many records ahead
    PREFETCH_NNZ = 64        # CSR non-zeros fetched this many ahead while gathering

cdef struct Record:
    int32_t row
    int32_t col
    float x

cdef struct Job:
    float* state
    int64_t row_len
    bint state_skewed        # state not on a 64-byte boundary: each row straddles one more line
    int dpad
    const float* eta_word    # per-lane learning rates of word rows (dpad)
    const float* eta_context # ... of context rows
    const float* lane_clip   # per-lane clipping bounds
    int64_t n_words
    const int64_t* indptr
    const int64_t* row_hint   # row of non-zero (q << hint_shift), q = 0 .. nnz >> hint_shift
    int hint_shift
    const int32_t* indices
    const float* data
    int64_t nnz
    int64_t n_blocks
    int64_t block
    int64_t blocks_per_item
    float x_max
    float log_x_max
    float alpha
    int half_bits
    uint64_t keys[FEISTEL_ROUNDS]
    uint64_t seed
    uint64_t epoch


def compiled_isa() -> str:
    """The instruction set this variant of the kernel was compiled for."""
    return FV_COMPILED_ISA.decode()


def padded_size(int vector_size) -> int:
    """Lanes per part of a state row: vector_size + 2 (bias and constant) rounded up to 8, so that
    a row (2 * dpad floats) is whole 64-byte cache lines: 7 at vector_size 50, where rounding to 16
    (the layout of files saved before 2026-11-25, which GloVe.load re-lays) took 8, for epochs
    7% slower."""
    return (vector_size + 2 + 7) // 8 * 8


def row_length(int dpad) -> int:
    """Floats per state row: the vector part and the squared-gradient part."""
    return 2 * dpad


def lane_parameters(int vector_size, double eta, double clip):
    """Per-lane (eta of word rows, eta of context rows, clipping bound), float32 arrays of
    padded_size(vector_size) lanes, as the kernel uses them."""
    cdef int dpad = padded_size(vector_size)
    eta_word = np.zeros(dpad, dtype=np.float32)
    eta_word[:vector_size] = eta
    eta_context = eta_word.copy()
    eta_word[vector_size] = 1.0            # word bias in lane A, constant in lane B
    eta_context[vector_size + 1] = 1.0     # context constant in lane A, bias in lane B
    lane_clip = np.full(dpad, clip, dtype=np.float32)
    lane_clip[vector_size:vector_size + 2] = np.inf
    return eta_word, eta_context, lane_clip


# -- epoch order ---------------------------------------------------------------------------------

cdef inline uint64_t feistel(const Job* job, uint64_t x) noexcept nogil:
    cdef uint64_t mask = ((<uint64_t>1) << job.half_bits) - 1
    cdef uint64_t left = x >> job.half_bits, right = x & mask, t
    cdef int r
    for r in range(FEISTEL_ROUNDS):
        t = right
        right = left ^ (mix64(right ^ job.keys[r]) & mask)
        left = t
    return (left << job.half_bits) | right


cdef inline int64_t block_at(const Job* job, int64_t pos) noexcept nogil:
    """Block visited at position pos of this epoch's order (a bijection on [0, n_blocks))."""
    cdef uint64_t b = feistel(job, <uint64_t>pos)
    while b >= <uint64_t>job.n_blocks:
        b = feistel(job, b)
    return <int64_t>b


cdef inline int64_t find_row(const Job* job, int64_t k) noexcept nogil:
    """The row holding non-zero k: the last r < n_words with indptr[r] <= k (bisection between
    the rows of the two nearest hints, usually a single row)."""
    cdef int64_t q = k >> job.hint_shift
    cdef int64_t lo = job.row_hint[q], hi = job.row_hint[q + 1] + 1, mid
    if hi > job.n_words:
        hi = job.n_words
    while hi - lo > 1:
        mid = lo + (hi - lo) // 2
        if job.indptr[mid] <= k:
            lo = mid
        else:
            hi = mid
    return lo


cdef int gather_item(const Job* job, int64_t item, int64_t* blocks, Record* buf, uint64_t* rng) noexcept nogil:
    """The records of one work item, shuffled; returns how many."""
    cdef int64_t first = item * job.blocks_per_item, last = first + job.blocks_per_item
    cdef int64_t pos, k, k_end, row, start
    cdef int64_t ahead = (PREFETCH_NNZ + job.block - 1) // job.block
    cdef int n = 0, nb, m, r
    cdef Record tmp
    if last > job.n_blocks:
        last = job.n_blocks
    nb = <int>(last - first)
    for pos in range(nb):
        blocks[pos] = block_at(job, first + pos)
    for pos in range(nb if nb < ahead else ahead):
        fv_prefetch(job.indices + blocks[pos] * job.block)
        fv_prefetch(job.data + blocks[pos] * job.block)
    for pos in range(nb):
        if pos + ahead < nb:
            start = blocks[pos + ahead] * job.block
            fv_prefetch(job.indices + start)
            fv_prefetch(job.data + start)
        start = blocks[pos] * job.block
        k_end = start + job.block
        if k_end > job.nnz:
            k_end = job.nnz
        row = find_row(job, start)
        for k in range(start, k_end):
            while job.indptr[row + 1] <= k:
                row += 1
            buf[n].row = <int32_t>row
            buf[n].col = job.indices[k]
            buf[n].x = job.data[k]
            n += 1
    m = n - 1
    while m > 0:
        r = <int>rng_below(rng, <uint32_t>(m + 1))
        tmp = buf[m]
        buf[m] = buf[r]
        buf[r] = tmp
        m -= 1
    return n


# -- the update ----------------------------------------------------------------------------------

cdef inline double train_record(const Job* job, const Record* rec) noexcept nogil:
    cdef int dpad = job.dpad
    cdef float* w1 = job.state + <int64_t>rec.row * job.row_len
    cdef float* w2 = job.state + (job.n_words + <int64_t>rec.col) * job.row_len
    cdef float log_x = logf(rec.x)
    cdef float diff = dot(w1, w2, dpad) - log_x          # includes b + b~ (lanes A and B)
    cdef float weight = 1.0 if rec.x >= job.x_max else expf(job.alpha * (log_x - job.log_x_max))
    cdef float fdiff = weight * diff
    # the AdaGrad step itself, per ISA: fastvec/_fv_glove.h
    fv_glove_update(w1, w2, w1 + dpad, w2 + dpad, job.eta_word, job.eta_context, job.lane_clip, fdiff, dpad)
    return 0.5 * <double>fdiff * <double>diff


cdef inline void prefetch_rows(const Job* job, const Record* rec) noexcept nogil:
    # every cache line of the two rows: 2 * dpad / 16 each when the state starts on a cache
    # line, as fastvec.glove allocates it, and one more when it does not
    cdef const float* w1 = job.state + <int64_t>rec.row * job.row_len
    cdef const float* w2 = job.state + (job.n_words + <int64_t>rec.col) * job.row_len
    cdef int64_t off
    off = 0
    while off < job.row_len:
        fv_prefetch_w(w1 + off)
        fv_prefetch_w(w2 + off)
        off += 16
    if job.state_skewed:
        fv_prefetch_w(w1 + job.row_len - 1)
        fv_prefetch_w(w2 + job.row_len - 1)


cdef double train_item(const Job* job, int64_t item, int64_t* blocks, Record* buf, int64_t* done) noexcept nogil:
    cdef uint64_t rng = rng_for_item(job.seed, job.epoch, <uint64_t>item)
    cdef int n = gather_item(job, item, blocks, buf, &rng), m
    cdef double loss = 0.0
    for m in range(n if n < PREFETCH_RECORDS else PREFETCH_RECORDS):
        prefetch_rows(job, &buf[m])
    for m in range(n):
        if m + PREFETCH_RECORDS < n:
            prefetch_rows(job, &buf[m + PREFETCH_RECORDS])
        loss += train_record(job, &buf[m])
    done[0] += n
    return loss


cdef void epoch_keys(Job* job) noexcept:
    cdef int bits = 2, r
    cdef uint64_t base
    while ((<uint64_t>1) << bits) < <uint64_t>job.n_blocks:
        bits += 1
    bits += bits & 1
    job.half_bits = bits // 2
    base = mix64(job.seed ^ (job.epoch * <uint64_t>0xD1B54A32D192ED03ULL) ^ <uint64_t>0x6A09E667F3BCC909ULL)
    for r in range(FEISTEL_ROUNDS):
        job.keys[r] = mix64(base + <uint64_t>(r + 1) * <uint64_t>0x9E3779B97F4A7C15ULL)


def row_hints(const int64_t[::1] indptr, int shift):
    """Row of every (1 << shift)-th non-zero, plus a sentinel: the search table of find_row."""
    cdef int64_t nnz = indptr[indptr.shape[0] - 1], n_words = indptr.shape[0] - 1
    cdef int64_t q, n = (nnz >> shift) + 2, row = 0
    hints_arr = np.empty(n, dtype=np.int64)
    cdef int64_t[::1] hints = hints_arr
    for q in range(n):
        while row + 1 < n_words and indptr[row + 1] <= (q << shift):
            row += 1
        hints[q] = row
    return hints_arr


def epoch_items(int64_t nnz, int64_t block, int64_t blocks_per_item) -> int:
    """Work items of one epoch."""
    cdef int64_t n_blocks = (nnz + block - 1) // block
    return (n_blocks + blocks_per_item - 1) // blocks_per_item


def train_slice(*, float[:, ::1] state, const int64_t[::1] indptr, const int64_t[::1] row_hint, int hint_shift,
                const int32_t[::1] indices, const float[::1] data, int64_t n_words, int vector_size,
                int64_t first_item, int64_t last_item,
                int64_t block, int64_t blocks_per_item, double x_max, double alpha, double eta, double clip,
                uint64_t seed, uint64_t epoch, int n_threads):
    """Train work items [first_item, last_item) of one epoch.

    The caller (fastvec.glove) validated the matrix (indptr of n_words + 1 increasing entries
    from 0 to nnz, column indices in [0, n_words), positive finite values) and the parameters;
    ``row_hint`` is ``row_hints(indptr, hint_shift)``.
    Returns (records trained, summed loss 0.5 * f(x) * diff**2)."""
    cdef Job job
    cdef int64_t nnz = indices.shape[0], k
    cdef int tid, cap = <int>(block * blocks_per_item)
    cdef double item_loss
    cdef int dim_pad = padded_size(vector_size)
    if vector_size < 1 or state.shape[0] != 2 * n_words or state.shape[1] != row_length(dim_pad):
        raise ValueError("state has the wrong shape for n_words and vector_size")
    eta_word_arr, eta_context_arr, clip_arr = lane_parameters(vector_size, eta, clip)
    cdef float[::1] eta_word = eta_word_arr, eta_context = eta_context_arr, lane_clip = clip_arr
    if indptr.shape[0] != n_words + 1 or data.shape[0] != nnz or block < 1 or blocks_per_item < 1 \
            or hint_shift < 0 or hint_shift > 40 or row_hint.shape[0] != (nnz >> hint_shift) + 2 \
            or block * blocks_per_item > 2**30 or first_item < 0 or n_threads < 1:
        raise ValueError("inconsistent matrix, block, item or thread arguments")
    if nnz == 0 or last_item <= first_item:
        return 0, 0.0
    records_arr = np.empty((n_threads, 3 * cap), dtype=np.int32)
    blocks_arr = np.empty((n_threads, blocks_per_item), dtype=np.int64)
    done_arr = np.zeros(n_threads * TALLY_STRIDE, dtype=np.int64)
    loss_arr = np.zeros(n_threads * TALLY_STRIDE, dtype=np.float64)
    cdef int32_t[:, ::1] records = records_arr
    cdef int64_t[:, ::1] blocks = blocks_arr
    cdef int64_t[::1] done = done_arr
    cdef double[::1] loss = loss_arr

    job.state = &state[0, 0]
    job.row_len = state.shape[1]
    job.state_skewed = (<uintptr_t>job.state) % 64 != 0
    job.dpad = dim_pad
    job.eta_word = &eta_word[0]
    job.eta_context = &eta_context[0]
    job.lane_clip = &lane_clip[0]
    job.n_words = n_words
    job.indptr = &indptr[0]
    job.row_hint = &row_hint[0]
    job.hint_shift = hint_shift
    job.indices = &indices[0]
    job.data = &data[0]
    job.nnz = nnz
    job.n_blocks = (nnz + block - 1) // block
    job.block = block
    job.blocks_per_item = blocks_per_item
    job.x_max = <float>x_max
    job.log_x_max = logf(<float>x_max)
    job.alpha = <float>alpha
    job.seed = seed
    job.epoch = epoch
    epoch_keys(&job)

    for k in prange(first_item, last_item, nogil=True, schedule="dynamic", chunksize=1, num_threads=n_threads):
        tid = threadid()
        item_loss = train_item(&job, k, &blocks[tid, 0], <Record*>&records[tid, 0], &done[tid * TALLY_STRIDE])
        loss[tid * TALLY_STRIDE] += item_loss
    return int(done_arr.sum()), float(loss_arr.sum())
