"""Sampling tables for the kernels, built with vectorised NumPy (alias construction in Cython).

* Negative sampling draws word w with probability count(w)**exponent / Z in O(1) from a
  Walker/Vose alias table (two small arrays instead of word2vec.c's 400 MB lookup table).
* Subsampling keeps a token with word2vec.c's probability (see Vocabulary.keep_probabilities),
  stored as a 32-bit threshold compared with one random number per token.
"""
from __future__ import annotations

import numpy as np

from fastvec import _sampling

ALWAYS_KEEP = np.uint32(0xFFFFFFFF)


def alias_table(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(threshold uint32, alias int32) for drawing index i with probability probabilities[i]."""
    p = np.ascontiguousarray(probabilities, dtype=np.float64)
    if p.ndim != 1 or len(p) == 0:
        raise ValueError("probabilities must be a non-empty 1-D array")
    if not np.all(np.isfinite(p)) or p.min() < 0 or p.sum() <= 0:
        raise ValueError("probabilities must be finite, non-negative and not all zero")
    if len(p) >= 2**31:
        raise ValueError("at most 2**31 - 1 outcomes are supported")
    return _sampling.build_alias_table(p)


def noise_table(probabilities: np.ndarray) -> np.ndarray:
    """The alias table packed as the kernels read it: uint64 entries alias << 32 | threshold."""
    threshold, alias = alias_table(probabilities)
    return (alias.astype(np.uint64) << np.uint64(32)) | threshold.astype(np.uint64)


def keep_thresholds(keep_probabilities: np.ndarray) -> np.ndarray:
    """uint32 thresholds: keep iff a uniform 32-bit draw is below; ALWAYS_KEEP skips the draw."""
    p = np.asarray(keep_probabilities, dtype=np.float64)
    t = np.floor(np.clip(p, 0.0, 1.0) * 2.0**32)
    out = np.minimum(t, 0xFFFFFFFE).astype(np.uint32)
    out[p >= 1.0] = ALWAYS_KEEP
    return out


def draw_noise(table: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Draw n indices from a ``noise_table`` with the kernels' own draw code (tests, benchmarks)."""
    return _sampling.draw_noise(table, int(n), int(seed) & (2**64 - 1))


def subsample_mask(ids: np.ndarray, thresholds: np.ndarray, seed: int = 0) -> np.ndarray:
    """Which tokens the kernels' subsampling keeps for one random stream (tests)."""
    return _sampling.subsample_mask(np.ascontiguousarray(ids, dtype=np.int32), thresholds,
                                    int(seed) & (2**64 - 1))
