# Word2vec epoch kernels: skip-gram and CBOW with negative sampling.
#
# This file is included by _word2vec_baseline.pyx, _word2vec_avx2.pyx and
# _word2vec_avx512.pyx, which differ only in the ISA flags setup.py compiles them with;
# fastvec._dispatch picks the best one the CPU supports.
#
# Concurrency model (Hogwild, Recht et al. 2011): OpenMP threads take work items (pieces of
# sentences) from their own part of each slice, then from the others' (atomic counters), and
# update the shared weight matrices syn0 and syn1 WITHOUT locks. Two threads may occasionally
# write the same row at the same time; the lost or mixed update is noise of the same order as
# the stochastic gradient itself, and is what word2vec.c, gensim and fastText all accept.
# Everything else is thread-owned: the random stream (seeded per work item from (seed, epoch,
# item), so results never depend on which thread ran which item), and everything a thread
# writes besides the weights (scratch vectors, token buffer, noise words, float64 loss and
# int64 word tallies, hot-row copies), which lives in the thread's own page-aligned block of
# memory; the tallies are summed after the parallel region.
#
# Hot rows: the rows of the most frequent words (ids < hot_rows) are written by every thread all
# the time (noise words are drawn in proportion to count^0.75, and frequent words are the most
# common centre and context words even after subsampling); on two cores the cache-line
# transfers of these rows cost a large part of the training time. With hot_rows > 0 each
# thread works on private copies of those rows of syn1 and syn0, kept in a Workspace that lives
# across kernel calls, and the copies meet the shared rows in two tiers:
# - the hottest rows (ids < hot_async) are synced by each thread on its own every sync_tokens
#   corpus tokens it trains and at the end of each call: it adds its change (copy - snapshot)
#   to the shared rows without locks (Hogwild) and copies them afresh;
# - the other hot rows are merged between kernel calls by Workspace.sync, a reduction over all
#   threads' copies, shared_new = copy_0 + sum over t >= 1 of (copy_t - shared_old), after which
#   every copy equals shared_new. Between merges these shared rows are only read, so no core
#   fetches them back from another; the reduction loses no update, and with one thread
#   (shared_new = copy_0) it reproduces the shared-row result bit for bit.
# Either way another thread's updates to a hot row become visible late, a staleness of the kind
# Hogwild has, but longer. Its price grows with how often a row is updated between syncs: the
# threads each move a row towards the same target and the sum of the moves overshoots it. So
# the hottest rows sync often (their own tier) and the merged tier holds rows updated hundreds
# of times less often (benchmarks/RESULTS.md, "Scaling").
#
# The NumPy twins of these kernels are in fastvec/_reference.py.

import numpy as np

from cython.parallel cimport parallel, prange, threadid
from libc.math cimport exp, log1p
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t, uintptr_t

from fastvec._random cimport rng_below, rng_for_item, rng_next
from fastvec._sampling cimport draw_alias, keep_word
from fastvec._vec cimport add, axpy, dot, scale, zero
from fastvec._blas cimport gemm_nn, gemm_nt, gemm_tn
from libc.string cimport memcpy, memset

cdef extern from "_fv_platform.h" nogil:
    const char* FV_COMPILED_ISA
    void fv_prefetch(const void* p) noexcept
    void fv_check(int ok, const char* what) noexcept
    long long fv_fetch_add(long long* p, long long v) noexcept

cdef enum:
    SIGMOID_TABLE_SIZE = 2048
    THREAD_ALIGN = 64         # bytes: sections of a thread's memory block start on a cache line

cdef float MAX_EXP = 6.0
cdef float SIGMOID_TABLE[SIGMOID_TABLE_SIZE + 1]
cdef float LOG_SIGMOID_TABLE[SIGMOID_TABLE_SIZE + 1]
cdef float LOG_ONE_MINUS_SIGMOID_TABLE[SIGMOID_TABLE_SIZE + 1]


cdef void _fill_tables() noexcept:
    cdef int i
    cdef double x
    for i in range(SIGMOID_TABLE_SIZE + 1):
        # centre of bin i of the interval [-MAX_EXP, MAX_EXP]
        x = ((i + 0.5) / SIGMOID_TABLE_SIZE * 2.0 - 1.0) * MAX_EXP
        SIGMOID_TABLE[i] = <float>(1.0 / (1.0 + exp(-x)))
        LOG_SIGMOID_TABLE[i] = <float>(-log1p(exp(-x)))
        LOG_ONE_MINUS_SIGMOID_TABLE[i] = <float>(-log1p(exp(x)))

_fill_tables()


def compiled_isa() -> str:
    """The instruction set this variant of the kernels was compiled for."""
    return FV_COMPILED_ISA.decode()


def sigmoid_tables():
    """(max_exp, sigmoid, log sigmoid, log(1 - sigmoid)) tables as used by the kernels (for the references)."""
    return (float(MAX_EXP), np.array(<float[:SIGMOID_TABLE_SIZE + 1]>&SIGMOID_TABLE[0]),
            np.array(<float[:SIGMOID_TABLE_SIZE + 1]>&LOG_SIGMOID_TABLE[0]),
            np.array(<float[:SIGMOID_TABLE_SIZE + 1]>&LOG_ONE_MINUS_SIGMOID_TABLE[0]))


cdef inline int _table_index(float f) noexcept nogil:
    # only called for -MAX_EXP < f < MAX_EXP; the table has one spare entry for rounding at the top
    return <int>((f + MAX_EXP) * (SIGMOID_TABLE_SIZE / (2.0 * MAX_EXP)))


