"""The word2vec estimator: skip-gram and CBOW with negative sampling.

Parameters are stored as given; ``fit`` validates them, builds the vocabulary, encodes the
corpus once into int32 ids and runs the epoch kernels (fastvec._word2vec_*) Hogwild-style on
OpenMP threads. No maths happens in this module.
"""
from __future__ import annotations

import numbers
import os
from typing import Any, Iterable

import numpy as np

from fastvec import _dispatch, _warnings
from fastvec._base import (
    DERIVED_LOCK,
    EpochLoop,
    Estimator,
    all_finite,
    check_callbacks,
    check_checkpoint,
    check_memory,
    check_float,
    check_int,
    read_only,
    resolve_seed,
)
from fastvec._io import FormatError
from fastvec._threads import check_workers, resolve_workers, single_threaded_blas
from fastvec.corpus import Corpus, CorpusLike, Tokenizer
from fastvec.keyedvectors import KeyedVectors
from fastvec.sampling import keep_thresholds, noise_table

#: A work item is a piece of a sentence of at most this many tokens (longer sentences are cut
#: into consecutive pieces, never truncated); windows do not cross piece boundaries. Small
#: pieces keep the wait at the end of a kernel call short (word2vec.c cuts at 1,000 words).
MAX_ITEM_TOKENS = 4096
#: Centre words of batched CBOW that share one set of noise words.
CBOW_GROUP = 4
#: Tokens per kernel call. Between calls Python updates the progress bar and sees Ctrl-C:
#: 2**18 tokens take well under a second even for classic skip-gram on one slow core.
SLICE_TOKENS = 1 << 18
#: Tokens per kernel call for CBOW with hot rows (several threads; CBOW trains a token several
#: times faster than skip-gram): up to HOT_SLICE_TOKENS, so that the merges of the hot rows
#: between calls cost a quarter of what they cost after every 2**18 tokens, but at least
#: HOT_MIN_MERGES merges per epoch (benchmarks/RESULTS.md, "Scaling").
HOT_SLICE_TOKENS = 1 << 20
HOT_MIN_MERGES = 16
#: The work per token the call sizes above are meant for: (vector_size + EXAMPLE_COST) x window x
#: (negative + 1) at the defaults. Heavier settings train fewer tokens per call, so that Ctrl-C
#: still stops within a second (vector_size=3000 would otherwise take several); the smallest
#: call is one work item. EXAMPLE_COST: the fixed cost of an example (draws, lookups, the
#: loop), in dimensions' worth of time (one thread: about 15 ns an example at vector_size 1,
#: 53 ns at 100).
EXAMPLE_COST = 40
REFERENCE_WORK = (100 + EXAMPLE_COST) * 5 * 6


def work_per_token(*, cbow: bool, vector_size: int, window: int, negative: int) -> int:
    """The work of a token in REFERENCE_WORK's units, equal to it at the defaults of either
    model: skip-gram trains (negative + 1) outputs for each of about `window` context words,
    CBOW one sum of the context and (negative + 1) outputs per token."""
    if cbow:
        return (vector_size + EXAMPLE_COST) * (window + negative + 1) * REFERENCE_WORK // ((100 + EXAMPLE_COST) * 11)
    return (vector_size + EXAMPLE_COST) * window * (negative + 1)
#: hot_rows=None: rows each thread keeps private copies of (several threads) ...
AUTO_HOT_ROWS = 8192
#: ... when each thread trains at least this many times HOT_SYNC_TOKENS tokens per epoch.
AUTO_HOT_MIN_SYNCS = 256
#: The hottest HOT_ASYNC_ROWS of the hot rows are synced by each thread every HOT_SYNC_TOKENS
#: tokens it trains; the others are merged after every kernel call.
HOT_ASYNC_ROWS = 512
HOT_SYNC_TOKENS = 16_384

_PARAMS = ("sg", "vector_size", "window", "negative", "ns_exponent", "sample", "min_count", "max_vocab_size",
           "alpha", "min_alpha", "epochs", "workers", "seed", "callbacks", "progress", "tokenizer", "kernel",
           "hot_rows", "checkpoint_every", "checkpoint_path")
