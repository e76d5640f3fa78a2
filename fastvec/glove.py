"""The GloVe estimator (Pennington, Socher & Manning 2014), trained like the Stanford tool.

``fit`` counts the co-occurrences of a corpus (fastvec.cooccurrence) or takes a counted
:class:`~fastvec.cooccurrence.Cooccurrence`, initialises the parameters as glove.c does, and
runs the AdaGrad epoch kernel (fastvec._glove_*) Hogwild-style on OpenMP threads. The kernel
documents the update, the clipping and the per-epoch order of the non-zeros. No maths here.
"""
from __future__ import annotations

import os
import time
from typing import Any, Iterable

import numpy as np

from fastvec import _dispatch
from fastvec._base import (EpochLoop, Estimator, all_finite, check_callbacks, check_checkpoint, check_float,
                           check_int, check_memory, read_only, resolve_seed)
from fastvec._memory import aligned, aligned_zeros
from fastvec._threads import check_workers, resolve_workers
from fastvec.cooccurrence import Cooccurrence, _check_csr
from fastvec.corpus import Corpus, CorpusLike, Tokenizer
from fastvec.exceptions import DivergenceError, FormatError
from fastvec.keyedvectors import KeyedVectors
from fastvec.vocab import Vocabulary

#: non-zeros per block of the epoch order (1: a uniformly random permutation of the non-zeros).
#: Larger blocks read the CSR arrays in longer runs but bunch the updates of a row (a block lies
#: in one row). On wiki17m (GloVe settings, 2 threads, 8 seeds; 5 for 16) WordSim-353 after 15
#: epochs was 0.470 +- 0.005 with blocks of 1, 0.469 +- 0.009 with 4 and 0.458 +- 0.007 with 16,
#: for epochs of about 3.6, 2.8 and 2.3 s: the cheaper orders cost quality or its stability.
BLOCK = 1
#: blocks per work item: one thread gathers, shuffles and trains 4,096 non-zeros at a time
BLOCKS_PER_ITEM = 4096 // BLOCK
#: work items per kernel call (about 2M non-zeros) at up to SLICE_DIM dimensions, fewer above
#: (proportionally): the progress bar and Ctrl-C act in between, within a second
SLICE_ITEMS = 512
SLICE_DIM = 64
#: the row of every 4096th non-zero is tabulated for the kernel's row lookup
HINT_SHIFT = 12
#: a slice whose mean loss exceeds this many times (the mean loss of all-zero parameters + 1)
#: has diverged: clipped gradients keep the weights finite, so NaN alone misses learning rates
#: that are far too high (the loss then grows to 1e3..1e30 while normal runs stay below it)
DIVERGENCE_FACTOR = 100.0
VECTOR_CHOICES = ("sum", "word", "context")
#: parameter rows drawn at a time at initialisation (bounds the temporary to about 4 MB)
INIT_FLOATS = 1 << 20
#: what to do when training would not fit in memory
MEMORY_ADVICE = "lower vector_size or raise min_count"

_PARAMS = ("vector_size", "window", "min_count", "x_max", "alpha", "learning_rate", "epochs", "workers", "seed",
           "callbacks", "progress", "vectors", "grad_clip", "max_memory", "tokenizer", "checkpoint_every", "checkpoint_path")


