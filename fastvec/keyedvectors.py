"""Word vectors with the query API gensim users know, made stricter.

* Every ranking method returns a list of ``(word, score)`` pairs, whatever its arguments.
* Unit-norm vectors are computed once and cached; the cache is dropped on every write that
  goes through this class. ``kv.vectors`` is a read-only view so that a stray in-place edit
  fails loudly instead of leaving stale norms (use ``set_vector``/``add_vectors``, or build a
  new ``KeyedVectors``). The constructor uses a float32 or float64 array it is given without
  copying it (other dtypes are converted, a copy): change that array in place afterwards and
  call ``kv.fill_norms(force=True)``.
* Zero vectors never produce NaN: their cosine with anything is 0.
* Queries are safe from several Python threads at once (the cache is built under a lock).
"""
from __future__ import annotations

import math
import numbers
import os
import threading
from typing import TYPE_CHECKING, Any, Iterable, Sequence, Union

import numpy as np

from fastvec._io import FormatError, checked_counts, first_non_finite_row, load_container, save_container

if TYPE_CHECKING:
    from fastvec.evaluation import AnalogyResult, PairsResult

Query = Union[str, np.ndarray, Sequence[float]]
_BATCH_ROWS = 1024


class KeyedVectors:
    """A mapping from words (str) to vectors (rows of a float32 matrix), ordered by index.

    ``KeyedVectors(keys, vectors, *, counts=None, key_to_index=None)``: ``vectors`` has one row
    per key (float32 or float64 kept, other types converted to float32); ``counts`` (optional)
    one non-negative integer per key, as a vocabulary's; ``key_to_index`` (optional) a dict
    already mapping each key to its row, shared instead of built (checked)."""

    def __init__(self, keys: Sequence[str], vectors: np.ndarray, *, counts: np.ndarray | None = None,
                 key_to_index: dict | None = None):
        vectors = np.asarray(vectors)
        if vectors.ndim != 2:
            raise ValueError(f"vectors must be a 2-D array, got shape {vectors.shape}")
        if vectors.dtype not in (np.float32, np.float64):
            vectors = vectors.astype(np.float32)
        keys = list(keys)
        if len(keys) != vectors.shape[0]:
            raise ValueError(f"{len(keys)} keys but {vectors.shape[0]} vectors")
        for k in keys:
            if not isinstance(k, str):
                raise TypeError(f"keys must be str, got {type(k).__name__} {k!r}")
        if key_to_index is None:
            key_to_index = {k: i for i, k in enumerate(keys)}
            if len(key_to_index) != len(keys):
                seen: set = set()
                dup = next(k for k in keys if k in seen or seen.add(k))
                raise ValueError(f"duplicate key {dup!r}")
        elif len(key_to_index) != len(keys) or any(type(key_to_index.get(k)) is not int or key_to_index[k] != i
                                                   for i, k in enumerate(keys)):
            raise ValueError("key_to_index must map each key to its position in keys (an int), and nothing else")
        if counts is not None:
            counts = checked_counts(counts, len(keys), "keys")
        _check_finite(vectors, keys)
        self._set(keys, vectors, counts, key_to_index)

    def _set(self, keys: list[str], vectors: np.ndarray, counts: np.ndarray | None, key_to_index: dict) -> None:
        self.index_to_key: list[str] = keys
        self.key_to_index: dict[str, int] = key_to_index
        self._vectors = vectors
        self.counts = counts
        self._unit: np.ndarray | None = None
        self._lock = threading.Lock()
        self._owner: str | None = None   # set when these are a model's live weights (Word2Vec.wv)

    @classmethod
    def _trusted(cls, keys: Sequence[str], vectors: np.ndarray, *, counts: np.ndarray | None,
                 key_to_index: dict) -> "KeyedVectors":
        """Over keys, mapping and counts already checked (a Vocabulary's, or another
        KeyedVectors'): the constructor's check of the mapping costs about 0.3 s per million
        keys, each time a model's ``wv`` is made. Only the vectors' shape is checked."""
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape[0] != len(keys) or vectors.dtype not in (np.float32, np.float64):
            raise ValueError(f"vectors must be float32 or float64 rows, one per key: got {vectors.dtype} {vectors.shape}")
        kv = cls.__new__(cls)
        kv._set(list(keys), vectors, None if counts is None else np.asarray(counts, dtype=np.int64), key_to_index)
        return kv

    # -- container protocol ---------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, key: object) -> bool:
        return key in self.key_to_index

    def __iter__(self):
        return iter(self.index_to_key)

    def __repr__(self) -> str:
        return f"KeyedVectors({len(self)} keys, vector_size={self.vector_size}, dtype={self._vectors.dtype})"

    def __getitem__(self, key: str | Sequence[str]) -> np.ndarray:
        """``kv['word']`` is a vector (a copy); ``kv[['a', 'b']]`` a 2-D array."""
        if isinstance(key, str):
            return self._vectors[self.get_index(key)].copy()
        if isinstance(key, (int, np.integer)) or not isinstance(key, Iterable):
            raise TypeError(f"keys are words (str), not {type(key).__name__}; kv.vectors[i] is the row of "
                            "index_to_key[i]")
        return self._vectors[[self.get_index(k) for k in key]]

    def __setitem__(self, key: str, vector) -> None:
        self.set_vector(key, vector)

    @property
    def vectors(self) -> np.ndarray:
        """The vectors as a read-only view (row i is ``index_to_key[i]``)."""
        view = self._vectors.view()
        view.flags.writeable = False
        return view

    @property
    def vector_size(self) -> int:
        """The number of dimensions of each vector."""
        return int(self._vectors.shape[1])

    def get_index(self, key: str, default: int | None = None) -> int:
        """Row of ``key``; KeyError naming the word if it is unknown and no default is given."""
        try:
            return self.key_to_index[key]
        except KeyError:
            if default is not None:
                return default
            raise KeyError(f"word {key!r} not in vocabulary") from None
        except TypeError:
            raise TypeError(f"keys are str, got {type(key).__name__} {key!r}") from None

    def get_vector(self, key: str, norm: bool = False) -> np.ndarray:
        """The vector of ``key`` (a copy); unit length if ``norm`` (zero stays zero)."""
        i = self.get_index(key)
        return (self.get_normed_vectors()[i] if norm else self._vectors[i]).copy()

    def has_index_for(self, key: str) -> bool:
        """True when ``key`` has a vector (gensim's name for ``key in kv``)."""
        return key in self.key_to_index

    # -- writes --------------------------------------------------------------------------
    def __getstate__(self) -> dict:
        """For copy.deepcopy: without the lock (a new one is made) and the norm cache (rebuilt)."""
        state = dict(self.__dict__)
        state["_lock"] = None
        state["_unit"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def fill_norms(self, force: bool = False) -> None:
        """Compute the cached unit vectors now (queries otherwise do it on first use);
        ``force=True`` computes them again, as after the array given to the constructor was
        changed in place (a change this class cannot see; gensim's method of the same name)."""
        if force:
            self._invalidate()
        self.get_normed_vectors()

    def _invalidate(self) -> None:
        with self._lock:
            self._unit = None

    def _check_writable(self) -> None:
        if not self._vectors.flags.writeable:
            raise ValueError("these vectors are read-only (memory-mapped by KeyedVectors.load(..., mmap=True), or "
                             "given as a read-only array); load them with mmap=False, or work on kv.copy(), "
                             "to change them")

    def copy(self) -> "KeyedVectors":
        """An independent copy (vectors, keys and counts), writable and owned by no model."""
        return KeyedVectors._trusted(self.index_to_key, np.array(self._vectors),
                                     counts=None if self.counts is None else self.counts.copy(),
                                     key_to_index=dict(self.key_to_index))

    def set_vector(self, key: str, vector) -> None:
        """Overwrite the vector of an existing key."""
        i = self.get_index(key)
        vector = np.asarray(vector, dtype=self._vectors.dtype)
        if vector.shape != (self.vector_size,):
            raise ValueError(f"vector must have shape ({self.vector_size},), got {vector.shape}")
        _check_finite(vector[None, :], [key])
        self._check_writable()
        self._vectors[i] = vector
        self._invalidate()

    def add_vectors(self, keys: Sequence[str], vectors, *, replace: bool = False) -> None:
        """Append new keys (and overwrite existing ones if ``replace``)."""
        keys = list(keys)
        vectors = np.asarray(vectors, dtype=self._vectors.dtype).reshape(len(keys), -1) if keys else \
            np.zeros((0, self.vector_size), dtype=self._vectors.dtype)
        if vectors.shape[1] != self.vector_size:
            raise ValueError(f"vectors must have {self.vector_size} columns, got {vectors.shape[1]}")
        if len(set(keys)) != len(keys):
            raise ValueError("duplicate keys in add_vectors")
        _check_finite(vectors, keys)
        existing = [k in self.key_to_index for k in keys]
        if any(existing) and not replace:
            raise ValueError(f"key {keys[existing.index(True)]!r} already present; pass replace=True to overwrite")
        if any(existing):
            self._check_writable()
        if self._owner is not None and not all(existing):
            raise ValueError(f"these vectors are the weights of a trained {self._owner}, whose vocabulary is fixed "
                             "(new rows would not be trained or saved with it); add words to a copy: "
                             "kv = model.wv.copy()")
        new_rows = [v for v, e in zip(vectors, existing) if not e]
        for k, v, e in zip(keys, vectors, existing):
            if e:
                self._vectors[self.key_to_index[k]] = v
        new_keys = [k for k, e in zip(keys, existing) if not e]
        if new_keys:
            start = len(self.index_to_key)
            self._vectors = np.concatenate([self._vectors, np.asarray(new_rows, dtype=self._vectors.dtype)])
            self.index_to_key = self.index_to_key + new_keys
            self.key_to_index = dict(self.key_to_index)
            self.key_to_index.update((k, start + j) for j, k in enumerate(new_keys))
            if self.counts is not None:
                self.counts = np.concatenate([self.counts, np.zeros(len(new_keys), dtype=np.int64)])
        self._invalidate()

    # -- norms ---------------------------------------------------------------------------
    def get_normed_vectors(self) -> np.ndarray:
        """Unit-length copies of all vectors (cached, read-only; zero vectors stay zero)."""
        unit = self._unit
        if unit is None:
            with self._lock:
                if self._unit is None:
                    v = self._vectors   # once: add_vectors in another thread may put a longer array there
                    u = np.empty(v.shape, dtype=v.dtype)
                    for start in range(0, len(u), _BATCH_ROWS):
                        u[start:start + _BATCH_ROWS] = _unit(v[start:start + _BATCH_ROWS])
                    u.flags.writeable = False
                    self._unit = u
                unit = self._unit
        return unit

    def norms(self) -> np.ndarray:
        """Euclidean length of every vector (float64, without overflow or underflow)."""
        out = np.empty(len(self._vectors), dtype=np.float64)
        for start in range(0, len(out), _BATCH_ROWS):
            out[start:start + _BATCH_ROWS] = _norms(self._vectors[start:start + _BATCH_ROWS].astype(np.float64))
        return out

    # -- queries -------------------------------------------------------------------------
    @staticmethod
    def _as_list(arg) -> list:
        """Query terms as a list, as gensim reads them: one word or one vector (a 1-D array) is
        a single term, the rows of a 2-D array are one term each."""
        if arg is None:
            return []
        if isinstance(arg, np.ndarray):
            if arg.dtype.kind == "U" and arg.ndim <= 1:   # an array of words, not a vector
                return [str(w) for w in arg.reshape(-1)]
            if arg.ndim == 1:
                return [arg]
            if arg.ndim == 2:
                return list(arg)
            raise ValueError(f"query vectors must be a 1-D array or a 2-D array of rows, got shape {arg.shape}")
        if isinstance(arg, (str, bytes, bytearray)) or not isinstance(arg, Iterable):
            return [arg]   # one term; a term that is not a word is refused with a clear error
        return list(arg)

    def _unit_query(self, item) -> tuple[np.ndarray, int | None]:
        """Unit vector of a query term (word or vector) and its row if it is a word."""
        if isinstance(item, str):
            i = self.get_index(item)
            return self.get_normed_vectors()[i], i
        v = self._query_vector(item)
        if v.shape != (self.vector_size,):
            raise ValueError(f"query vectors must have shape ({self.vector_size},), got {v.shape}")
        if not np.isfinite(v).all():
            raise ValueError("query vector contains NaN or infinite values")
        return _unit(v[None, :])[0], None   # a huge vector's norm does not overflow

    def _query_vector(self, item) -> np.ndarray:
        """A query term that is not a word, as a float64 array; a TypeError saying what terms
        are for anything that is neither a word nor numbers."""
        what = (f"query terms are words (str), vectors of {self.vector_size} numbers or (term, weight) pairs")
        if isinstance(item, (bytes, bytearray)):
            raise TypeError(f"{what}; got bytes {item!r} (decode them to str)")
        if isinstance(item, (bool, np.bool_)) or isinstance(item, numbers.Number) or item is None:
            hint = (" (fastvec takes no row numbers as keys: kv.index_to_key[i] is the word of row i)"
                    if isinstance(item, numbers.Integral) and not isinstance(item, (bool, np.bool_)) else
                    " (a single (term, weight) pair goes in a list: positive=[('king', 2.0)])"
                    if isinstance(item, numbers.Real) and not isinstance(item, (bool, np.bool_)) else "")
            raise TypeError(f"{what}; got {type(item).__name__} {item!r}{hint}")
        try:
            v = np.asarray(item, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{what}; got {type(item).__name__} {item!r}") from None
        if (item.dtype.kind == "b" if isinstance(item, np.ndarray) else
                isinstance(item, (list, tuple)) and any(isinstance(x, (bool, np.bool_)) for x in item)):
            raise TypeError(f"{what}; got booleans in {item!r}")
        return v

    @staticmethod
    def _check_topn(topn: int | None) -> int | None:
        if topn is None:
            return None
        if isinstance(topn, bool) or not isinstance(topn, (int, np.integer)):
            raise TypeError(f"topn must be a positive int or None, not {type(topn).__name__}")
        if topn <= 0:
            raise ValueError(f"topn must be >= 1 (or None for all), got {topn}")
        return int(topn)

    def _limit(self, restrict_vocab: int | None) -> int:
        if restrict_vocab is None:
            return len(self)
        if isinstance(restrict_vocab, bool) or not isinstance(restrict_vocab, (int, np.integer)) or restrict_vocab < 1:
            raise ValueError(f"restrict_vocab must be a positive int or None, got {restrict_vocab!r}")
        return min(int(restrict_vocab), len(self))

    def _rank(self, scores: np.ndarray, topn: int | None, exclude: Iterable[int]) -> list[tuple[str, float]]:
        scores = scores.astype(np.float64, copy=True)
        excluded = [i for i in exclude if i is not None and i < len(scores)]
        scores[excluded] = -np.inf
        available = len(scores) - len(set(excluded))
        n = available if topn is None else min(topn, available)
        if n <= 0:
            return []
        if n < len(scores):
            top = _with_lowest_ties(scores, np.argpartition(-scores, n - 1)[:n])
        else:
            top = np.arange(len(scores))
        top = top[np.lexsort((top, -scores[top]))]  # by score, ties by index (frequency)
        return [(self.index_to_key[i], float(scores[i])) for i in top[:n]]

    def most_similar(self, positive: Query | Sequence[Query] = (), negative: Query | Sequence[Query] = (),
                     topn: int | None = 10, *, restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """Words closest (cosine) to the mean of the unit vectors of ``positive`` minus ``negative``.

        Terms are words or vectors (the rows of a 2-D array are one vector each, as in
        gensim; a vector counts by its direction, as a word does, where gensim adds it to the
        mean unscaled), or ``(term, weight)`` pairs (tuples or lists) as in gensim: a plain term
        weighs 1 in ``positive`` and -1 in ``negative``, and a pair's weight is used as given in
        either list (``negative=[("man", -0.5)]`` subtracts half of man, as in gensim); query
        words are excluded from the result. Returns ``[(word, cosine), ...]``,
        best first (all words when ``topn=None``)."""
        topn = self._check_topn(topn)
        pos, neg = self._as_list(positive), self._as_list(negative)
        if not pos and not neg:
            raise ValueError("most_similar needs at least one positive or negative word")
        limit = self._limit(restrict_vocab)
        mean = np.zeros(self.vector_size, dtype=np.float64)
        exclude = []
        for terms, default in ((pos, 1.0), (neg, -1.0)):
            for t in terms:
                weight = default
                if _is_pair(t):
                    t, weight = t[0], t[1]
                    if isinstance(weight, (bool, np.bool_)) or not isinstance(weight, numbers.Real):
                        raise TypeError(f"the weight of query term {t!r} must be a number, got "
                                        f"{type(weight).__name__} {weight!r}")
                    weight = float(weight)   # used as given, in negative too (as gensim does)
                    if not math.isfinite(weight):
                        raise ValueError(f"query weight {weight} is not finite")
                u, i = self._unit_query(t)
                mean += weight * u
                exclude.append(i)
        norm = np.linalg.norm(mean)
        if norm == 0:
            raise ValueError("the query has no direction (its vectors are zero or cancel out)")
        unit = self.get_normed_vectors()[:limit]
        return self._rank(unit @ (mean / norm).astype(unit.dtype), topn, exclude)

    def similar_by_vector(self, vector, topn: int | None = 10,
                          restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """Words closest (cosine) to ``vector``; nothing is excluded."""
        topn = self._check_topn(topn)
        u, _ = self._unit_query(vector)
        if not np.any(u):
            raise ValueError("cannot rank by similarity to a zero vector")
        unit = self.get_normed_vectors()[:self._limit(restrict_vocab)]
        return self._rank(unit @ u.astype(unit.dtype), topn, ())

    def similar_by_word(self, word: str, topn: int | None = 10,
                        restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """The ``topn`` words closest to ``word`` (``most_similar(positive=[word])``, as gensim)."""
        return self.most_similar(positive=[word], topn=topn, restrict_vocab=restrict_vocab)

    def most_similar_batch(self, words: Sequence[str], topn: int = 10,
                           restrict_vocab: int | None = None) -> list[list[tuple[str, float]]]:
        """``most_similar(word)`` for many words with one matrix product per block of queries."""
        topn = self._check_topn(topn)
        if isinstance(words, str):
            raise TypeError("most_similar_batch takes a list of words; use most_similar for one word")
        rows = np.array([self.get_index(w) for w in words], dtype=np.int64)
        limit = self._limit(restrict_vocab)
        unit = self.get_normed_vectors()
        zero = ~np.any(unit[rows], axis=1) if len(rows) else np.zeros(0, bool)
        if zero.any():
            raise ValueError(f"word {words[int(np.flatnonzero(zero)[0])]!r} has a zero vector; it has no neighbours")
        # topn=None: every other word of the first ``limit`` (the query word itself, when among
        # them, is dropped below as -inf)
        n = limit if topn is None else min(topn, limit)
        results = []
        for b in range(0, len(rows), _BATCH_ROWS):
            block = rows[b:b + _BATCH_ROWS]
            scores = unit[block] @ unit[:limit].T
            inside = block < limit
            scores[np.flatnonzero(inside), block[inside]] = -np.inf
            k = min(n + 1, limit)
            top = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k < limit else \
                np.tile(np.arange(limit), (len(block), 1))
            # words tied with the k-th candidate but left out by argpartition join it, so that
            # ties are broken by index as in most_similar
            kth = np.take_along_axis(scores, top, axis=1).min(axis=1) if k < limit else None
            tied = (scores >= kth[:, None]).sum(axis=1) > k if kth is not None else np.zeros(len(block), bool)
            for r in range(len(block)):
                cand = _with_lowest_ties(scores[r], top[r]) if tied[r] else top[r]
                s = scores[r, cand]
                order = np.lexsort((cand, -s))
                cand = cand[order]
                cand = cand[np.isfinite(scores[r, cand])][:n]
                results.append([(self.index_to_key[i], float(scores[r, i])) for i in cand])
        return results

    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words (0.0 if either vector is zero)."""
        unit = self.get_normed_vectors()
        return float(np.dot(unit[self.get_index(w1)].astype(np.float64), unit[self.get_index(w2)]))

    def distance(self, w1: str, w2: str) -> float:
        """Cosine distance, 1 - similarity."""
        return 1.0 - self.similarity(w1, w2)

    def n_similarity(self, ws1: Sequence[str], ws2: Sequence[str]) -> float:
        """Cosine similarity of the means of two word sets."""
        if isinstance(ws1, str) or isinstance(ws2, str):
            raise TypeError("n_similarity takes two lists of words")
        if not len(ws1) or not len(ws2):
            raise ValueError("n_similarity needs two non-empty lists of words")
        a = self._vectors[[self.get_index(w) for w in ws1]].mean(axis=0, dtype=np.float64)
        b = self._vectors[[self.get_index(w) for w in ws2]].mean(axis=0, dtype=np.float64)
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        return float(a @ b / (na * nb)) if na > 0 and nb > 0 else 0.0

    def doesnt_match(self, words: Sequence[str]) -> str:
        """The word whose unit vector has the lowest cosine with the mean of all the words'
        unit vectors (its own included, as gensim computes it). Unknown words are ignored;
        ValueError if fewer than two known words remain."""
        if isinstance(words, str):
            raise TypeError("doesnt_match takes a list of words")
        known = [w for w in words if w in self.key_to_index]
        if len(known) < 2:
            raise ValueError(f"doesnt_match needs at least two known words, got {len(known)} of {list(words)!r}")
        unit = self.get_normed_vectors()[[self.key_to_index[w] for w in known]].astype(np.float64)
        mean = unit.mean(axis=0)
        norm = np.linalg.norm(mean)
        if norm == 0:
            raise ValueError("the words' vectors cancel out; no odd one out")
        return known[int(np.argmin(unit @ (mean / norm)))]

    def analogy(self, a: str, b: str, c: str, topn: int = 1, method: str = "3cosadd",
                restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """Solve a : b :: c : ?  (e.g. man : king :: woman : queen).

        ``3cosadd`` ranks by cos(x, b) - cos(x, a) + cos(x, c) (as most_similar); ``3cosmul``
        (Levy & Goldberg 2014) by cos'(x, b) cos'(x, c) / (cos'(x, a) + 1e-3) with
        cos' = (1 + cos) / 2. The three query words are excluded."""
        if method == "3cosadd":
            return self.most_similar(positive=[b, c], negative=[a], topn=topn, restrict_vocab=restrict_vocab)
        if method != "3cosmul":
            raise ValueError(f"method must be '3cosadd' or '3cosmul', not {method!r}")
        topn = self._check_topn(topn)
        unit = self.get_normed_vectors()[:self._limit(restrict_vocab)]
        rows = [self.get_index(w) for w in (a, b, c)]
        full = self.get_normed_vectors()
        cos = [(1.0 + unit @ full[r]) / 2.0 for r in rows]
        scores = cos[1] * cos[2] / (cos[0] + 1e-3)
        return self._rank(scores, topn, rows)

    # -- more of gensim's KeyedVectors API ----------------------------------------------------
    def get_mean_vector(self, keys: Sequence[Query], weights: Sequence[float] | None = None, *,
                        pre_normalize: bool = True, post_normalize: bool = False,
                        ignore_missing: bool = True) -> np.ndarray:
        """Weighted mean of the vectors of ``keys`` (words or vectors), as gensim computes it:
        words' unit vectors with ``pre_normalize``, divided by the sum of the absolute weights
        of the keys used, scaled to unit length with ``post_normalize``; the rows of a 2-D
        array are one vector each. Unknown words are
        skipped (``ignore_missing``) or a KeyError."""
        keys = self._as_list(keys)
        if not keys:
            raise ValueError("get_mean_vector needs at least one key")
        w = np.ones(len(keys)) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (len(keys),) or not np.isfinite(w).all():
            raise ValueError(f"weights must be {len(keys)} finite numbers, one per key")
        mean = np.zeros(self.vector_size, dtype=np.float64)
        total = 0.0
        for key, weight in zip(keys, w):
            if isinstance(key, str):
                if key not in self.key_to_index:
                    if ignore_missing:
                        continue
                    raise KeyError(f"word {key!r} not in vocabulary")
                vector = self.get_vector(key, norm=pre_normalize)
            else:
                vector = self._query_vector(key)
                if vector.shape != (self.vector_size,):
                    raise ValueError(f"query vectors must have shape ({self.vector_size},), got {vector.shape}")
                if not np.isfinite(vector).all():
                    raise ValueError("query vector contains NaN or infinite values")
            mean += weight * vector
            total += abs(weight)
        if total > 0:
            mean /= total
        if post_normalize:
            mean = _unit(mean[None, :])[0]
        return mean.astype(self._vectors.dtype)

    def distances(self, word_or_vector: Query, other_words: Sequence[str] = ()) -> np.ndarray:
        """Cosine distances (1 - cosine) from a word or vector to ``other_words`` (default: every
        word, in index order). Zero vectors are at distance 1 (cosine 0), never NaN."""
        u, _ = self._unit_query(word_or_vector)
        if isinstance(other_words, str):
            raise TypeError("other_words takes a list of words")
        unit = self.get_normed_vectors()
        others = unit if not len(other_words) else unit[[self.get_index(w) for w in other_words]]
        return 1.0 - others.astype(np.float64) @ u

    def closer_than(self, w1: str, w2: str) -> list[str]:
        """The words closer to ``w1`` than ``w2`` is (``w1`` itself excluded), in index order."""
        d = self.distances(w1)
        i1 = self.get_index(w1)
        return [self.index_to_key[i] for i in np.flatnonzero(d < d[self.get_index(w2)]) if i != i1]

    def rank(self, w1: str, w2: str) -> int:
        """Rank of ``w2`` among the neighbours of ``w1`` (1: the nearest), as gensim counts it."""
        return len(self.closer_than(w1, w2)) + 1

    def most_similar_cosmul(self, positive: Query | Sequence[Query] = (), negative: Query | Sequence[Query] = (),
                            topn: int | None = 10, restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """gensim's 3CosMul over any number of terms (Levy & Goldberg 2014): words ranked by
        prod cos'(x, p) / (prod cos'(x, n) + 1e-6) with cos' = (1 + cos) / 2; query words excluded.
        Vectors among the terms count by their direction, as words do (gensim takes their dot
        products as they are, so a long vector's "cosines" leave [-1, 1]).
        (``analogy(a, b, c, method="3cosmul")`` is the three-word case with Levy and Goldberg's
        epsilon, 1e-3, as the analogy evaluation uses.)"""
        topn = self._check_topn(topn)
        pos, neg = self._as_list(positive), self._as_list(negative)
        if not pos:
            raise ValueError("most_similar_cosmul needs at least one positive word")
        unit = self.get_normed_vectors()[:self._limit(restrict_vocab)].astype(np.float64)
        scores = np.ones(len(unit))
        divisor = np.ones(len(unit))
        exclude = []
        for terms, out in ((pos, scores), (neg, divisor)):
            for t in terms:
                if _is_pair(t):
                    raise TypeError(f"most_similar_cosmul takes no weights: got the pair {t!r}")
                u, i = self._unit_query(t)
                out *= (1.0 + unit @ u) / 2.0
                exclude.append(i)
        return self._rank(scores / (divisor + 1e-6), topn, exclude)

    def evaluate_word_analogies(self, analogies: str | os.PathLike | None = None, *, restrict_vocab: int = 30000,
                                case_insensitive: bool = True, method: str = "3cosadd") -> "AnalogyResult":
        """:func:`fastvec.evaluation.evaluate_word_analogies` on these vectors (the bundled
        Google set by default): an ``AnalogyResult`` with ``accuracy`` and ``sections`` (gensim
        returns a (score, sections) tuple), over the 30,000 most frequent words by default as
        in Mikolov et al. (gensim's default is 300,000)."""
        from fastvec.evaluation import evaluate_word_analogies
        return evaluate_word_analogies(self, analogies, restrict_vocab=restrict_vocab,
                                       case_insensitive=case_insensitive, method=method)

    def evaluate_word_pairs(self, pairs: str | os.PathLike | None = None, *, restrict_vocab: int = 300000,
                            case_insensitive: bool = True) -> "PairsResult":
        """:func:`fastvec.evaluation.evaluate_word_pairs` on these vectors (the bundled
        WordSim-353 by default): a ``PairsResult`` with ``spearman``, ``pearson``, ``oov_fraction``."""
        from fastvec.evaluation import evaluate_word_pairs
        return evaluate_word_pairs(self, pairs, restrict_vocab=restrict_vocab, case_insensitive=case_insensitive)

    # -- persistence ---------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Native format: one uncompressed .npz-compatible file, keys in its JSON metadata (in a
        UTF-8 member when there are millions); no pickle; atomic."""
        try:   # KeyedVectors.load would refuse the file (the caller's array may have changed in place)
            _check_finite(self._vectors, self.index_to_key)
        except ValueError as e:
            raise ValueError(f"{os.fspath(path)}: {e}; nothing was written") from None
        arrays = {"vectors": self._vectors}
        if self.counts is not None:
            arrays["counts"] = self.counts
        save_container(path, "keyedvectors", {"keys": self.index_to_key}, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike, mmap: bool = False) -> "KeyedVectors":
        """Load the native format; ``mmap=True`` maps the vectors read-only instead of reading them
        (they are still read once, to check that they are finite)."""
        meta, arrays = load_container(path, "keyedvectors", mmap=mmap, required=("vectors",))
        keys = meta.get("keys")
        vectors = arrays["vectors"]
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise FormatError(path, "keys must be a list of strings")
        if vectors.ndim != 2 or vectors.dtype not in (np.float32, np.float64):
            raise FormatError(path, f"vectors must be a 2-D float32/float64 array, got {vectors.dtype} {vectors.shape}")
        if vectors.shape[0] != len(keys):
            raise FormatError(path, f"{len(keys)} keys but {vectors.shape[0]} vectors")
        counts = arrays.get("counts")
        if counts is not None and (counts.dtype != np.int64 or counts.shape != (len(keys),)):
            raise FormatError(path, "counts must be int64 with one entry per key")
        try:
            return cls(keys, vectors, counts=counts)   # which checks that the vectors are finite
        except (ValueError, TypeError) as e:
            raise FormatError(path, str(e)) from None

    def save_word2vec_format(self, path: str | os.PathLike, *, binary: bool = False, write_header: bool = True) -> None:
        """word2vec.c text or binary format (read by gensim and word2vec.c); atomic. Both hold
        float32: float64 vectors are rounded to it (values beyond its range are refused, values
        below its smallest subnormal, about 1.4e-45, become 0); use ``save`` to keep float64. ``binary``
        and ``write_header`` are keyword-only: gensim's second positional argument is ``fvocab``,
        so a gensim-style positional call would silently pick the other format."""
        from fastvec.formats import write_word2vec
        _check_flag("binary", binary)
        _check_flag("write_header", write_header)
        write_word2vec(path, self.index_to_key, self._vectors, binary=binary, write_header=write_header)

    @classmethod
    def load_word2vec_format(cls, path: str | os.PathLike, *, binary: bool = False, no_header: bool = False,
                             limit: int | None = None, unicode_errors: str = "strict",
                             duplicates: str = "error", max_memory: int | None = None) -> "KeyedVectors":
        """Read word2vec.c/gensim text or binary files (and headerless GloVe text with ``no_header``).
        ``binary`` is keyword-only (gensim's second positional argument is ``fvocab``).

        Malformed content raises ``FormatError`` (a ``ValueError``) naming the file and the
        problem; ``max_memory`` (bytes) caps the vector matrix the header may ask for."""
        from fastvec.formats import read_word2vec
        _check_flag("binary", binary)
        _check_flag("no_header", no_header)
        keys, vectors = read_word2vec(path, binary=binary, no_header=no_header, limit=limit,
                                      unicode_errors=unicode_errors, duplicates=duplicates, max_memory=max_memory)
        return cls(keys, vectors)

    def save_glove_format(self, path: str | os.PathLike) -> None:
        """GloVe text format: like word2vec text, without the header line."""
        self.save_word2vec_format(path, binary=False, write_header=False)

    @classmethod
    def load_glove_format(cls, path: str | os.PathLike, **kwargs) -> "KeyedVectors":
        """Read GloVe text vectors (word2vec text without the header line); the options of
        :meth:`load_word2vec_format` apply."""
        return cls.load_word2vec_format(path, binary=False, no_header=True, **kwargs)


def _is_pair(term: Any) -> bool:
    """A (term, weight) query pair: a tuple or list of two whose first item is a word or a
    vector and whose second is not (a list of two numbers is a 2-D vector)."""
    if not isinstance(term, (tuple, list)) or len(term) != 2:
        return False
    first, second = term
    return isinstance(first, (str, np.ndarray, list, tuple)) and not isinstance(second, (str, np.ndarray, list, tuple))


def _check_finite(vectors: np.ndarray, keys: Sequence[str]) -> None:
    """ValueError naming the first key whose vector holds NaN or an infinity: queries over such
    a row rank nothing correctly (the loaders and ``save`` refuse them as well)."""
    bad = first_non_finite_row(vectors)
    if bad is not None:
        raise ValueError(f"the vector of {keys[bad]!r} contains NaN or infinite values")


def _check_flag(name: str, value: Any) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, not {type(value).__name__} {value!r}")


def _with_lowest_ties(scores: np.ndarray, top: np.ndarray) -> np.ndarray:
    """The candidates ``top`` (the k best scores, as argpartition picks them) made
    deterministic: every score above the k-th, then the lowest indices among those equal to
    it, so that ties are broken by index (frequency) whatever argpartition chose."""
    kth = scores[top].min()
    above = np.flatnonzero(scores > kth)
    return np.concatenate([above, np.flatnonzero(scores == kth)[:len(top) - len(above)]])


def _unsafe_rows(norms: np.ndarray) -> np.ndarray:
    """Rows whose plain norm overflowed, underflowed or lost precision in the squares (or is
    0): they are computed again on scaled rows."""
    return ~np.isfinite(norms) | (norms < np.sqrt(np.finfo(norms.dtype).tiny) * 1e4)


def _plain_norms(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(norms, unsafe): the rows' plain Euclidean norms and which of them to compute again on
    scaled rows (see _unsafe_rows)."""
    with np.errstate(over="ignore", under="ignore"):   # such rows are found and computed again
        norms = np.linalg.norm(block, axis=1)
    return norms, _unsafe_rows(norms)


def _norms(block: np.ndarray) -> np.ndarray:
    """Euclidean norms of float rows, exact also for huge and tiny values (see _scaled_rows)."""
    norms, unsafe = _plain_norms(block)
    if unsafe.any():
        _, scaled_norms, top = _scaled_rows(block[unsafe])
        norms[unsafe] = scaled_norms * top
    return norms


def _unit(block: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length in their own dtype (zero rows stay zero). Rows whose norm
    over- or underflows the dtype (float32 values near 1e19 and up: the norm of a row of 3e38
    is beyond float32) are divided by their largest value first."""
    norms, unsafe = _plain_norms(block)
    out = block / np.where(unsafe, 1, norms).astype(block.dtype)[:, None]
    if unsafe.any():
        scaled, scaled_norms, _ = _scaled_rows(block[unsafe])
        scaled_norms[scaled_norms == 0] = 1.0
        out[unsafe] = scaled / scaled_norms[:, None]
    return out


def _scaled_rows(block: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(scaled, norms, top): the rows divided by their largest magnitude ``top``, and the
    Euclidean norms of the scaled rows. A row's norm is ``norms * top`` and its direction
    ``scaled / norms``, with no overflow for huge values nor underflow for tiny ones (a zero
    row has norm 0)."""
    top = np.abs(block).max(axis=1) if block.shape[1] else np.zeros(len(block), dtype=block.dtype)
    scaled = block / np.where(top > 0, top, 1).astype(block.dtype)[:, None]
    return scaled, np.linalg.norm(scaled, axis=1), top
