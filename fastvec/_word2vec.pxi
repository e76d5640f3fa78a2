# Word2vec epoch kernels: skip-gram and CBOW with negative sampling.
#
# This file is included by _word2vec_baseline.pyx, _word2vec_avx2.pyx and
# _word2vec_avx512.pyx, which differ only in the ISA flags setup.py compiles them with;
# fastvec._dispatch picks the best one the CPU supports.
#
# Concurrency model (Hogwild, Recht et al. 2011): OpenMP threads take work items (pieces of
# sentences) from a dynamic schedule and update the shared weight matrices syn0 and syn1
# WITHOUT locks. Two threads may occasionally write the same row at the same time; the lost
# or mixed update is noise of the same order as the stochastic gradient itself, and is what
# word2vec.c, gensim and fastText all accept. Everything else is thread-owned: the random
# stream (seeded per work item from (seed, epoch, item), so results never depend on which
# thread ran which item), scratch vectors, and the float64 loss / int64 word tallies, which are
# padded to a cache line per thread and summed after the parallel region.
#
# The NumPy twins of these kernels are in fastvec/_reference.py.

import numpy as np

from cython.parallel cimport prange, threadid
from libc.math cimport exp, log1p
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t

from fastvec._random cimport rng_below, rng_for_item, rng_next
from fastvec._sampling cimport draw_alias, keep_word
from fastvec._vec cimport add, axpy, dot, scale, zero

cdef extern from "_fv_platform.h" nogil:
    const char* FV_COMPILED_ISA
    void fv_prefetch(const void* p) noexcept

cdef enum:
    SIGMOID_TABLE_SIZE = 2048
    TALLY_STRIDE = 8          # 8 x 8 bytes = one cache line per thread: no false sharing
    VECTOR_STRIDE_ALIGN = 16  # scratch rows padded to 64 bytes

cdef float MAX_EXP = 6.0
cdef float SIGMOID_TABLE[SIGMOID_TABLE_SIZE + 1]
cdef float LOG_SIGMOID_TABLE[SIGMOID_TABLE_SIZE + 1]


cdef void _fill_tables() noexcept:
    cdef int i
    cdef double x
    for i in range(SIGMOID_TABLE_SIZE + 1):
        # centre of bin i of the interval [-MAX_EXP, MAX_EXP]
        x = ((i + 0.5) / SIGMOID_TABLE_SIZE * 2.0 - 1.0) * MAX_EXP
        SIGMOID_TABLE[i] = <float>(1.0 / (1.0 + exp(-x)))
        LOG_SIGMOID_TABLE[i] = <float>(-log1p(exp(-x)))

_fill_tables()


def compiled_isa() -> str:
    """The instruction set this variant of the kernels was compiled for."""
    return FV_COMPILED_ISA.decode()


def sigmoid_tables():
    """(max_exp, sigmoid table, log-sigmoid table) as used by the kernels (for the references)."""
    return (float(MAX_EXP), np.array(<float[:SIGMOID_TABLE_SIZE + 1]>&SIGMOID_TABLE[0]),
            np.array(<float[:SIGMOID_TABLE_SIZE + 1]>&LOG_SIGMOID_TABLE[0]))


cdef inline int _table_index(float f) noexcept nogil:
    # only called for -MAX_EXP < f < MAX_EXP; the table has one spare entry for rounding at the top
    return <int>((f + MAX_EXP) * (SIGMOID_TABLE_SIZE / (2.0 * MAX_EXP)))


cdef inline float sigmoid(float f) noexcept nogil:
    """Clamped table sigmoid. NaN falls through to 0 (never indexes the table)."""
    if f > -MAX_EXP and f < MAX_EXP:
        return SIGMOID_TABLE[_table_index(f)]
    if f >= MAX_EXP:
        return 1.0
    return 0.0


cdef inline double neg_log_sigmoid(float f) noexcept nogil:
    """-log(sigmoid(f)); exact outside the table range, NaN in -> NaN out (divergence check)."""
    if f > -MAX_EXP and f < MAX_EXP:
        return -LOG_SIGMOID_TABLE[_table_index(f)]
    return log1p(exp(-<double>f))


