"""Slow NumPy twins of the Cython kernels, used by the tests as oracles.

They consume the same random streams in the same order (see fastvec/_random.pxd and
fastvec/_sampling.pxd) and do the same float32 arithmetic, so one-thread kernel results match
them to rounding error. Never used for training.
"""
from __future__ import annotations

import numpy as np

M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
ALWAYS_KEEP = 0xFFFFFFFF


def mix64(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


class Stream:
    """splitmix64, as rng_next / rng_for_item / rng_below."""

    def __init__(self, state: int):
        self.state = state & M64

    @classmethod
    def for_item(cls, seed: int, epoch: int, item: int) -> "Stream":
        return cls(mix64((mix64(seed ^ ((epoch * 0xD1B54A32D192ED03) & M64)) + item * GOLDEN) & M64))

    def next(self) -> int:
        self.state = (self.state + GOLDEN) & M64
        return mix64(self.state)

    def below(self, n: int) -> int:
        return ((self.next() >> 32) * n) >> 32

    def keep(self, threshold: int) -> bool:
        if threshold == ALWAYS_KEEP:
            return True
        return (self.next() >> 32) < threshold


def draw_alias(r: int, threshold: np.ndarray, alias: np.ndarray) -> int:
    column = ((r >> 32) * len(threshold)) >> 32
    return column if (r & 0xFFFFFFFF) < int(threshold[column]) else int(alias[column])


class SigmoidTables:
    def __init__(self, max_exp: float, sigmoid: np.ndarray, log_sigmoid: np.ndarray):
        self.max_exp = np.float32(max_exp)
        self.sigmoid_table = sigmoid
        self.log_sigmoid_table = log_sigmoid
        self.size = len(sigmoid) - 1

    def _index(self, f: np.float32) -> int:
        return int(float(np.float32(f + self.max_exp)) * (self.size / (2.0 * float(self.max_exp))))

    def sigmoid(self, f: np.float32) -> np.float32:
        if -self.max_exp < f < self.max_exp:
            return self.sigmoid_table[self._index(f)]
        return np.float32(1.0 if f >= self.max_exp else 0.0)

    def neg_log_sigmoid(self, f: np.float32) -> float:
        if -self.max_exp < f < self.max_exp:
            return -float(self.log_sigmoid_table[self._index(f)])
        return float(np.log1p(np.exp(-float(f))))


def _negative_sampling(tables, syn1, hidden, positive, negative, alpha, grad, rng, noise_threshold, noise_alias):
    loss = 0.0
    for d in range(negative + 1):
        if d == 0:
            target, label = positive, np.float32(1.0)
        else:
            target = draw_alias(rng.next(), noise_threshold, noise_alias)
            if target == positive:
                continue
            label = np.float32(0.0)
        row = syn1[target]
        f = np.float32(np.dot(hidden, row))
        g = np.float32((label - tables.sigmoid(f)) * alpha)
        loss += tables.neg_log_sigmoid(f) if d == 0 else tables.neg_log_sigmoid(np.float32(-f))
        grad += g * row
        syn1[target] = row + g * hidden
    return loss


def train_items(*, cbow: bool, syn0: np.ndarray, syn1: np.ndarray, ids: np.ndarray, items: np.ndarray,
                keep_threshold: np.ndarray, noise_threshold: np.ndarray, noise_alias: np.ndarray, window: int,
                negative: int, alpha: float, alpha_slope: float, min_alpha: float, position_base: int, seed: int,
                epoch: int, tables: SigmoidTables) -> tuple[int, int, float]:
    """Items in order, one thread: the twin of ``train_slice(..., n_threads=1)``. Updates in place."""
    words = examples = 0
    loss = 0.0
    for item, (start, end) in enumerate(items):
        rng = Stream.for_item(seed, epoch, item)
        buf = [int(w) for w in ids[start:end] if rng.keep(int(keep_threshold[w]))]
        a = np.float32(max(min_alpha, alpha - alpha_slope * float(position_base + start)))
        n = len(buf)
        for i in range(n):
            reach = window - rng.below(window)
            lo, hi = max(0, i - reach), min(n, i + reach + 1)
            context = [buf[j] for j in range(lo, hi) if j != i]
            if cbow:
                if not context:
                    continue
                hidden = np.zeros(syn0.shape[1], dtype=np.float32)
                for c in context:
                    hidden += syn0[c]
                hidden *= np.float32(1.0 / len(context))
                grad = np.zeros_like(hidden)
                loss += _negative_sampling(tables, syn1, hidden, buf[i], negative, a, grad, rng,
                                           noise_threshold, noise_alias)
                for c in context:
                    syn0[c] += grad
                examples += 1
            else:
                for c in context:
                    grad = np.zeros(syn0.shape[1], dtype=np.float32)
                    hidden = syn0[c]  # a view: updated after the pair, as in the kernel
                    loss += _negative_sampling(tables, syn1, hidden, buf[i], negative, a, grad, rng,
                                               noise_threshold, noise_alias)
                    syn0[c] += grad
                    examples += 1
        words += n
    return words, examples, loss


def word2vec_keep_probability(count: np.ndarray, sample: float, total: int) -> np.ndarray:
    """word2vec.c's formula, written independently of Vocabulary.keep_probabilities."""
    ran = (np.sqrt(count / (sample * total)) + 1) * (sample * total) / count
    return np.minimum(ran, 1.0)
