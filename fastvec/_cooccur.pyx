# Co-occurrence counting kernels. The algorithm and its guarantees are described in
# fastvec/cooccurrence.py, which validates every argument before calling in here.
#
# Rows are independent: row w of X is built by ONE thread, from the positions where w occurs
# (an inverted index of the corpus segment, built by `build_index`), by adding the weight of
# every context word into a thread-owned dense accumulator (a "sparse accumulator", Gilbert,
# Moler & Schreiber 1992) and then emitting the touched columns in increasing order. Threads
# therefore never write the same memory: no locks, no atomics, no merge on the hot path.
#
# Values are unsigned 64-bit fixed-point numbers (the weight of distance d is one integer
# `units[d]`), so sums are exact: the result does not depend on the order of additions, on the
# number of threads, or on how the corpus was cut into segments and merged again.
#
# Every function runs in two modes over the same rows: count (`row_nnz` given: distinct columns
# per row) and fill (`out_*` given: write the sorted row into arrays the caller sized from the
# counts). The NumPy twin used by the tests is fastvec/_reference_glove.py.

import numpy as np

from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cython.parallel cimport prange, threadid
from libc.stdint cimport int32_t, int64_t, uint64_t

cdef extern from "_fv_bits.h" nogil:
    int fv_ctz64(uint64_t x) noexcept

cdef extern from "_fv_platform.h" nogil:
    void fv_prefetch(const void* p) noexcept
    const int FV_DEBUG
    void fv_check(int ok, const char* what) noexcept

cdef enum:
    SMALL_SORT = 24          # insertion sort below this many elements
    PREFETCH_AHEAD = 8       # occurrences whose context windows are fetched ahead
    ERROR_STRIDE = 8         # one cache line of int64 flags per thread


cdef struct Scratch:
    uint64_t* acc            # one accumulator per column, zero between rows
    uint64_t* bits           # one bit per column: touched in this row
    int32_t* touched         # the touched columns, in first-touch order; touched_cap entries
    int64_t n_touched
    int64_t touched_cap      # n_words + 1: touch() stores before it knows whether c is new
    int64_t n_words
    int64_t n_bitwords


cdef struct Segment:
    const int32_t* ids
    const int64_t* offsets   # sentence boundaries, n_sentences + 1 entries
    int64_t n_sentences
    int64_t first            # corpus position of positions[] value 0
    const int64_t* starts    # row w occurs at positions[starts[w]:starts[w + 1]]
    const int32_t* positions
    const uint64_t* units    # weight of distance d, d = 1..window
    int64_t window
    bint symmetric


cdef struct Partials:
    const int64_t* ptr       # (n_parts, n_rows + 1): part k holds row r in [ptr[k, r], ptr[k, r + 1])
    int64_t n_parts
    int64_t n_rows
    const int32_t* cols
    const uint64_t* vals


cdef struct Output:
    int64_t* row_nnz         # count mode
    const int64_t* ptr       # fill mode: row r goes to [ptr[r - row_first], ptr[r - row_first + 1])
    int32_t* cols
    float* f32               # final values (units * inv_scale), or
    uint64_t* u64            # exact partial sums
    double inv_scale
    int64_t row_first


# -- the sparse accumulator --------------------------------------------------------------------

cdef inline void touch(Scratch* s, int32_t c) noexcept nogil:
    # branch-free: a new column is recorded by always storing it and advancing only if new
    cdef uint64_t bit = (<uint64_t>1) << (c & 63)
    cdef uint64_t word = s.bits[c >> 6]
    # n_touched <= n_words, so the slot is in bounds even when the row has touched every
    # column already (hence n_words + 1 entries, not n_words)
    if FV_DEBUG:
        fv_check(s.n_touched < s.touched_cap, "cooccur touch: touched slot in bounds")
    s.touched[s.n_touched] = c
    s.n_touched += <int64_t>((word & bit) == 0)
    s.bits[c >> 6] = word | bit


cdef inline void add(Scratch* s, int32_t c, uint64_t value) noexcept nogil:
    touch(s, c)
    s.acc[c] += value