cdef struct Job:
    # read-mostly arguments shared by all threads of one kernel call
    float* syn0
    float* syn1
    int dim
    const int32_t* ids
    const int64_t* items          # [start, end) token positions, two per item
    const uint32_t* keep          # subsampling thresholds (see _sampling.keep_word)
    const uint32_t* noise_threshold
    const int32_t* noise_alias
    uint32_t vocab_size
    int window
    int negative
    double alpha
    double alpha_slope            # learning rate falls by this much per corpus token
    double min_alpha
    int64_t position_base         # tokens of all previous epochs of this schedule
    uint64_t seed
    uint64_t epoch


cdef inline float item_alpha(const Job* job, int64_t item) noexcept nogil:
    cdef double a = job.alpha - job.alpha_slope * <double>(job.position_base + job.items[2 * item])
    return <float>(a if a > job.min_alpha else job.min_alpha)


cdef inline int subsample_item(const Job* job, int64_t item, uint64_t* rng, int32_t* buf) noexcept nogil:
    """Copy the item's tokens that survive subsampling into buf; return how many."""
    cdef int64_t p
    cdef int n = 0
    cdef int32_t w
    for p in range(job.items[2 * item], job.items[2 * item + 1]):
        w = job.ids[p]
        if keep_word(rng, job.keep[w]):
            buf[n] = w
            n += 1
    return n


cdef inline double negative_sampling(const Job* job, const float* hidden, int32_t positive,
                                     float alpha, float* grad, uint64_t* rng) noexcept nogil:
    """One positive and `negative` noise targets against `hidden` (word2vec.c order).

    Updates the output rows in place (Hogwild) and accumulates the gradient for `hidden`
    into `grad`. Returns the loss -log s(u_o.h) - sum log s(-u_k.h)."""
    cdef int d, dim = job.dim
    cdef int32_t target
    cdef float f, g, label
    cdef float* row
    cdef double loss = 0.0
    for d in range(job.negative + 1):
        if d == 0:
            target = positive
            label = 1.0
        else:
            target = draw_alias(rng_next(rng), job.noise_threshold, job.noise_alias, job.vocab_size)
            if target == positive:
                continue
            label = 0.0
        row = job.syn1 + <int64_t>target * dim
        f = dot(hidden, row, dim)
        g = (label - sigmoid(f)) * alpha
        loss += neg_log_sigmoid(f) if d == 0 else neg_log_sigmoid(-f)
        axpy(g, row, grad, dim)
        axpy(g, hidden, row, dim)
    return loss


cdef double sg_item(const Job* job, int64_t item, int32_t* buf, float* grad,
                    int64_t* words, int64_t* examples) noexcept nogil:
    """Skip-gram over one work item: each context word's input vector predicts the centre."""
    cdef uint64_t rng = rng_for_item(job.seed, job.epoch, <uint64_t>item)
    cdef int n = subsample_item(job, item, &rng, buf)
    cdef int i, j, lo, hi, reach, dim = job.dim
    cdef float alpha = item_alpha(job, item)
    cdef float* hidden
    cdef double loss = 0.0
    for i in range(n):
        reach = job.window - <int>rng_below(&rng, <uint32_t>job.window)
        lo = i - reach if i >= reach else 0
        hi = i + reach + 1 if i + reach + 1 <= n else n
        for j in range(lo, hi):
            if j == i:
                continue
            hidden = job.syn0 + <int64_t>buf[j] * dim
            zero(grad, dim)
            loss += negative_sampling(job, hidden, buf[i], alpha, grad, &rng)
            add(grad, hidden, dim)
            examples[0] += 1
    words[0] += n
    return loss


