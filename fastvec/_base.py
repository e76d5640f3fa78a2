"""What every estimator shares: parameter checks, the epoch loop with progress bar,
callbacks, Ctrl-C handling, divergence checks, and the Estimator base class (epoch schedule,
history, checkpoints, persistence). No kernels and no model maths here."""
from __future__ import annotations

import contextlib
import inspect
import math
import numbers
import os
import sys
import threading
import time
import weakref
from typing import Any, Callable, ContextManager, Iterable, Iterator, TypeVar

import numpy as np

from fastvec import _warnings
from fastvec._io import (FormatError, check_output_path, finite_or_null, first_non_finite_row, load_container,
                         save_container)
from fastvec.exceptions import DivergenceError, NotFittedError
from fastvec.vocab import Vocabulary


def check_int(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}")
    return value


def check_float(name: str, value: Any, low: float | None = None, high: float | None = None, *,
                low_open: bool = False, high_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value}")
    if high is not None and (value >= high if high_open else value > high):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {value}")
    return value


def check_checkpoint(every: Any, path: Any, *, files: bool = True) -> None:
    """Validate checkpoint_every / checkpoint_path before training starts (not after epoch N);
    ``files=False`` skips the checks of the file system (a saved model moved elsewhere loads)."""
    if every is None:
        return
    check_int("checkpoint_every", every, 1)
    if path is None:
        raise ValueError("checkpoint_every needs checkpoint_path (where to save the model)")
    if not isinstance(path, (str, os.PathLike)) or not isinstance(os.fspath(path), str):
        raise TypeError(f"checkpoint_path must be a str or os.PathLike file name, not {type(path).__name__}")
    path = os.fspath(path)
    if not files:
        return
    try:
        check_output_path(path)   # what the first save would refuse, found before the first epoch
    except OSError as e:
        raise type(e)(f"checkpoint_path {e.strerror or e}") from None


def check_checkpoint_is_not_input(path: Any, corpus: Any) -> None:
    """A checkpoint written over the corpus being trained (a text file, or the file a Corpus or
    Cooccurrence was loaded from) would destroy it: ValueError first."""
    corpus = getattr(corpus, "source_path", corpus)
    if path is None or not isinstance(corpus, (str, os.PathLike)):
        return
    path, corpus = os.fspath(path), os.fspath(corpus)
    if os.path.exists(path) and os.path.exists(corpus) and os.path.samefile(path, corpus):
        raise ValueError(f"checkpoint_path {path}: is the corpus being trained; saving there would destroy it")


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_memory(estimate: dict, what: str, advice: str) -> None:
    """Refuse to start (before allocating) when the estimate exceeds the memory available."""
    available = available_memory()
    if available is not None and estimate["total"] > available:
        raise MemoryError(f"{what} needs about {estimate['total'] / 2**30:.1f} GiB but only "
                          f"{available / 2**30:.1f} GiB are available; {advice}")


def resolve_seed(seed: int | None) -> int:
    """The 64-bit seed actually used (fresh entropy when seed is None)."""
    check_seed(seed)
    if seed is None:
        return int.from_bytes(os.urandom(8), "little")
    return int(seed) & (2**64 - 1)


def iter_once(obj: Any) -> bool:
    """Whether ``obj`` is a one-shot iterator (its own iterator), which a second pass finds empty."""
    try:
        return iter(obj) is obj
    except TypeError:
        return False


def read_only(a: np.ndarray) -> np.ndarray:
    """A read-only view of a model's array: training alone writes it (a stray write would
    leave vectors or norms derived from it stale)."""
    view = a.view()
    view.flags.writeable = False
    return view