cdef inline float gradient(float f, bint positive, float alpha, double* loss) noexcept nogil:
    """(label - sigmoid(f)) * alpha for label 1 (positive) or 0, adding the example's loss
    (-log sigmoid(f), or -log(1 - sigmoid(f))) to loss[0]. One table index serves both; outside
    [-MAX_EXP, MAX_EXP] the gradient saturates and the loss is exact; NaN gives a NaN loss."""
    cdef int i
    if f > -MAX_EXP and f < MAX_EXP:
        i = _table_index(f)
        if positive:
            loss[0] -= LOG_SIGMOID_TABLE[i]
            return (1.0 - SIGMOID_TABLE[i]) * alpha
        loss[0] -= LOG_ONE_MINUS_SIGMOID_TABLE[i]
        return -SIGMOID_TABLE[i] * alpha
    if positive:
        loss[0] += log1p(exp(-<double>f))
        return alpha if not f >= MAX_EXP else 0.0
    loss[0] += log1p(exp(<double>f))
    return -alpha if f >= MAX_EXP else 0.0


cdef struct Tally:
    # what one thread counts, at the start of its memory block (summed after the parallel region)
    int64_t words                 # tokens kept after subsampling
    int64_t examples
    int64_t pending               # tokens trained since this thread last synced its first hot rows
    double loss
    long long next_item           # the next unclaimed item of this thread's part of the slice (atomic)
    long long part_end            # one past the last item of that part


cdef struct Job:
    # read-mostly arguments shared by all threads of one kernel call
    float* syn0
    float* syn1
    float* hot                    # this thread's copies of the first hot_rows rows of syn1 and syn0
    int hot_rows
    int dim
    int pad_dim                   # dim rounded up to whole cache lines: rows of the scratch matrices
    const int32_t* ids
    const int64_t* items          # [start, end) token positions, two per item
    const uint32_t* keep          # subsampling thresholds (see _sampling.keep_word)
    const uint64_t* noise_table      # packed alias table (see _sampling.pxd)
    uint32_t vocab_size
    int window
    int negative
    double alpha
    double alpha_slope            # learning rate falls by this much per corpus token
    double min_alpha
    int64_t position_base         # tokens of all previous epochs of this schedule
    uint64_t seed
    uint64_t epoch


cdef inline float* out_row(const Job* job, int32_t word) noexcept nogil:
    """The output row of ``word`` this thread reads and writes: its private copy for hot rows."""
    if word < job.hot_rows:
        return job.hot + <int64_t>word * job.dim
    return job.syn1 + <int64_t>word * job.dim


cdef inline float* in_row(const Job* job, int32_t word) noexcept nogil:
    """The input row of ``word`` this thread reads and writes: its private copy for hot rows."""
    if word < job.hot_rows:
        return job.hot + <int64_t>(job.hot_rows + word) * job.dim
    return job.syn0 + <int64_t>word * job.dim


cdef inline void async_pull(const Job* job, float* hot, int64_t rows, int64_t hot_size) noexcept nogil:
    """Copy the first ``rows`` rows of syn1 and syn0 into this thread's copies and snapshots.
    Layout of ``hot``: syn1 copy, syn0 copy (hot_rows x dim each: hot_size floats), then the
    snapshots of the first hot_async rows of syn1 and of syn0."""
    cdef int64_t size = rows * job.dim
    cdef float* snap = hot + 2 * hot_size
    memcpy(hot, job.syn1, size * sizeof(float))
    memcpy(hot + hot_size, job.syn0, size * sizeof(float))
    # the snapshot from the copy, not from the shared rows a second time: another thread's
    # push landing between two reads of them would be subtracted by this thread's next push
    memcpy(snap, hot, size * sizeof(float))
    memcpy(snap + size, hot + hot_size, size * sizeof(float))


cdef inline void async_push(const Job* job, const float* hot, int64_t rows, int64_t hot_size) noexcept nogil:
    """Add this thread's change of the first ``rows`` rows (copy - snapshot) to syn1 and syn0 (Hogwild)."""
    cdef int64_t i, size = rows * job.dim
    cdef const float* snap = hot + 2 * hot_size
    for i in range(size):
        job.syn1[i] += hot[i] - snap[i]
    for i in range(size):
        job.syn0[i] += hot[hot_size + i] - snap[size + i]


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
        fv_check(0 <= w < <int64_t>job.vocab_size, "word id out of range")
        if keep_word(rng, job.keep[w]):
            buf[n] = w
            n += 1
    return n


cdef enum:
    MODE_SG = 0              # skip-gram, noise words per (centre, context) pair: word2vec.c
    MODE_CBOW = 1            # CBOW, noise words per centre word: word2vec.c
    MODE_SG_BATCHED = 2      # skip-gram, noise words shared by a window, sgemm (HogBatch)
    MODE_CBOW_BATCHED = 3    # CBOW, noise words shared by a group of centre words, sgemm
    MAX_GROUP = 16


cdef struct Plan:
    # The random decisions for one step (one centre word, or a group of them for batched CBOW),
    # drawn before the step runs so that its rows are prefetched while the previous step trains
    # (its noise rows once the previous step has read its own: see prefetch_noise_rows).
    int first               # position of the first centre word in the subsampled buffer
    int count               # centre words in this step
    int lo[MAX_GROUP]       # contexts of centre first + b are [lo[b], hi[b]) without first + b
    int hi[MAX_GROUP]
    int32_t* negatives      # noise words: `negative` per example (classic) or per step (batched)
    int n_negatives