KERNELS = ("auto", "batched", "classic")


def work_items(offsets: np.ndarray, max_tokens: int = MAX_ITEM_TOKENS) -> np.ndarray:
    """(n, 2) int64 [start, end) pieces of at most ``max_tokens`` tokens, in corpus order."""
    offsets = np.asarray(offsets, dtype=np.int64)
    lengths = np.diff(offsets)
    pieces = np.maximum(1, -(-lengths // max_tokens))
    pieces[lengths == 0] = 0
    sentence = np.repeat(np.arange(len(lengths)), pieces)
    first_piece = np.repeat(np.cumsum(pieces) - pieces, pieces)
    start = offsets[sentence] + (np.arange(len(sentence)) - first_piece) * max_tokens
    end = np.minimum(start + max_tokens, offsets[sentence + 1])
    return np.ascontiguousarray(np.stack([start, end], axis=1))


def resolve_hot_rows(hot_rows: int | None, *, threads: int, batched: bool, n_tokens: int, n_words: int) -> int:
    """The hot rows a training call uses: none on one thread; ``hot_rows`` when given; for
    ``None``, AUTO_HOT_ROWS with the classic kernels when the corpus is large enough for each
    thread to sync the hottest ones AUTO_HOT_MIN_SYNCS times per epoch (the other hot rows
    are then merged at least 32 times per epoch on 2 threads; on small corpora the staleness
    measurably raised the early loss), else none. Batched skip-gram gains 4-5% from them on
    wiki17m but lost about 0.01 of SimLex-999 over 3 seeds, so auto leaves them off there."""
    if threads <= 1:
        return 0
    if hot_rows is None:
        large = n_tokens >= threads * AUTO_HOT_MIN_SYNCS * HOT_SYNC_TOKENS
        hot_rows = AUTO_HOT_ROWS if large and not batched else 0
    return min(int(hot_rows), n_words)


def hot_async_rows(hot_rows: int) -> int:
    """How many of the hot rows each thread syncs on its own (the rest are merged by calls)."""
    return min(hot_rows, HOT_ASYNC_ROWS)


def hot_row_bytes(hot_rows: int, *, threads: int, dim: int) -> int:
    """Memory of the threads' hot-row copies: input and output rows, plus snapshots of the
    self-synced ones."""
    return threads * 2 * (hot_rows + hot_async_rows(hot_rows)) * dim * 4


def max_item_tokens(items: np.ndarray) -> int:
    """The longest work item, in tokens (at least 1)."""
    return max(1, int((items[:, 1] - items[:, 0]).max())) if len(items) else 1


def call_tokens(*, cbow: bool, hot_rows: int, n_tokens: int, work: int = REFERENCE_WORK) -> int:
    """Tokens per kernel call: SLICE_TOKENS, or for CBOW with hot rows n_tokens / HOT_MIN_MERGES
    clipped to [SLICE_TOKENS, HOT_SLICE_TOKENS]; divided by work / REFERENCE_WORK when the work
    per token ((vector_size + EXAMPLE_COST) x window x (negative + 1)) is larger, down to
    MAX_ITEM_TOKENS."""
    tokens = SLICE_TOKENS if not (cbow and hot_rows) else \
        max(SLICE_TOKENS, min(HOT_SLICE_TOKENS, n_tokens // HOT_MIN_MERGES))
    return max(MAX_ITEM_TOKENS, tokens * REFERENCE_WORK // max(work, REFERENCE_WORK))


def slice_bounds(items: np.ndarray, slice_tokens: int) -> list[tuple[int, int]]:
    """Consecutive item ranges of about ``slice_tokens`` tokens each."""
    if len(items) == 0:
        return []
    ends = items[:, 1] - items[0, 0]
    total = int(ends[-1])
    targets = np.arange(slice_tokens, total, slice_tokens)
    cuts = np.unique(np.searchsorted(ends, targets, side="left") + 1)
    bounds = [0, *[int(c) for c in cuts if 0 < c < len(items)], len(items)]
    return list(zip(bounds[:-1], bounds[1:]))


class Word2Vec(Estimator):
    """word2vec with negative sampling: skip-gram (``sg=True``) or CBOW (mean of context vectors).

    Parameters follow word2vec.c and gensim: ``vector_size`` dimensions, a dynamic window of
    up to ``window`` words each side, ``negative`` noise words per example drawn from
    count**``ns_exponent``, frequent-word subsampling with threshold ``sample`` (0 disables),
    words with fewer than ``min_count`` occurrences dropped, the learning rate falling linearly
    from ``alpha`` (None: 0.025 for skip-gram, 0.05 for CBOW) to ``min_alpha`` (None:
    alpha * 0.0001 / 0.025) over all ``epochs``. ``workers`` threads (None: OMP_NUM_THREADS if
    set, else all cores; never more than the cores); ``seed`` makes runs with ``workers=1``
    bit-reproducible. ``callbacks`` are called as ``cb(model, metrics)`` (or
    ``cb.on_epoch_end(model, metrics)``) after each epoch.
    ``tokenizer`` (None, ``"simple"`` or a callable) applies when reading text files.
    ``checkpoint_every=N`` saves the model to ``checkpoint_path`` (atomically) after every N
    epochs; ``Word2Vec.load(checkpoint_path).train_more(corpus)`` then finishes the schedule
    exactly as an uninterrupted run would have (bit for bit with ``workers=1``).

    ``kernel`` chooses how noise words are sampled and updates are computed:

    * ``"classic"``: word2vec.c's semantics. Every (centre, context) pair of skip-gram, and
      every centre word of CBOW, draws its own ``negative`` noise words; updates are
      level-1 vector operations applied one example after the other.
    * ``"batched"``: HogBatch (Ji et al. 2016). Skip-gram draws ``negative`` noise words per
      centre word, shared by all its context words, and computes the scores and updates of
      the whole window as three small matrix products (sgemm via scipy's BLAS), from the
      weights as they were before the window. CBOW shares one set of noise words among
      groups of 4 consecutive centre words the same way.
    * ``"auto"`` (default): batched for skip-gram (2 to 2.5 times faster per core, with the
      same or better accuracy on wiki17m), classic for CBOW (sharing noise words across
      centre words cost CBOW 2.5 analogy points on wiki17m; see benchmarks/RESULTS.md).

    ``hot_rows=H`` (more than one thread) lets each thread work on private copies of the
    input and output rows of the H most frequent words. Every thread writes these rows all
    the time, and moving them between cores costs time (benchmarks/RESULTS.md, "Scaling").
    The copies meet the shared rows in two tiers: each thread adds its changes to the 512
    hottest rows every 16,384 tokens it trains, and the other hot rows of all threads are
    merged (summed changes, nothing lost) after every kernel call (2^18 tokens; for CBOW a
    sixteenth of the corpus, at least 2^18 and at most 2^20 tokens). The price is
    staleness: the threads' changes to a hot row meet only at a sync, which on small corpora
    (100k tokens) raised the first epochs' loss by several percent. ``hot_rows=None``
    (default) therefore uses 8,192 rows only with the classic kernels (CBOW's default) and
    only when each thread trains at least 256 x 16,384 tokens per epoch (a corpus of at least
    8.4M tokens on 2 threads), and none otherwise; on wiki17m with 2 threads they make CBOW
    epochs about 15% faster with the same accuracy. Batched skip-gram gains about 5% but lost
    0.005-0.01 of SimLex-999, so it uses none by default. ``hot_rows_`` says what the last
    training call used (0 for a model loaded and not trained since); ``hot_rows=0`` turns them off. Memory: 2 x (H + min(H, 512)) x
    vector_size x 4 bytes per thread.

    Nothing is trained until :meth:`fit`. Learned attributes: ``wv``, ``vocabulary_``,
    ``output_vectors_``, ``loss_history_``, ``history_``, ``words_per_second_``,
    ``train_seconds_``, ``epochs_trained_``, ``seed_``, ``hot_rows_``.

    Example::

        model = fastvec.Word2Vec(vector_size=100, epochs=5).fit("corpus.txt")
        model.wv.most_similar("king", topn=5)
    """

    _PARAMS = _PARAMS
    _FORMAT = "word2vec"
    _ARRAYS = {"syn0": "_syn0", "syn1": "_syn1"}
    _RATE_PARAM = "alpha"
    _RATE = "words_per_second"
    _STATS = ("words_per_second",)
    _SCHEDULE_KEYS = frozenset({"alpha", "min_alpha", "epochs", "done"})
    _SCHEDULE_TYPES = (int, float)
    _SCHEDULE_ERROR = "bad learning-rate schedule"
    _SCHEDULE_COMPLETE = "the learning-rate schedule is complete; pass epochs=k to train k more epochs"

    def __init__(self, *, sg: bool = True, vector_size: int = 100, window: int = 5, negative: int = 5,
                 ns_exponent: float = 0.75, sample: float = 1e-3, min_count: int = 5,
                 max_vocab_size: int | None = None, alpha: float | None = None, min_alpha: float | None = None,
                 epochs: int = 5, workers: int | None = None, seed: int | None = None,
                 callbacks: Iterable[Any] = (), progress: bool = True,
                 tokenizer: Tokenizer | str | None = None, kernel: str = "auto", hot_rows: int | None = None,
                 checkpoint_every: int | None = None, checkpoint_path: str | os.PathLike | None = None):
        self.sg = sg
        self.vector_size = vector_size
        self.window = window
        self.negative = negative
        self.ns_exponent = ns_exponent
        self.sample = sample
        self.min_count = min_count
        self.max_vocab_size = max_vocab_size
        self.alpha = alpha
        self.min_alpha = min_alpha
        self.epochs = epochs
        self.workers = workers
        self.seed = seed
        self.callbacks = callbacks
        self.progress = progress
        self.tokenizer = tokenizer
        self.kernel = kernel
        self.hot_rows = hot_rows
        self.checkpoint_every = checkpoint_every
        self.checkpoint_path = checkpoint_path

    # -- parameters ----------------------------------------------------------------------
    @property
    def alpha_(self) -> float:
        """The starting learning rate in effect (resolves ``alpha=None``)."""
        if self.alpha is None:
            return 0.025 if self.sg else 0.05
        return check_float("alpha", self.alpha, 0.0, low_open=True)

    @property
    def min_alpha_(self) -> float:
        """The final learning rate in effect: ``min_alpha``, or ``alpha_`` * 0.0001 / 0.025 when
        it is None (gensim's default ratio, 0.0001 at alpha 0.025; word2vec.c decays to 0, with
        a floor at alpha * 0.0001)."""
        if self.min_alpha is None:
            return self.alpha_ * 0.0001 / 0.025
        return check_float("min_alpha", self.min_alpha, 0.0, self.alpha_)

    @property
    def kernel_(self) -> str:
        """The kernel in effect, 'batched' or 'classic' (``kernel="auto"`` resolved; see the class docstring)."""
        if self.kernel == "auto":
            return "batched" if self.sg else "classic"
        return self.kernel

    def _validate(self, *, files: bool = True) -> None:
        if not (isinstance(self.sg, (bool, np.bool_)) or isinstance(self.sg, numbers.Integral) and self.sg in (0, 1)):
            raise TypeError(f"sg must be True (skip-gram) or False (CBOW) (or gensim's 1/0), not {self.sg!r}")
        check_int("vector_size", self.vector_size, 1, 100_000)
        check_int("window", self.window, 1, 1000)
        try:
            check_int("negative", self.negative, 1, 1000)
        except ValueError as e:
            raise ValueError(f"{e}: fastvec trains with negative sampling only" if self.negative < 1 else str(e)) from None
        check_float("ns_exponent", self.ns_exponent, -10.0, 10.0)
        check_float("sample", self.sample, 0.0, 1.0)
        check_int("min_count", self.min_count, 1)
        if self.max_vocab_size is not None:
            check_int("max_vocab_size", self.max_vocab_size, 1, 2**31 - 1)
        check_int("epochs", self.epochs, 1)
        self.alpha_, self.min_alpha_  # noqa: B018 - validates both
        check_callbacks(self.callbacks)
        check_workers(self.workers)
        if self.kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {KERNELS}, not {self.kernel!r}")
        if self.hot_rows is not None:
            check_int("hot_rows", self.hot_rows, 0, 2**31 - 1)
        check_checkpoint(self.checkpoint_every, self.checkpoint_path, files=files)

    def _new_schedule(self, n_epochs: int) -> dict:
        return {"alpha": self.alpha_, "min_alpha": self.min_alpha_, "epochs": n_epochs, "done": 0}

    def _array_shape(self, n_words: int) -> tuple[int, int]:
        return n_words, int(self.vector_size)

    # -- training --------------------------------------------------------------------------
    def fit(self, corpus: CorpusLike) -> "Word2Vec":
        """Build the vocabulary, initialise the weights and train for ``epochs`` epochs.

        ``corpus``: a text file path (one sentence per line), a re-iterable of token lists,
        or a :class:`fastvec.Corpus`. Returns ``self``.

        An error before the first epoch completes (a bad corpus, too little memory, Ctrl-C
        before training starts) leaves the estimator as it was: a fitted model keeps its
        vectors, which it holds until then. A DivergenceError marks the new model unusable."""
        self._validate_for(corpus)
        with self._all_or_nothing():   # an error before the first epoch completes changes nothing
            encoded = Corpus.build(corpus, min_count=self.min_count, max_vocab_size=self.max_vocab_size,
                                   tokenizer=self.tokenizer)
            self.vocabulary_ = encoded.vocabulary
            self.memory_estimate_ = self.estimate_memory(n_words=len(encoded.vocabulary), n_tokens=encoded.n_tokens)
            check_memory(self.memory_estimate_, "Word2Vec",
                         "lower vector_size, raise min_count or set max_vocab_size")
            self.seed_ = resolve_seed(self.seed)
            self._init_weights()
            self._start_history()
            self._train(encoded, int(self.epochs))
        return self

    def train_more(self, corpus: CorpusLike, *, epochs: int | None = None) -> "Word2Vec":
        """Continue training on ``corpus`` (encoded with the existing vocabulary; new words are ignored).

        With ``epochs=None`` the epochs left in the current learning-rate schedule run exactly
        as they would have without the interruption (after Ctrl-C, or from a checkpoint).
        With ``epochs=k`` a new linear schedule from ``alpha`` to ``min_alpha`` over k epochs
        starts, as for a second ``train`` call in gensim. Returns ``self``."""
        with self._keeping_schedule():
            n = self._epochs_to_run(epochs, corpus)
            encoded = Corpus.encode(corpus, self.vocabulary_, tokenizer=self.tokenizer)
            if encoded.raw_tokens and encoded.n_tokens < 0.5 * encoded.raw_tokens:
                _warnings.warn(f"only {encoded.n_tokens} of the corpus's {encoded.raw_tokens} tokens are in the model's "
                              "vocabulary (new words are ignored); is it tokenized as the first corpus was "
                              f"(tokenizer={self.tokenizer!r})?")
            self._train(encoded, n)
        return self

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Word2Vec":
        """Load a model saved with :meth:`save` (or a checkpoint); ``train_more`` continues it."""
        model = super().load(path)
        if not model.vocabulary_.counts.any():   # its noise distribution would be all zero
            raise FormatError(path, "every word count is 0 (word2vec draws noise words by their counts)")
        model.hot_rows_ = 0
        model.memory_estimate_ = model.estimate_memory()
        return model

    def estimate_memory(self, *, n_words: int | None = None, n_tokens: int | None = None) -> dict[str, int]:
        """Bytes needed to train: weights, encoded corpus, per-word tables and the threads'
        hot-row copies. ``n_words`` defaults to the fitted vocabulary's size; the encoded corpus
        counts only when ``n_tokens`` is given (``memory_estimate_`` is the estimate of the last
        fit, its corpus included). Pass both to plan before fitting. ``"total"`` sums the parts."""
        if n_words is None:
            self._check_fitted()
            n_words = len(self.vocabulary_)
        n_words = check_int("n_words", n_words, 0)
        n_tokens = None if n_tokens is None else check_int("n_tokens", n_tokens, 0)
        d = check_int("vector_size", self.vector_size, 1)
        threads = resolve_workers(self.workers, warn=False)
        hot_rows = resolve_hot_rows(self.hot_rows, threads=threads, batched=self.kernel_ == "batched",
                                    n_tokens=n_tokens or 0, n_words=n_words)
        parts = {
            "input_vectors": n_words * d * 4,
            "output_vectors": n_words * d * 4,
            "corpus_ids": (n_tokens or 0) * 4,
            "vocabulary": n_words * 120,            # Python strings and dict entries
            "sampling_tables": n_words * 12,        # alias table and subsampling thresholds
            "work_items": ((n_tokens or 0) // 500 + 1) * 16,
            "hot_row_copies": hot_row_bytes(hot_rows, threads=threads, dim=d),
        }
        parts["total"] = sum(parts.values())
        return parts

    def _trained_vector_size(self) -> int:
        return self._syn0.shape[1]

    def _init_weights(self) -> None:
        rng = np.random.Generator(np.random.PCG64(self.seed_))
        n, d = len(self.vocabulary_), int(self.vector_size)
        syn0 = rng.random((n, d), dtype=np.float32)
        syn0 -= 0.5
        syn0 /= d
        self._syn0 = syn0
        self._syn1 = np.zeros((n, d), dtype=np.float32)
        self._wv: KeyedVectors | None = None

    def _train(self, corpus: Corpus, n_epochs: int) -> None:
        if corpus.vocabulary is not self.vocabulary_ and corpus.vocabulary.index_to_key != self.vocabulary_.index_to_key:
            raise ValueError("the corpus was encoded with a different vocabulary than the model's")
        corpus.check()
        self._check_vector_size()
        if len(self.vocabulary_) != self._syn0.shape[0]:
            raise ValueError(f"vocabulary_ has {len(self.vocabulary_)} words but the weights {self._syn0.shape[0]} "
                             "rows: the vocabulary of a fitted model cannot be replaced")
        if corpus.n_tokens < 2:
            raise ValueError("the encoded corpus has fewer than 2 in-vocabulary tokens: nothing to train on")
        if not (np.diff(corpus.offsets) >= 2).any():
            raise ValueError("no sentence of the corpus has 2 or more in-vocabulary tokens: there are no (word, "
                             "context) pairs to train on (one word per line? lower min_count?)")
        kernels = _dispatch.kernels("word2vec")
        threads = resolve_workers(self.workers)
        vocab = self.vocabulary_
        noise = noise_table(vocab.noise_distribution(float(self.ns_exponent)))
        keep = keep_thresholds(vocab.keep_probabilities(float(self.sample)))
        items = work_items(corpus.offsets)
        ids = np.ascontiguousarray(corpus.ids, dtype=np.int32)
        n_tokens = corpus.n_tokens
        schedule = self._schedule
        alpha, min_alpha = schedule["alpha"], schedule["min_alpha"]
        slope = (alpha - min_alpha) / (schedule["epochs"] * n_tokens)
        batched = self.kernel_ == "batched"
        hot_rows = resolve_hot_rows(self.hot_rows, threads=threads, batched=batched, n_tokens=n_tokens,
                                    n_words=len(vocab))
        self.hot_rows_ = hot_rows
        work = work_per_token(cbow=not self.sg, vector_size=int(self.vector_size), window=int(self.window),
                              negative=int(self.negative))
        slices = slice_bounds(items, call_tokens(cbow=not self.sg, hot_rows=hot_rows, n_tokens=n_tokens, work=work))
        self._weights_changed()

        workspace = kernels.Workspace(cbow=not self.sg, batched=batched, group=CBOW_GROUP, dim=int(self.vector_size),
                                      window=int(self.window), negative=int(self.negative), n_threads=threads,
                                      max_len=max_item_tokens(items), hot_rows=hot_rows,
                                      hot_async=hot_async_rows(hot_rows), sync_tokens=HOT_SYNC_TOKENS)

        def run_epoch(_: int):
            position_base = schedule["done"] * n_tokens
            try:
                for first, last in slices:
                    _, examples, loss = kernels.train_slice(
                        cbow=not self.sg, batched=batched, group=CBOW_GROUP, syn0=self._syn0, syn1=self._syn1, ids=ids,
                        items=items, first_item=first, last_item=last, keep_threshold=keep, noise_table=noise,
                        window=int(self.window), negative=int(self.negative),
                        alpha=alpha, alpha_slope=slope, min_alpha=min_alpha, position_base=position_base,
                        seed=self.seed_, epoch=self.epochs_trained_, n_threads=threads, workspace=workspace)
                    workspace.sync(self._syn0, self._syn1)
                    yield int(items[last - 1, 1] - items[first, 0]), examples, loss
            finally:  # the epoch ended or was interrupted: the weights get every hot-row change
                workspace.sync(self._syn0, self._syn1, release=True)

        def epoch_metrics(metrics: dict) -> dict:
            return {"alpha": max(min_alpha, alpha - slope * schedule["done"] * n_tokens),
                    "words_per_second": n_tokens / metrics["seconds"] if metrics["seconds"] > 0 else 0.0}

        loop = EpochLoop(self, desc="skip-gram" if self.sg else "cbow", work_per_epoch=n_tokens, n_epochs=n_epochs,
                         check_weights=lambda: all_finite(self._syn0, self._syn1),
                         hint=f"The learning rate (alpha={alpha:g}) is probably too high." + (
                             " The batched kernel adds the updates of a whole window to a row at once (window="
                             f"{self.window}, negative={self.negative}): with a large window or many noise words, "
                             "try a lower alpha or kernel='classic'." if batched else ""),
                         empty_hint=f"subsampling (sample={self.sample:g}) dropped every word pair of this small "
                                    "corpus; use a larger sample (a smaller one drops more words; 0 disables "
                                    "subsampling) or a larger corpus")
        self._run_epochs(loop, run_epoch, epoch_metrics, context=single_threaded_blas)

    def _weights_changed(self) -> None:
        # wv shares memory with the weights: keep it, drop its cached norms
        with DERIVED_LOCK:
            if self._wv is not None:
                self._wv._invalidate()

    # -- results ---------------------------------------------------------------------------
    @property
    def wv(self) -> KeyedVectors:
        """The word vectors (input weights) as :class:`KeyedVectors`, sharing memory with the model."""
        self._check_fitted()

        def view() -> KeyedVectors:
            wv = KeyedVectors._trusted(self.vocabulary_.index_to_key, self._syn0, counts=self.vocabulary_.counts,
                                       key_to_index=self.vocabulary_.key_to_index)
            wv._owner = "Word2Vec"
            return wv
        with DERIVED_LOCK:   # one object: _weights_changed drops the norms of that one only
            if self._wv is None:
                self._wv = view()
            return self._wv

    @property
    def output_vectors_(self) -> np.ndarray:
        """The output (context) weights, ``syn1neg`` in word2vec.c (a read-only view: training
        alone writes them)."""
        self._check_fitted()
        return read_only(self._syn1)

    @property
    def vectors_(self) -> np.ndarray:
        """The input weights, the word vectors (a read-only view; ``wv`` answers queries on them,
        and its cached norms stay valid because nothing else writes them)."""
        self._check_fitted()
        return read_only(self._syn0)
