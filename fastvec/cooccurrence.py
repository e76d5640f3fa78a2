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
   (row-major, exact integer sums), and the partial results are then merged row by row with
   the same accumulator. Because the sums are exact the merged matrix equals, bit for bit,
   the one counted in memory.
"""
from __future__ import annotations

import numbers
import os
import shutil
import tempfile
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from fastvec import _cooccur
from fastvec._lazy import LazyModule
from fastvec._io import FormatError, load_container, save_container
from fastvec._threads import resolve_workers
from fastvec.corpus import Corpus, CorpusLike
from fastvec.vocab import Vocabulary

if TYPE_CHECKING:
    import scipy.sparse

sparse = LazyModule("scipy.sparse")  # imported on first use (about 18 MB); ppmi.py uses it too

WEIGHTINGS = ("harmonic", "uniform")
MAX_WINDOW = 10_000
#: positions of one segment are int32
MAX_SEGMENT_TOKENS = 2**31 - 1
#: smallest max_memory worth planning with, on top of the per-vocabulary scratch
MIN_WORK_BYTES = 1 << 10


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
    counting time and how the work was split."""

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
        if matrix.format != "csr" or matrix.dtype != np.float32:
            matrix = sparse.csr_array(matrix, dtype=np.float32)
            matrix.sum_duplicates()
        elif not isinstance(matrix, sparse.csr_array):
            matrix = sparse.csr_array(matrix)
        _check_csr(matrix, n)
        self.matrix = matrix
        self.vocabulary = vocabulary
        self.window = None if window is None else _check_window(window)
        self.weighting = None if weighting is None else _check_weighting(weighting)
        self.symmetric = None if symmetric is None else bool(symmetric)
        self.stats_: dict = {}

    def __repr__(self) -> str:
        how = f", window={self.window}, weighting={self.weighting!r}, symmetric={self.symmetric}" \
            if self.window is not None else ""
        return f"Cooccurrence({len(self.vocabulary)} words, {self.nnz} non-zeros{how})"

    def __len__(self) -> int:
        return len(self.vocabulary)

    @property
    def nnz(self) -> int:
        return int(self.matrix.nnz)

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    # -- counting ------------------------------------------------------------------------------
    @classmethod
    def from_corpus(cls, corpus: CorpusLike, vocabulary: Vocabulary | None = None, *, window: int = 15,
                    weighting: str = "harmonic", symmetric: bool = True, max_memory: int | None = None,
                    workers: int | None = None, tmp_dir: str | os.PathLike | None = None) -> "Cooccurrence":
        """Count the co-occurrences of ``corpus`` (an encoded :class:`fastvec.Corpus`, or a text
        file / iterable of token lists, encoded with ``vocabulary``).

        ``max_memory`` (bytes) bounds the working memory of counting, not counting the encoded
        corpus and the result (8 bytes per non-zero): when the corpus needs more, it is
        counted in segments whose sorted partial results are spilled to ``tmp_dir`` (default:
        the system temporary directory) and merged; the matrix is identical either way.
        ``workers`` threads (None: all cores)."""
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
        encoded = _encoded(corpus, vocabulary)
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
                         "tokens": int(len(ids))}
        return result

    # -- persistence ------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write the matrix and the vocabulary to one ``.npz`` file (atomic; no pickle)."""
        arrays, meta = self.vocabulary._to_arrays()
        m = self.matrix
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
            return cls(matrix, vocab, window=meta.get("window"), weighting=meta.get("weighting"),
                       symmetric=meta.get("symmetric"))
        except (ValueError, TypeError) as e:
            raise FormatError(path, f"invalid co-occurrence matrix ({e})") from None


def csr_from_arrays(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, n: int) -> scipy.sparse.csr_array:
    """An n x n CSR array around these arrays without copying the non-zeros: scipy would
    otherwise widen int32 column indices to int64 when indptr is int64 (8 more bytes per
    non-zero). indptr is narrowed instead (n + 1 entries)."""
    if len(indices) < 2**31 - 1:
        indptr = np.asarray(indptr, dtype=np.int32)
        indices = np.asarray(indices, dtype=np.int32)
    return sparse.csr_array((data, indices, indptr), shape=(n, n), copy=False)