cdef inline void prefetch_row(const float* row, int dim) noexcept nogil:
    cdef int offset
    # (read prefetches: PREFETCHW, although every row a step reads it also writes, made classic
    # CBOW 2-3% slower on one and two threads and skip-gram no faster)
    for offset in range(0, dim, 16):  # one 64-byte line per 16 floats
        fv_prefetch(row + offset)
    fv_prefetch(row + dim - 1)        # the last line, when the row does not start on one


cdef inline void make_plan(const Job* job, const int32_t* buf, int n, int first, int mode, int group,
                           uint64_t* rng, Plan* plan) noexcept nogil:
    """Draw, in the reference's RNG order, the window reach of each centre word of the step and
    then its noise words, and prefetch the rows of its centre words and of the words its windows
    gain (the noise words' rows are prefetched later, see :func:`prefetch_noise_rows`)."""
    cdef int b, e, reach, pairs = 0, dim = job.dim
    plan.first = first
    plan.count = group if mode == MODE_CBOW_BATCHED else 1
    if plan.count > n - first:
        plan.count = n - first
    for b in range(plan.count):
        reach = job.window - <int>rng_below(rng, <uint32_t>job.window)
        plan.lo[b] = first + b - reach if first + b >= reach else 0
        plan.hi[b] = first + b + reach + 1 if first + b + reach + 1 <= n else n
        fv_check(0 <= plan.lo[b] <= first + b < plan.hi[b] <= n, "window outside the item")
        pairs += plan.hi[b] - plan.lo[b] - 1
        prefetch_row(out_row(job, buf[first + b]), dim)
        # the window slides by one word: only its right end is new (the rest is in cache)
        prefetch_row(in_row(job, buf[plan.hi[b] - 1]), dim)
    if pairs == 0:
        plan.n_negatives = 0
    elif mode == MODE_SG:
        plan.n_negatives = pairs * job.negative
    else:
        plan.n_negatives = job.negative
    for e in range(plan.n_negatives):
        plan.negatives[e] = draw_alias(rng_next(rng), job.noise_table, job.vocab_size)
        fv_check(0 <= plan.negatives[e] < <int64_t>job.vocab_size, "noise word out of range")


cdef inline void prefetch_noise_rows(const Job* job, const Plan* plan) noexcept nogil:
    """Prefetch the output rows of ``plan``'s noise words (NULL: none). Each step calls this for
    the next step once it has read its own rows (batched kernels: gathered them; classic CBOW:
    summed the context; classic skip-gram: trained its first pair), not when the next plan is
    drawn, before the current step's reads: there they competed with those reads, and an epoch
    was 3-9% slower on one thread and on two (benchmarks/RESULTS.md, "Scaling", item 16)."""
    cdef int e
    if plan == NULL:
        return
    for e in range(plan.n_negatives):
        prefetch_row(out_row(job, plan.negatives[e]), job.dim)


cdef inline double negative_sampling(const Job* job, const float* hidden, int32_t positive,
                                     const int32_t* negatives, float alpha, float* grad) noexcept nogil:
    """One positive and `negative` noise targets against `hidden` (word2vec.c order); noise words
    equal to the positive are skipped.

    Updates the output rows in place (Hogwild) and accumulates the gradient for `hidden`
    into `grad`. Returns the loss -log s(u_o.h) - sum log s(-u_k.h)."""
    cdef int d, dim = job.dim
    cdef int32_t target
    cdef float g
    cdef float* row
    cdef double loss = 0.0
    for d in range(job.negative + 1):
        if d == 0:
            target = positive
        else:
            target = negatives[d - 1]
            if target == positive:
                continue
        row = out_row(job, target)
        g = gradient(dot(hidden, row, dim), d == 0, alpha, &loss)
        axpy(g, row, grad, dim)
        axpy(g, hidden, row, dim)
    return loss


cdef double sg_step(const Job* job, const int32_t* buf, const Plan* plan, const Plan* next_plan,
                    float alpha, float* grad, int64_t* examples) noexcept nogil:
    """Classic skip-gram for one centre word: each context word's input vector predicts the centre."""
    cdef int j, e = 0, dim = job.dim, centre = plan.first
    cdef float* hidden
    cdef double loss = 0.0
    for j in range(plan.lo[0], plan.hi[0]):
        if j == centre:
            continue
        hidden = in_row(job, buf[j])
        zero(grad, dim)
        loss += negative_sampling(job, hidden, buf[centre], plan.negatives + e * job.negative, alpha, grad)
        add(grad, hidden, dim)
        e += 1
        if e == 1:
            prefetch_noise_rows(job, next_plan)
    if e == 0:
        prefetch_noise_rows(job, next_plan)
    examples[0] += e
    return loss


cdef inline void context_mean(const Job* job, const int32_t* buf, int lo, int hi, int centre,
                              float* hidden) noexcept nogil:
    cdef int j, dim = job.dim
    zero(hidden, dim)
    for j in range(lo, hi):
        if j != centre:
            add(in_row(job, buf[j]), hidden, dim)
    scale(1.0 / (hi - lo - 1), hidden, dim)


cdef inline void add_to_contexts(const Job* job, const int32_t* buf, int lo, int hi, int centre,
                                 const float* grad) noexcept nogil:
    cdef int j, dim = job.dim
    for j in range(lo, hi):
        if j != centre:
            add(grad, in_row(job, buf[j]), dim)


