"""Word-word co-occurrence counts X, as GloVe and PPMI-SVD consume them.

``X[i, j]`` sums, over every occurrence of word i, a weight for each occurrence of word j at
distance d = 1..``window`` in the same sentence (line): ``1/d`` (``weighting="harmonic"``, as
Stanford GloVe's ``cooccur``) or 1 (``"uniform"``). With ``symmetric=True`` both sides count
and X is symmetric; otherwise only words *after* i count (Stanford's asymmetric context: row =
the earlier word). Tokens outside the vocabulary were dropped when the corpus was encoded, so
distances are measured on the remaining tokens, as Stanford GloVe does.

How it is counted (fastvec/_cooccur.pyx):

1. An inverted index of the corpus (the positions of every word, a counting sort) lets one
   thread build one whole row: it walks the occurrences of the word, adds the weights of their
   context words into a thread-owned dense accumulator, and writes the touched columns in
   order. Rows go to threads dynamically; threads never share a written byte.
2. A first pass counts the non-zeros of every row, so the result is allocated once at its exact
   size (8 bytes per non-zero) and filled in place by the second pass.
3. Weights are added as 64-bit fixed-point integers (``units[d] = round(2**s / d)`` with s <= 32
   chosen so that no sum can overflow), so sums are exact: the matrix does not depend on the
   thread count, nor on the order of additions. Each value is rounded once, to float32.
4. With ``max_memory`` set and a corpus too large for it, the corpus is cut into segments;
   each segment's rows are counted as above and written to disk as a sorted partial result
   (row-major, exact integer sums, row pointers included), and the partial results are then
   merged block of rows by block of rows with the same accumulator (a row too large for the
   budget alone is summed into a dense row, part by part). Because the sums are exact the
   merged matrix equals, bit for bit, the one counted in memory.
"""
from __future__ import annotations

import numbers
import os
import shutil
import tempfile
import time
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from fastvec import _cooccur
from fastvec._lazy import LazyModule
from fastvec._io import FormatError, load_container, save_container
from fastvec._threads import resolve_workers
from fastvec.corpus import Corpus, CorpusLike, Tokenizer, non_decreasing, warn_unapplied
from fastvec.vocab import Vocabulary

if TYPE_CHECKING:
    import scipy.sparse

sparse = LazyModule("scipy.sparse")  # imported on first use (about 18 MB); ppmi.py uses it too

WEIGHTINGS = ("harmonic", "uniform")
MAX_WINDOW = 10_000
#: positions of one segment are int32
MAX_SEGMENT_TOKENS = 2**31 - 1
MIN_SEGMENT_TOKENS = 1024          # spilled segments are at least this long (or the corpus)...
SEGMENT_TOKENS_PER_WORD = 2        # ...and two tokens per vocabulary word (row pointers: 8 B per word)
#: smallest max_memory worth planning with, on top of the per-vocabulary scratch
MIN_WORK_BYTES = 1 << 10
#: row tables (int64, one entry per word) alive at once: while a segment is counted its
#: index, its row pointers, a chunk's rebased pointers and the row sizes summed over segments;
#: while merging those sums (as costs), the result's row pointers and their int32 copy
ROW_TABLES = 4
#: Python objects, array headers and small arrays the plan does not itemise
OBJECT_BYTES = 8 << 10
#: entries per block when arrays are checked or transformed (a 4 KiB bool temporary)
CHECK_BLOCK = 1 << 12


def _check_window(window: Any) -> int:
    if isinstance(window, bool) or not isinstance(window, numbers.Integral):
        raise TypeError(f"window must be an int, not {type(window).__name__}")
    if not 1 <= window <= MAX_WINDOW:
        raise ValueError(f"window must be between 1 and {MAX_WINDOW}, got {window}")
    return int(window)


def _check_weighting(weighting: Any) -> str:
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {', '.join(map(repr, WEIGHTINGS))}, got {weighting!r}")
    return weighting


def fixed_point_units(window: int, weighting: str, max_additions: int) -> tuple[np.ndarray, int]:
    """Integer weights ``units[d]`` (d = 1..window; ``units[0] = 0``) and their scale s: a
    weight w is ``round(w * 2**s)``. s is the largest value <= 32 for which ``max_additions``
    additions of the largest weight still fit in 63 bits."""
    d = np.arange(1, window + 1, dtype=np.float64)
    for bits in range(32, 0, -1):
        scale = 2.0**bits
        units = np.rint(scale / d) if weighting == "harmonic" else np.full(window, scale)
        if units[-1] >= 1 and max(max_additions, 1) * float(units[0]) < 2.0**63:
            out = np.zeros(window + 1, dtype=np.uint64)
            out[1:] = units.astype(np.uint64)
            return out, bits
    raise ValueError(f"a corpus of this size cannot be counted exactly with window={window}")