def check_seed(seed: Any) -> None:
    """``seed`` must be None or an int (NumPy ints included), checked before any work."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise TypeError(f"seed must be an int or None, not {type(seed).__name__}")


def check_callbacks(callbacks: Iterable[Any]) -> tuple:
    if callbacks is not None and iter_once(callbacks):
        raise TypeError("callbacks must be a list or tuple: a one-shot iterator (e.g. a generator) would be used up "
                        "before training starts")
    try:
        callbacks = tuple(callbacks or ())
    except TypeError:
        raise TypeError(f"callbacks must be a list of callables, not {type(callbacks).__name__}") from None
    for cb in callbacks:
        if not callable(cb) and not hasattr(cb, "on_epoch_end"):
            raise TypeError(f"callbacks: {cb!r} is neither callable nor has an on_epoch_end(model, metrics) method")
    return callbacks


def _progress_bar(total: int, desc: str, enabled: bool, unit: str = "word"):
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm.auto import tqdm
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except (OSError, ValueError):
        size = os.terminal_size((0, 0))
    # a terminal that reports no size (some ptys, CI runners) would get no bar at all
    known = size.columns > 0 and size.lines > 0
    return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, leave=False,
                dynamic_ncols=known, ncols=None if known else 100, nrows=None if known else 24)


class EpochLoop:
    """Runs epochs made of slices (short kernel calls), keeping the bookkeeping in one place.

    ``run_epoch(epoch)`` is a generator yielding (work_done, examples, loss_sum) per slice;
    between slices Python regains control, so Ctrl-C stops within one slice (well under a
    second), the progress bar moves, and NaN is caught early."""

    def __init__(self, model: Any, *, desc: str, work_per_epoch: int, n_epochs: int,
                 check_weights: Callable[[], bool], hint: str, unit: str = "word",
                 empty_hint: str = "the corpus gave no training examples"):
        self.model = model
        self.unit = unit
        self.desc = desc
        self.work_per_epoch = work_per_epoch
        self.n_epochs = n_epochs
        self.check_weights = check_weights
        self.hint = hint
        self.empty_hint = empty_hint
        self.first_epoch = 0        # epochs trained before this run: messages number epochs overall
        self.seconds = 0.0          # training time of the completed epochs (no callbacks, no checkpoints)
        self.partial_seconds = 0.0  # of an epoch that was interrupted

    def _diverged(self, epoch: int, what: str) -> DivergenceError:
        self.model._diverged = True
        return DivergenceError(f"training diverged in epoch {self.first_epoch + epoch + 1}: {what}. {self.hint} "
                               "The model's weights are unusable; fit again with a lower learning rate.")

    def run(self, run_epoch: Callable[[int], Iterator[tuple[int, int, float]]],
            end_epoch: Callable[[int, dict], None]) -> float:
        """Run the epochs; return the training seconds of the completed epochs (also kept in
        ``seconds``; the time of callbacks and checkpoints in ``end_epoch`` is not counted).
        KeyboardInterrupt propagates after the progress bar is closed; completed epochs stay
        recorded, and ``partial_seconds`` holds the time of the interrupted one."""
        bar = _progress_bar(self.n_epochs * self.work_per_epoch, self.desc, self.model.progress, self.unit)
        try:
            for epoch in range(self.n_epochs):
                start = time.perf_counter()
                self.partial_seconds = 0.0
                # closing(): an exception here (NaN, Ctrl-C) finishes the generator at once, so
                # that it leaves the weights complete (word2vec merges its hot rows there)
                with contextlib.closing(run_epoch(epoch)) as slices:
                    try:
                        loss, examples, work = self._consume(epoch, slices, bar)
                    except BaseException:
                        self.partial_seconds = time.perf_counter() - start
                        raise
                seconds = time.perf_counter() - start
                if not self.check_weights():
                    raise self._diverged(epoch, "weights became NaN or infinite")
                if examples == 0:  # nothing trained: the weights are as they were
                    number = self.first_epoch + epoch + 1
                    if epoch == 0:
                        raise ValueError(f"epoch {number} trained nothing: {self.empty_hint}")
                    # a tiny corpus whose subsampling happened to drop everything this time
                    _warnings.warn(f"epoch {number} trained nothing: {self.empty_hint}")
                self.seconds += seconds
                metrics = {"epoch": epoch, "loss": loss / examples if examples else float("nan"),
                           "examples": examples, "work": work,
                           "seconds": seconds}
                end_epoch(epoch, metrics)
        finally:
            if bar is not None:
                bar.close()
        return self.seconds

    def _consume(self, epoch: int, slices: Iterator[tuple[int, int, float]], bar) -> tuple[float, int, int]:
        loss = 0.0
        examples = 0
        work = 0
        for done, n_examples, slice_loss in slices:
            if not math.isfinite(slice_loss):
                raise self._diverged(epoch, "the loss became NaN or infinite")
            loss += slice_loss
            examples += n_examples
            work += done
            if bar is not None:
                bar.update(done)
                if examples:
                    bar.set_postfix(epoch=f"{epoch + 1}/{self.n_epochs}", loss=f"{loss / examples:.4f}",
                                    refresh=False)
        return loss, examples, work


def run_callbacks(callbacks: tuple, model: Any, metrics: dict) -> None:
    for cb in callbacks:
        if hasattr(cb, "on_epoch_end"):
            cb.on_epoch_end(model, metrics)
        else:
            cb(model, metrics)


def all_finite(*arrays: np.ndarray) -> bool:
    """True when no element is NaN or infinite; checked in blocks, so that the check needs no
    temporary array the size of the weights (it runs while they are at their largest)."""
    return all(a.size == 0 or first_non_finite_row(a.reshape(len(a), -1)) is None for a in arrays)


#: guards the vectors an estimator derives from its weights (``wv``) against threads that ask
#: for them at once, or while another trains the model
DERIVED_LOCK = threading.RLock()
#: the estimators training now (see Estimator._exclusive); weak, so that no entry outlives its estimator
_TRAINING: weakref.WeakSet = weakref.WeakSet()


_E = TypeVar("_E", bound="Estimator")


_P = TypeVar("_P", bound="Params")


class Params:
    """scikit-learn's parameter protocol: the constructor's keyword parameters, named in
    ``_PARAMS`` and stored as given, read with ``get_params`` and set with ``set_params``."""

    #: parameter names, in ``get_params`` order
    _PARAMS: tuple[str, ...] = ()

    def get_params(self, deep: bool = True) -> dict:
        """The constructor parameters (scikit-learn's convention; ``deep`` changes nothing, as no
        parameter is itself an estimator)."""
        return {name: getattr(self, name) for name in self._PARAMS}

    def __repr__(self) -> str:
        """scikit-learn's style: the parameters that differ from the constructor's defaults."""
        defaults = {name: p.default for name, p in inspect.signature(type(self).__init__).parameters.items()}
        shown = []
        for name, value in self.get_params().items():
            default = defaults.get(name, inspect.Parameter.empty)
            try:   # the type too: sg=1 is shown although 1 == True
                same = type(value) is type(default) and bool(value == default)
            except Exception:   # e.g. an array, whose == is elementwise
                same = False
            if not same:
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def set_params(self: _P, **params: Any) -> _P:
        """Set constructor parameters (checked on the next ``fit``); returns ``self``."""
        unknown = sorted(set(params) - set(self._PARAMS))
        if unknown:
            raise ValueError(f"unknown parameter(s) for {type(self).__name__}: {', '.join(unknown)}")
        for name, value in params.items():
            setattr(self, name, value)
        return self


class Estimator(Params):
    """Base of the trained estimators (Word2Vec, GloVe): parameters, the fitted check, the epoch
    schedule and history kept across ``fit``/``train_more``/``save``/``load``, checkpoints.

    A subclass stores its parameters in ``__init__`` (``checkpoint_every`` and
    ``checkpoint_path`` among them), names them in ``_PARAMS`` and supplies
    ``_validate``, ``_new_schedule`` and ``_array_shape``; its ``_train`` builds the kernel
    arguments and an :class:`EpochLoop` and hands them to :meth:`_run_epochs`."""

    #: the ``kind`` of the saved container (fastvec._io)
    _FORMAT = ""
    #: saved array name -> attribute holding the trained weights (the first one marks "fitted")
    _ARRAYS: dict[str, str] = {}
    #: the learning-rate parameter named when the model diverged
    _RATE_PARAM = ""
    #: the throughput statistic: attribute ``_RATE + "_"``, also each epoch's metric ``_RATE``
    _RATE = ""
    #: float statistics kept as attributes ``name_`` and saved as ``name`` (``_RATE`` among them)
    _STATS: tuple[str, ...] = ()
    #: keys and value types of a valid saved schedule, and the error for an invalid one
    _SCHEDULE_KEYS: frozenset[str] = frozenset()
    _SCHEDULE_TYPES: type | tuple[type, ...] = int
    _SCHEDULE_ERROR = ""
    #: the error for ``train_more(epochs=None)`` when the schedule has run
    _SCHEDULE_COMPLETE = ""

    tokenizer: Any
    checkpoint_every: int | None
    checkpoint_path: Any
    vocabulary_: Vocabulary
    _wv: Any

    def _validate(self, *, files: bool = True) -> None:
        """Check every parameter (TypeError/ValueError naming it); ``files=False`` leaves out
        checks of the file system, such as the checkpoint directory."""
        raise NotImplementedError

    def _check_params(self, *, files: bool = True) -> None:
        """:meth:`_validate` and the seed: what ``fit``/``train_more`` check before training,
        ``save`` before writing and ``load`` after reading (so that no file is saved that
        loading would refuse, nor loaded that training would)."""
        self._validate(files=files)
        check_seed(self.seed)

    def _new_schedule(self, n_epochs: int) -> dict:
        """The schedule of a new run of ``n_epochs`` epochs (``done`` counts those completed)."""
        raise NotImplementedError

    def _array_shape(self, n_words: int) -> tuple[int, ...]:
        """The shape every array in ``_ARRAYS`` has for a vocabulary of ``n_words``."""
        raise NotImplementedError

    def _upgrade_arrays(self, path: str | os.PathLike, arrays: dict, n_words: int) -> dict:
        """The arrays of a loaded file in the current layout: files written by an older layout
        are converted here (after ``self`` was built from the file's parameters, before the
        shapes are checked). None by default."""
        return arrays

    # -- parameters ----------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, next(iter(self._ARRAYS.values()))):
            name = type(self).__name__
            raise NotFittedError(f"this {name} is not fitted yet; call fit(corpus) or {name}.load(path)")
        if getattr(self, "_diverged", False):
            raise DivergenceError("this model diverged during training and its vectors are unusable; "
                                  f"fit again with a lower {self._RATE_PARAM}")

    # -- training bookkeeping ------------------------------------------------------------------
    def _start_history(self) -> None:
        """A fresh record for ``fit``: no epochs trained, a new schedule over ``epochs``."""
        self.loss_history_: list[float] = []
        self.history_: list[dict] = []
        self.epochs_trained_ = 0
        self.train_seconds_ = 0.0
        setattr(self, self._RATE + "_", 0.0)
        self._diverged = False
        self._tokenizer_note = False   # the note of a loaded model is about its old training
        self._schedule = self._new_schedule(int(self.epochs))

    def _trained_vector_size(self) -> int:
        """The vector size the weights were made with."""
        raise NotImplementedError

    def _check_vector_size(self) -> None:
        """``vector_size`` changed (set_params) after fit would misread the weights: ValueError."""
        trained = self._trained_vector_size()
        if int(self.vector_size) != trained:
            raise ValueError(f"vector_size={self.vector_size} but the model was trained with vector_size={trained}: "
                             f"vector_size cannot change after fit (set it back, or fit a new model)")

    @contextlib.contextmanager
    def _all_or_nothing(self) -> Iterator[None]:
        """``fit`` inside: an error before its first epoch completes (a bad corpus or
        parameter, too little memory) leaves every attribute as it was before the call, so a
        fitted model stays fitted and a new one unfitted; so does a Ctrl-C before training
        starts. Once an epoch has completed, the new model is kept (with that epoch's work).
        Not restored: a Ctrl-C during training (the interrupted model is kept, as documented)
        and a DivergenceError (the model is marked unusable). The old state is held in
        ``_rollback`` until the first epoch completes, then released, so a refit does not keep
        two models in memory for the whole run."""
        with self._exclusive():
            self._rollback = dict(self.__dict__)
            try:
                yield
            except BaseException as e:
                before = self.__dict__.pop("_rollback", None)
                started = self.__dict__.pop("_training_started", False)
                # Ctrl-C: restored while the new model is being set up (a new vocabulary with the
                # old weights would be neither model); once its first epoch runs, kept as documented
                if before is not None and not isinstance(e, DivergenceError) and (isinstance(e, Exception)
                                                                                  or not started):
                    self.__dict__.clear()
                    self.__dict__.update(before)
                raise
            finally:
                self.__dict__.pop("_rollback", None)
                self.__dict__.pop("_training_started", None)

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """``fit`` and ``train_more`` inside: a second one on the same estimator while one runs
        (from another Python thread, or from a callback) is a RuntimeError, not two trainings
        interleaved in one model (one wiped the other's attributes midway: unrelated errors,
        a model with weights and no vocabulary, or twice the epochs asked for)."""
        added = False
        try:   # added and removed inside the try: a Ctrl-C at any point leaves no entry behind
            with DERIVED_LOCK:
                if self in _TRAINING:
                    raise RuntimeError(f"this {type(self).__name__} is already training (in another thread, or it "
                                       "is fit again from its own callback); wait for that to finish, or train a copy")
                _TRAINING.add(self)
                added = True
            yield
        finally:
            if added:
                with DERIVED_LOCK:
                    _TRAINING.discard(self)

    def _validate_for(self, corpus: Any) -> None:
        """Before training on ``corpus``: every parameter, and a checkpoint that would replace
        the corpus itself."""
        self._check_params()
        check_checkpoint_is_not_input(self.checkpoint_path if self.checkpoint_every else None, corpus)

    def _epochs_to_run(self, epochs: int | None, corpus: Any) -> int:
        """For ``train_more`` on ``corpus``: the epochs left of the schedule (``epochs=None``),
        or ``epochs`` more on a new schedule."""
        self._check_fitted()
        self._validate_for(corpus)
        if getattr(self, "_tokenizer_note", False) and self.tokenizer is None:
            _warnings.warn("this model was trained with a custom tokenizer, which is not saved: set model.tokenizer "
                          "to the same callable, or text is split differently")
        if epochs is None:
            n = self._schedule["epochs"] - self._schedule["done"]
            if n <= 0:
                raise ValueError(self._SCHEDULE_COMPLETE)
            return n
        n = check_int("epochs", epochs, 1)
        self._schedule = self._new_schedule(n)
        return n

    @contextlib.contextmanager
    def _keeping_schedule(self) -> Iterator[None]:
        """``train_more`` inside: if it fails (a bad corpus, a setting) before an epoch completes,
        the schedule that was running is kept, not replaced by the new one (Ctrl-C excepted:
        the new schedule's interrupted first epoch is then what ``train_more()`` reruns)."""
        with self._exclusive():
            schedule = dict(self._schedule) if hasattr(self, "_schedule") else None   # None: not fitted
            before = getattr(self, "epochs_trained_", 0)
            try:
                yield
            except Exception:
                if schedule is not None and self.epochs_trained_ == before:
                    self._schedule = schedule
                raise

    def _weights_changed(self) -> None:
        """Drop what was derived from the weights (here the word vectors, a copy), and count
        the change: vectors computed from the weights before it are not cached (see
        :meth:`_cache_derived`)."""
        with DERIVED_LOCK:
            self._generation = getattr(self, "_generation", 0) + 1
            self._wv = None

    def _cache_derived(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``self._wv`` if it was computed for ``key``, else ``compute()``, cached there. Safe
        from several Python threads: one object per state of the weights, and a result computed
        while they changed (a thread asking during training) is returned but not cached, so that
        it cannot outlive the training's last :meth:`_weights_changed`."""
        with DERIVED_LOCK:
            if self._wv is not None and getattr(self, "_wv_key", None) == key:
                return self._wv
            generation = getattr(self, "_generation", 0)
        value = compute()
        with DERIVED_LOCK:
            if getattr(self, "_generation", 0) != generation:
                return value
            if self._wv is None or getattr(self, "_wv_key", None) != key:
                self._wv, self._wv_key = value, key
            return self._wv

    def _run_epochs(self, loop: EpochLoop, run_epoch: Callable[[int], Iterator[tuple[int, int, float]]],
                    epoch_metrics: Callable[[dict], dict],
                    context: Callable[[], ContextManager] = contextlib.nullcontext) -> None:
        """Run ``loop``, recording each completed epoch (schedule, history, callbacks, then a
        checkpoint when ``checkpoint_every`` asks for one) and the training time and throughput,
        also when interrupted. ``epoch_metrics(metrics)`` returns the subclass's per-epoch
        metrics; the epochs run inside ``context()``."""
        callbacks = check_callbacks(self.callbacks)
        epochs_before, seconds_before = self.epochs_trained_, self.train_seconds_

        def record_time(partial: float = 0.0) -> None:
            """Training time (callbacks and checkpoints not counted) and throughput so far."""
            done = self.epochs_trained_ - epochs_before
            self.train_seconds_ = seconds_before + loop.seconds + partial
            if done and loop.seconds > 0:
                setattr(self, self._RATE + "_", done * loop.work_per_epoch / loop.seconds)

        def end_epoch(_: int, metrics: dict) -> None:
            self._schedule["done"] += 1
            self.epochs_trained_ += 1
            self.__dict__.pop("_rollback", None)   # an epoch of this fit completed: keep the new model
            metrics["epoch"] = self.epochs_trained_
            metrics.update(epoch_metrics(metrics))
            self.loss_history_.append(metrics["loss"])
            self.history_.append(dict(metrics))
            self._weights_changed()
            record_time()   # callbacks and checkpoints see the statistics of the epochs so far
            run_callbacks(callbacks, self, metrics)
            every = self.checkpoint_every
            if every and self.epochs_trained_ % every == 0:
                self.save(self.checkpoint_path)

        if "_rollback" in self.__dict__:
            self._training_started = True   # see _all_or_nothing
        loop.first_epoch = epochs_before
        try:
            with context():
                loop.run(run_epoch, end_epoch)
        finally:
            record_time(loop.partial_seconds)
            # an interrupted epoch changed the weights too: vectors or norms derived at the last
            # epoch's end would no longer match them (or what save() writes)
            self._weights_changed()

    # -- persistence -------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Save everything needed to continue training to one file (atomic; no pickle).
        Parameters changed since training (``set_params``) are checked first: a file that
        :meth:`load` would refuse is not written."""
        self._check_fitted()
        try:
            self._check_params(files=False)
        except (TypeError, ValueError) as e:
            raise type(e)(f"{e}; nothing was saved") from None
        self._check_vector_size()
        shape = self._array_shape(len(self.vocabulary_))
        for name, attr in self._ARRAYS.items():   # load() checks the same (a replaced vocabulary_)
            if getattr(self, attr).shape != shape:
                raise ValueError(f"{name} has shape {getattr(self, attr).shape} but the vocabulary of "
                                 f"{len(self.vocabulary_)} words needs {shape}; nothing was saved")
        arrays, meta = self.vocabulary_._to_arrays()
        arrays.update({name: getattr(self, attr) for name, attr in self._ARRAYS.items()})
        params = {k: _plain(v) for k, v in self.get_params().items() if k not in ("callbacks", "tokenizer")}
        if self.tokenizer not in (None, "simple") or getattr(self, "_tokenizer_note", False) and self.tokenizer is None:
            meta["tokenizer_note"] = "a custom tokenizer callable was used and is not saved"
        params["tokenizer"] = self.tokenizer if self.tokenizer in (None, "simple") else None
        meta.update(params=params, seed_=self.seed_, schedule=self._schedule, epochs_trained=self.epochs_trained_,
                    loss_history=finite_or_null(self.loss_history_), history=finite_or_null(self.history_),
                    train_seconds=self.train_seconds_,
                    **{name: getattr(self, name + "_") for name in self._STATS})
        save_container(path, self._FORMAT, meta, arrays)

    @classmethod
    def load(cls: type[_E], path: str | os.PathLike) -> _E:
        """Load a model saved with :meth:`save`."""
        meta, arrays = load_container(path, cls._FORMAT, required=("counts", *cls._ARRAYS))
        vocab = Vocabulary._from_arrays(path, meta, arrays)
        if len(vocab) == 0:   # a trained model has words
            raise FormatError(path, "the model has no words")
        params = meta.get("params")
        if not isinstance(params, dict) or set(params) - set(cls._PARAMS):
            raise FormatError(path, "bad or unknown model parameters")
        try:
            model = cls(**params)
            model._check_params(files=False)  # the checkpoint directory is checked when training
        except (TypeError, ValueError) as e:
            raise FormatError(path, f"invalid model parameters ({e})") from None
        shape = model._array_shape(len(vocab))
        arrays = model._upgrade_arrays(path, arrays, len(vocab))
        for name in cls._ARRAYS:
            a = arrays[name]
            if a.dtype != np.float32 or a.shape != shape:
                raise FormatError(path, f"{name} must be float32 of shape {shape}, got {a.dtype} {a.shape}")
        schedule = meta.get("schedule")
        if (not isinstance(schedule, dict) or set(schedule) != cls._SCHEDULE_KEYS
                or not all(isinstance(v, cls._SCHEDULE_TYPES) for v in schedule.values())):
            raise FormatError(path, cls._SCHEDULE_ERROR)
        rates = [v for k, v in schedule.items() if k not in ("epochs", "done")]
        if (any(isinstance(schedule[k], bool) or not isinstance(schedule[k], int) for k in ("epochs", "done"))
                or not 0 <= schedule["done"] <= schedule["epochs"] <= _MAX_EPOCHS
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
                           for v in rates)
                or "alpha" in schedule and not 0 <= schedule.get("min_alpha", 0) <= schedule["alpha"]):
            raise FormatError(path, f"{cls._SCHEDULE_ERROR} (epochs {schedule['epochs']!r}, done {schedule['done']!r})")
        if params.get("tokenizer") not in (None, "simple"):
            raise FormatError(path, f"invalid model parameters (tokenizer {params['tokenizer']!r})")
        for name in cls._ARRAYS:
            if not all_finite(arrays[name]):
                raise FormatError(path, f"{name} contains NaN or infinite values")
        record = _training_record(path, meta, cls._STATS)
        model._tokenizer_note = bool(meta.get("tokenizer_note"))   # train_more warns while tokenizer is None
        model.vocabulary_ = vocab
        for name, attr in cls._ARRAYS.items():
            setattr(model, attr, np.ascontiguousarray(arrays[name]))
        model._wv = None
        model._diverged = False
        model._schedule = schedule
        for name, value in record.items():
            setattr(model, name, value)
        return model


def _plain(value: Any) -> Any:
    """A parameter as JSON holds it: paths as str, NumPy scalars (np.int64(2), np.bool_) as
    Python ones, which the parameter checks accept."""
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


_MAX_EPOCHS = 2**31 - 1   # of a saved schedule or record: more is a corrupt file


def _training_record(path, meta: dict, stats: tuple[str, ...]) -> dict:
    """The saved seed, epoch count, histories and statistics, checked (FormatError naming the
    field, never a bare TypeError from int() or float() of a crafted value)."""
    def number(name: str, kind: type, default, low=None, high=None):
        value = meta.get(name, default)
        ok = not isinstance(value, bool) and isinstance(value, (int, float) if kind is float else int)
        if not ok or (low is not None and value < low) or (high is not None and value > high):
            raise FormatError(path, f"bad {name} {value!r}")
        return kind(value)

    record = {"seed_": number("seed_", int, 0, 0, 2**64 - 1),
              "epochs_trained_": number("epochs_trained", int, 0, 0, _MAX_EPOCHS),
              "train_seconds_": number("train_seconds", float, 0.0)}
    record.update({name + "_": number(name, float, 0.0) for name in stats})
    losses, history = meta.get("loss_history", []), meta.get("history", [])
    if not isinstance(losses, list) or not all(x is None or isinstance(x, (int, float)) and not isinstance(x, bool)
                                               for x in losses):
        raise FormatError(path, "bad loss_history (expected a list of numbers)")
    losses = [float("nan") if x is None else x for x in losses]   # saved as null (an epoch with no examples)
    if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
        raise FormatError(path, "bad history (expected a list of per-epoch dicts)")
    history = [{k: float("nan") if v is None else v for k, v in h.items()} for h in history]   # null: NaN saved
    record.update(loss_history_=[float(x) for x in losses], history_=history)
    return record