def _check_dtype(matrix) -> None:
    """Counts are real numbers: refuse complex, object or string values (never cast them)."""
    if matrix.dtype.kind not in "biuf":
        raise TypeError(f"co-occurrence values must be real numbers, got dtype {matrix.dtype}")


def _check_csr(matrix, n: int) -> None:
    """Structure and values of a CSR matrix, checked once so that kernels can trust them
    (also when ``Cooccurrence.matrix`` was replaced after construction)."""
    if not sparse.issparse(matrix) or matrix.format != "csr":
        raise TypeError(f"the co-occurrence matrix must be a scipy.sparse CSR matrix, not {type(matrix).__name__}")
    if matrix.shape != (n, n):
        raise ValueError(f"the co-occurrence matrix has shape {matrix.shape} but the vocabulary has {n} words")
    indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
    if len(indptr) != n + 1 or indptr[0] != 0 or indptr[-1] != len(indices) or len(data) != len(indices):
        raise ValueError("malformed CSR matrix (indptr does not match the non-zeros)")
    if n and np.any(np.diff(indptr) < 0):
        raise ValueError("malformed CSR matrix (indptr decreases)")
    if len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= n):
        raise ValueError(f"column indices must lie in [0, {n})")
    if len(data) and not (np.isfinite(data).all() and float(data.min()) >= 0.0):
        raise ValueError("co-occurrence values must be finite and >= 0")


def _encoded(corpus: CorpusLike, vocabulary: Vocabulary | None) -> Corpus:
    if isinstance(corpus, Corpus):
        if vocabulary is not None and vocabulary is not corpus.vocabulary \
                and vocabulary.index_to_key != corpus.vocabulary.index_to_key:
            raise ValueError("the corpus was encoded with a different vocabulary than the one given")
        return corpus
    if vocabulary is None:
        raise TypeError("pass the vocabulary to encode the corpus with (e.g. fastvec.Vocabulary.build(path, "
                        "min_count=5)), or an encoded fastvec.Corpus")
    if not isinstance(vocabulary, Vocabulary):
        raise TypeError(f"vocabulary must be a fastvec.Vocabulary, not {type(vocabulary).__name__}")
    return Corpus.encode(corpus, vocabulary)


def _checked_arrays(corpus: Corpus) -> tuple[np.ndarray, np.ndarray]:
    ids = np.ascontiguousarray(corpus.ids, dtype=np.int32)
    offsets = np.ascontiguousarray(corpus.offsets, dtype=np.int64)
    n = len(corpus.vocabulary)
    if len(ids) == 0:
        raise ValueError("the corpus has no in-vocabulary tokens: nothing to count")
    if int(ids.min()) < 0 or int(ids.max()) >= n:
        raise ValueError(f"corpus ids must lie in [0, {n})")
    if offsets.ndim != 1 or len(offsets) < 2 or offsets[0] != 0 or offsets[-1] != len(ids) \
            or np.any(np.diff(offsets) < 0):
        raise ValueError("corpus offsets must start at 0, end at the number of tokens and never decrease")
    return ids, offsets