class Cooccurrence:
    """A co-occurrence matrix: ``matrix`` (``scipy.sparse.csr_array``, float32, V x V, rows
    and columns in the order of ``vocabulary``) and how it was counted (``window``,
    ``weighting``, ``symmetric``; None when unknown).

    Count one with :meth:`from_corpus`; keep it with :meth:`save` / :meth:`load` (an ``.npz``
    archive readable with ``numpy.load(path, allow_pickle=False)``). ``stats_`` records the
    counting time and how the work was split.

    A matrix passed in is stored in canonical form: a count stored in several pieces (the
    same column twice in a row) is summed, and columns are sorted, on a copy."""

    def __init__(self, matrix: Any, vocabulary: Vocabulary, *, window: int | None = None,
                 weighting: str | None = None, symmetric: bool | None = None):
        if not isinstance(vocabulary, Vocabulary):
            raise TypeError(f"vocabulary must be a fastvec.Vocabulary, not {type(vocabulary).__name__}")
        if not sparse.issparse(matrix):
            raise TypeError(f"matrix must be a scipy.sparse matrix or array, not {type(matrix).__name__}")
        n = len(vocabulary)
        if matrix.shape != (n, n):
            raise ValueError(f"matrix has shape {matrix.shape}, expected ({n}, {n}) for a vocabulary of {n} words")
        _check_dtype(matrix)
        if symmetric is not None and not isinstance(symmetric, (bool, np.bool_)):
            raise TypeError(f"symmetric must be True, False or None, not {symmetric!r}")
        matrix = _canonical(matrix, n)
        _check_csr(matrix, n)
        self.matrix = matrix
        self.vocabulary = vocabulary
        self.window = None if window is None else _check_window(window)
        self.weighting = None if weighting is None else _check_weighting(weighting)
        self.symmetric = None if symmetric is None else bool(symmetric)
        self.stats_: dict = {}
        self.source_path: str | None = None

    def __repr__(self) -> str:
        how = f", window={self.window}, weighting={self.weighting!r}, symmetric={self.symmetric}" \
            if self.window is not None else ""
        return f"Cooccurrence({len(self.vocabulary)} words, {self.nnz} non-zeros{how})"

    def __len__(self) -> int:
        return len(self.vocabulary)

    @property
    def nnz(self) -> int:
        """The number of stored (non-zero) co-occurrence entries."""
        return int(self.matrix.nnz)

    @property
    def shape(self) -> tuple[int, int]:
        """(words, words): the shape of ``matrix``."""
        return self.matrix.shape

    # -- counting ------------------------------------------------------------------------------
    @classmethod
    def from_corpus(cls, corpus: CorpusLike, vocabulary: Vocabulary | None = None, *, window: int = 15,
                    weighting: str = "harmonic", symmetric: bool = True, max_memory: int | None = None,
                    workers: int | None = None, tmp_dir: str | os.PathLike | None = None,
                    tokenizer: Tokenizer | str | None = None) -> "Cooccurrence":
        """Count the co-occurrences of ``corpus`` (an encoded :class:`fastvec.Corpus`, or a text
        file / iterable of token lists, encoded with ``vocabulary``; a text file is split by
        ``tokenizer`` as for :meth:`fastvec.Corpus.encode`: give the one the vocabulary was
        built with).

        ``max_memory`` (bytes) bounds the working memory of counting: when the corpus needs
        more, it is counted in segments whose sorted partial results are spilled to
        ``tmp_dir`` (default: the system temporary directory) and merged; the matrix is
        identical either way. ``workers`` threads (None: ``OMP_NUM_THREADS`` if set, else all cores).

        What the bound covers: the threads' scratch rows (12 B per word each), row tables
        (32 B per word), the inverted index of a segment (4 B per token), the buffers that
        write and merge partial results (however many segments there are: their row
        pointers stay on disk, and a row too large for the budget is summed part by part
        into a dense row of 8 B per word) and a few KiB of Python objects. Not covered: the
        encoded corpus (4 B per token plus sentence offsets), the result (8 B per non-zero
        plus the row pointers), the operating system's cache of the spilled files and the
        interpreter's own free lists. The smallest accepted value is about 12 B per word
        per thread plus 52 B per word; below that ValueError says how much is needed."""
        window = _check_window(window)
        weighting = _check_weighting(weighting)
        if not isinstance(symmetric, (bool, np.bool_)):
            raise TypeError(f"symmetric must be True or False, not {symmetric!r}")
        if max_memory is not None and (isinstance(max_memory, bool) or not isinstance(max_memory, numbers.Integral)
                                       or max_memory <= 0):
            raise ValueError(f"max_memory must be a positive number of bytes or None, got {max_memory!r}")
        if tmp_dir is not None and not os.path.isdir(tmp_dir):
            raise (NotADirectoryError if os.path.exists(tmp_dir) else FileNotFoundError)(
                f"tmp_dir {os.fspath(tmp_dir)}: no such directory (where spilled partial results go)")
        threads = resolve_workers(workers)
        encoded = _encoded(corpus, vocabulary, tokenizer)
        vocab = encoded.vocabulary
        ids, offsets = _checked_arrays(encoded)
        started = time.perf_counter()
        counter = _Counter(ids, offsets, len(vocab), window, weighting, bool(symmetric), threads)
        plan = counter.plan(None if max_memory is None else int(max_memory))
        if len(plan) == 1:
            matrix = counter.in_memory()
            spilled = 0
        else:
            matrix, spilled = counter.spilled(plan, tmp_dir)
        result = cls(matrix, vocab, window=window, weighting=weighting, symmetric=bool(symmetric))
        result.stats_ = {"seconds": time.perf_counter() - started, "segments": len(plan),
                         "spilled_bytes": spilled, "threads": threads, "scale_bits": counter.scale_bits,
                         "tokens": int(len(ids)), "heavy_rows": counter.heavy_rows}
        return result

    # -- persistence ------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write the matrix and the vocabulary to one ``.npz`` file (atomic; no pickle). A
        matrix replaced since construction is checked first: :meth:`load` would refuse it."""
        m = self.matrix
        _check_csr(m, len(self.vocabulary))
        arrays, meta = self.vocabulary._to_arrays()
        arrays.update(indptr=np.asarray(m.indptr, dtype=np.int64), indices=np.asarray(m.indices, dtype=np.int32),
                      data=np.asarray(m.data, dtype=np.float32))
        meta.update(window=self.window, weighting=self.weighting, symmetric=self.symmetric)
        save_container(path, "cooccurrence", meta, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike, *, mmap: bool = False) -> "Cooccurrence":
        """Read a file written by :meth:`save`; ``mmap=True`` leaves the non-zeros on disk until used."""
        meta, arrays = load_container(path, "cooccurrence", mmap=mmap, required=("indptr", "indices", "data", "counts"))
        vocab = Vocabulary._from_arrays(path, meta, arrays)
        n = len(vocab)
        indptr, indices, data = arrays["indptr"], arrays["indices"], arrays["data"]
        if indptr.dtype != np.int64 or indices.dtype != np.int32 or data.dtype != np.float32:
            raise FormatError(path, "expected int64 indptr, int32 indices and float32 data")
        if indptr.ndim != 1 or len(indptr) != n + 1 or indices.shape != data.shape or indices.ndim != 1:
            raise FormatError(path, "the matrix arrays do not fit the vocabulary")
        try:
            matrix = csr_from_arrays(data, indices, indptr, n)
            _check_structure(matrix, n)
            canonical = matrix.has_canonical_format
            # save() writes canonical matrices (earlier versions could write unsorted columns):
            # in memory a non-canonical one is canonicalised as the constructor does; mapped,
            # that would copy the file into memory, so it is refused
            if canonical or not mmap:
                result = cls(matrix, vocab, window=meta.get("window"), weighting=meta.get("weighting"),
                             symmetric=meta.get("symmetric"))
        except (ValueError, TypeError) as e:
            raise FormatError(path, f"invalid co-occurrence matrix ({e})") from None
        if not (canonical or not mmap):
            raise FormatError(path, "the co-occurrence matrix is not in canonical form (a column stored twice in a "
                                    "row, or a row's columns out of order): load it with mmap=False")
        result.source_path = os.fspath(path)   # the file it came from (a checkpoint may not replace it)
        return result


def csr_from_arrays(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, n: int) -> scipy.sparse.csr_array:
    """An n x n CSR array around these arrays without copying the non-zeros: scipy would
    otherwise widen int32 column indices to int64 when indptr is int64 (8 more bytes per
    non-zero). indptr is narrowed instead (n + 1 entries), after checking it as it is (a
    narrowed corrupt indptr could wrap into one that looks valid and drops non-zeros)."""
    _check_rows(indptr, indices, data, n)
    if len(indices) < 2**31 - 1:
        indptr = np.asarray(indptr, dtype=np.int32)
        indices = np.asarray(indices, dtype=np.int32)
    return sparse.csr_array((data, indices, indptr), shape=(n, n), copy=False)


def _check_dtype(matrix) -> None:
    """Counts are real numbers: refuse complex, object or string values (never cast them)."""
    if matrix.dtype.kind not in "biuf":
        raise TypeError(f"co-occurrence values must be real numbers, got dtype {matrix.dtype}")


def _check_csr(matrix, n: int) -> None:
    """Structure, canonical form and values of a CSR matrix, checked once so that kernels can
    trust them (also when ``Cooccurrence.matrix`` was replaced after construction). No
    temporary array larger than a block of rows."""
    _check_structure(matrix, n)
    if matrix.dtype != np.float32:
        raise TypeError(f"the co-occurrence matrix must hold float32 counts, not {matrix.dtype} (was it replaced? "
                        "Cooccurrence(matrix, vocabulary) converts one)")
    if not matrix.has_canonical_format:
        # ppmi and GloVe would read each stored piece of a count as a count of its own
        raise ValueError("the co-occurrence matrix stores a column twice in a row, or a row's columns out of order "
                         "(call sum_duplicates() on it, or pass it to Cooccurrence(), which does)")
    data = matrix.data
    # min() is NaN when any value is; max() is inf when any value is: no temporary at all
    if len(data) and not (float(data.min()) >= 0.0 and np.isfinite(float(data.max()))):
        raise ValueError("co-occurrence values must be finite and >= 0")


def _check_rows(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, n: int) -> None:
    """Row pointers that fit n rows and the non-zeros (ValueError): what scipy, sum_duplicates
    and the kernels rely on."""
    if len(indptr) != n + 1 or int(indptr[0]) != 0 or int(indptr[-1]) != len(indices) or len(data) != len(indices):
        raise ValueError("malformed CSR matrix (indptr does not match the non-zeros)")
    if not non_decreasing(indptr):
        raise ValueError("malformed CSR matrix (indptr decreases)")


def _check_structure(matrix, n: int) -> None:
    """The CSR arrays describe an n x n matrix (what has_canonical_format and sum_duplicates
    need to run safely)."""
    if not sparse.issparse(matrix) or matrix.format != "csr":
        raise TypeError(f"the co-occurrence matrix must be a scipy.sparse CSR matrix, not {type(matrix).__name__}")
    if matrix.shape != (n, n):
        raise ValueError(f"the co-occurrence matrix has shape {matrix.shape} but the vocabulary has {n} words")
    indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
    _check_rows(indptr, indices, data, n)
    if len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= n):
        raise ValueError(f"column indices must lie in [0, {n})")


def _canonical(matrix, n: int) -> scipy.sparse.csr_array:
    """``matrix`` as a float32 ``csr_array`` holding each entry once, columns sorted in every
    row (see :func:`summed_csr`); a canonical float32 CSR is not copied."""
    matrix = summed_csr(matrix, n)
    if matrix.dtype != np.float32:
        matrix = matrix.astype(np.float32)
    return matrix


def summed_csr(matrix, n: int | None = None) -> scipy.sparse.csr_array:
    """``matrix`` as a ``csr_array`` with each entry once and columns sorted: a count stored
    in several pieces (COO duplicates, the same column twice in a CSR row) is summed on a
    copy, never in the caller's matrix. Booleans, integers and float16 are summed in float64
    (True + True is 2; uint8 255 + 255 is 510, not a wrapped 254); float32 and float64 in their
    own precision. ``n``: the expected number of rows and columns, checked."""
    if matrix.dtype not in (np.float32, np.float64):
        matrix = matrix.astype(np.float64)   # COO keeps its duplicates until the conversion below
    if matrix.format != "csr":
        matrix = sparse.csr_array(matrix)    # sums COO duplicates, in the dtype above
    elif not isinstance(matrix, sparse.csr_array):
        matrix = sparse.csr_array(matrix)    # shares the arrays
    _check_structure(matrix, matrix.shape[0] if n is None else n)
    if not matrix.has_canonical_format:
        matrix = matrix.copy()
        matrix.sum_duplicates()
    return matrix


def _encoded(corpus: CorpusLike, vocabulary: Vocabulary | None, tokenizer: Tokenizer | str | None = None) -> Corpus:
    if isinstance(corpus, Corpus):
        warn_unapplied(corpus, min_count=None, max_vocab_size=None, tokenizer=tokenizer)   # it has no min_count
        if vocabulary is not None and vocabulary is not corpus.vocabulary \
                and vocabulary.index_to_key != corpus.vocabulary.index_to_key:
            raise ValueError("the corpus was encoded with a different vocabulary than the one given")
        return corpus
    if vocabulary is None:
        raise TypeError("pass the vocabulary to encode the corpus with (e.g. fastvec.Vocabulary.build(path, "
                        "min_count=5)), or an encoded fastvec.Corpus")
    if not isinstance(vocabulary, Vocabulary):
        raise TypeError(f"vocabulary must be a fastvec.Vocabulary, not {type(vocabulary).__name__}")
    return Corpus.encode(corpus, vocabulary, tokenizer=tokenizer)


def _checked_arrays(corpus: Corpus) -> tuple[np.ndarray, np.ndarray]:
    corpus.check()   # ids and offsets against the vocabulary (the arrays are public)
    if corpus.n_tokens == 0:
        raise ValueError("the corpus has no in-vocabulary tokens: nothing to count")
    return np.ascontiguousarray(corpus.ids), np.ascontiguousarray(corpus.offsets)


class _Counter:
    """One counting job: the encoded corpus, the weights, and the two ways to run it."""

    def __init__(self, ids: np.ndarray, offsets: np.ndarray, n_words: int, window: int, weighting: str,
                 symmetric: bool, threads: int):
        self.ids, self.offsets, self.n_words, self.threads = ids, offsets, n_words, threads
        self.symmetric = symmetric
        sides = 2 if symmetric else 1
        self.units, self.scale_bits = fixed_point_units(window, weighting, len(ids) * sides * window)
        self.inv_scale = 2.0**-self.scale_bits
        self.heavy_rows = 0

    def _scratch_bytes(self) -> int:
        """Memory that max_memory cannot shrink: per thread a scratch row (8 B accumulator, 4 B
        touched list and 1 bit per word), ROW_TABLES row tables of 8 B per word, and
        OBJECT_BYTES."""
        v = self.n_words
        return self.threads * (12 * v + v // 8 + 256) + ROW_TABLES * 8 * (v + 1) + OBJECT_BYTES

    def plan(self, max_memory: int | None) -> np.ndarray:
        """Token ranges counted one at a time, an (n_segments, 2) array (one range unless
        memory or int32 positions say otherwise; 16 B per segment, not Python objects)."""
        n = len(self.ids)
        if max_memory is None:
            seg = MAX_SEGMENT_TOKENS
            self.buffer_entries = 1 << 24
            self.merge_bytes = 20 << 24
        else:
            # one largest row (12 B per entry as a partial) must fit in the output buffer, and
            # a segment must be long enough that its fixed costs (a row-pointer file of 8 B per
            # word, and one more part for every merge block to read) stay a fraction of its own
            min_seg = min(n, max(MIN_SEGMENT_TOKENS, SEGMENT_TOKENS_PER_WORD * self.n_words))
            need = self._scratch_bytes() + 12 * self.n_words + 4 * min_seg + MIN_WORK_BYTES
            if max_memory < need:
                raise ValueError(f"max_memory={max_memory} is too small for a vocabulary of {self.n_words} words "
                                 f"and {self.threads} thread(s): counting needs at least {need} bytes")
            work = max_memory - self._scratch_bytes()
            # counting a segment: about half for a chunk of partial rows (12 B per entry, at
            # least one full row), the rest for its positions (4 B per token, at least min_seg
            # tokens); merging: all of it
            buffer_bytes = max(12 * self.n_words, min(work // 2, work - 4 * min_seg))
            self.buffer_entries = buffer_bytes // 12
            seg = max(1, min(MAX_SEGMENT_TOKENS, (work - buffer_bytes) // 4))
            self.merge_bytes = work
        bounds = _segment_bounds(self.offsets, n, seg)
        bounds = np.array(bounds, dtype=np.int64)
        return np.column_stack([bounds[:-1], bounds[1:]])

    def _segment(self, first: int, last: int, **out) -> bool:
        starts, positions = self._index
        return _cooccur.segment_rows(ids=self.ids, offsets=self.offsets, first=first, starts=starts,
                                     positions=positions, units=self.units, symmetric=self.symmetric,
                                     n_threads=self.threads, **out)

    def in_memory(self) -> scipy.sparse.csr_array:
        n, v = len(self.ids), self.n_words
        self._index = _cooccur.build_index(self.ids, 0, n, v)
        try:
            row_nnz = np.zeros(v, dtype=np.int64)
            self._segment(0, n, row_first=0, row_last=v, row_nnz=row_nnz)
            indptr = np.zeros(v + 1, dtype=np.int64)
            np.cumsum(row_nnz, out=indptr[1:])
            del row_nnz
            indices = np.empty(int(indptr[-1]), dtype=np.int32)
            data = np.empty(int(indptr[-1]), dtype=np.float32)
            ok = self._segment(0, n, row_first=0, row_last=v, out_ptr=indptr, out_cols=indices, out_f32=data,
                               inv_scale=self.inv_scale)
        finally:
            del self._index
        if not ok:
            raise RuntimeError("the corpus changed while it was being counted")
        return csr_from_arrays(data, indices, indptr, v)

    def spilled(self, plan: np.ndarray, tmp_dir) -> tuple[scipy.sparse.csr_array, int]:
        """Count segment by segment, spill each sorted partial result, merge them; returns the
        matrix and the bytes written to disk."""
        parts = _Parts(tempfile.mkdtemp(prefix="fastvec-cooccur-", dir=tmp_dir))
        spilled = 0
        try:
            # entries of rows 0..r-1 over all partial results: sizes the merge's row blocks
            row_sizes = np.zeros(self.n_words + 1, dtype=np.int64)
            for first, last in plan:
                part = _Part(parts.path(parts.count), self.n_words)
                parts.count += 1
                self._count_part(part, int(first), int(last))
                row_sizes += part.indptr
                spilled += part.close()
                del part
            return self._merge(parts, row_sizes), spilled
        finally:
            shutil.rmtree(parts.directory, ignore_errors=True)

    def _count_part(self, part: "_Part", first: int, last: int) -> None:
        v = self.n_words
        self._index = _cooccur.build_index(self.ids, first, last, v)
        try:
            self._segment(first, last, row_first=0, row_last=v, row_nnz=part.row_nnz())
            part.finish_counts()
            for r0, r1 in _row_chunks(part.indptr, self.buffer_entries):
                n = int(part.indptr[r1] - part.indptr[r0])
                cols = np.empty(n, dtype=np.int32)
                vals = np.empty(n, dtype=np.uint64)
                ok = self._segment(first, last, row_first=r0, row_last=r1,
                                   out_ptr=part.indptr[r0:r1 + 1] - part.indptr[r0], out_cols=cols, out_u64=vals)
                if not ok:
                    raise RuntimeError("the corpus changed while it was being counted")
                part.append(cols, vals)
                del cols, vals
        finally:
            del self._index

    def _merge(self, parts: "_Parts", row_sizes: np.ndarray) -> scipy.sparse.csr_array:
        """Sum the partial results row block by row block into the final matrix. A block costs
        20 B per entry (12 B read, at most 8 B written) and per row 8 B for each partial
        result's row pointers and 32 B more; a row that alone costs more than ``merge_bytes``
        is summed part by part into a dense row instead (:meth:`_merge_heavy_row`).
        ``row_sizes`` is overwritten."""
        v = self.n_words
        row_cost = 8 * parts.count + 32
        cost = row_sizes    # in place: the cost of merging rows 0..r-1
        cost *= 20
        for s in range(0, v + 1, CHECK_BLOCK):
            cost[s:s + CHECK_BLOCK] += row_cost * np.arange(s, min(s + CHECK_BLOCK, v + 1), dtype=np.int64)
        indptr = np.zeros(v + 1, dtype=np.int64)
        path = os.path.join(parts.directory, "merged")
        with open(path + ".cols", "wb", buffering=0) as cols_out, open(path + ".data", "wb", buffering=0) as data_out:
            r0 = 0
            while r0 < v:
                r1 = min(int(cost.searchsorted(int(cost[r0]) + self.merge_bytes - row_cost, side="right")) - 1, v)
                if r1 <= r0:
                    indptr[r0 + 1] = indptr[r0] + self._merge_heavy_row(parts, r0, cols_out, data_out)
                    self.heavy_rows += 1
                    r0 += 1
                    continue
                self._merge_block(parts, r0, r1, indptr, cols_out, data_out)
                r0 = r1
        del cost, row_sizes
        parts.remove()
        indices = np.fromfile(path + ".cols", dtype=np.int32)
        data = np.fromfile(path + ".data", dtype=np.float32)
        if len(indices) != indptr[-1] or len(data) != indptr[-1]:
            raise OSError(f"{path}: merged co-occurrences were not written completely")
        return csr_from_arrays(data, indices, indptr, v)

    def _merge_block(self, parts: "_Parts", r0: int, r1: int, indptr: np.ndarray, cols_out, data_out) -> None:
        v = self.n_words
        ptr, cols, vals = parts.read_block(r0, r1, v)
        block_nnz = np.zeros(r1 - r0, dtype=np.int64)
        _cooccur.merge_rows(ptr=ptr, cols=cols, vals=vals, n_words=v, row_nnz=block_nnz, n_threads=self.threads)
        out_ptr = np.zeros(r1 - r0 + 1, dtype=np.int64)
        block_nnz.cumsum(out=out_ptr[1:])
        del block_nnz
        out_cols = np.empty(int(out_ptr[-1]), dtype=np.int32)
        out_data = np.empty(int(out_ptr[-1]), dtype=np.float32)
        ok = _cooccur.merge_rows(ptr=ptr, cols=cols, vals=vals, n_words=v, out_ptr=out_ptr, out_cols=out_cols,
                                 out_f32=out_data, inv_scale=self.inv_scale, n_threads=self.threads)
        if not ok:
            raise RuntimeError("partial results changed while they were merged")
        del ptr, cols, vals
        np.add(out_ptr[1:], indptr[r0], out=indptr[r0 + 1:r1 + 1])
        _write_all(cols_out, out_cols)
        _write_all(data_out, out_data)

    def _merge_heavy_row(self, parts: "_Parts", r: int, cols_out, data_out) -> int:
        """Sum row r of every partial result into a dense row (8 B per word), reading each in
        pieces, and write its non-zeros in column order; returns their number. The sums are
        the same exact integers merge_rows adds, rounded to float32 the same way (uint64 to
        double, times 2**-s, to float), so the row is bit-identical."""
        v = self.n_words
        acc = np.zeros(v, dtype=np.uint64)
        room = max(self.merge_bytes - 8 * v, 1024)
        piece = max(1, room // 20)      # 12 B read, 8 B gathered
        bounds = np.empty(2, dtype=np.int64)
        for k in range(parts.count):
            parts.read_ptr(k, r, bounds)
            for lo in range(int(bounds[0]), int(bounds[1]), piece):
                cols = np.empty(min(piece, int(bounds[1]) - lo), dtype=np.int32)
                vals = np.empty(len(cols), dtype=np.uint64)
                parts.read_entries(k, lo, cols, vals)
                _check_columns(cols, v)
                gathered = acc[cols]    # the columns of one part's row are distinct
                gathered += vals
                acc[cols] = gathered
                del cols, vals, gathered
        # a partial sum is at least one unit, so the touched columns are the non-zero ones
        step = max(1, room // 40)
        nnz = 0
        for c0 in range(0, v, step):
            block = acc[c0:c0 + step]
            touched = np.flatnonzero(block)
            values = (block[touched].astype(np.float64) * self.inv_scale).astype(np.float32)
            touched += c0
            _write_all(cols_out, touched.astype(np.int32))
            _write_all(data_out, values)
            nnz += len(touched)
        return nnz


class _Part:
    """One segment's sorted partial result, being written: row pointers (int64, n_words + 1)
    in memory until :meth:`close` writes them, columns (int32) and exact integer sums
    (uint64) appended row chunk by row chunk. Read back through :class:`_Parts`."""

    __slots__ = ("path", "indptr", "_cols", "_vals")

    def __init__(self, path: str, n_words: int):
        self.path = path
        self.indptr = np.zeros(n_words + 1, dtype=np.int64)
        self._cols = open(path + ".cols", "wb", buffering=0)
        self._vals = open(path + ".vals", "wb", buffering=0)

    def row_nnz(self) -> np.ndarray:
        return self.indptr[1:]

    def finish_counts(self) -> None:
        self.indptr.cumsum(out=self.indptr)

    def append(self, cols: np.ndarray, vals: np.ndarray) -> None:
        _write_all(self._cols, cols)
        _write_all(self._vals, vals)

    def close(self) -> int:
        """Write the row pointers; returns the bytes on disk."""
        self._cols.close()
        self._vals.close()
        with open(self.path + ".ptr", "wb", buffering=0) as f:
            _write_all(f, self.indptr)
        size = os.path.getsize(self.path + ".cols") + os.path.getsize(self.path + ".vals")
        if size != 12 * int(self.indptr[-1]) or os.path.getsize(self.path + ".ptr") != self.indptr.nbytes:
            raise OSError(f"{self.path}: partial result was not written completely")
        return size + self.indptr.nbytes


class _Parts:
    """The spilled partial results, part k in ``directory/partNNNNN.{ptr,cols,vals}``. Only
    their number is kept in memory (however many segments there are); rows are read from
    the files when merged."""

    __slots__ = ("directory", "count")

    def __init__(self, directory: str):
        self.directory = directory
        self.count = 0

    def path(self, k: int) -> str:
        return os.path.join(self.directory, f"part{k:05d}")

    def read_ptr(self, k: int, r0: int, out: np.ndarray) -> None:
        """Row pointers r0, r0 + 1, ... of part k into ``out`` (as many as it holds)."""
        _read_exact(self.path(k) + ".ptr", r0 * 8, out)

    def read_entries(self, k: int, lo: int, cols: np.ndarray, vals: np.ndarray) -> None:
        """Entries lo, lo + 1, ... of part k into ``cols`` and ``vals`` (as many as they hold)."""
        path = self.path(k)
        _read_exact(path + ".cols", lo * 4, cols)
        _read_exact(path + ".vals", lo * 8, vals)

    def read_block(self, r0: int, r1: int, n_words: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows [r0, r1) of every part, stacked for ``merge_rows``."""
        ptr = np.empty((self.count, r1 - r0 + 1), dtype=np.int64)
        for k in range(self.count):
            self.read_ptr(k, r0, ptr[k])
        total = int((ptr[:, -1] - ptr[:, 0]).sum())
        cols = np.empty(total, dtype=np.int32)
        vals = np.empty(total, dtype=np.uint64)
        base = 0
        for k in range(self.count):
            lo, size = int(ptr[k, 0]), int(ptr[k, -1] - ptr[k, 0])
            self.read_entries(k, lo, cols[base:base + size], vals[base:base + size])
            ptr[k] += base - lo
            base += size
        _check_columns(cols, n_words)
        return ptr, cols, vals

    def remove(self) -> None:
        for k in range(self.count):
            for ext in (".ptr", ".cols", ".vals"):
                try:
                    os.unlink(self.path(k) + ext)
                except OSError:
                    pass


