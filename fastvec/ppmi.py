"""Positive pointwise mutual information of a co-occurrence matrix (Levy, Goldberg & Dagan 2015).

    PMI(i, j) = log( P(i, j) / (P(i) * P_cds(j)) )
              = log X_ij - log r_i - cds * log c_j + log sum_k c_k**cds

with row sums r, column sums c, ``P_cds(j) = c_j**cds / sum_k c_k**cds`` (context distribution
smoothing; ``cds=1`` is plain PMI) and the shifted positive variant
``SPPMI = max(PMI - log(shift), 0)`` (``shift`` = k of skip-gram's k negative samples; 1: no
shift). Only positive entries are stored (above 1e-9, to ignore float64 rounding of exact
zeros). Computed in float64, in chunks of rows, stored as float32.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from fastvec._base import check_float
from fastvec.cooccurrence import Cooccurrence, _check_csr, _check_dtype, _row_chunks, csr_from_arrays, sparse, summed_csr

if TYPE_CHECKING:
    import scipy.sparse

#: non-zeros per chunk: its float64 and int64 temporaries (about seven of 8 B per non-zero)
#: take about 60 MB
CHUNK = 1 << 20
#: PMI values at most this far above 0 are float64 rounding of an exact 0 (e.g. log 4 - 2 log 8
#: + log 16) and are not stored
ZERO_TOLERANCE = 1e-9


def _csr(cooc: Any) -> scipy.sparse.csr_array:
    if isinstance(cooc, Cooccurrence):
        _check_csr(cooc.matrix, len(cooc.vocabulary))
        return cooc.matrix
    if sparse.issparse(cooc):
        _check_dtype(cooc)
        if cooc.shape[0] != cooc.shape[1]:
            raise ValueError(f"a co-occurrence matrix is square, got shape {cooc.shape}")
        return summed_csr(cooc)
    raise TypeError(f"expected a fastvec.Cooccurrence or a scipy.sparse matrix, not {type(cooc).__name__}")


def marginals(matrix: scipy.sparse.csr_array) -> tuple[np.ndarray, np.ndarray]:
    """Row and column sums in float64 (without a float64 copy of the whole matrix)."""
    n = matrix.shape[0]
    indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
    rows = np.zeros(n, dtype=np.float64)
    cols = np.zeros(n, dtype=np.float64)
    for r0, r1 in _row_chunks(indptr, CHUNK):
        lo, hi = int(indptr[r0]), int(indptr[r1])
        values = data[lo:hi].astype(np.float64)
        row_of = np.repeat(np.arange(r0, r1), np.diff(indptr[r0:r1 + 1]))
        rows += np.bincount(row_of, weights=values, minlength=n)
        cols += np.bincount(indices[lo:hi], weights=values, minlength=n)
    return rows, cols


def ppmi(cooc: Cooccurrence | Any, cds: float = 0.75, shift: float = 1.0) -> scipy.sparse.csr_array:
    """Shifted positive PMI with context distribution smoothing of a co-occurrence matrix
    (a :class:`fastvec.Cooccurrence` or any square scipy.sparse matrix of counts >= 0).

    Returns a ``scipy.sparse.csr_array`` (float32) of the same shape holding only the positive
    values. Rows or columns without counts stay empty; a matrix without any count raises
    ValueError."""
    cds = check_float("cds", cds, 0.0, 10.0, low_open=True)
    shift = check_float("shift", shift, 0.0, low_open=True)
    matrix = _csr(cooc)
    n = matrix.shape[0]
    indptr = np.asarray(matrix.indptr, dtype=np.int64)
    indices, data = matrix.indices, matrix.data
    if len(data) and not (np.isfinite(data).all() and float(data.min()) >= 0):
        raise ValueError("co-occurrence values must be finite and >= 0")
    rows, cols = marginals(matrix)
    if not np.any(rows > 0):
        raise ValueError("the co-occurrence matrix is empty (no counts): its PPMI is undefined")
    with np.errstate(divide="ignore"):
        log_rows = np.log(rows)
        log_cols = cds * np.log(cols)
    if not (np.isfinite(rows).all() and np.isfinite(cols).all()):
        raise ValueError("co-occurrence counts too large: their row or column sums overflow float64 "
                         "(PMI does not change when every count is divided by the same number)")
    from scipy.special import logsumexp   # here: at import, older SciPy's special loads linalg and sparse
    # log sum_k c_k**cds in log space: the sum itself overflows or underflows for large cds
    # (tiny counts at cds=8 lost the normaliser, and every PMI moved by hundreds)
    offset = float(logsumexp(log_cols[cols > 0])) - np.log(shift)
    out_indices = np.empty(len(data), dtype=np.int32)   # upper bound; untouched pages cost nothing
    out_data = np.empty(len(data), dtype=np.float32)
    out_indptr = np.zeros(n + 1, dtype=np.int64)
    kept = 0
    for r0, r1 in _row_chunks(indptr, CHUNK):
        lo, hi = int(indptr[r0]), int(indptr[r1])
        cols_k = indices[lo:hi]
        row_of = np.repeat(np.arange(r0, r1), np.diff(indptr[r0:r1 + 1]))
        with np.errstate(divide="ignore", invalid="ignore"):   # a stored 0 in an empty column: NaN, not kept
            pmi = np.log(data[lo:hi].astype(np.float64)) - log_rows[row_of] - log_cols[cols_k] + offset
        positive = pmi > ZERO_TOLERANCE
        m = int(positive.sum())
        out_indices[kept:kept + m] = cols_k[positive]
        out_data[kept:kept + m] = pmi[positive]
        out_indptr[r0 + 1:r1 + 1] = kept + np.cumsum(np.bincount(row_of[positive] - r0, minlength=r1 - r0))
        kept += m
    out_indices = out_indices[:kept].copy() if kept < len(data) // 2 else _shrink(out_indices, kept)
    out_data = out_data[:kept].copy() if kept < len(data) // 2 else _shrink(out_data, kept)
    return csr_from_arrays(out_data, out_indices, out_indptr, n)   # int32 indices stay int32


def _shrink(a: np.ndarray, n: int) -> np.ndarray:
    """Shorten an array that owns its memory in place (realloc), else copy."""
    try:
        a.resize(n, refcheck=False)
        return a
    except ValueError:
        return a[:n].copy()


__all__ = ["ppmi", "marginals"]