class _Counter:
    """One counting job: the encoded corpus, the weights, and the two ways to run it."""

    def __init__(self, ids: np.ndarray, offsets: np.ndarray, n_words: int, window: int, weighting: str,
                 symmetric: bool, threads: int):
        self.ids, self.offsets, self.n_words, self.threads = ids, offsets, n_words, threads
        self.symmetric = symmetric
        sides = 2 if symmetric else 1
        self.units, self.scale_bits = fixed_point_units(window, weighting, len(ids) * sides * window)
        self.inv_scale = 2.0**-self.scale_bits

    # memory: per-thread accumulator (8 B), touched list (4 B) and bitmap per word, plus the
    # row tables (starts, row non-zeros, offsets: 8 B per word each)
    def _scratch_bytes(self) -> int:
        v = self.n_words
        return self.threads * (12 * v + v // 8 + 128) + 24 * (v + 1)

    def plan(self, max_memory: int | None) -> list[tuple[int, int]]:
        """Token ranges counted one at a time (one range unless memory or int32 positions say otherwise)."""
        n = len(self.ids)
        if max_memory is None:
            seg = MAX_SEGMENT_TOKENS
            self.buffer_entries = self.merge_entries = 1 << 24
        else:
            # one largest row (12 B per entry as a partial) must fit in the output buffer
            need = self._scratch_bytes() + 12 * self.n_words + MIN_WORK_BYTES
            if max_memory < need:
                raise ValueError(f"max_memory={max_memory} is too small for a vocabulary of {self.n_words} words "
                                 f"and {self.threads} thread(s): counting needs at least {need} bytes")
            work = max_memory - self._scratch_bytes()
            # counting a segment: half for its positions (4 B per token), half for a chunk of
            # partial rows (12 B per entry); merging: input (12 B) and output (8 B) entries
            seg = max(1, min(MAX_SEGMENT_TOKENS, work // 2 // 4))
            self.buffer_entries = max(self.n_words, work // 2 // 12)
            self.merge_entries = max(self.n_words, work // 20)
        bounds = _segment_bounds(self.offsets, n, seg)
        return list(zip(bounds[:-1], bounds[1:]))

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

    def spilled(self, plan: list[tuple[int, int]], tmp_dir) -> tuple[scipy.sparse.csr_array, int]:
        """Count segment by segment, spill each sorted partial result, merge them; returns the
        matrix and the bytes written to disk."""
        v = self.n_words
        work = tempfile.mkdtemp(prefix="fastvec-cooccur-", dir=tmp_dir)
        spilled = 0
        try:
            parts = []
            for k, (first, last) in enumerate(plan):
                self._index = _cooccur.build_index(self.ids, first, last, v)
                try:
                    part = _Part(os.path.join(work, f"part{k:05d}"), v)
                    self._segment(first, last, row_first=0, row_last=v, row_nnz=part.row_nnz())
                    part.finish_counts()
                    for r0, r1 in _row_chunks([part.indptr], self.buffer_entries):
                        n = int(part.indptr[r1] - part.indptr[r0])
                        cols = np.empty(n, dtype=np.int32)
                        vals = np.empty(n, dtype=np.uint64)
                        ok = self._segment(first, last, row_first=r0, row_last=r1,
                                           out_ptr=part.indptr[r0:r1 + 1] - part.indptr[r0], out_cols=cols,
                                           out_u64=vals)
                        if not ok:
                            raise RuntimeError("the corpus changed while it was being counted")
                        part.append(cols, vals)
                    spilled += part.close()
                    parts.append(part)
                finally:
                    del self._index
            return self._merge(parts, os.path.join(work, "merged")), spilled
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _merge(self, parts: list, path: str) -> scipy.sparse.csr_array:
        v = self.n_words
        indptr = np.zeros(v + 1, dtype=np.int64)
        with open(path + ".cols", "wb") as cols_out, open(path + ".data", "wb") as data_out:
            for r0, r1 in _row_chunks([p.indptr for p in parts], self.merge_entries):
                ptr, cols, vals = _read_block(parts, r0, r1)
                block_nnz = np.zeros(r1 - r0, dtype=np.int64)
                _cooccur.merge_rows(ptr=ptr, cols=cols, vals=vals, n_words=v, row_nnz=block_nnz,
                                    n_threads=self.threads)
                out_ptr = np.zeros(r1 - r0 + 1, dtype=np.int64)
                np.cumsum(block_nnz, out=out_ptr[1:])
                out_cols = np.empty(int(out_ptr[-1]), dtype=np.int32)
                out_data = np.empty(int(out_ptr[-1]), dtype=np.float32)
                ok = _cooccur.merge_rows(ptr=ptr, cols=cols, vals=vals, n_words=v, out_ptr=out_ptr, out_cols=out_cols,
                                         out_f32=out_data, inv_scale=self.inv_scale, n_threads=self.threads)
                if not ok:
                    raise RuntimeError("partial results changed while they were merged")
                indptr[r0 + 1:r1 + 1] = indptr[r0] + out_ptr[1:]
                out_cols.tofile(cols_out)
                out_data.tofile(data_out)
        for p in parts:
            p.remove()
        indices = np.fromfile(path + ".cols", dtype=np.int32)
        data = np.fromfile(path + ".data", dtype=np.float32)
        if len(indices) != indptr[-1] or len(data) != indptr[-1]:
            raise OSError(f"{path}: merged co-occurrences were not written completely")
        return csr_from_arrays(data, indices, indptr, v)


class _Part:
    """One segment's sorted partial result on disk: row pointers in memory, columns and exact
    integer sums in two files, appended row chunk by row chunk."""

    def __init__(self, path: str, n_words: int):
        self.path = path
        self.indptr = np.zeros(n_words + 1, dtype=np.int64)
        self._cols = open(path + ".cols", "wb")
        self._vals = open(path + ".vals", "wb")

    def row_nnz(self) -> np.ndarray:
        return self.indptr[1:]

    def finish_counts(self) -> None:
        np.cumsum(self.indptr, out=self.indptr)

    def append(self, cols: np.ndarray, vals: np.ndarray) -> None:
        cols.tofile(self._cols)
        vals.tofile(self._vals)

    def close(self) -> int:
        self._cols.close()
        self._vals.close()
        size = os.path.getsize(self.path + ".cols") + os.path.getsize(self.path + ".vals")
        if size != 12 * int(self.indptr[-1]):
            raise OSError(f"{self.path}: partial result was not written completely")
        return size

    def read_into(self, lo: int, cols: np.ndarray, vals: np.ndarray) -> None:
        """Entries lo, lo + 1, ... into ``cols`` and ``vals`` (as many as they hold)."""
        for ext, out in ((".cols", cols), (".vals", vals)):
            with open(self.path + ext, "rb") as f:
                f.seek(lo * out.itemsize)
                if f.readinto(memoryview(out).cast("B")) != out.nbytes:
                    raise OSError(f"{self.path}{ext}: partial result is truncated")

    def remove(self) -> None:
        for ext in (".cols", ".vals"):
            try:
                os.unlink(self.path + ext)
            except OSError:
                pass


def _read_block(parts: list, r0: int, r1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows [r0, r1) of every partial result, stacked for ``merge_rows``."""
    ptr = np.empty((len(parts), r1 - r0 + 1), dtype=np.int64)
    sizes = [int(p.indptr[r1] - p.indptr[r0]) for p in parts]
    cols = np.empty(sum(sizes), dtype=np.int32)
    vals = np.empty(sum(sizes), dtype=np.uint64)
    base = 0
    for k, (p, size) in enumerate(zip(parts, sizes)):
        lo = int(p.indptr[r0])
        p.read_into(lo, cols[base:base + size], vals[base:base + size])
        ptr[k] = p.indptr[r0:r1 + 1] - lo + base
        base += size
    if len(cols) and (int(cols.min()) < 0 or int(cols.max()) >= len(parts[0].indptr) - 1):
        raise OSError("a partial result on disk holds a column outside the vocabulary")
    return ptr, cols, vals


def _row_chunks(indptrs: list[np.ndarray], max_entries: int) -> list[tuple[int, int]]:
    """Consecutive row ranges holding at most ``max_entries`` entries over all ``indptrs``
    (at least one row each)."""
    total = indptrs[0].astype(np.int64, copy=True)
    for p in indptrs[1:]:
        total += p
    n_rows = len(total) - 1
    chunks = []
    r0 = 0
    while r0 < n_rows:
        r1 = int(np.searchsorted(total, total[r0] + max_entries, side="right")) - 1
        r1 = min(max(r1, r0 + 1), n_rows)
        chunks.append((r0, r1))
        r0 = r1
    return chunks


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
        s = int(np.searchsorted(offsets, target, side="right")) - 1   # last sentence start <= target
        cut = int(offsets[s]) if offsets[s] > bounds[-1] else target
        bounds.append(cut)
    return bounds


__all__ = ["Cooccurrence", "WEIGHTINGS", "fixed_point_units"]