def _write_all(f, arr: np.ndarray) -> None:
    """Write the bytes of the contiguous array ``arr`` to the unbuffered file ``f``."""
    view = memoryview(arr).cast("B")
    while len(view):
        view = view[f.write(view):]


def _read_exact(path: str, offset: int, out: np.ndarray) -> None:
    """Fill the contiguous array ``out`` from ``path`` at byte ``offset`` (unbuffered: the
    bytes go straight into ``out``)."""
    view = memoryview(out).cast("B")
    if not len(view):
        return
    with open(path, "rb", buffering=0) as f:
        f.seek(offset)
        done = 0
        while done < len(view):
            got = f.readinto(view[done:])
            if not got:
                raise OSError(f"{path}: partial result is truncated")
            done += got


def _check_columns(cols: np.ndarray, n_words: int) -> None:
    if len(cols) and (int(cols.min()) < 0 or int(cols.max()) >= n_words):
        raise OSError("a partial result on disk holds a column outside the vocabulary")


def _row_chunks(indptr: np.ndarray, max_entries: int) -> Iterator[tuple[int, int]]:
    """Consecutive row ranges of a CSR ``indptr`` holding at most ``max_entries`` entries
    each (at least one row each)."""
    n_rows = len(indptr) - 1
    r0 = 0
    while r0 < n_rows:
        # a Python int: indptr[r0] + max_entries could wrap around in int32
        r1 = int(indptr.searchsorted(int(indptr[r0]) + max_entries, side="right")) - 1
        r1 = min(max(r1, r0 + 1), n_rows)
        yield r0, r1
        r0 = r1


def _segment_bounds(offsets: np.ndarray, n_tokens: int, max_tokens: int) -> list[int]:
    """Cut positions 0..n_tokens into pieces of at most ``max_tokens`` (any cut is valid:
    context windows are read from the whole corpus; sentence ends are preferred)."""
    if n_tokens <= max_tokens:
        return [0, n_tokens]
    bounds = [0]
    while bounds[-1] < n_tokens:
        target = bounds[-1] + max_tokens
        if target >= n_tokens:
            bounds.append(n_tokens)
            break
        s = int(offsets.searchsorted(target, side="right")) - 1   # last sentence start <= target
        cut = int(offsets[s]) if offsets[s] > bounds[-1] else target
        bounds.append(cut)
    return bounds


__all__ = ["Cooccurrence", "WEIGHTINGS", "fixed_point_units"]
