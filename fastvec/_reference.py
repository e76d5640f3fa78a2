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


def draw_alias(r: int, table: np.ndarray) -> int:
    """Twin of _sampling.draw_alias over a packed noise_table."""
    column = ((r >> 32) * len(table)) >> 32
    entry = int(table[column])
    return column if (r & 0xFFFFFFFF) < (entry & 0xFFFFFFFF) else entry >> 32


class SigmoidTables:
    def __init__(self, max_exp: float, sigmoid: np.ndarray, log_sigmoid: np.ndarray, log_one_minus: np.ndarray):
        self.max_exp = np.float32(max_exp)
        self.sigmoid_table = sigmoid
        self.log_sigmoid_table = log_sigmoid
        self.log_one_minus_table = log_one_minus
        self.size = len(sigmoid) - 1

    def _index(self, f: np.float32) -> int:
        return int(float(np.float32(f + self.max_exp)) * (self.size / (2.0 * float(self.max_exp))))

    def gradient(self, f: np.float32, positive: bool, alpha: np.float32) -> tuple[np.float32, float]:
        """(gradient, loss) as the kernels' gradient()."""
        if -self.max_exp < f < self.max_exp:
            i = self._index(f)
            if positive:
                return np.float32((np.float32(1.0) - self.sigmoid_table[i]) * alpha), -float(self.log_sigmoid_table[i])
            return np.float32(-self.sigmoid_table[i] * alpha), -float(self.log_one_minus_table[i])
        if positive:
            return np.float32(0.0 if f >= self.max_exp else alpha), float(np.log1p(np.exp(-float(f))))
        return np.float32(-alpha if f >= self.max_exp else 0.0), float(np.log1p(np.exp(float(f))))


def _negative_sampling(tables, syn1, hidden, positive, negatives, alpha, grad):
    loss = 0.0
    for d in range(len(negatives) + 1):
        if d == 0:
            target = positive
        else:
            target = negatives[d - 1]
            if target == positive:
                continue
        row = syn1[target]
        g, example_loss = tables.gradient(np.float32(np.dot(hidden, row)), d == 0, alpha)
        loss += example_loss
        grad += g * row
        syn1[target] = row + g * hidden
    return loss


def _masked_gradients(tables, scores, positive_col, negatives, positives, alpha):
    """Twin of score_gradients(): labels, masking of noise words equal to the row's positive."""
    grads = np.zeros_like(scores)
    loss = 0.0
    offset = 0 if positive_col < 0 else 1
    for r in range(scores.shape[0]):
        for c in range(scores.shape[1]):
            if c != positive_col and negatives[c - offset] == positives[r]:
                continue
            grads[r, c], example_loss = tables.gradient(scores[r, c], c == positive_col, alpha)
            loss += example_loss
    return grads, loss