cdef double cbow_step(const Job* job, const int32_t* buf, const Plan* plan, const Plan* next_plan,
                      float alpha, float* hidden, float* grad, int64_t* examples) noexcept nogil:
    """Classic CBOW for one centre word: the mean of the context vectors predicts the centre; the
    error is added unscaled to every context vector (as word2vec.c and gensim do)."""
    cdef int centre = plan.first
    cdef double loss
    if plan.hi[0] - plan.lo[0] <= 1:
        prefetch_noise_rows(job, next_plan)
        return 0.0
    context_mean(job, buf, plan.lo[0], plan.hi[0], centre, hidden)
    prefetch_noise_rows(job, next_plan)
    zero(grad, job.dim)
    loss = negative_sampling(job, hidden, buf[centre], plan.negatives, alpha, grad)
    add_to_contexts(job, buf, plan.lo[0], plan.hi[0], centre, grad)
    examples[0] += 1
    return loss


cdef inline double score_gradients(float* scores, int rows, int cols, int positive_col, float alpha,
                                   const int32_t* mask_words, const int32_t* positives,
                                   int mask_offset) noexcept nogil:
    """Turn a rows x cols score matrix into gradients (label - sigmoid) * alpha in place and return
    the loss. Column positive_col (if >= 0) has label 1, the others 0; a noise word equal to the
    row's positive word (mask_words[col - mask_offset] == positives[row]) gets no gradient."""
    cdef int r, c
    cdef double loss = 0.0
    for r in range(rows):
        for c in range(cols):
            if c != positive_col and mask_words[c - mask_offset] == positives[r]:
                scores[r * cols + c] = 0.0
            else:
                scores[r * cols + c] = gradient(scores[r * cols + c], c == positive_col, alpha, &loss)
    return loss


cdef inline int _pad_floats(int n) noexcept nogil:
    """``n`` rounded up to whole 64-byte lines (16 floats). Scratch vectors and matrices have rows
    of pad_dim = _pad_floats(dim) floats, the padding zero (nothing writes it but sgemm, which
    computes zeros there): for dim = 100 OpenBLAS's sgemm took 9% longer per skip-gram epoch on
    100-float rows than on 112 (benchmarks/RESULTS.md, "Scaling")."""
    return (n + 15) // 16 * 16


cdef double sg_batched_step(const Job* job, const int32_t* buf, const Plan* plan, const Plan* next_plan,
                            float alpha, float* scratch, int64_t* examples) noexcept nogil:
    """Skip-gram for one centre word, its k noise words shared by all its m context words
    (HogBatch, Ji et al. 2016). C (m x dim): the context input rows; T ((k+1) x dim): the output
    rows of the centre word and the noise words. With S = C T' and G = (labels - sigmoid(S)) alpha,
    C += G T and T += G' C, both from the values before this step: three sgemm calls on rows
    gathered into contiguous scratch, whose rows are padded with zeros to pad_dim (see
    :func:`_pad_floats`). ``next_plan`` (or NULL): the next step, whose noise rows are
    prefetched once this step's rows are gathered."""
    cdef int m = plan.hi[0] - plan.lo[0] - 1
    cdef int dim = job.dim, pd = job.pad_dim, k = plan.n_negatives, t, j, c, centre = plan.first
    cdef int32_t centre_word = buf[centre]
    cdef double loss
    cdef float* C = scratch                       # m x pd
    cdef float* T = C + 2 * job.window * pd       # (k + 1) x pd: centre word, then noise words
    cdef float* S = T + (job.negative + 1) * pd   # m x (k + 1) scores, then gradients
    cdef float* dC = S + _pad_floats(2 * job.window * (job.negative + 1))
    cdef float* dT = dC + 2 * job.window * pd
    cdef int32_t positives[2000]
    if m <= 0:
        prefetch_noise_rows(job, next_plan)
        return 0.0
    memcpy(T, out_row(job, centre_word), dim * sizeof(float))
    for t in range(k):
        memcpy(T + (t + 1) * pd, out_row(job, plan.negatives[t]), dim * sizeof(float))
    c = 0
    for j in range(plan.lo[0], plan.hi[0]):
        if j != centre:
            memcpy(C + c * pd, in_row(job, buf[j]), dim * sizeof(float))
            positives[c] = centre_word
            c += 1
    prefetch_noise_rows(job, next_plan)
    gemm_nt(m, k + 1, pd, 1.0, C, T, 0.0, S)
    loss = score_gradients(S, m, k + 1, 0, alpha, plan.negatives, positives, 1)
    gemm_nn(m, pd, k + 1, 1.0, S, T, 0.0, dC)
    gemm_tn(k + 1, pd, m, 1.0, S, C, 0.0, dT)
    add(dT, out_row(job, centre_word), dim)
    for t in range(k):
        add(dT + (t + 1) * pd, out_row(job, plan.negatives[t]), dim)
    c = 0
    for j in range(plan.lo[0], plan.hi[0]):
        if j != centre:
            add(dC + c * pd, in_row(job, buf[j]), dim)
            c += 1
    examples[0] += m
    return loss