class GloVe(Estimator):
    """GloVe: word vectors w_i and context vectors w~_j (with biases) fitted to the logarithm of
    the co-occurrence counts X_ij by weighted least squares, weight ``(X_ij / x_max) ** alpha``
    capped at 1, with AdaGrad (``learning_rate``, squared-gradient sums starting at 1) and each
    gradient component clipped to ``[-grad_clip, grad_clip]``, as Stanford's glove.c.

    Co-occurrences are counted in a symmetric ``window`` with 1/distance weights over words
    occurring at least ``min_count`` times (counting uses at most ``max_memory`` bytes of
    working memory when set, spilling to disk beyond). ``vectors`` chooses what ``wv`` holds:
    ``"sum"`` (W + W~, the Stanford default), ``"word"`` or ``"context"``. ``workers`` threads
    (None: OMP_NUM_THREADS if set, else all cores; never more than the cores); ``seed`` with
    ``workers=1`` makes runs bit-reproducible. ``callbacks`` are called as ``cb(model,
    metrics)`` (or ``cb.on_epoch_end(model, metrics)``) after each epoch.
    ``checkpoint_every=N`` saves the model to ``checkpoint_path`` (atomically) after every N
    epochs; ``GloVe.load(checkpoint_path).train_more(corpus)`` then finishes the schedule
    exactly as the uninterrupted run would have.

    Nothing is trained until :meth:`fit`. Learned attributes: ``wv``, ``vocabulary_``,
    ``word_vectors_``, ``context_vectors_``, ``word_biases_``, ``context_biases_``,
    ``loss_history_``, ``history_``, ``epochs_trained_``, ``train_seconds_``,
    ``count_seconds_``, ``pairs_per_second_``, ``seed_``, ``memory_estimate_`` (see
    :meth:`estimate_memory`; ``fit`` refuses with MemoryError, before allocating the
    parameters, when they would not fit in the memory available).

    Example::

        model = fastvec.GloVe(vector_size=50, window=15, x_max=10, epochs=15).fit("corpus.txt")
        model.wv.most_similar("king", topn=5)
    """

    _PARAMS = _PARAMS
    _FORMAT = "glove"
    _ARRAYS = {"state": "_state"}
    _RATE_PARAM = "learning_rate"
    _RATE = "pairs_per_second"
    _STATS = ("count_seconds", "pairs_per_second")
    _SCHEDULE_KEYS = frozenset({"epochs", "done"})
    _SCHEDULE_TYPES = int
    _SCHEDULE_ERROR = "bad epoch schedule"
    _SCHEDULE_COMPLETE = "all scheduled epochs have run; pass epochs=k to train k more epochs"

    def __init__(self, *, vector_size: int = 50, window: int = 15, min_count: int = 5, x_max: float = 100.0,
                 alpha: float = 0.75, learning_rate: float = 0.05, epochs: int = 15, workers: int | None = None,
                 seed: int | None = None, callbacks: Iterable[Any] = (), progress: bool = True,
                 vectors: str = "sum", grad_clip: float = 100.0, max_memory: int | None = None,
                 tokenizer: Tokenizer | str | None = None, checkpoint_every: int | None = None,
                 checkpoint_path: str | os.PathLike | None = None):
        self.vector_size = vector_size
        self.window = window
        self.min_count = min_count
        self.x_max = x_max
        self.alpha = alpha
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.workers = workers
        self.seed = seed
        self.callbacks = callbacks
        self.progress = progress
        self.vectors = vectors
        self.grad_clip = grad_clip
        self.max_memory = max_memory
        self.tokenizer = tokenizer
        self.checkpoint_every = checkpoint_every
        self.checkpoint_path = checkpoint_path

    # -- parameters ----------------------------------------------------------------------
    def _validate(self, *, files: bool = True) -> None:
        check_int("vector_size", self.vector_size, 1, 100_000)
        check_int("window", self.window, 1, 10_000)
        check_int("min_count", self.min_count, 1)
        # the kernel computes in float32: a larger x_max would become inf there (weights NaN or 0)
        check_float("x_max", self.x_max, 0.0, float(np.finfo(np.float32).max), low_open=True)
        check_float("alpha", self.alpha, 0.0, 10.0)
        check_float("learning_rate", self.learning_rate, 0.0, low_open=True)
        check_int("epochs", self.epochs, 1)
        check_float("grad_clip", self.grad_clip, 0.0, low_open=True)
        if self.vectors not in VECTOR_CHOICES:
            raise ValueError(f"vectors must be one of {', '.join(map(repr, VECTOR_CHOICES))}, got {self.vectors!r}")
        if self.max_memory is not None:
            check_int("max_memory", self.max_memory, 1)
        check_callbacks(self.callbacks)
        check_workers(self.workers)
        check_checkpoint(self.checkpoint_every, self.checkpoint_path, files=files)
        if self.seed is not None:
            resolve_seed(self.seed)  # a bad seed is refused before counting

    def _new_schedule(self, n_epochs: int) -> dict:
        return {"epochs": n_epochs, "done": 0}

    def _array_shape(self, n_words: int) -> tuple[int, int]:
        kernels = _dispatch.kernels("glove")
        return 2 * n_words, kernels.row_length(kernels.padded_size(int(self.vector_size)))

    # -- training --------------------------------------------------------------------------
    def fit(self, corpus: CorpusLike | Cooccurrence) -> "GloVe":
        """Count co-occurrences (unless given a :class:`Cooccurrence`), initialise the
        parameters and train for ``epochs`` epochs.

        ``corpus``: a text file path (one sentence or document per line; windows never cross
        lines), a re-iterable of token lists, an encoded :class:`fastvec.Corpus`, or a
        :class:`Cooccurrence` (then ``window`` and ``min_count`` are not used). Returns ``self``.

        An error before the first epoch completes (a bad corpus, too little memory, Ctrl-C
        before training starts) leaves the estimator as it was: a fitted model keeps its
        vectors, which it holds until then. A DivergenceError marks the new model unusable."""
        self._validate_for(corpus)
        threads = resolve_workers(self.workers)  # once: it warns when workers > cores
        with self._all_or_nothing():   # an error before the first epoch completes changes nothing
            started = time.perf_counter()
            cooc = self._cooccurrence(corpus, None, threads)
            self.count_seconds_ = time.perf_counter() - started if not isinstance(corpus, Cooccurrence) else 0.0
            self.memory_estimate_ = self._check_memory(len(cooc.vocabulary), cooc.nnz)
            self.cooccurrence_stats_ = dict(cooc.stats_)
            self.vocabulary_ = cooc.vocabulary
            self.seed_ = resolve_seed(self.seed)
            self._init_state()
            self._start_history()
            self._train(cooc, int(self.epochs), threads)
        return self

    def train_more(self, corpus: CorpusLike | Cooccurrence, *, epochs: int | None = None) -> "GloVe":
        """Continue training (AdaGrad state included) on the co-occurrences of ``corpus``,
        counted with the model's vocabulary and window, or on a :class:`Cooccurrence` over the
        same vocabulary.

        ``epochs=None`` runs the epochs left of the last ``fit``/``train_more`` (after Ctrl-C,
        or from a checkpoint), exactly as they would have run; ``epochs=k`` runs k more.
        Returns ``self``."""
        with self._keeping_schedule():
            n = self._epochs_to_run(epochs, corpus)
            threads = resolve_workers(self.workers)
            self._train(self._cooccurrence(corpus, self.vocabulary_, threads), n, threads)
        return self

    def _cooccurrence(self, corpus, vocabulary: Vocabulary | None, threads: int) -> Cooccurrence:
        if isinstance(corpus, Cooccurrence):
            cooc = corpus
            if vocabulary is not None and cooc.vocabulary is not vocabulary \
                    and cooc.vocabulary.index_to_key != vocabulary.index_to_key:
                raise ValueError("the co-occurrences were counted over a different vocabulary than the model's")
        else:
            if vocabulary is None:
                encoded = Corpus.build(corpus, min_count=self.min_count, tokenizer=self.tokenizer)
                self._check_memory(len(encoded.vocabulary), 0)   # parameters alone: refuse before counting
            else:
                encoded = Corpus.encode(corpus, vocabulary, tokenizer=self.tokenizer)
            cooc = Cooccurrence.from_corpus(encoded, window=int(self.window), weighting="harmonic", symmetric=True,
                                            max_memory=self.max_memory, workers=threads)
            del encoded  # the encoded corpus is not needed for training: free it before training
        if cooc.nnz == 0:
            raise ValueError("the co-occurrence matrix is empty (no two words within the window): nothing to train on")
        return cooc

    def estimate_memory(self, *, n_words: int | None = None, nnz: int | None = None) -> dict[str, int]:
        """Bytes needed to train: parameters (W, W~ and biases, padded rows), AdaGrad's
        squared-gradient sums, the co-occurrence matrix with ``nnz`` non-zeros (8 B each) and
        its training tables, the threads' shuffle buffers and the vocabulary. Defaults to the
        fitted vocabulary's size, and the co-occurrences count only when ``nnz`` is given
        (``memory_estimate_`` is the estimate of the last fit); pass both to plan before fitting.
        ``"total"`` sums the parts. Counting the co-occurrences is bounded separately (``max_memory``)."""
        if n_words is None:
            self._check_fitted()
            n_words = len(self.vocabulary_)
        n_words = check_int("n_words", n_words, 0)
        d = check_int("vector_size", self.vector_size, 1)
        nnz = 0 if nnz is None else check_int("nnz", nnz, 0)
        threads = resolve_workers(self.workers, warn=False)
        kernels = _dispatch.kernels("glove")
        rows = 2 * n_words * kernels.row_length(kernels.padded_size(d)) * 4   # a state row: half each
        cap = BLOCK * BLOCKS_PER_ITEM
        parts = {
            "parameters": rows // 2,
            "adagrad_state": rows - rows // 2,
            # int32 columns and float32 counts; row pointers int32 below 2**31 non-zeros
            "cooccurrences": 8 * nnz + (n_words + 1) * (4 if nnz < 2**31 - 1 else 8),
            "training_tables": 8 * (n_words + 1) + 8 * ((nnz >> HINT_SHIFT) + 2),   # int64 row pointers, hints
            "shuffle_buffers": threads * (3 * 4 * cap + 8 * BLOCKS_PER_ITEM),         # gathered records, blocks
            "vocabulary": n_words * 120,                                               # strings, dict entries
        }
        parts["total"] = sum(parts.values())
        return parts

    def _check_memory(self, n_words: int, nnz: int) -> dict[str, int]:
        """The estimate, after refusing (MemoryError) when what is still to be allocated
        exceeds the memory available: the vocabulary and the co-occurrences are in memory
        already when this runs."""
        estimate = self.estimate_memory(n_words=n_words, nnz=nnz)
        to_allocate = estimate["total"] - estimate["vocabulary"] - estimate["cooccurrences"]
        check_memory({"total": to_allocate}, "GloVe training (beyond the vocabulary and co-occurrences in memory)",
                     MEMORY_ADVICE)
        return estimate

    def _init_state(self) -> None:
        """glove.c's initialisation: vectors and biases uniform in [-0.5, 0.5) / (vector_size + 1)
        (glove.c divides by its ``vector_size`` after adding the bias to it, and subtracts the 1
        only after initialising), squared-gradient sums 1 (the first steps are learning_rate-sized). Drawn a few rows
        at a time, in row order: the same numbers as one draw of all rows, without its
        temporary of half the parameters' size."""
        kernels = _dispatch.kernels("glove")
        n, d = len(self.vocabulary_), int(self.vector_size)
        dpad = kernels.padded_size(d)
        # rows of whole cache lines, on cache lines: the kernel fetches nothing it does not use
        state = aligned_zeros((2 * n, kernels.row_length(dpad)), np.float32)
        rng = np.random.Generator(np.random.PCG64(self.seed_))
        step = max(1, INIT_FLOATS // (d + 1))
        for first, last, words in ((0, n, True), (n, 2 * n, False)):
            for r0 in range(first, last, step):
                r1 = min(r0 + step, last)
                init = rng.random((r1 - r0, d + 1), dtype=np.float32)
                init -= 0.5
                init /= d + 1
                state[r0:r1, :d] = init[:, :d]
                # biases and constants (see fastvec/_glove.pxi): words [b, 1], contexts [1, b~]
                state[r0:r1, d if words else d + 1] = init[:, d]
                state[r0:r1, d + 1 if words else d] = 1.0
        state[:, dpad:] = 1.0                    # squared-gradient sums
        self._state = state
        self._dpad = dpad
        self._size = d
        self._wv: KeyedVectors | None = None

    def _trained_vector_size(self) -> int:
        return self._size

    def _train(self, cooc: Cooccurrence, n_epochs: int, threads: int) -> None:
        self._check_vector_size()
        kernels = _dispatch.kernels("glove")
        n_words = len(self.vocabulary_)
        matrix = cooc.matrix
        _check_csr(matrix, n_words)
        indptr = np.ascontiguousarray(matrix.indptr, dtype=np.int64)
        indices = np.ascontiguousarray(matrix.indices, dtype=np.int32)
        data = np.ascontiguousarray(matrix.data, dtype=np.float32)
        if len(data) and float(data.min()) <= 0.0:
            raise ValueError("GloVe fits log X: every stored co-occurrence value must be > 0")
        nnz = len(indices)
        hints = kernels.row_hints(indptr, HINT_SHIFT)
        n_items = kernels.epoch_items(nnz, BLOCK, BLOCKS_PER_ITEM)
        per_slice = max(1, SLICE_ITEMS * SLICE_DIM // max(SLICE_DIM, int(self.vector_size)))
        slices = [(a, min(a + per_slice, n_items)) for a in range(0, n_items, per_slice)]
        params = dict(state=self._state, indptr=indptr, row_hint=hints, hint_shift=HINT_SHIFT, indices=indices,
                      data=data, n_words=n_words, vector_size=int(self.vector_size), block=BLOCK,
                      blocks_per_item=BLOCKS_PER_ITEM,
                      x_max=float(self.x_max), alpha=float(self.alpha), eta=float(self.learning_rate),
                      clip=float(self.grad_clip), seed=self.seed_, n_threads=threads)
        self._weights_changed()

        def run_epoch(_: int):
            epoch = self.epochs_trained_
            for first, last in slices:
                done, loss = kernels.train_slice(first_item=first, last_item=last, epoch=epoch, **params)
                if done and loss / done > DIVERGENCE_FACTOR:   # cheap test first: the limit is at least this
                    zero = zero_model_loss(data, float(self.x_max), float(self.alpha))
                    if loss / done > DIVERGENCE_FACTOR * (zero + 1.0):
                        self._diverged = True
                        raise DivergenceError(
                            f"training diverged in epoch {epoch + 1}: the mean loss per pair reached {loss / done:.3g}, "
                            f"over {DIVERGENCE_FACTOR:g} times that of all-zero vectors ({zero:.3g}). The learning rate "
                            f"(learning_rate={self.learning_rate:g}) is probably too high. The model's weights are "
                            "unusable; fit again with a lower learning rate.")
                yield done, done, loss

        def epoch_metrics(metrics: dict) -> dict:
            return {"pairs_per_second": metrics["examples"] / metrics["seconds"] if metrics["seconds"] > 0 else 0.0}

        loop = EpochLoop(self, desc="glove", work_per_epoch=nnz, n_epochs=n_epochs, unit="pair",
                         check_weights=lambda: all_finite(self._state),
                         hint=f"The learning rate (learning_rate={self.learning_rate:g}) is probably too high.")
        self._run_epochs(loop, run_epoch, epoch_metrics)

    # -- results ---------------------------------------------------------------------------
    def _part(self, contexts: bool) -> np.ndarray:
        """Rows of the parameters, as a read-only view: training alone writes them (a stray
        write would leave ``wv``, computed from them, stale)."""
        self._check_vector_size()
        n = len(self.vocabulary_)
        return read_only(self._state[n:] if contexts else self._state[:n])

    @property
    def word_vectors_(self) -> np.ndarray:
        """W (one row per word; a view of the parameters)."""
        self._check_fitted()
        return self._part(False)[:, :int(self.vector_size)]

    @property
    def context_vectors_(self) -> np.ndarray:
        """W~ (one row per context word; a view of the parameters)."""
        self._check_fitted()
        return self._part(True)[:, :int(self.vector_size)]

    @property
    def word_biases_(self) -> np.ndarray:
        """The word biases b_i, one per word (a view of the parameters)."""
        self._check_fitted()
        return self._part(False)[:, int(self.vector_size)]

    @property
    def context_biases_(self) -> np.ndarray:
        """The context biases b~_j, one per word (a view of the parameters)."""
        self._check_fitted()
        return self._part(True)[:, int(self.vector_size) + 1]

    @property
    def wv(self) -> KeyedVectors:
        """The word vectors chosen by ``vectors`` (W + W~ by default) as :class:`KeyedVectors`.
        They are computed from the parameters (a float32 copy), again after more training or
        when ``vectors`` has been changed since."""
        self._check_fitted()
        if self.vectors not in VECTOR_CHOICES:
            raise ValueError(f"vectors must be one of {', '.join(map(repr, VECTOR_CHOICES))}, got {self.vectors!r}")
        choice = self.vectors

        def compute() -> KeyedVectors:
            if choice == "sum":
                vectors = self.word_vectors_ + self.context_vectors_
            else:
                vectors = np.ascontiguousarray(self.context_vectors_ if choice == "context" else self.word_vectors_)
            return KeyedVectors._trusted(self.vocabulary_.index_to_key, vectors, counts=self.vocabulary_.counts,
                                         key_to_index=self.vocabulary_.key_to_index)
        return self._cache_derived(choice, compute)

    # -- persistence -------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Save everything needed to continue training (AdaGrad sums included) to one file
        (atomic; no pickle). The co-occurrences are not included: save them with
        :meth:`Cooccurrence.save` if you want to continue without recounting."""
        super().save(path)

    def _upgrade_arrays(self, path: str | os.PathLike, arrays: dict, n_words: int) -> dict:
        """A state of the older layout (rows padded to 16 floats per half) re-laid in the
        kernel's, after the same checks of its lanes that load makes (its padding lanes are
        dropped, so they are checked first)."""
        state = arrays.get("state")
        d = int(self.vector_size)
        dpad, old = _dispatch.kernels("glove").padded_size(d), legacy_padded_size(d)
        if (old == dpad or not isinstance(state, np.ndarray) or state.dtype != np.float32
                or state.shape != (2 * n_words, 2 * old)):
            return arrays
        _check_state_layout(path, state, n_words, d, old)
        new = aligned_zeros((2 * n_words, 2 * dpad), np.float32)
        new[:, :d + 2] = state[:, :d + 2]
        new[:, dpad:] = 1.0
        new[:, dpad:dpad + d + 2] = state[:, old:old + d + 2]
        return {**arrays, "state": new}

    @classmethod
    def load(cls, path: str | os.PathLike) -> "GloVe":
        """Load a model saved with :meth:`save`."""
        model = super().load(path)
        model._dpad = _dispatch.kernels("glove").padded_size(int(model.vector_size))
        model._size = int(model.vector_size)
        _check_state_layout(path, model._state, len(model.vocabulary_), model._size, model._dpad)
        model._state = aligned(model._state)   # as _init_state makes it (see there)
        model.cooccurrence_stats_ = {}
        model.memory_estimate_ = model.estimate_memory(nnz=0)   # the co-occurrences are not saved
        return model


def legacy_padded_size(vector_size: int) -> int:
    """dpad of the state files written before 2026-11-25: vector_size + 2 rounded up to 16
    (the kernel's is rounded up to 8 now; see padded_size in fastvec/_glove.pxi)."""
    return (vector_size + 2 + 15) // 16 * 16


def _check_state_layout(path: str | os.PathLike, state: np.ndarray, n_words: int, d: int, dpad: int) -> None:
    """The invariants of a state the kernel relies on (layout at the top of fastvec/_glove.pxi):
    constant lanes 1 (words: lane d + 1, contexts: lane d), padding lanes 0 and
    squared-gradient sums >= 1 (they start at 1 and only grow). A file breaking them trains
    garbage, or reports a divergence of the learning rate; FormatError instead. Checked in
    blocks of rows: no temporary of the state's size."""
    block = 1 << 14
    for r0 in range(0, len(state), block):
        rows = state[r0:r0 + block]
        words = min(max(n_words - r0, 0), len(rows))   # the first `words` rows of the block are word rows
        if not ((rows[:words, d + 1] == 1).all() and (rows[words:, d] == 1).all()):
            problem = "a bias constant lane is not 1"
        elif (rows[:, d + 2:dpad] != 0).any():
            problem = "a padding lane is not 0"
        elif not (rows[:, dpad:] >= 1).all():
            problem = "a squared-gradient sum is below 1 (they start at 1 and only grow)"
        else:
            continue
        raise FormatError(path, f"state: {problem}; the file is corrupt")


def zero_model_loss(data: np.ndarray, x_max: float, alpha: float) -> float:
    """Mean loss 0.5 * f(X) * (log X)**2 of all-zero vectors and biases (float64, in chunks)."""
    total = 0.0
    for start in range(0, len(data), 1 << 22):
        x = data[start:start + (1 << 22)].astype(np.float64)
        total += float((0.5 * np.minimum(1.0, (x / x_max) ** alpha) * np.log(x) ** 2).sum())
    return total / max(len(data), 1)