def _product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b without BLAS (einsum's own loop, float32 accumulation): OpenBLAS's kernels for
    matrices one column wide can raise the FPU's invalid-operation flag on finite inputs, which
    NumPy then reports as "invalid value encountered in matmul"."""
    return np.einsum("ij,jk->ik", a, b, optimize=False)


def _sg_batched(tables, syn0, syn1, buf, centre, lo, hi, negatives, alpha):
    ctx = [buf[j] for j in range(lo, hi) if j != centre]
    rows = [buf[centre]] + list(negatives)
    C, T = syn0[ctx].copy(), syn1[rows].copy()
    G, loss = _masked_gradients(tables, _product(C, T.T).astype(np.float32), 0, negatives, [buf[centre]] * len(ctx), alpha)
    dC, dT = _product(G, T), _product(G.T, C)
    for t, r in enumerate(rows):
        syn1[r] += dT[t]
    for c, w in enumerate(ctx):
        syn0[w] += dC[c]
    return loss, len(ctx)


def _cbow_batched(tables, syn0, syn1, buf, first, spans, negatives, alpha):
    H, positives, kept = [], [], []
    for b, (lo, hi) in enumerate(spans):
        ctx = [buf[j] for j in range(lo, hi) if j != first + b]
        if ctx:
            H.append(_context_mean(syn0, ctx))
            positives.append(buf[first + b])
            kept.append(ctx)
    if not H:
        return 0.0, 0
    H = np.array(H, dtype=np.float32)
    N = syn1[list(negatives)].copy()
    G, loss = _masked_gradients(tables, _product(H, N.T).astype(np.float32), -1, negatives, positives, alpha)
    dH, dN = _product(G, N), _product(G.T, H)
    for b, w in enumerate(positives):
        gp, example_loss = tables.gradient(np.float32(np.dot(H[b], syn1[w])), True, alpha)
        loss += example_loss
        dH[b] += gp * syn1[w]
        syn1[w] += gp * H[b]
    for t, r in enumerate(negatives):
        syn1[r] += dN[t]
    for b, ctx in enumerate(kept):
        for w in ctx:
            syn0[w] += dH[b]
    return loss, len(kept)


def _context_mean(syn0, ctx):
    hidden = np.zeros(syn0.shape[1], dtype=np.float32)
    for c in ctx:
        hidden += syn0[c]
    return hidden * np.float32(1.0 / len(ctx))


def train_items(*, cbow: bool, batched: bool, group: int, syn0: np.ndarray, syn1: np.ndarray, ids: np.ndarray,
                items: np.ndarray, keep_threshold: np.ndarray, noise_table: np.ndarray, window: int, negative: int, alpha: float, alpha_slope: float, min_alpha: float, position_base: int,
                seed: int, epoch: int, tables: SigmoidTables) -> tuple[int, int, float]:
    """Items in order, one thread: the twin of ``train_slice(..., n_threads=1)``. Updates in place.

    Per step (one centre word; ``group`` of them for batched CBOW) the RNG yields each centre
    word's window reach, then the noise words: ``negative`` per (centre, context) pair for
    classic skip-gram, ``negative`` per step otherwise."""
    words = examples = 0
    loss = 0.0
    step = group if (cbow and batched) else 1
    for item, (start, end) in enumerate(items):
        rng = Stream.for_item(seed, epoch, item)
        buf = [int(w) for w in ids[start:end] if rng.keep(int(keep_threshold[w]))]
        a = np.float32(max(min_alpha, alpha - alpha_slope * float(position_base + start)))
        n = len(buf)
        for first in range(0, n, step):
            spans = []
            for i in range(first, min(first + step, n)):
                reach = window - rng.below(window)
                spans.append((max(0, i - reach), min(n, i + reach + 1)))
            pairs = sum(hi - lo - 1 for lo, hi in spans)
            n_draws = 0 if pairs == 0 else (pairs * negative if not cbow and not batched else negative)
            negs = [draw_alias(rng.next(), noise_table) for _ in range(n_draws)]
            if batched and not cbow:
                l, e = _sg_batched(tables, syn0, syn1, buf, first, *spans[0], negs, a)
            elif batched:
                l, e = _cbow_batched(tables, syn0, syn1, buf, first, spans, negs, a)
            elif cbow:
                lo, hi = spans[0]
                ctx = [buf[j] for j in range(lo, hi) if j != first]
                l = e = 0
                if ctx:
                    hidden = _context_mean(syn0, ctx)
                    grad = np.zeros_like(hidden)
                    l = _negative_sampling(tables, syn1, hidden, buf[first], negs, a, grad)
                    for c in ctx:
                        syn0[c] += grad
                    e = 1
            else:
                lo, hi = spans[0]
                ctx = [buf[j] for j in range(lo, hi) if j != first]
                l = 0.0
                for p, c in enumerate(ctx):
                    grad = np.zeros(syn0.shape[1], dtype=np.float32)
                    l += _negative_sampling(tables, syn1, syn0[c], buf[first], negs[p * negative:(p + 1) * negative],
                                            a, grad)
                    syn0[c] += grad
                e = len(ctx)
            loss += l
            examples += e
        words += n
    return words, examples, loss


def merge_hot_rows(shared: np.ndarray, copies: np.ndarray) -> None:
    """The twin of ``Workspace.sync``: ``copies`` (n_threads, ...) are the threads' private copies
    of ``shared`` taken at the last sync. Afterwards ``shared`` holds copy 0 plus every other
    thread's change, and every copy equals it. Both arrays are updated in place (float32)."""
    merged = copies[0].copy()
    for t in range(1, len(copies)):
        merged += copies[t] - shared
    shared[...] = merged
    copies[...] = merged


def word2vec_keep_probability(count: np.ndarray, sample: float, total: int) -> np.ndarray:
    """word2vec.c's formula, written independently of Vocabulary.keep_probabilities."""
    ran = (np.sqrt(count / (sample * total)) + 1) * (sample * total) / count
    return np.minimum(ran, 1.0)