cdef double cbow_batched_step(const Job* job, const int32_t* buf, const Plan* plan, const Plan* next_plan,
                              float alpha, float* scratch, int64_t* examples) noexcept nogil:
    """CBOW for a group of up to MAX_GROUP consecutive centre words sharing k noise words.
    H (g x dim): the context means; N (k x dim): the noise output rows. Positive scores are g
    dots; S = H N' is one sgemm; then dH = G N (+ the positive terms), N += G' H, and every
    context row of centre b gets dH_b unscaled (as classic CBOW), all from the values before
    this step."""
    cdef int dim = job.dim, pd = job.pad_dim, k = plan.n_negatives, g = 0, b, t, centre
    cdef float gp
    cdef double loss = 0.0
    cdef float* H = scratch                          # g x pd (rows padded with zeros, as in sg_batched_step)
    cdef float* N = H + MAX_GROUP * pd               # k x pd
    cdef float* S = N + job.negative * pd            # g x k
    cdef float* dH = S + _pad_floats(MAX_GROUP * job.negative)  # g x pd
    cdef float* dN = dH + MAX_GROUP * pd             # k x pd
    cdef int32_t positives[MAX_GROUP]
    cdef int slot[MAX_GROUP]
    for b in range(plan.count):
        if plan.hi[b] - plan.lo[b] > 1:
            context_mean(job, buf, plan.lo[b], plan.hi[b], plan.first + b, H + g * pd)
            positives[g] = buf[plan.first + b]
            slot[g] = b
            g += 1
    if g == 0:
        prefetch_noise_rows(job, next_plan)
        return 0.0
    for t in range(k):
        memcpy(N + t * pd, out_row(job, plan.negatives[t]), dim * sizeof(float))
    prefetch_noise_rows(job, next_plan)
    gemm_nt(g, k, pd, 1.0, H, N, 0.0, S)
    loss = score_gradients(S, g, k, -1, alpha, plan.negatives, positives, 0)
    gemm_nn(g, pd, k, 1.0, S, N, 0.0, dH)
    gemm_tn(k, pd, g, 1.0, S, H, 0.0, dN)
    for b in range(g):  # positive terms, one dot each: row b of H against its own centre word
        gp = gradient(dot(H + b * pd, out_row(job, positives[b]), dim), True, alpha, &loss)
        axpy(gp, out_row(job, positives[b]), dH + b * pd, dim)
        axpy(gp, H + b * pd, out_row(job, positives[b]), dim)
    for t in range(k):
        add(dN + t * pd, out_row(job, plan.negatives[t]), dim)
    for b in range(g):
        centre = plan.first + slot[b]
        add_to_contexts(job, buf, plan.lo[slot[b]], plan.hi[slot[b]], centre, dH + b * pd)
    examples[0] += g
    return loss


cdef double train_item(const Job* shared, int64_t item, int mode, int group, int32_t* buf, int32_t* negatives,
                       float* scratch, float* hot, int64_t* words, int64_t* examples) noexcept nogil:
    """One work item, software-pipelined by one step: the plan (and prefetches) for step s+1 are
    made before step s is trained, and step s prefetches the noise rows of step s+1. RNG order:
    subsampling draws for the item, then per step the reaches of its centre words and then its
    noise words. ``hot``: this thread's copies of the hot rows of syn1 and syn0 (see the top of
    this file)."""
    cdef Job local = shared[0]
    cdef Job* job = &local
    cdef uint64_t rng = rng_for_item(job.seed, job.epoch, <uint64_t>item)
    cdef int n = subsample_item(job, item, &rng, buf)
    cdef int step = group if mode == MODE_CBOW_BATCHED else 1
    cdef int first, cur = 0, span = 2 * job.window * job.negative + job.negative
    cdef float alpha = item_alpha(job, item)
    cdef double loss = 0.0
    cdef Plan plans[2]
    cdef Plan* following
    if n == 0:
        return 0.0
    local.hot = hot
    plans[0].negatives = negatives
    plans[1].negatives = negatives + span
    make_plan(job, buf, n, 0, mode, group, &rng, &plans[0])
    prefetch_noise_rows(job, &plans[0])
    first = 0
    while first < n:
        following = NULL
        if first + step < n:
            following = &plans[1 - cur]
            make_plan(job, buf, n, first + step, mode, group, &rng, following)
        if mode == MODE_SG:
            loss += sg_step(job, buf, &plans[cur], following, alpha, scratch, examples)
        elif mode == MODE_CBOW:
            loss += cbow_step(job, buf, &plans[cur], following, alpha, scratch, scratch + job.pad_dim, examples)
        elif mode == MODE_SG_BATCHED:
            loss += sg_batched_step(job, buf, &plans[cur], following, alpha, scratch, examples)
        else:
            loss += cbow_batched_step(job, buf, &plans[cur], following, alpha, scratch, examples)
        cur = 1 - cur
        first += step
    words[0] += n
    return loss


cdef inline Py_ssize_t _round_up(Py_ssize_t n, Py_ssize_t multiple) noexcept nogil:
    return (n + multiple - 1) // multiple * multiple


cdef enum:
    SYNC_CHUNK = 2048         # floats the hot-row reduction merges at a time (fits L1 for 2-4 threads)


cdef void reduce_hot(float* shared, float** copies, int n_copies, int64_t lo, int64_t hi) noexcept nogil:
    """Merge elements [lo, hi) of the threads' copies into ``shared`` and back into every copy:
    shared = copies[0] + sum over t >= 1 of (copies[t] - shared). Chunked so that the three
    passes over a chunk hit L1."""
    cdef int64_t a, b, i
    cdef int t
    cdef float* first = copies[0]
    cdef float* other
    a = lo
    while a < hi:
        b = a + SYNC_CHUNK if a + SYNC_CHUNK < hi else hi
        for t in range(1, n_copies):
            other = copies[t]
            for i in range(a, b):
                first[i] += other[i] - shared[i]
        memcpy(shared + a, first + a, (b - a) * sizeof(float))
        for t in range(1, n_copies):
            memcpy(copies[t] + a, first + a, (b - a) * sizeof(float))
        a = b


