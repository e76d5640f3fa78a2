"""The geometry of an embedding space: structure, isotropy, spectrum, post-processing.

Every function takes a :class:`~fastvec.KeyedVectors` or any 2-D real array ``W`` (one vector
per row: word2vec, GloVe, contextual vectors, ...). Post-processing returns the kind it was
given: a new ``KeyedVectors`` (same keys and counts, same float dtype) for ``KeyedVectors``, a
new array for arrays; inputs are never modified. Keyed vectors from elsewhere (gensim's
``KeyedVectors``: anything with ``vectors`` and ``index_to_key``) are read as fastvec
``KeyedVectors`` over the same vectors, and post-processing returns fastvec ``KeyedVectors``. Everything is vectorised NumPy/SciPy and
works in float64 on blocks of rows, so a memory-mapped vocabulary of millions of words is
never copied whole.

Notation: ``W`` is n x d; ``X = W - mean(W)`` the centred matrix; ``lambda_1 >= ... >= lambda_d``
the eigenvalues of ``W^T W`` (the squared singular values ``sigma_k^2`` of ``W``).

References
----------
* Mu & Viswanath (2018), "All-but-the-Top: Simple and Effective Postprocessing for Word
  Representations", ICLR: partition-function isotropy, ``all_but_the_top``.
* Roy & Vetterli (2007), "The effective rank: a measure of effective dimensionality", EUSIPCO.
* Gao et al. (2017) and Recanatesi et al. (2019): participation ratio as a linear intrinsic
  dimension.
* Ethayarajh (2019), "How Contextual are Contextualized Word Representations?": average cosine
  between random words as an anisotropy baseline.
* Levy & Goldberg (2014), "Neural Word Embedding as Implicit Matrix Factorization": skip-gram
  with negative sampling factorises the shifted PMI matrix.
* Dasgupta & Gupta (2003): the Johnson-Lindenstrauss bound used by ``jl_dimension``.
* Beyer et al. (1999), Aggarwal et al. (2001): the concentration of distances in high dimension.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, replace
from typing import Any, Iterable, Mapping, Sequence, Union

import numpy as np
from scipy import sparse
from scipy.special import gammaln, logsumexp

from fastvec._base import check_float, check_int
from fastvec.cooccurrence import Cooccurrence, _check_csr
# row norms and unit rows as KeyedVectors computes them: rows whose norm would over- or
# underflow (float64 values near 1e155 and up, or 1e-160 and down) are divided by their
# largest value first
from fastvec.keyedvectors import KeyedVectors, _norms as _row_norms, _unit as _unit_rows

Matrix = Union[KeyedVectors, np.ndarray]
#: Rows per block when a computation streams over a (possibly memory-mapped) matrix.
_BLOCK_ROWS = 1 << 15

__all__ = [
    "PowerLawFit", "all_but_the_top", "average_cosine", "center", "cone_half_angle", "cooccurrence_matrix",
    "cosine_similarity_matrix", "distance_concentration", "effective_rank", "embedding_report",
    "format_report", "intrinsic_dimension", "isotropy", "jl_dimension", "normalize", "one_hot",
    "partition_isotropy", "pmi", "random_projection", "shell_fraction", "singular_values", "skipgram_pairs",
    "sparsity", "spectrum", "spectrum_power_law", "unigram_entropy", "unit_ball_volume", "whiten",
]


# -- input checks ----------------------------------------------------------------------------
def _keyed(W: Any) -> Any:
    """Keyed vectors from elsewhere (gensim's: ``vectors`` and ``index_to_key``) as fastvec
    KeyedVectors over the same vectors (no copy of float32 or float64 ones); anything else as it is."""
    if isinstance(W, (KeyedVectors, np.ndarray)) or not (hasattr(W, "vectors") and hasattr(W, "index_to_key")):
        return W
    return KeyedVectors(list(W.index_to_key), W.vectors)


def _matrix(W: Any, name: str = "W", *, min_rows: int = 1) -> np.ndarray:
    """The rows of ``W`` as a 2-D real array (no copy when possible), validated once."""
    W = _keyed(W)
    arr = W.vectors if isinstance(W, KeyedVectors) else np.asarray(W)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (one vector per row), got shape {arr.shape}")
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{name} must hold real numbers, not {arr.dtype}")
    if arr.shape[1] < 1:
        raise ValueError(f"{name} must have at least one column, got shape {arr.shape}")
    if arr.shape[0] < min_rows:
        raise ValueError(f"{name} must have at least {min_rows} row{'s' if min_rows > 1 else ''}, "
                         f"got {arr.shape[0]}")
    if arr.dtype.kind == "f":
        for start in range(0, arr.shape[0], _BLOCK_ROWS):
            if not np.isfinite(arr[start:start + _BLOCK_ROWS]).all():
                raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _rng(seed: Any) -> np.random.Generator:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (numbers.Integral, np.random.Generator))):
        raise TypeError(f"seed must be an int, a numpy Generator or None, not {type(seed).__name__}")
    return np.random.default_rng(seed)


def _blocks(arr: np.ndarray) -> Iterable[np.ndarray]:
    """Consecutive row blocks as float64 (views of ``arr`` when it is float64: read only)."""
    for start in range(0, arr.shape[0], _BLOCK_ROWS):
        yield np.asarray(arr[start:start + _BLOCK_ROWS], dtype=np.float64)


def _map_rows(W: Any, arr: np.ndarray, f: Any, cols: int | None = None) -> Matrix:
    """``f`` applied to float64 blocks of the rows ``arr`` of ``W``, written straight into the
    result (no float64 copy of the whole matrix), in the float dtype of ``W`` (float64 for
    integers) and the kind ``W`` is: new KeyedVectors with the same keys and counts, or an array."""
    dtype = arr.dtype if arr.dtype.kind == "f" else np.float64
    out = np.empty((arr.shape[0], arr.shape[1] if cols is None else cols), dtype=dtype)
    for start, block in zip(range(0, arr.shape[0], _BLOCK_ROWS), _blocks(arr)):
        out[start:start + len(block)] = f(block)
    W = _keyed(W)
    if isinstance(W, KeyedVectors):
        return KeyedVectors._trusted(W.index_to_key, out, counts=None if W.counts is None else W.counts.copy(),
                                     key_to_index=dict(W.key_to_index))
    return out


def _mean(arr: np.ndarray) -> np.ndarray:
    total = np.zeros(arr.shape[1], dtype=np.float64)
    for block in _blocks(arr):
        total += block.sum(axis=0)
    return total / arr.shape[0]


def _peak(arr: np.ndarray) -> float:
    """The largest absolute value of ``arr`` (1.0 for an all-zero array)."""
    peak = 0.0
    for block in _blocks(arr):
        if block.size:
            peak = max(peak, float(np.abs(block).max()))
    return peak or 1.0


def _gram(arr: np.ndarray, shift: np.ndarray | None = None, scale: float = 1.0) -> np.ndarray:
    """((W - shift) / scale)^T ((W - shift) / scale) in float64, accumulated over row blocks."""
    gram = np.zeros((arr.shape[1], arr.shape[1]), dtype=np.float64)
    for block in _blocks(arr):
        if scale != 1.0:
            block = block / scale   # a new array (the block may be a view of the caller's): in place below
            if shift is not None:
                block -= shift / scale
        elif shift is not None:
            block = block - shift
        gram += block.T @ block
    return gram


def _scaled_eigh(arr: np.ndarray, shift: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """Eigenvalues (descending) and eigenvectors of the Gram matrix of (W - shift) / s, and s,
    the largest absolute value of W: the eigenvalues of W's own Gram matrix are s^2 times them.
    Scaling first keeps the Gram matrix of float64 values near 1e155 (or 1e-160) finite (and
    non-zero); every scale-free measure (isotropy, effective rank, ...) uses them as they are."""
    scale = _peak(arr)
    values, vectors = _eigh_desc(_gram(arr, shift, scale))
    return values, vectors, scale


def _eigh_desc(gram: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending, round-off negatives and noise at zero set to 0) and eigenvectors."""
    values, vectors = np.linalg.eigh(gram)
    values, vectors = values[::-1].copy(), vectors[:, ::-1].copy()
    if len(values):
        tol = max(gram.shape) * np.finfo(np.float64).eps * max(values[0], 0.0) * 10
        values[values <= tol] = 0.0
    return values, vectors


# -- similarity and structure --------------------------------------------------------------------
def cosine_similarity_matrix(W: Matrix, words: Sequence[str] | Sequence[int] | None = None) -> np.ndarray:
    """Pairwise cosine similarities of the chosen rows, an m x m float64 array.

    ``words``: words (KeyedVectors only) or row indices; None takes every row. Zero vectors
    have cosine 0 with everything, themselves included."""
    arr = _matrix(W)
    rows = _rows(W, arr, words)
    unit = _unit_rows(np.asarray(arr[rows], dtype=np.float64))
    return unit @ unit.T


def _rows(W: Any, arr: np.ndarray, words: Any) -> np.ndarray:
    if words is None:
        return np.arange(arr.shape[0])
    if isinstance(words, str):
        raise TypeError("words must be a list of words or row indices, not a single string")
    words = list(words)
    if not words:
        return np.zeros(0, dtype=np.int64)
    if all(isinstance(w, str) for w in words):
        W = _keyed(W)
        if not isinstance(W, KeyedVectors):
            raise TypeError("words given as strings need KeyedVectors; for arrays pass row indices")
        return np.array([W.get_index(w) for w in words], dtype=np.int64)
    if not all(isinstance(w, numbers.Integral) and not isinstance(w, bool) for w in words):
        raise TypeError("words must be all str (words) or all int (row indices)")
    rows = np.array(words, dtype=np.int64)
    if len(rows) and (rows.min() < 0 or rows.max() >= arr.shape[0]):
        raise ValueError(f"row indices must be in [0, {arr.shape[0]}), got {rows.min()}..{rows.max()}")
    return rows


def _key_to_index(vocabulary: Any) -> dict:
    if isinstance(vocabulary, Mapping):
        mapping = dict(vocabulary)
        indices = list(mapping.values())
        if not all(isinstance(i, numbers.Integral) and not isinstance(i, bool) for i in indices) \
                or sorted(indices) != list(range(len(indices))):
            raise ValueError("a vocabulary mapping must map its V words to the indices 0 .. V-1, each once")
        return {w: int(i) for w, i in mapping.items()}
    if hasattr(vocabulary, "key_to_index"):
        return vocabulary.key_to_index
    if isinstance(vocabulary, str):
        raise TypeError("vocabulary must be a list of words, a mapping word -> index, KeyedVectors or Vocabulary")
    words = list(vocabulary)
    mapping = {w: i for i, w in enumerate(words)}
    if len(mapping) != len(words):
        raise ValueError("vocabulary has duplicate words")
    return mapping


def one_hot(vocabulary: Any, words: Sequence[str]) -> sparse.csr_array:
    """One-hot encodings of ``words`` as a len(words) x V scipy.sparse CSR matrix of float64.

    ``vocabulary``: a list of words, a mapping word -> index, KeyedVectors or Vocabulary. Each
    row has a single 1, so the matrix has sparsity (V - 1) / V (see :func:`sparsity`): the
    representation word vectors replace."""
    mapping = _key_to_index(vocabulary)
    if isinstance(words, str):
        raise TypeError("words must be a list of words, not a single string")
    try:
        cols = np.array([mapping[w] for w in words], dtype=np.int64)
    except KeyError as e:
        raise KeyError(f"word {e.args[0]!r} not in vocabulary") from None
    n, v = len(cols), len(mapping)
    return sparse.csr_array((np.ones(n), cols, np.arange(n + 1)), shape=(n, v))   # as Cooccurrence.matrix


def sparsity(matrix: Any) -> float:
    """Fraction of zero entries of a dense or scipy.sparse matrix: 1 - nnz / size."""
    if sparse.issparse(matrix):
        size = matrix.shape[0] * matrix.shape[1]
        nonzero = int(matrix.count_nonzero())
    else:
        arr = np.asarray(matrix)
        size, nonzero = arr.size, int(np.count_nonzero(arr))
    if size == 0:
        raise ValueError("sparsity of an empty matrix is undefined")
    return 1.0 - nonzero / size


def _pair_positions(n: int, window: int) -> tuple[np.ndarray, np.ndarray]:
    """(center, context) positions of a fixed window over n tokens, by center then context position."""
    offsets = np.concatenate([np.arange(-window, 0), np.arange(1, window + 1)])
    center = np.repeat(np.arange(n), len(offsets))
    context = center + np.tile(offsets, n)
    inside = (context >= 0) & (context < n)
    return center[inside], context[inside]


def skipgram_pairs(tokens: Sequence[Any], window: int) -> list[tuple[Any, Any]]:
    """The (center, context) pairs a skip-gram window of ``window`` words each side produces.

    Pairs are ordered by center position, then context position. word2vec additionally
    shrinks each window to a random size in 1..window (so nearer words count more) and drops
    frequent words first; this is the plain fixed window."""
    window = check_int("window", window, 1)
    if isinstance(tokens, str):
        raise TypeError("tokens must be a sequence of tokens, not a single string")
    tokens = list(tokens)
    center, context = _pair_positions(len(tokens), window)
    return [(tokens[i], tokens[j]) for i, j in zip(center.tolist(), context.tolist())]


def cooccurrence_matrix(tokens: Sequence[str], window: int, vocabulary: Any) -> sparse.csr_array:
    """V x V counts of the skip-gram pairs of ``tokens`` (rows: center, columns: context).

    Tokens missing from ``vocabulary`` (list, mapping, KeyedVectors or Vocabulary) are dropped
    before windowing, as word2vec does with rare words. The matrix is symmetric."""
    window = check_int("window", window, 1)
    mapping = _key_to_index(vocabulary)
    if isinstance(tokens, str):
        raise TypeError("tokens must be a sequence of tokens, not a single string")
    ids = np.array([mapping[t] for t in tokens if t in mapping], dtype=np.int64)
    center, context = _pair_positions(len(ids), window)
    v = len(mapping)
    counts = sparse.coo_array((np.ones(len(center)), (ids[center], ids[context])), shape=(v, v))
    return counts.tocsr()


def pmi(cooc: Any, *, positive: bool = False, shift: float = 1.0, cds: float = 1.0) -> Any:
    """Pointwise mutual information of a word-context co-occurrence matrix.

    PMI(w, c) = log( #(w,c) N / (#(w) #(c)^cds / sum_c' #(c')^cds * N) ) - log(shift), i.e.
    log p(w,c) / (p(w) p_cds(c)) - log k with N = sum of all counts, #(w) row sums, #(c) column
    sums. ``cds`` < 1 smooths the context distribution (0.75 as word2vec's noise, Levy, Goldberg
    & Dagan 2015; the ``cds`` of :func:`fastvec.ppmi`, whose default is 0.75); ``shift`` = k
    gives the shifted PMI that skip-gram with k negative samples factorises (Levy & Goldberg
    2014); ``positive`` clips at 0 (PPMI).

    ``cooc``: a dense array, a scipy.sparse matrix or array, or a :class:`fastvec.Cooccurrence`.
    A dense array gives a dense float64 array (unobserved pairs: -inf, or 0 with ``positive``);
    sparse input gives float64 CSR over the observed pairs only (zeros dropped when
    ``positive``), of the kind it was given: ``csr_array`` for scipy sparse arrays and for a
    ``Cooccurrence``, ``csr_matrix`` for scipy sparse matrices. A count stored in several
    pieces (the same entry twice) counts once, summed."""
    shift = check_float("shift", shift, 0.0, low_open=True)
    cds = check_float("cds", cds, 0.0, low_open=True)
    if isinstance(cooc, Cooccurrence):
        _check_csr(cooc.matrix, len(cooc.vocabulary))   # it may have been replaced since
        cooc = cooc.matrix
    is_sparse = sparse.issparse(cooc)
    if is_sparse:
        if cooc.dtype.kind not in "biuf":
            raise TypeError(f"cooc must hold real numbers, not {cooc.dtype}")
        if cooc.ndim != 2:
            raise ValueError(f"cooc must be a 2-D matrix, got shape {cooc.shape}")
        kind = sparse.csr_array if isinstance(cooc, sparse.sparray) else sparse.csr_matrix
        m = kind(cooc, dtype=np.float64)
        if not m.has_canonical_format:   # on a copy: m may share the caller's arrays
            m = m.copy()
            m.sum_duplicates()
    else:
        m = np.asarray(cooc, dtype=np.float64)
    if m.ndim != 2:
        raise ValueError(f"cooc must be a 2-D matrix, got shape {m.shape}")
    values = m.data if is_sparse else m
    if values.size and (not np.isfinite(values).all() or values.min() < 0):
        raise ValueError("cooc must hold finite non-negative counts")
    total = float(values.sum())
    if total <= 0:
        raise ValueError("cooc has no co-occurrences")
    row = np.asarray(m.sum(axis=1)).ravel()
    col = np.asarray(m.sum(axis=0)).ravel()
    p_row = row / total
    with np.errstate(divide="ignore"):   # log p_cds(c) in log space: c**cds over- or underflows for large cds
        log_col = cds * np.log(col)
    log_p_col = log_col - logsumexp(log_col[col > 0])
    if is_sparse:
        coo = m.tocoo()
        keep = coo.data > 0
        r, c, x = coo.row[keep], coo.col[keep], coo.data[keep]
        values = np.log(x / total) - np.log(p_row[r]) - log_p_col[c] - math.log(shift)
        if positive:
            values = np.maximum(values, 0.0)
        out = kind((values, (r, c)), shape=m.shape)
        if positive:
            out.eliminate_zeros()
        return out
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(m / total) - np.log(p_row)[:, None] - log_p_col[None, :] - math.log(shift)
    out[m == 0] = -np.inf
    return np.maximum(out, 0.0) if positive else out


def unigram_entropy(counts: Any, *, base: float = 2.0) -> float:
    """Entropy H(W) = -sum_w p(w) log p(w) of the unigram distribution p(w) = count(w) / N.

    ``counts``: an array of counts, or KeyedVectors / Vocabulary carrying ``counts``. In bits
    by default (``base=math.e`` for nats); 2**H is the perplexity of a unigram model."""
    base = check_float("base", base, 1.0, low_open=True)
    if hasattr(counts, "index_to_key"):
        if getattr(counts, "counts", None) is None:
            raise ValueError("these vectors carry no word counts; pass the counts array")
        counts = counts.counts
    c = np.asarray(counts, dtype=np.float64).ravel()
    if c.size == 0 or not np.isfinite(c).all() or c.min() < 0 or c.sum() <= 0:
        raise ValueError("counts must be a non-empty array of finite non-negative numbers with a positive sum")
    p = c[c > 0] / c.sum()
    return float(-(p * np.log(p)).sum() / math.log(base))


# -- spectrum and isotropy -------------------------------------------------------------------------
def spectrum(W: Matrix, *, center: bool = False) -> np.ndarray:
    """Eigenvalues lambda_1 >= ... >= lambda_d of W^T W (of X^T X with ``center``), float64.

    They are the squared singular values of W; with ``center`` they are (n - 1) times the
    principal-component variances. Computed from the d x d Gram matrix accumulated over row
    blocks (one matrix product), so the small eigenvalues have an absolute error of about
    d * eps * lambda_1: values below about 1e-14 lambda_1 are returned as 0 and the singular
    values below about 1e-7 sigma_1 are lost (use ``scipy.linalg.svdvals(W)`` for the small
    singular values of an ill-conditioned matrix). Values beyond the float64 range are inf."""
    arr = _matrix(W)
    values, scale = _scale_free_spectrum(arr, center)
    with np.errstate(over="ignore"):
        return values * scale * scale


def _scale_free_spectrum(arr: np.ndarray, center: bool) -> tuple[np.ndarray, float]:
    """(values, s): the spectrum of W (centred with ``center``) divided by s^2, s the largest
    absolute value of W; ratios of the values are those of the spectrum itself."""
    values, _, scale = _scaled_eigh(arr, _mean(arr) if center else None)
    return values, scale


def singular_values(W: Matrix, *, center: bool = False) -> np.ndarray:
    """Singular values sigma_1 >= ... >= sigma_d of W (or of the centred X), sqrt of :func:`spectrum`
    (and so accurate to about 1e-7 sigma_1; see there)."""
    arr = _matrix(W)
    values, scale = _scale_free_spectrum(arr, center)
    return np.sqrt(values) * scale


def isotropy(W: Matrix, *, center: bool = False, exclude_smallest: int = 0) -> float:
    """Eigenvalue ratio lambda_min / lambda_max of W^T W (X^T X with ``center``), in [0, 1].

    1 means the vectors spread equally in every direction (W^T W proportional to I); near 0
    means some direction is (almost) unused. Needs at least d rows to be non-zero.
    ``exclude_smallest=k`` leaves out the k smallest eigenvalues: after
    ``all_but_the_top(W, D)`` the D removed directions are empty by construction (ratio 0), and
    ``exclude_smallest=D`` measures the isotropy of the d - D directions that remain."""
    return _eigenvalue_ratio(_scale_free_spectrum(_matrix(W), center)[0], exclude_smallest)


def _eigenvalue_ratio(values: np.ndarray, exclude_smallest: int = 0) -> float:
    k = check_int("exclude_smallest", exclude_smallest, 0, len(values) - 1)
    values = values[:len(values) - k]
    return float(values[-1] / values[0]) if values[0] > 0 else 0.0


def partition_isotropy(W: Matrix) -> float:
    """Partition-function isotropy of Mu & Viswanath (2018), in (0, 1].

    I(W) = min_c Z(c) / max_c Z(c) with Z(c) = sum_w exp(c^T w) over unit vectors c. If the
    vectors are isotropic, Z(c) is nearly constant and I is close to 1; a common mean vector
    or a few dominating directions make Z(c) vary and I small. As in the paper, c ranges over
    the eigenvectors of W^T W; we take both signs, +u and -u (an eigensolver picks the sign of u
    arbitrarily; using both makes the value deterministic and can only tighten the min/max).
    Computed with log-sum-exp over row blocks, so large norms cannot overflow."""
    arr = _matrix(W)
    _, vectors, _ = _scaled_eigh(arr)
    directions = np.concatenate([vectors, -vectors], axis=1)
    log_z = np.full(directions.shape[1], -np.inf)
    for block in _blocks(arr):
        log_z = np.logaddexp(log_z, logsumexp(block @ directions, axis=0))
    return float(np.exp(log_z.min() - log_z.max()))


_SAMPLE_CHUNK = 1 << 16   # pairs per block of the sampled average cosine


def average_cosine(W: Matrix, *, sample: int | None = None, seed: Any = None) -> float:
    """Mean cosine similarity over pairs of distinct rows (i != j).

    Exact by default, in O(n d) time whatever n: with unit rows u_i and s = sum_i u_i,
    sum_{i != j} u_i . u_j = |s|^2 - sum_i |u_i|^2. With ``sample=m`` it is instead the mean
    over m pairs drawn uniformly (with replacement) among ordered pairs of distinct rows, an
    unbiased estimate (standard error about std(cos) / sqrt(m)) that only reads 2m rows, for
    matrices too large to scan. Zero vectors count with cosine 0. Near 0 for isotropic data;
    word2vec vectors share a common direction and score well above 0."""
    arr = _matrix(W, min_rows=2)
    n = arr.shape[0]
    if sample is not None:
        m = check_int("sample", sample, 1)
        if m >= n * (n - 1):   # as many draws as ordered pairs: the exact mean is cheaper
            sample = None
    if sample is None:
        s = np.zeros(arr.shape[1], dtype=np.float64)
        sq = 0.0
        for block in _blocks(arr):
            unit = _unit_rows(block)
            s += unit.sum(axis=0)
            sq += float(np.einsum("ij,ij->", unit, unit))
        return float((s @ s - sq) / (n * (n - 1.0)))
    rng = _rng(seed)
    total = 0.0
    for start in range(0, m, _SAMPLE_CHUNK):   # memory bounded whatever m
        k = min(_SAMPLE_CHUNK, m - start)
        i = rng.integers(0, n, size=k)
        j = rng.integers(0, n - 1, size=k)
        j += j >= i  # uniform over the n - 1 rows other than i
        a = _unit_rows(np.asarray(arr[i], dtype=np.float64))
        b = _unit_rows(np.asarray(arr[j], dtype=np.float64))
        total += float(np.einsum("ij,ij->i", a, b).sum())
    return total / m


def cone_half_angle(W: Matrix, *, quantile: float = 1.0, degrees: bool = True) -> float:
    """Half-angle of the narrowest cone around the mean direction that holds the vectors.

    The axis is m = mean of the unit rows; the result is the ``quantile`` (1.0: the maximum) of
    the angles arccos(u_i . m / |m|) over the non-zero rows, in degrees (radians with
    ``degrees=False``). Anisotropic embeddings occupy a narrow cone (Mimno & Thompson 2017,
    Ethayarajh 2019); isotropic data gives angles up to 180 degrees."""
    quantile = check_float("quantile", quantile, 0.0, 1.0)
    arr = _matrix(W)
    axis = np.zeros(arr.shape[1], dtype=np.float64)
    nonzero = 0
    for block in _blocks(arr):
        axis += _unit_rows(block).sum(axis=0)
        nonzero += int(np.count_nonzero(np.any(block != 0, axis=1)))
    if nonzero == 0:
        raise ValueError("W has only zero vectors; they span no cone")
    norm = np.linalg.norm(axis)
    if norm == 0:  # the unit vectors cancel out: no mean direction, the cone is the whole space
        return 180.0 if degrees else math.pi
    axis /= norm
    cosines = []
    for block in _blocks(arr):
        keep = np.any(block != 0, axis=1)
        cosines.append(_unit_rows(block[keep]) @ axis)
    cos = np.concatenate(cosines)
    angle = float(np.quantile(np.arccos(np.clip(cos, -1.0, 1.0)), quantile))
    return math.degrees(angle) if degrees else angle


def intrinsic_dimension(W: Matrix, *, center: bool = False) -> float:
    """Participation ratio (sum_k lambda_k)^2 / sum_k lambda_k^2 of the eigenvalues of W^T W.

    Between 1 (all variance along one direction) and d (equal variance in every direction);
    a linear estimate of how many dimensions the vectors really use. With ``center`` it is the
    participation ratio of the covariance spectrum (Gao et al. 2017, Recanatesi et al. 2019)."""
    return _participation_ratio(_scale_free_spectrum(_matrix(W), center)[0])


def _participation_ratio(values: np.ndarray) -> float:
    if len(values) and values[0] > 0:
        values = values / values[0]   # squares of eigenvalues near 1e155 would overflow
    denominator = float(np.sum(values ** 2))
    return float(np.sum(values) ** 2 / denominator) if denominator > 0 else 0.0


def effective_rank(W: Matrix, *, center: bool = False) -> float:
    """Effective rank of Roy & Vetterli (2007): exp(H(p)) with p_k = sigma_k / sum_j sigma_j.

    H is the Shannon entropy (nats) of the normalised singular values of W (of X with
    ``center``). 1 <= erank <= rank(W): a rank-k matrix has effective rank at most k, with
    equality when its k non-zero singular values are equal."""
    return _effective_rank(_scale_free_spectrum(_matrix(W), center)[0])


def _effective_rank(values: np.ndarray) -> float:
    sigma = np.sqrt(values)
    total = float(sigma.sum())
    if total == 0:
        return 0.0
    p = sigma[sigma > 0] / total
    return float(np.exp(-(p * np.log(p)).sum()))


@dataclass(frozen=True)
class PowerLawFit:
    """lambda_k ~ scale * k^(-alpha) fitted by least squares on log lambda_k vs log k."""

    alpha: float
    scale: float
    r_squared: float
    first_rank: int
    last_rank: int

    def to_dict(self) -> dict[str, float]:
        """The fit as plain JSON-serialisable values."""
        return asdict(self)


def spectrum_power_law(W: Matrix, *, center: bool = False, ranks: tuple[int, int] | None = None) -> PowerLawFit:
    """Fit a power law lambda_k = scale * k^(-alpha) to the spectrum of W^T W (or X^T X).

    ``ranks=(first, last)`` (1-based, inclusive) limits the fit; default: every rank with a
    non-zero eigenvalue. alpha near 0 is a flat (isotropic) spectrum; alpha near 1 is the
    critical decay discussed by Stringer et al. (2019) for neural representations."""
    arr = _matrix(W)
    values, s = _scale_free_spectrum(arr, center)
    fit = _power_law(values, ranks)   # alpha and r^2 do not depend on the scale
    with np.errstate(over="ignore"):
        return replace(fit, scale=fit.scale * s * s)


def _power_law(values: np.ndarray, ranks: tuple[int, int] | None) -> PowerLawFit:
    positive = int(np.count_nonzero(values > 0))
    if ranks is None:
        first, last = 1, positive
    else:
        if not isinstance(ranks, (tuple, list)) or len(ranks) != 2:
            raise TypeError("ranks must be a (first, last) pair of 1-based ranks")
        first = check_int("ranks[0]", ranks[0], 1)
        last = check_int("ranks[1]", ranks[1], first + 1, positive)
    if last - first + 1 < 2:
        raise ValueError(f"need at least two non-zero eigenvalues to fit a power law, got {last - first + 1}")
    k = np.arange(first, last + 1, dtype=np.float64)
    x, y = np.log(k), np.log(values[first - 1:last])
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    ss_tot = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((residual ** 2).sum()) / ss_tot if ss_tot > 0 else 1.0
    return PowerLawFit(alpha=float(-slope), scale=float(np.exp(intercept)), r_squared=r2, first_rank=first,
                       last_rank=last)


# -- post-processing -------------------------------------------------------------------------------
def center(W: Matrix) -> Matrix:
    """Subtract the mean vector: X = W - mean(W). Returns the kind it was given."""
    arr = _matrix(W)
    mean = _mean(arr)
    return _map_rows(W, arr, lambda block: block - mean)


def normalize(W: Matrix) -> Matrix:
    """Scale every row to unit length (zero rows stay zero). Returns the kind it was given."""
    arr = _matrix(W)
    return _map_rows(W, arr, _unit_rows)


def _check_components(D: Any, d: int) -> int:
    if D is None:
        return max(1, round(d / 100))
    return check_int("D", D, 0, d)


def all_but_the_top(W: Matrix, D: int | None = None) -> Matrix:
    """All-but-the-top post-processing (Mu & Viswanath 2018).

    Centre (X = W - mean(W)), find the top ``D`` principal directions u_1..u_D of X (the
    leading eigenvectors of X^T X) and remove them: v' = x - sum_{i<=D} (u_i^T x) u_i. The paper
    suggests D ~ d / 100 (the default, at least 1). Returns the kind it was given."""
    arr = _matrix(W)
    D = _check_components(D, arr.shape[1])
    mean = _mean(arr)
    _, vectors, _ = _scaled_eigh(arr, mean)
    top = vectors[:, :D]

    def remove(block: np.ndarray) -> np.ndarray:
        x = block - mean
        return x - (x @ top) @ top.T
    return _map_rows(W, arr, remove)


def whiten(W: Matrix, *, method: str = "pca", eps: float = 0.0) -> Matrix:
    """Centre and decorrelate so that the sample covariance becomes the identity.

    With C = X^T X / (n - 1) = U diag(lambda) U^T: ``method="pca"`` returns
    X U diag(lambda + eps)^(-1/2) (coordinates along the principal axes, largest variance
    first); ``method="zca"`` returns X U diag(lambda + eps)^(-1/2) U^T, the whitening closest
    to the original coordinates (Bell & Sejnowski 1997; Kessy, Lewin & Strimmer 2018). ``eps``
    regularises small variances; with ``eps=0`` a singular covariance raises ValueError.
    Returns the kind it was given."""
    if method not in ("pca", "zca"):
        raise ValueError(f"method must be 'pca' or 'zca', not {method!r}")
    eps = check_float("eps", eps, 0.0)
    arr = _matrix(W, min_rows=2)
    mean = _mean(arr)
    values, vectors, s = _scaled_eigh(arr, mean)
    values = values / (arr.shape[0] - 1)    # variances / s^2
    # standard deviations sqrt(variance + eps), computed without squaring s (which over- or
    # underflows for float64 values far from 1)
    if eps == 0 or s >= 1.0:
        root = np.sqrt(values + eps / s / s) * s
    else:
        root = np.sqrt(values * s * s + eps)
    if root[-1] <= 0:
        rank = int(np.count_nonzero(root > 0))
        raise ValueError(f"the covariance of W is singular (rank {rank} < {arr.shape[1]}); "
                         "pass eps > 0 to regularise")
    transform = vectors / root
    if method == "zca":
        transform = transform @ vectors.T
    return _map_rows(W, arr, lambda block: (block - mean) @ transform)


# -- high-dimensional geometry ---------------------------------------------------------------------
def unit_ball_volume(d: int, *, log: bool = False) -> float:
    """Volume of the unit ball in d dimensions, pi^(d/2) / Gamma(d/2 + 1) (its log with ``log``).

    Computed as exp(d/2 log pi - lgamma(d/2 + 1)), stable for any d: 2, pi, 4 pi / 3 for
    d = 1, 2, 3, a maximum at d = 5, then a fall to 0 faster than exponentially."""
    d = check_int("d", d, 0)
    value = 0.5 * d * math.log(math.pi) - float(gammaln(0.5 * d + 1.0))
    return value if log else math.exp(value)


def shell_fraction(d: int, r: float) -> float:
    """r^d: the volume of the ball of radius r as a fraction of the unit ball in d dimensions.

    For any fixed r < 1 it tends to 0 as d grows: almost all of a high-dimensional ball's
    volume lies in the thin outer shell r < |x| <= 1, which holds 1 - r^d."""
    d = check_int("d", d, 0)
    r = check_float("r", r, 0.0, 1.0)
    return r ** d


def distance_concentration(points_or_d: Any, n: int = 1000, *, seed: Any = None) -> dict[str, float]:
    """How much pairwise Euclidean distances differ, for random points or given vectors.

    ``points_or_d``: an int d (then n points are drawn from the standard Gaussian in d
    dimensions) or a 2-D array / KeyedVectors (then n of its rows are drawn without
    replacement, or all rows if there are at most n). Over the n (n - 1) / 2 distances:
    ``relative_contrast`` = (max - min) / min and ``spread`` = (max - min) / mean, both of which
    shrink towards 0 as the dimension grows (Beyer et al. 1999): nearest and farthest
    neighbours become alike. Also returns ``min``, ``max``, ``mean``, ``std``, ``cv``
    (std / mean), ``n`` and ``d``."""
    from scipy.spatial.distance import pdist

    n = check_int("n", n, 2)
    rng = _rng(seed)
    if isinstance(points_or_d, numbers.Integral) and not isinstance(points_or_d, bool):
        d = check_int("points_or_d", points_or_d, 1)
        points = rng.standard_normal((n, d))
    else:
        arr = _matrix(points_or_d, "points_or_d", min_rows=2)
        rows = np.sort(rng.choice(arr.shape[0], size=n, replace=False)) if arr.shape[0] > n else slice(None)
        points = np.asarray(arr[rows], dtype=np.float64)
    scale = _peak(points)
    dist = pdist(points / scale)   # in units of the largest |value|: no overflow or underflow
    lo, hi, mean = float(dist.min()), float(dist.max()), float(dist.mean())
    std = float(dist.std())
    return {"relative_contrast": (hi - lo) / lo if lo > 0 else math.inf,
            "spread": (hi - lo) / mean if mean > 0 else 0.0,
            "min": lo * scale, "max": hi * scale, "mean": mean * scale, "std": std * scale,
            "cv": std / mean if mean > 0 else 0.0,
            "n": int(points.shape[0]), "d": int(points.shape[1])}


def jl_dimension(n: int, eps: float) -> int:
    """The Johnson-Lindenstrauss dimension k = ceil(4 ln n / (eps^2 / 2 - eps^3 / 3)) of
    Dasgupta & Gupta (2003), at least 1: a random projection of n points to k dimensions keeps
    every pairwise squared distance within a factor 1 +- eps with some probability.

    The bound is sufficient, not the smallest such k, and its guarantee is weak: each pair
    fails with probability at most 2 / n^2, so by the union bound over the n (n - 1) / 2 pairs
    one projection succeeds with probability at least 1 / n (repeat it to be sure). In practice
    a projection fails far less often (a few percent of seeds for n = 200, eps = 0.2). It
    depends on n and eps, not on the original dimension."""
    n = check_int("n", n, 1)
    eps = check_float("eps", eps, 0.0, 1.0, low_open=True, high_open=True)
    return max(1, int(math.ceil(4.0 * math.log(n) / (eps ** 2 / 2.0 - eps ** 3 / 3.0))))


def random_projection(W: Matrix, k: int, *, seed: Any = None) -> Matrix:
    """Project onto k random Gaussian directions: W R with R_ij ~ N(0, 1/k), d x k.

    E|R^T x|^2 = |x|^2, so squared distances are preserved in expectation and, for k >=
    :func:`jl_dimension` (n, eps), within 1 +- eps for every pair with the probability stated
    there (for each single pair, with probability at least 1 - 2 / n^2). Returns the kind it was
    given."""
    arr = _matrix(W)
    k = check_int("k", k, 1)
    rng = _rng(seed)
    projection = rng.standard_normal((arr.shape[1], k)) / math.sqrt(k)
    return _map_rows(W, arr, lambda block: block @ projection, cols=k)


# -- report ------------------------------------------------------------------------------------------
SAMPLE_WORDS = ("king", "france", "computer", "water", "music", "january")


def embedding_report(W: Matrix, *, words: Sequence[str] | None = None, topn: int = 5,
                     sample: int | None = None, seed: Any = 0) -> dict[str, Any]:
    """The numbers ``fastvec analyze`` prints, as a dict (JSON-serialisable; NaN where a number
    is undefined: the cone of zero vectors, the power law of fewer than two eigenvalues).

    Size, mean norm, isotropy (eigenvalue ratio and partition function), average cosine
    (exact, or sampled with ``sample``), cone half-angle, intrinsic dimension, effective rank
    (each of W as given and of the centred X), the power-law exponent of the spectrum and, for
    KeyedVectors, the ``topn`` nearest neighbours of ``words`` (default: common sample words
    present in the vocabulary). A word whose vector is zero has no direction and so no
    neighbours: it is left out of ``neighbours`` and listed in ``zero_vector_words``."""
    topn = check_int("topn", topn, 1)
    W = _keyed(W)
    arr = _matrix(W, min_rows=2)
    norms = np.concatenate([_row_norms(b) for b in _blocks(arr)])
    raw, centred = _scale_free_spectrum(arr, False)[0], _scale_free_spectrum(arr, True)[0]
    report: dict[str, Any] = {
        "n_vectors": int(arr.shape[0]), "dimension": int(arr.shape[1]), "mean_norm": float(norms.mean()),
        "isotropy": _eigenvalue_ratio(raw), "isotropy_centered": _eigenvalue_ratio(centred),
        "partition_isotropy": partition_isotropy(arr),
        "average_cosine": average_cosine(arr, sample=sample, seed=seed),
        "cone_half_angle": cone_half_angle(arr) if norms.any() else math.nan,  # zero vectors: no cone
        "intrinsic_dimension": _participation_ratio(raw),
        "intrinsic_dimension_centered": _participation_ratio(centred),
        "effective_rank": _effective_rank(raw), "effective_rank_centered": _effective_rank(centred),
        "power_law_alpha": _power_law(raw, None).alpha if np.count_nonzero(raw) >= 2 else math.nan,
        "neighbours": {}, "zero_vector_words": [],
    }
    if isinstance(W, KeyedVectors):
        if words is None:
            words = [w for w in SAMPLE_WORDS if w in W] or W.index_to_key[:min(5, len(W))]
        elif isinstance(words, str):
            raise TypeError("words must be a list of words, not a single string")
        for w in words:
            if not np.any(arr[W.get_index(w)]):   # most_similar would refuse it ("no direction")
                report["zero_vector_words"].append(w)
            else:
                report["neighbours"][w] = [[k, s] for k, s in W.most_similar(w, topn=topn)]
    elif words is not None:
        raise TypeError("neighbours of words need KeyedVectors, not a bare array")
    return report


def format_report(report: Mapping[str, Any]) -> str:
    """A plain-text rendering of :func:`embedding_report`."""
    lines = [
        f"vectors:               {report['n_vectors']} x {report['dimension']} (mean norm {report['mean_norm']:.3f})",
        "                       as given   centred",
        f"isotropy (eig. ratio): {report['isotropy']:9.3g} {report['isotropy_centered']:9.3g}",
        f"intrinsic dimension:   {report['intrinsic_dimension']:9.2f} {report['intrinsic_dimension_centered']:9.2f}"
        "   (participation ratio)",
        f"effective rank:        {report['effective_rank']:9.2f} {report['effective_rank_centered']:9.2f}"
        "   (exp of spectral entropy)",
        f"partition isotropy:    {report['partition_isotropy']:9.3g}             (Mu & Viswanath 2018)",
        f"average cosine:        {report['average_cosine']:9.4f}",
        f"cone half-angle:       {report['cone_half_angle']:9.2f} degrees",
        f"spectrum power law:    alpha = {report['power_law_alpha']:.3f}",
    ]
    if report.get("neighbours"):
        lines.append("nearest neighbours:")
        for word, neighbours in report["neighbours"].items():
            lines.append(f"  {word:<12} " + ", ".join(f"{w} ({s:.2f})" for w, s in neighbours))
    if report.get("zero_vector_words"):
        lines.append("no neighbours (zero vector, no direction): " + ", ".join(report["zero_vector_words"]))
    return "\n".join(lines)