cdef void insertion_sort(int32_t* a, int64_t n) noexcept nogil:
    cdef int64_t i, j
    cdef int32_t v
    for i in range(1, n):
        v = a[i]
        j = i - 1
        while j >= 0 and a[j] > v:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v


cdef void sift_down(int32_t* a, int64_t root, int64_t n) noexcept nogil:
    cdef int64_t child
    cdef int32_t v
    while 2 * root + 1 < n:
        child = 2 * root + 1
        if child + 1 < n and a[child + 1] > a[child]:
            child += 1
        if a[root] >= a[child]:
            return
        v = a[root]
        a[root] = a[child]
        a[child] = v
        root = child


cdef void heap_sort(int32_t* a, int64_t n) noexcept nogil:
    cdef int64_t i
    cdef int32_t v
    i = n // 2 - 1
    while i >= 0:
        sift_down(a, i, n)
        i -= 1
    i = n - 1
    while i > 0:
        v = a[0]
        a[0] = a[i]
        a[i] = v
        sift_down(a, 0, i)
        i -= 1


cdef void sort_columns(int32_t* a, int64_t n, int depth) noexcept nogil:
    """Introsort: quicksort (median of three), heap sort when too deep, insertion sort when small."""
    cdef int64_t i, j, mid
    cdef int32_t pivot, v
    while n > SMALL_SORT:
        if depth == 0:
            heap_sort(a, n)
            return
        depth -= 1
        mid = n // 2
        # median of three into a[mid]
        if a[mid] < a[0]:
            v = a[mid]; a[mid] = a[0]; a[0] = v
        if a[n - 1] < a[0]:
            v = a[n - 1]; a[n - 1] = a[0]; a[0] = v
        if a[n - 1] < a[mid]:
            v = a[n - 1]; a[n - 1] = a[mid]; a[mid] = v
        pivot = a[mid]
        i = 0
        j = n - 1
        while True:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i >= j:
                break
            v = a[i]; a[i] = a[j]; a[j] = v
            i += 1
            j -= 1
        # a[0..j] <= pivot <= a[j+1..n); recurse into the smaller part, loop on the larger
        if j + 1 < n - j - 1:
            sort_columns(a, j + 1, depth)
            a = a + j + 1
            n = n - j - 1
        else:
            sort_columns(a + j + 1, n - j - 1, depth)
            n = j + 1
    insertion_sort(a, n)


cdef inline int log2_floor(int64_t n) noexcept nogil:
    cdef int k = 0
    while n > 1:
        n >>= 1
        k += 1
    return k


cdef inline void emit_column(Scratch* s, const Output* out, int64_t k, int32_t c) noexcept nogil:
    """Write column c of the current row as non-zero number k (scaled float32 or exact
    fixed-point sum) and clear its accumulator."""
    out.cols[k] = c
    if out.f32 != NULL:
        out.f32[k] = <float>(<double>s.acc[c] * out.inv_scale)
    else:
        out.u64[k] = s.acc[c]
    s.acc[c] = 0


cdef bint emit_row(Scratch* s, int64_t row, const Output* out) noexcept nogil:
    """Write the touched columns of this row in increasing order (fill mode) or their number
    (count mode), and leave the scratch zeroed. False if the row does not have the size the
    count pass gave it (cannot happen unless the inputs changed between the passes)."""
    cdef int64_t n = s.n_touched, i, k, word
    cdef int64_t base
    cdef uint64_t b
    cdef int32_t c
    s.n_touched = 0
    if out.row_nnz != NULL:
        out.row_nnz[row - out.row_first] = n
        for i in range(n):
            s.bits[s.touched[i] >> 6] = 0
        return True
    base = out.ptr[row - out.row_first]
    if out.ptr[row - out.row_first + 1] - base != n:
        for i in range(n):
            s.bits[s.touched[i] >> 6] = 0
            s.acc[s.touched[i]] = 0
        return False
    k = base
    if n * 16 < s.n_bitwords:
        # few columns: sorting them is cheaper than scanning the bitmap
        sort_columns(s.touched, n, 2 * log2_floor(n + 1))
        for i in range(n):
            c = s.touched[i]
            emit_column(s, out, k, c)
            s.bits[c >> 6] = 0
            k += 1
        return True
    for word in range(s.n_bitwords):
        b = s.bits[word]
        if b == 0:
            continue
        s.bits[word] = 0
        while b != 0:
            c = <int32_t>(word * 64 + fv_ctz64(b))
            b &= b - 1
            emit_column(s, out, k, c)
            k += 1
    return True