cdef double cbow_item(const Job* job, int64_t item, int32_t* buf, float* hidden, float* grad,
                      int64_t* words, int64_t* examples) noexcept nogil:
    """CBOW over one work item: the mean of the context vectors predicts the centre; the
    error is added unscaled to every context vector (as word2vec.c and gensim do)."""
    cdef uint64_t rng = rng_for_item(job.seed, job.epoch, <uint64_t>item)
    cdef int n = subsample_item(job, item, &rng, buf)
    cdef int i, j, lo, hi, reach, count, dim = job.dim
    cdef float alpha = item_alpha(job, item)
    cdef double loss = 0.0
    for i in range(n):
        reach = job.window - <int>rng_below(&rng, <uint32_t>job.window)
        lo = i - reach if i >= reach else 0
        hi = i + reach + 1 if i + reach + 1 <= n else n
        count = hi - lo - 1
        if count <= 0:
            continue
        zero(hidden, dim)
        for j in range(lo, hi):
            if j != i:
                add(job.syn0 + <int64_t>buf[j] * dim, hidden, dim)
        scale(1.0 / count, hidden, dim)
        zero(grad, dim)
        loss += negative_sampling(job, hidden, buf[i], alpha, grad, &rng)
        for j in range(lo, hi):
            if j != i:
                add(grad, job.syn0 + <int64_t>buf[j] * dim, dim)
        examples[0] += 1
    words[0] += n
    return loss


def train_slice(*, bint cbow, float[:, ::1] syn0, float[:, ::1] syn1, const int32_t[::1] ids,
                const int64_t[:, ::1] items, Py_ssize_t first_item, Py_ssize_t last_item,
                const uint32_t[::1] keep_threshold, const uint32_t[::1] noise_threshold,
                const int32_t[::1] noise_alias, int window, int negative, double alpha,
                double alpha_slope, double min_alpha, int64_t position_base, uint64_t seed,
                uint64_t epoch, int n_threads):
    """Train on work items [first_item, last_item) of one epoch.

    All arguments are validated by the caller (fastvec.word2vec); this function trusts
    ids < vocabulary size, item bounds inside ``ids``, window >= 1, negative >= 0.

    Returns (words kept after subsampling, training examples, summed loss)."""
    cdef Job job
    cdef Py_ssize_t k, max_len = 1
    cdef int tid, dim = syn0.shape[1]
    cdef int stride = ((dim + VECTOR_STRIDE_ALIGN - 1) // VECTOR_STRIDE_ALIGN) * VECTOR_STRIDE_ALIGN
    cdef double item_loss
    if last_item <= first_item:
        return 0, 0, 0.0
    for k in range(first_item, last_item):
        if items[k, 1] - items[k, 0] > max_len:
            max_len = items[k, 1] - items[k, 0]
    buffers_arr = np.empty((n_threads, max_len), dtype=np.int32)
    vectors_arr = np.zeros((n_threads, 2 * stride), dtype=np.float32)
    words_arr = np.zeros(n_threads * TALLY_STRIDE, dtype=np.int64)
    examples_arr = np.zeros(n_threads * TALLY_STRIDE, dtype=np.int64)
    loss_arr = np.zeros(n_threads * TALLY_STRIDE, dtype=np.float64)
    cdef int32_t[:, ::1] buffers = buffers_arr
    cdef float[:, ::1] vectors = vectors_arr
    cdef int64_t[::1] words = words_arr, examples = examples_arr
    cdef double[::1] loss = loss_arr

    job.syn0 = &syn0[0, 0]
    job.syn1 = &syn1[0, 0]
    job.dim = dim
    job.ids = &ids[0]
    job.items = &items[0, 0]
    job.keep = &keep_threshold[0]
    job.noise_threshold = &noise_threshold[0]
    job.noise_alias = &noise_alias[0]
    job.vocab_size = <uint32_t>noise_threshold.shape[0]
    job.window = window
    job.negative = negative
    job.alpha = alpha
    job.alpha_slope = alpha_slope
    job.min_alpha = min_alpha
    job.position_base = position_base
    job.seed = seed
    job.epoch = epoch

    for k in prange(first_item, last_item, nogil=True, schedule="dynamic", chunksize=1,
                    num_threads=n_threads):
        tid = threadid()
        if cbow:
            item_loss = cbow_item(&job, k, &buffers[tid, 0], &vectors[tid, 0], &vectors[tid, stride],
                                  &words[tid * TALLY_STRIDE], &examples[tid * TALLY_STRIDE])
        else:
            item_loss = sg_item(&job, k, &buffers[tid, 0], &vectors[tid, 0],
                                &words[tid * TALLY_STRIDE], &examples[tid * TALLY_STRIDE])
        loss[tid * TALLY_STRIDE] += item_loss
    return int(words_arr.sum()), int(examples_arr.sum()), float(loss_arr.sum())
