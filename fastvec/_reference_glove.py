"""Slow NumPy twins of the co-occurrence and GloVe kernels, used by the tests as oracles.

``count_cooccurrences`` follows the definition of fastvec/cooccurrence.py directly (one
vectorised pass per distance, float64 sums). ``train_items`` replays fastvec/_glove.pxi's epoch
(the same block permutation, gathers, in-buffer shuffle and float32 AdaGrad updates, one
record at a time) so that a one-thread kernel run matches it to rounding error. Never used for
training.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse

from fastvec._reference import M64, Stream, mix64

FEISTEL_ROUNDS = 4


def count_cooccurrences(ids: np.ndarray, offsets: np.ndarray, n_words: int, window: int,
                        weighting: str = "harmonic", symmetric: bool = True) -> scipy.sparse.csr_array:
    """X[i, j] = sum of weight(d) over j occurring d = 1..window tokens after i in the same
    sentence (plus before i when symmetric); weight 1/d or 1."""
    ids = np.asarray(ids, dtype=np.int64)
    sentence = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    rows, cols, vals = [], [], []
    for d in range(1, window + 1):
        if d >= len(ids):
            break
        same = sentence[:-d] == sentence[d:]
        left, right = ids[:-d][same], ids[d:][same]
        w = 1.0 / d if weighting == "harmonic" else 1.0
        rows.append(left)
        cols.append(right)
        vals.append(np.full(len(left), w))
        if symmetric:
            rows.append(right)
            cols.append(left)
            vals.append(np.full(len(left), w))
    if rows:
        r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    else:
        r = c = np.zeros(0, dtype=np.int64)
        v = np.zeros(0)
    m = scipy.sparse.coo_array((v, (r, c)), shape=(n_words, n_words)).tocsr()
    m.sum_duplicates()
    return m


# -- the epoch order --------------------------------------------------------------------------

def feistel_setup(n_blocks: int, seed: int, epoch: int) -> tuple[int, list[int]]:
    """(half_bits, round keys) of the block permutation of one epoch (see _glove.pxi)."""
    bits = max(2, int(n_blocks - 1).bit_length())
    bits += bits & 1
    base = mix64((seed ^ ((epoch * 0xD1B54A32D192ED03) & M64) ^ 0x6A09E667F3BCC909) & M64)
    keys = [mix64((base + (r + 1) * 0x9E3779B97F4A7C15) & M64) for r in range(FEISTEL_ROUNDS)]
    return bits // 2, keys


def feistel(x: int, half: int, keys: list[int]) -> int:
    mask = (1 << half) - 1
    left, right = x >> half, x & mask
    for key in keys:
        left, right = right, left ^ (mix64(right ^ key) & mask)
    return (left << half) | right


def block_order(n_blocks: int, seed: int, epoch: int) -> list[int]:
    """The permutation of blocks visited in one epoch (cycle-walking Feistel network)."""
    half, keys = feistel_setup(n_blocks, seed, epoch)
    order = []
    for pos in range(n_blocks):
        b = feistel(pos, half, keys)
        while b >= n_blocks:
            b = feistel(b, half, keys)
        order.append(b)
    return order


def item_records(indptr, indices, data, order: list[int], item: int, block: int, blocks_per_item: int,
                 seed: int, epoch: int) -> list[tuple[int, int, float]]:
    """The records of one work item in the order the kernel trains them."""
    nnz = len(indices)
    recs = []
    for pos in range(item * blocks_per_item, min(len(order), (item + 1) * blocks_per_item)):
        start = order[pos] * block
        for k in range(start, min(nnz, start + block)):
            row = int(np.searchsorted(indptr, k, side="right")) - 1
            recs.append((row, int(indices[k]), float(data[k])))
    rng = Stream.for_item(seed, epoch, item)
    for n in range(len(recs) - 1, 0, -1):   # Fisher-Yates, as in the kernel
        m = rng.below(n + 1)
        recs[n], recs[m] = recs[m], recs[n]
    return recs


# -- the AdaGrad update --------------------------------------------------------------------------

def layout(vector_size: int) -> int:
    """dpad of the kernel's state rows: vector_size + 2 rounded up to 8. Lane A = vector_size
    holds a word's bias (context rows: the constant 1), lane B = A + 1 the constant (context
    rows: the bias)."""
    return (vector_size + 2 + 7) // 8 * 8


def glove_update(state: np.ndarray, n_words: int, vector_size: int, i: int, j: int, x: float, x_max: float,
                 alpha: float, eta: float, clip: float) -> float:
    """One record in float32, as the kernel (but with the biases written out separately):
    returns the loss 0.5 f(x) (w.c + b + b~ - log x)^2."""
    f32 = np.float32
    dpad = layout(vector_size)
    a, b = vector_size, vector_size + 1
    w1, w2 = state[i], state[n_words + j]
    v1, v2 = w1[:vector_size].copy(), w2[:vector_size].copy()
    g1, g2 = w1[dpad:dpad + vector_size], w2[dpad:dpad + vector_size]
    log_x = np.log(f32(x), dtype=f32)
    diff = f32(np.dot(v1, v2) + w1[a] * w2[a] + w1[b] * w2[b] - log_x)   # w1[b] = w2[a] = 1
    weight = f32(1.0) if x >= x_max else f32(np.exp(f32(alpha) * (log_x - np.log(f32(x_max), dtype=f32)), dtype=f32))
    fdiff = f32(weight * diff)
    t1 = np.clip(fdiff * v2, -f32(clip), f32(clip)).astype(f32) * f32(eta)
    t2 = np.clip(fdiff * v1, -f32(clip), f32(clip)).astype(f32) * f32(eta)
    w1[:vector_size] = v1 - t1 / np.sqrt(g1)
    w2[:vector_size] = v2 - t2 / np.sqrt(g2)
    g1 += t1 * t1
    g2 += t2 * t2
    # biases: the unclipped f*diff without eta (glove.c)
    w1[a] -= fdiff / np.sqrt(w1[dpad + a])
    w2[b] -= fdiff / np.sqrt(w2[dpad + b])
    w1[dpad + a] += fdiff * fdiff
    w2[dpad + b] += fdiff * fdiff
    return 0.5 * float(fdiff) * float(diff)


def initial_state(n_words: int, vector_size: int, vectors: np.ndarray, biases: np.ndarray) -> np.ndarray:
    """A state array from vectors (2V x vector_size) and biases (2V): sums 1, constants 1."""
    dpad = layout(vector_size)
    state = np.zeros((2 * n_words, 2 * dpad), dtype=np.float32)
    state[:, :vector_size] = vectors
    state[:n_words, vector_size] = biases[:n_words]
    state[:n_words, vector_size + 1] = 1.0
    state[n_words:, vector_size] = 1.0
    state[n_words:, vector_size + 1] = biases[n_words:]
    state[:, dpad:] = 1.0
    return state


def train_items(*, state, indptr, indices, data, n_words, vector_size, first_item, last_item, block, blocks_per_item,
                x_max, alpha, eta, clip, seed, epoch) -> tuple[int, float]:
    """Twin of ``train_slice`` at one thread: (records trained, summed loss)."""
    n_blocks = -(-len(indices) // block)
    order = block_order(n_blocks, seed, epoch)
    done, loss = 0, 0.0
    for item in range(first_item, last_item):
        for i, j, x in item_records(indptr, indices, data, order, item, block, blocks_per_item, seed, epoch):
            loss += glove_update(state, n_words, vector_size, i, j, x, x_max, alpha, eta, clip)
            done += 1
    return done, loss