# -- sources of rows ---------------------------------------------------------------------------

cdef inline int64_t find_sentence(const int64_t* offsets, int64_t n_sentences, int64_t s,
                                  int64_t p) noexcept nogil:
    """The last sentence s' >= s with offsets[s'] <= p (galloping from s, then bisection).
    Positions of one row come in increasing order, so the search resumes where it stopped."""
    cdef int64_t step = 1, hi = s + 1, mid
    while hi < n_sentences and offsets[hi] <= p:
        s = hi
        step *= 2
        hi = s + step
    if hi > n_sentences:
        hi = n_sentences
    while hi - s > 1:
        mid = s + (hi - s) // 2
        if offsets[mid] <= p:
            s = mid
        else:
            hi = mid
    return s


cdef void accumulate_segment_row(const Segment* g, int64_t w, Scratch* s, bint values) noexcept nogil:
    """Add every context of every occurrence of word w in the segment to the scratch row."""
    cdef int64_t k, p, t, lo, hi, ahead, sentence = 0
    cdef int64_t end = g.starts[w + 1]
    cdef const int32_t* ids = g.ids
    cdef const uint64_t* units = g.units
    cdef const int32_t* window_start
    for k in range(g.starts[w], end):
        # the context windows are scattered over the corpus: fetch them a few occurrences early
        if k + PREFETCH_AHEAD < end:
            ahead = g.first + g.positions[k + PREFETCH_AHEAD]
            window_start = ids + (ahead - g.window if ahead >= g.window else 0)
            fv_prefetch(window_start)
            fv_prefetch(window_start + 16)
            fv_prefetch(window_start + 2 * g.window)
        p = g.first + g.positions[k]
        sentence = find_sentence(g.offsets, g.n_sentences, sentence, p)
        lo = p - g.window
        if lo < g.offsets[sentence]:
            lo = g.offsets[sentence]
        hi = p + g.window + 1
        if hi > g.offsets[sentence + 1]:
            hi = g.offsets[sentence + 1]
        if values:
            if g.symmetric:
                for t in range(lo, p):
                    add(s, ids[t], units[p - t])
            for t in range(p + 1, hi):
                add(s, ids[t], units[t - p])
        else:
            if g.symmetric:
                for t in range(lo, p):
                    touch(s, ids[t])
            for t in range(p + 1, hi):
                touch(s, ids[t])


cdef void accumulate_partial_row(const Partials* q, int64_t r, Scratch* s, bint values) noexcept nogil:
    """Add row r of every partial result to the scratch row."""
    cdef int64_t k, e, stride = q.n_rows + 1
    for k in range(q.n_parts):
        for e in range(q.ptr[k * stride + r], q.ptr[k * stride + r + 1]):
            if values:
                add(s, q.cols[e], q.vals[e])
            else:
                touch(s, q.cols[e])


# -- Python entry points -------------------------------------------------------------------------

def build_index(const int32_t[::1] ids, int64_t first, int64_t last, int64_t n_words):
    """Inverted index of positions [first, last): (starts int64[n_words + 1], positions int32),
    positions relative to ``first`` and increasing within each word. Caller guarantees
    0 <= ids < n_words and last - first < 2**31."""
    starts_arr = np.zeros(n_words + 1, dtype=np.int64)
    positions_arr = np.empty(last - first, dtype=np.int32)
    cdef int64_t[::1] starts = starts_arr
    cdef int32_t[::1] positions = positions_arr
    cdef int64_t p, w
    with nogil:
        for p in range(first, last):
            starts[ids[p] + 1] += 1
        for w in range(n_words):
            starts[w + 1] += starts[w]
        for p in range(first, last):
            w = ids[p]
            positions[starts[w]] = <int32_t>(p - first)
            starts[w] += 1
        # starts[w] now holds the end of row w: shift back by one row
        w = n_words
        while w > 0:
            starts[w] = starts[w - 1]
            w -= 1
        starts[0] = 0
    return starts_arr, positions_arr