cdef inline int kernel_mode(bint cbow, bint batched) noexcept:
    if cbow:
        return MODE_CBOW_BATCHED if batched else MODE_CBOW
    return MODE_SG_BATCHED if batched else MODE_SG


cdef class Workspace:
    """The memory the threads of a training run write besides the weights, kept across kernel
    calls: one page-aligned block per thread with its tallies, token buffer, noise words,
    scratch matrices and, with ``hot_rows > 0``, its private copies of the hot rows of syn1 and
    syn0 (see the top of this file): the first ``hot_async`` of them synced by each thread
    every ``sync_tokens`` tokens it trains and at the end of each call, the others merged by
    :meth:`sync`.

    The first :func:`train_slice` call with this workspace copies the shared hot rows in;
    :meth:`sync` merges the threads' copies into the weights. Until ``sync(...,
    release=True)`` the weights' hot rows lack the changes made since the last sync, so the
    caller syncs before it reads or writes the weights (end of an epoch, interruption).
    ``max_len``: the longest work item (tokens) any call will train. A workspace serves one
    call at a time (it is the threads' scratch memory)."""
    cdef object _arena_arr
    cdef unsigned char* arena
    cdef object _pulled_arr
    cdef unsigned char* pulled  # per thread: its copy holds the hot rows (taken since the last release)
    cdef readonly int n_threads, hot_rows, hot_async, dim, mode, group, window, negative
    cdef readonly Py_ssize_t max_len
    cdef readonly int64_t sync_tokens
    cdef Py_ssize_t block, off_buf, off_neg, off_vec, off_hot
    cdef int pad_dim
    cdef bint _live
    cdef bint _dirty            # a call has trained since the last merge
    cdef float* syn0
    cdef float* syn1

    def __init__(self, *, bint cbow, bint batched, int group, int dim, int window, int negative, int n_threads,
                 Py_ssize_t max_len, int hot_rows=0, int hot_async=0, int64_t sync_tokens=0):
        cdef Py_ssize_t scratch, span, pd
        if dim < 1 or n_threads < 1 or max_len < 1 or hot_rows < 0:
            raise ValueError("dim, n_threads and max_len must be >= 1 and hot_rows >= 0")
        if not 0 <= hot_async <= hot_rows:
            raise ValueError("hot_async must be in [0, hot_rows]")
        if hot_async > 0 and sync_tokens < 1:
            raise ValueError("sync_tokens must be >= 1 with hot_async rows")
        if window < 1 or window > 1000 or negative < 0 or negative > 1000:
            raise ValueError("window must be in [1, 1000] and negative in [0, 1000]")
        self.mode = kernel_mode(cbow, batched)
        if self.mode == MODE_CBOW_BATCHED and not 1 <= group <= MAX_GROUP:
            raise ValueError(f"group must be in [1, {MAX_GROUP}]")
        self.group = group if self.mode == MODE_CBOW_BATCHED else 1
        self.dim, self.window, self.negative = dim, window, negative
        self.n_threads, self.hot_rows, self.max_len = n_threads, hot_rows, max_len
        self.hot_async, self.sync_tokens = hot_async, sync_tokens
        # per-thread scratch floats, in rows of pd floats (whole cache lines)
        pd = self.pad_dim = _pad_floats(dim)
        if self.mode == MODE_SG_BATCHED:    # C, dC: 2 window x pd; T, dT: (k + 1) x pd; S: 2 window x (k + 1)
            scratch = (4 * window + 2 * (negative + 1)) * pd + _pad_floats(2 * window * (negative + 1))
        elif self.mode == MODE_CBOW_BATCHED:  # H, dH: group x pd; N, dN: k x pd; S: group x k
            scratch = (2 * MAX_GROUP + 2 * negative) * pd + _pad_floats(MAX_GROUP * negative)
        else:                               # hidden and grad
            scratch = 2 * pd
        span = 2 * window * negative + negative
        # Everything a thread writes lives in its own block of memory (a multiple of 4 KiB at a
        # 4 KiB-aligned address). Rows of shared arrays padded to one cache line were not
        # enough: Intel's L2 fetches lines in aligned 128-byte pairs, and one thread writing
        # near the end of its row slowed the other down (benchmarks/RESULTS.md, "Scaling").
        self.off_buf = _round_up(sizeof(Tally), THREAD_ALIGN)
        self.off_neg = self.off_buf + _round_up(max_len * sizeof(int32_t), THREAD_ALIGN)
        self.off_vec = self.off_neg + _round_up(2 * span * sizeof(int32_t), THREAD_ALIGN)
        self.off_hot = self.off_vec + _round_up(scratch * sizeof(float), THREAD_ALIGN)
        self.block = _round_up(self.off_hot + 2 * <Py_ssize_t>(hot_rows + hot_async) * dim * sizeof(float), 4096)
        self._arena_arr = np.zeros(n_threads * self.block + 4096, dtype=np.uint8)
        cdef unsigned char[::1] view = self._arena_arr
        self.arena = &view[0]
        self.arena += (4096 - <uintptr_t>self.arena % 4096) % 4096
        self._pulled_arr = np.zeros(n_threads, dtype=np.uint8)
        cdef unsigned char[::1] flags = self._pulled_arr
        self.pulled = &flags[0]
        self._live = False
        self._dirty = False

    @property
    def live(self) -> bool:
        """True while the threads' hot-row copies may hold changes the weights lack."""
        return bool(self._live)

    cdef inline float* copy_of(self, int thread) noexcept nogil:
        return <float*>(self.arena + thread * self.block + self.off_hot)

    def hot_copies(self):
        """The threads' copies of the hot rows as an array view (n_threads, 2, hot_rows, dim):
        [t, 0] rows of syn1, [t, 1] rows of syn0 (for tests and inspection)."""
        cdef Py_ssize_t start = <Py_ssize_t>(self.arena - <unsigned char*><uintptr_t>self._arena_arr.ctypes.data)
        return np.ndarray((self.n_threads, 2, self.hot_rows, self.dim), dtype=np.float32, buffer=self._arena_arr,
                          offset=start + self.off_hot,
                          strides=(self.block, self.hot_rows * self.dim * 4, self.dim * 4, 4))

    cdef void _check_weights(self, float[:, ::1] syn0, float[:, ::1] syn1) except *:
        if syn0.shape[1] != self.dim or syn1.shape[1] != self.dim or syn0.shape[0] != syn1.shape[0]:
            raise ValueError(f"syn0 and syn1 must both have shape (n, {self.dim})")
        if self.hot_rows > syn1.shape[0]:
            raise ValueError("hot_rows must be in [0, vocabulary size]")
        if self._live and (&syn0[0, 0] != self.syn0 or &syn1[0, 0] != self.syn1):
            raise ValueError("the workspace holds hot rows of other weight arrays: sync it with those first")

    def sync(self, float[:, ::1] syn0 not None, float[:, ::1] syn1 not None, *, bint release=False) -> None:
        """Merge the threads' copies of hot rows hot_async..hot_rows-1 into syn0 and syn1 (the
        arrays the copies were taken from) and reset every copy to the merged rows (the first
        hot_async rows are synced by the kernel calls themselves); ``release=True`` also lets
        go of the copies, so that the next call takes fresh ones. The merge is skipped when no
        call has trained since the last one; a no-op without live copies."""
        if not self._live:
            return
        self._check_weights(syn0, syn1)
        if not self._dirty:
            if release:
                self._live = False
            return
        cdef int64_t n = <int64_t>self.hot_rows * self.dim, first = <int64_t>self.hot_async * self.dim
        cdef int T = self.n_threads, P = 0, share, t
        cdef int64_t lo, hi
        # the copies that were taken (a thread OpenMP did not start has none to merge), of syn1
        # rows, then of syn0 rows (which follow them in each block)
        pointers = np.empty(2 * T, dtype=np.uintp)
        cdef uintptr_t[::1] ptr_view = pointers
        for t in range(T):
            if self.pulled[t]:
                ptr_view[P] = <uintptr_t>self.copy_of(t)
                ptr_view[T + P] = <uintptr_t>(self.copy_of(t) + n)
                P += 1
        cdef float** copies = <float**>&ptr_view[0]
        cdef float** copies0 = copies + T
        # T shares of both matrices, cut at cache-line multiples; a loop, so that every share
        # is merged whatever team OpenMP starts
        for share in prange(T, nogil=True, num_threads=T, schedule="static"):
            lo = first + _round_up((n - first) * share // T, 16)
            hi = first + _round_up((n - first) * (share + 1) // T, 16) if share + 1 < T else n
            if lo > n:
                lo = n
            if hi > n:
                hi = n
            if lo < hi and P > 0:
                reduce_hot(self.syn1, copies, P, lo, hi)
                reduce_hot(self.syn0, copies0, P, lo, hi)
        self._dirty = False
        if release:
            self._live = False


def train_slice(*, bint cbow, bint batched, int group, float[:, ::1] syn0, float[:, ::1] syn1,
                const int32_t[::1] ids, const int64_t[:, ::1] items, Py_ssize_t first_item, Py_ssize_t last_item,
                const uint32_t[::1] keep_threshold, const uint64_t[::1] noise_table, int window, int negative, double alpha,
                double alpha_slope, double min_alpha, int64_t position_base, uint64_t seed,
                uint64_t epoch, int n_threads, Workspace workspace=None, int hot_rows=0):
    """Train on work items [first_item, last_item) of one epoch.

    All arguments are validated by the caller (fastvec.word2vec); this function trusts
    ids < vocabulary size, item bounds inside ``ids``, 1 <= window, 0 <= negative (scratch
    memory per thread grows with window * negative). ``workspace``: the threads' memory, kept
    across calls (see :class:`Workspace`; its settings must match these arguments); without
    one, the call makes its own with ``hot_rows`` hot rows and syncs them at the end.

    Returns (words kept after subsampling, training examples, summed loss)."""
    cdef Job job
    cdef Py_ssize_t k, max_len = 1
    cdef int tid, dim = syn0.shape[1]
    cdef double item_loss
    cdef int mode = kernel_mode(cbow, batched)
    cdef bint own = workspace is None
    if not 0 <= first_item <= last_item <= items.shape[0] or items.shape[1] != 2:
        raise ValueError("work items out of range")
    for k in range(first_item, last_item):
        if items[k, 1] - items[k, 0] > max_len:
            max_len = items[k, 1] - items[k, 0]
    # the settings are validated by the Workspace (made here or checked against the call's)
    if own:
        workspace = Workspace(cbow=cbow, batched=batched, group=group, dim=dim, window=window, negative=negative,
                              n_threads=n_threads, max_len=max_len, hot_rows=hot_rows)
    elif hot_rows != 0:
        raise ValueError("hot_rows is a setting of the workspace")
    if (workspace.mode != mode or workspace.dim != dim or workspace.window != window
            or workspace.negative != negative or workspace.n_threads != n_threads
            or (mode == MODE_CBOW_BATCHED and workspace.group != group)):
        raise ValueError("the workspace was made for other kernel settings")
    if max_len > workspace.max_len:
        raise ValueError(f"a work item of {max_len} tokens is longer than the workspace's max_len")
    workspace._check_weights(syn0, syn1)
    if noise_table.shape[0] != syn0.shape[0] or keep_threshold.shape[0] != syn0.shape[0]:
        raise ValueError("noise_table and keep_threshold need one entry per row of the weights")
    if last_item <= first_item:
        return 0, 0, 0.0
    cdef Workspace ws = workspace
    cdef bint fresh = ws.hot_rows > 0 and not ws._live
    cdef unsigned char* pulled = ws.pulled
    if fresh:  # every thread takes a copy of the hot rows when it first runs
        memset(pulled, 0, n_threads)
    cdef int64_t hot_size = <int64_t>ws.hot_rows * dim
    cdef int64_t hot_async = ws.hot_async, sync_tokens = ws.sync_tokens
    cdef Py_ssize_t block = ws.block, off_buf = ws.off_buf, off_neg = ws.off_neg, off_vec = ws.off_vec
    cdef unsigned char* arena = ws.arena
    for k in range(n_threads):     # tallies and scratch; the hot rows are pulled or kept
        memset(arena + k * block, 0, ws.off_hot)
    cdef unsigned char* mine
    cdef Tally* tally
    cdef float* hot

    job.syn0 = &syn0[0, 0]
    job.syn1 = &syn1[0, 0]
    job.hot = NULL
    job.hot_rows = ws.hot_rows
    job.dim = dim
    job.pad_dim = ws.pad_dim
    job.ids = &ids[0]
    job.items = &items[0, 0]
    job.keep = &keep_threshold[0]
    job.noise_table = &noise_table[0]
    job.vocab_size = <uint32_t>noise_table.shape[0]
    job.window = window
    job.negative = negative
    job.alpha = alpha
    job.alpha_slope = alpha_slope
    job.min_alpha = min_alpha
    job.position_base = position_base
    job.seed = seed
    job.epoch = epoch

    # Split the slice into n_threads parts of about equal token counts, one per thread: each
    # thread trains its own part in corpus order, then helps finish the others, claiming their
    # next items through the parts' atomic counters (in its own tally). Threads thus train
    # places far apart in the corpus at any moment (neighbouring items are pieces of the same
    # article: trained side by side, they write the same topical words' rows from both cores at
    # once, true sharing, and push the threads' hot-row copies the same way), and the wait at the
    # end of the call is at most one item. With one thread the order is the corpus order.
    cdef int64_t total_tokens = items[last_item - 1, 1] - items[first_item, 0]
    cdef int64_t start_token = items[first_item, 0]
    cdef Py_ssize_t item = first_item
    cdef int q
    for q in range(n_threads):
        tally = <Tally*>(arena + q * block)
        tally.next_item = item
        while item < last_item and (items[item, 0] - start_token) * n_threads < total_tokens * (q + 1):
            item += 1
        if q == n_threads - 1:
            item = last_item
        tally.part_end = item
    cdef int j
    cdef Tally* other
    # Cython hands the block these values (firstprivate); each thread sets its own first
    tid = 0
    mine = arena
    tally = NULL
    other = NULL
    hot = NULL
    q = 0
    with nogil, parallel(num_threads=n_threads):
        tid = threadid()
        mine = arena + tid * block
        tally = <Tally*>mine
        hot = ws.copy_of(tid)
        if hot_size > 0 and not pulled[tid]:
            memcpy(hot, job.syn1, hot_size * sizeof(float))
            memcpy(hot + hot_size, job.syn0, hot_size * sizeof(float))
            pulled[tid] = 1
        if hot_async > 0:
            async_pull(&job, hot, hot_async, hot_size)
        for j in range(n_threads):
            q = (tid + j) % n_threads
            other = <Tally*>(arena + q * block)
            while True:
                item = <Py_ssize_t>fv_fetch_add(&other.next_item, 1)
                if item >= other.part_end:
                    break
                item_loss = train_item(&job, item, mode, group, <int32_t*>(mine + off_buf),
                                       <int32_t*>(mine + off_neg), <float*>(mine + off_vec), hot,
                                       &tally.words, &tally.examples)
                tally.loss += item_loss
                if hot_async > 0:
                    tally.pending += items[item, 1] - items[item, 0]
                    if tally.pending >= sync_tokens:
                        async_push(&job, hot, hot_async, hot_size)
                        async_pull(&job, hot, hot_async, hot_size)
                        tally.pending = 0
        if hot_async > 0:
            async_push(&job, hot, hot_async, hot_size)
    if fresh:
        ws._live = True
        ws.syn0 = job.syn0
        ws.syn1 = job.syn1
    ws._dirty = ws._live
    if own:
        ws.sync(syn0, syn1, release=True)
    cdef int64_t total_words = 0, total_examples = 0
    cdef double total_loss = 0.0
    for tid in range(n_threads):
        tally = <Tally*>(arena + tid * block)
        total_words += tally.words
        total_examples += tally.examples
        total_loss += tally.loss
    return int(total_words), int(total_examples), float(total_loss)
