"""What every estimator shares: parameter checks, the epoch loop with progress bar,
callbacks, Ctrl-C handling and divergence checks. No kernels and no model maths here."""
from __future__ import annotations

import math
import numbers
import os
import sys
import time
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from fastvec.exceptions import DivergenceError


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
                low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}")
    return value


def check_checkpoint(every: Any, path: Any) -> None:
    """Validate checkpoint_every / checkpoint_path before training starts (not after epoch N)."""
    if every is None:
        return
    check_int("checkpoint_every", every, 1)
    if path is None:
        raise ValueError("checkpoint_every needs checkpoint_path (where to save the model)")
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f"checkpoint_path {path}: is a directory; give a file name")
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"checkpoint_path {path}: directory {directory} does not exist")
    if not os.access(directory, os.W_OK):
        raise PermissionError(f"checkpoint_path {path}: directory {directory} is not writable")


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
    if seed is None:
        return int.from_bytes(os.urandom(8), "little")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int or None, not {type(seed).__name__}")
    return int(seed) & (2**64 - 1)


def check_callbacks(callbacks: Iterable[Any]) -> tuple:
    callbacks = tuple(callbacks or ())
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
                 check_weights: Callable[[], bool], hint: str, unit: str = "word"):
        self.model = model
        self.unit = unit
        self.desc = desc
        self.work_per_epoch = work_per_epoch
        self.n_epochs = n_epochs
        self.check_weights = check_weights
        self.hint = hint

    def _diverged(self, epoch: int, what: str) -> DivergenceError:
        self.model._diverged = True
        return DivergenceError(f"training diverged in epoch {epoch + 1}: {what}. {self.hint} "
                               "The model's weights are unusable; fit again with a lower learning rate.")

    def run(self, run_epoch: Callable[[int], Iterator[tuple[int, int, float]]],
            end_epoch: Callable[[int, dict], None]) -> float:
        """Run the epochs; return training seconds. KeyboardInterrupt propagates after the
        progress bar is closed; completed epochs stay recorded."""
        bar = _progress_bar(self.n_epochs * self.work_per_epoch, self.desc, self.model.progress, self.unit)
        total_seconds = 0.0
        try:
            for epoch in range(self.n_epochs):
                start = time.perf_counter()
                loss = 0.0
                examples = 0
                work = 0
                for done, n_examples, slice_loss in run_epoch(epoch):
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
                seconds = time.perf_counter() - start
                total_seconds += seconds
                if not self.check_weights():
                    raise self._diverged(epoch, "weights became NaN or infinite")
                metrics = {"epoch": epoch, "loss": loss / examples if examples else float("nan"),
                           "examples": examples, "work": work, "seconds": seconds}
                end_epoch(epoch, metrics)
        finally:
            if bar is not None:
                bar.close()
        return total_seconds


def run_callbacks(callbacks: tuple, model: Any, metrics: dict) -> None:
    for cb in callbacks:
        if hasattr(cb, "on_epoch_end"):
            cb.on_epoch_end(model, metrics)
        else:
            cb(model, metrics)


def all_finite(*arrays: np.ndarray) -> bool:
    return all(bool(np.isfinite(a).all()) for a in arrays)