cdef class _ScratchSet:
    """Per-thread scratch rows (kept alive for the duration of one kernel call)."""
    cdef object acc, bits, touched
    cdef Scratch* items
    cdef int n

    def __cinit__(self, int n_threads, int64_t n_words):
        cdef int t
        if n_threads < 1 or n_words < 0:
            raise ValueError("n_threads must be >= 1 and n_words >= 0")
        self.n = n_threads
        n_bitwords = (n_words + 63) // 64
        self.acc = np.zeros((n_threads, max(n_words, 1)), dtype=np.uint64)
        self.bits = np.zeros((n_threads, max(n_bitwords, 1) + 8), dtype=np.uint64)  # +8: no shared line
        # n_words + 1 slots (see touch()) and +16 so that threads' rows share no cache line
        self.touched = np.empty((n_threads, n_words + 1 + 16), dtype=np.int32)
        cdef uint64_t[:, ::1] acc = self.acc
        cdef uint64_t[:, ::1] bits = self.bits
        cdef int32_t[:, ::1] touched = self.touched
        self.items = <Scratch*>PyMem_Malloc(n_threads * sizeof(Scratch))
        if self.items == NULL:
            raise MemoryError()
        for t in range(n_threads):
            self.items[t].acc = &acc[t, 0]
            self.items[t].bits = &bits[t, 0]
            self.items[t].touched = &touched[t, 0]
            self.items[t].n_touched = 0
            self.items[t].touched_cap = n_words + 1
            self.items[t].n_words = n_words
            self.items[t].n_bitwords = n_bitwords

    def __dealloc__(self):
        PyMem_Free(self.items)


cdef int _setup_output(Output* out, int64_t row_first, int64_t row_last, int64_t[::1] row_nnz,
                       const int64_t[::1] out_ptr, int32_t[::1] out_cols, float[::1] out_f32,
                       uint64_t[::1] out_u64, double inv_scale) except -1:
    out.row_first = row_first
    out.inv_scale = inv_scale
    out.row_nnz = NULL
    out.ptr = NULL
    out.cols = NULL
    out.f32 = NULL
    out.u64 = NULL
    if row_nnz is not None:
        if row_nnz.shape[0] != row_last - row_first:
            raise ValueError("row_nnz has the wrong length")
        out.row_nnz = &row_nnz[0] if row_nnz.shape[0] else NULL
        return 0
    if out_ptr is None or out_cols is None or (out_f32 is None) == (out_u64 is None):
        raise ValueError("give row_nnz (count mode) or out_ptr, out_cols and one of out_f32/out_u64")
    if out_ptr.shape[0] != row_last - row_first + 1:
        raise ValueError("out_ptr has the wrong length")
    if out_ptr[0] < 0 or out_ptr[out_ptr.shape[0] - 1] > out_cols.shape[0]:
        raise ValueError("out_ptr points outside out_cols")
    out.ptr = &out_ptr[0]
    if out_cols.shape[0]:
        out.cols = &out_cols[0]
        if out_f32 is not None:
            if out_f32.shape[0] != out_cols.shape[0]:
                raise ValueError("out_f32 and out_cols differ in length")
            out.f32 = &out_f32[0]
        else:
            if out_u64.shape[0] != out_cols.shape[0]:
                raise ValueError("out_u64 and out_cols differ in length")
            out.u64 = &out_u64[0]
    return 0


