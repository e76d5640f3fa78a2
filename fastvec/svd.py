"""Count-based embeddings: truncated SVD of the (shifted) PPMI matrix, the baseline of Levy,
Goldberg & Dagan (2015, "Improving distributional similarity with lessons learned from word
embeddings").

The SVD is randomized (Halko, Martinsson & Tropp 2011: a Gaussian sketch with oversampling,
a few power iterations with QR re-orthonormalisation, then an exact SVD of the small projected
matrix), in float32, seeded, and its BLAS calls limited to ``workers`` threads.
"""
from __future__ import annotations

import time

import numpy as np
import scipy.linalg

from fastvec._base import Params, check_float, check_int, read_only, resolve_seed
from fastvec._threads import blas_limit, check_workers, resolve_workers
from fastvec.cooccurrence import Cooccurrence
from fastvec.corpus import Corpus, CorpusLike, Tokenizer
from fastvec.exceptions import NotFittedError
from fastvec.keyedvectors import KeyedVectors
from fastvec.ppmi import ppmi

VECTOR_CHOICES = ("word", "sum")


def randomized_svd(matrix, k: int, *, oversamples: int = 20, power_iterations: int = 5,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` leading singular triplets (U, s, Vt) of a sparse or dense matrix, float32."""
    n_rows, n_cols = matrix.shape
    width = min(k + oversamples, n_rows, n_cols)
    rng = np.random.Generator(np.random.PCG64(seed))
    sketch = rng.standard_normal((n_cols, width), dtype=np.float32)
    q = _orthonormal(matrix @ sketch)
    for _ in range(power_iterations):
        q = _orthonormal(matrix.T @ q)
        q = _orthonormal(matrix @ q)
    small = np.ascontiguousarray((matrix.T @ q).T)           # width x n_cols
    u_small, s, vt = scipy.linalg.svd(small, full_matrices=False, check_finite=False)
    u = q @ u_small
    return u[:, :k], s[:k], vt[:k]


def _orthonormal(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float32)
    q, _ = scipy.linalg.qr(a, mode="economic", check_finite=False)
    return q.astype(np.float32, copy=False)


class SVDEmbedding(Params):
    """Word vectors ``U_k * s_k ** eig_weight`` from the truncated SVD of the shifted PPMI
    matrix of the co-occurrences (``cds`` context distribution smoothing, ``shift`` = log-k
    shift; see :func:`fastvec.ppmi`). ``eig_weight`` is Levy et al.'s p (1: classic
    ``U * s``; 0.5 or 0 usually better on similarity tasks). With ``vectors="sum"``, the
    context vectors ``V_k * s_k ** eig_weight`` are added ("w + c").

    Co-occurrences are counted as for :class:`fastvec.GloVe` (symmetric ``window`` with
    1/distance weights, words occurring ``min_count`` times), or passed in as a
    :class:`Cooccurrence`. The randomized SVD uses ``power_iterations`` passes and
    ``oversamples`` extra directions, seeded by ``seed``, on ``workers`` BLAS threads when the
    sketch is large (vocabulary x (vector_size + oversamples) >= 2^23 entries; smaller ones run
    faster on one).

    Learned attributes: ``wv`` (:class:`KeyedVectors`, following ``vectors`` also when it is
    changed after fitting), ``singular_values_`` (the spectrum, in decreasing order),
    ``word_vectors_``, ``context_vectors_``, ``vocabulary_``, ``ppmi_nnz_``,
    ``count_seconds_``, ``svd_seconds_``, ``seed_``."""

    def __init__(self, *, vector_size: int = 100, eig_weight: float = 0.5, cds: float = 0.75, shift: float = 1.0,
                 window: int = 15, min_count: int = 5, vectors: str = "word", power_iterations: int = 5,
                 oversamples: int = 20, workers: int | None = None, seed: int | None = None,
                 max_memory: int | None = None, tokenizer: Tokenizer | str | None = None):
        self.vector_size = vector_size
        self.eig_weight = eig_weight
        self.cds = cds
        self.shift = shift
        self.window = window
        self.min_count = min_count
        self.vectors = vectors
        self.power_iterations = power_iterations
        self.oversamples = oversamples
        self.workers = workers
        self.seed = seed
        self.max_memory = max_memory
        self.tokenizer = tokenizer

    _PARAMS = ("vector_size", "eig_weight", "cds", "shift", "window", "min_count", "vectors", "power_iterations",
               "oversamples", "workers", "seed", "max_memory", "tokenizer")

    def _validate(self) -> None:
        check_int("vector_size", self.vector_size, 1, 100_000)
        # a negative p divides by the singular values, and those of directions the PPMI matrix
        # does not use are 0 (or tiny): inf or huge vectors
        check_float("eig_weight", self.eig_weight, 0.0, 10.0)
        check_float("cds", self.cds, 0.0, 10.0, low_open=True)
        check_float("shift", self.shift, 0.0, low_open=True)
        check_int("window", self.window, 1, 10_000)
        check_int("min_count", self.min_count, 1)
        check_int("power_iterations", self.power_iterations, 0, 100)
        check_int("oversamples", self.oversamples, 0, 10_000)
        if self.vectors not in VECTOR_CHOICES:
            raise ValueError(f"vectors must be one of {', '.join(map(repr, VECTOR_CHOICES))}, got {self.vectors!r}")
        if self.max_memory is not None:
            check_int("max_memory", self.max_memory, 1)
        check_workers(self.workers)   # resolved (and warned about) once, in fit
        if self.seed is not None:
            resolve_seed(self.seed)   # a bad seed is refused before counting

    def fit(self, corpus: CorpusLike | Cooccurrence) -> "SVDEmbedding":
        """Count (unless given a :class:`Cooccurrence`), take the PPMI, factorise. Returns ``self``."""
        self._validate()
        threads = resolve_workers(self.workers)
        started = time.perf_counter()
        if isinstance(corpus, Cooccurrence):
            cooc = corpus
        else:
            encoded = Corpus.build(corpus, min_count=self.min_count, tokenizer=self.tokenizer)
            cooc = Cooccurrence.from_corpus(encoded, window=int(self.window), max_memory=self.max_memory,
                                            workers=threads)
            del encoded
        count_seconds = time.perf_counter() - started
        n = len(cooc.vocabulary)
        k = int(self.vector_size)
        if k >= n:
            raise ValueError(f"vector_size={k} must be smaller than the vocabulary ({n} words)")
        started = time.perf_counter()
        matrix = ppmi(cooc, cds=self.cds, shift=self.shift)
        if matrix.nnz == 0:
            raise ValueError("the PPMI matrix is empty (no positive association): nothing to factorise")
        ppmi_nnz = int(matrix.nnz)
        seed = resolve_seed(self.seed)
        # BLAS threads pay off on large sketches only (and hurt on small ones when cores are busy)
        blas_threads = threads if n * (k + int(self.oversamples)) >= 1 << 23 else 1
        with blas_limit(blas_threads):   # counted with the trainings of other Python threads
            u, s, vt = randomized_svd(matrix, k, oversamples=int(self.oversamples),
                                      power_iterations=int(self.power_iterations), seed=seed)
        del matrix
        weight = np.power(s, float(self.eig_weight)).astype(np.float32)
        # every learned attribute is set here, after the last step that can fail: a failed
        # fit leaves a fitted model as it was
        self.count_seconds_ = count_seconds
        self.ppmi_nnz_ = ppmi_nnz
        self.seed_ = seed
        self.singular_values_ = s.astype(np.float64)
        self._word = np.ascontiguousarray(u * weight, dtype=np.float32)
        self._context = np.ascontiguousarray((vt.T * weight).astype(np.float32))
        self.vocabulary_ = cooc.vocabulary
        self._wv: KeyedVectors | None = None
        self.svd_seconds_ = time.perf_counter() - started
        return self

    @property
    def word_vectors_(self) -> np.ndarray:
        """U diag(sigma)^p, one row per word (a read-only view: ``wv`` shares these rows and
        caches their norms; change them through ``wv.set_vector``)."""
        return read_only(self._fitted("_word"))

    @property
    def context_vectors_(self) -> np.ndarray:
        """V diag(sigma)^p, one row per context word (a read-only view)."""
        return read_only(self._fitted("_context"))

    def _fitted(self, name: str) -> np.ndarray:
        if name not in self.__dict__:
            raise NotFittedError("this SVDEmbedding is not fitted yet; call fit(corpus)")
        return self.__dict__[name]

    @property
    def wv(self) -> KeyedVectors:
        """The vectors chosen by ``vectors`` as :class:`KeyedVectors`: ``word_vectors_``
        (sharing their memory) or their sum with ``context_vectors_`` (a copy), built again
        when ``vectors`` has been changed since."""
        self._fitted("_word")
        if self.vectors not in VECTOR_CHOICES:
            raise ValueError(f"vectors must be one of {', '.join(map(repr, VECTOR_CHOICES))}, got {self.vectors!r}")
        if self._wv is None or self._wv_vectors != self.vectors:
            vectors = self._word + self._context if self.vectors == "sum" else self._word
            vocab = self.vocabulary_
            self._wv = KeyedVectors._trusted(vocab.index_to_key, vectors, counts=vocab.counts,
                                             key_to_index=vocab.key_to_index)
            self._wv_vectors = self.vectors   # what the cached vectors are
        return self._wv


__all__ = ["SVDEmbedding", "randomized_svd"]