def segment_rows(*, const int32_t[::1] ids, const int64_t[::1] offsets, int64_t first,
                 const int64_t[::1] starts, const int32_t[::1] positions, const uint64_t[::1] units,
                 bint symmetric, int64_t row_first, int64_t row_last, int64_t[::1] row_nnz=None,
                 const int64_t[::1] out_ptr=None, int32_t[::1] out_cols=None, float[::1] out_f32=None,
                 uint64_t[::1] out_u64=None, double inv_scale=1.0, int n_threads=1):
    """Rows [row_first, row_last) of the co-occurrences of one corpus segment (count or fill mode).

    ``starts``/``positions`` come from ``build_index(ids, first, ...)``; ``units[d]`` is the
    weight of distance d (units[0] unused, len(units) - 1 is the window). The caller validates
    ids, offsets and ranges. Returns False if a row changed size between count and fill."""
    cdef Segment g
    cdef Output out
    cdef int64_t w, n_words = starts.shape[0] - 1
    cdef int tid
    _setup_output(&out, row_first, row_last, row_nnz, out_ptr, out_cols, out_f32, out_u64, inv_scale)
    if row_last <= row_first:
        return True
    scratch = _ScratchSet(n_threads, n_words)
    cdef Scratch* items = (<_ScratchSet>scratch).items
    errors_arr = np.zeros(n_threads * ERROR_STRIDE, dtype=np.int64)
    cdef int64_t[::1] errors = errors_arr
    cdef bint values = row_nnz is None
    g.ids = &ids[0]
    g.offsets = &offsets[0]
    g.n_sentences = offsets.shape[0] - 1
    g.first = first
    g.starts = &starts[0]
    g.positions = &positions[0] if positions.shape[0] else NULL
    g.units = &units[0]
    g.window = units.shape[0] - 1
    g.symmetric = symmetric
    for w in prange(row_first, row_last, nogil=True, schedule="dynamic", chunksize=1, num_threads=n_threads):
        tid = threadid()
        accumulate_segment_row(&g, w, &items[tid], values)
        if not emit_row(&items[tid], w, &out):
            errors[tid * ERROR_STRIDE] += 1
    return int(errors_arr.sum()) == 0


def merge_rows(*, const int64_t[:, ::1] ptr, const int32_t[::1] cols, const uint64_t[::1] vals,
               int64_t n_words, int64_t[::1] row_nnz=None, const int64_t[::1] out_ptr=None,
               int32_t[::1] out_cols=None, float[::1] out_f32=None, uint64_t[::1] out_u64=None,
               double inv_scale=1.0, int n_threads=1):
    """Sum partial results row by row (count or fill mode). Partial k holds block row r at
    ``cols/vals[ptr[k, r]:ptr[k, r + 1]]``; outputs are indexed by block row. The caller validates that ptr indexes inside cols/vals and that cols < n_words."""
    cdef Partials q
    cdef Output out
    cdef int64_t r, n_rows = ptr.shape[1] - 1
    cdef int tid
    _setup_output(&out, 0, n_rows, row_nnz, out_ptr, out_cols, out_f32, out_u64, inv_scale)
    if n_rows <= 0 or ptr.shape[0] == 0:
        return True
    scratch = _ScratchSet(n_threads, n_words)
    cdef Scratch* items = (<_ScratchSet>scratch).items
    errors_arr = np.zeros(n_threads * ERROR_STRIDE, dtype=np.int64)
    cdef int64_t[::1] errors = errors_arr
    cdef bint values = row_nnz is None
    q.ptr = &ptr[0, 0]
    q.n_parts = ptr.shape[0]
    q.n_rows = n_rows
    q.cols = &cols[0] if cols.shape[0] else NULL
    q.vals = &vals[0] if vals.shape[0] else NULL
    for r in prange(0, n_rows, nogil=True, schedule="dynamic", chunksize=1, num_threads=n_threads):
        tid = threadid()
        accumulate_partial_row(&q, r, &items[tid], values)
        if not emit_row(&items[tid], r, &out):
            errors[tid * ERROR_STRIDE] += 1
    return int(errors_arr.sum()) == 0
