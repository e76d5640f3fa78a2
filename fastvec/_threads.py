"""Thread-count policy, defined once: ``workers=None`` means every core this process may use."""
from __future__ import annotations

import os
import warnings

from fastvec import _runtime


def available_cores() -> int:
    """Cores this process may use. With OpenMP, the count OpenMP itself starts from: setting
    OMP_PROC_BIND makes the runtime pin the Python thread to a single core when the extension
    loads, and the affinity mask read afterwards would then say one core."""
    if _runtime.openmp_enabled():
        return max(1, _runtime.openmp_num_procs())
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_threads() -> int:
    """Threads used when ``workers=None``: OMP_NUM_THREADS if set, else all available cores."""
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return available_cores()


def check_workers(workers: int | None) -> None:
    """Validate ``workers`` (None or an int >= 1) without resolving it."""
    if workers is None:
        return
    if isinstance(workers, bool) or not isinstance(workers, int):
        raise TypeError(f"workers must be an int or None, not {type(workers).__name__}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")


def resolve_workers(workers: int | None, *, warn: bool = True) -> int:
    """Validate ``workers`` and return the thread count to pass to a kernel (warning, once per
    call, if more threads than cores were asked for or OpenMP is missing; ``warn=False`` for
    planning, such as memory estimates)."""
    check_workers(workers)
    n = default_threads() if workers is None else workers
    cores = available_cores()
    if n > cores:
        if warn:
            asked = f"workers={n}" if workers is not None else f"OMP_NUM_THREADS={n} (workers=None)"
            warnings.warn(f"{asked} exceeds the {cores} available core(s); using {cores} "
                          "(more threads than cores only slows Hogwild training down)", stacklevel=3)
        n = cores
    if n > 1 and not _runtime.openmp_enabled():
        if warn:
            warnings.warn("fastvec was built without OpenMP: training runs on one thread", stacklevel=3)
        n = 1
    return n


def single_threaded_blas():
    """Context manager keeping BLAS on one thread inside our own parallel regions: each OpenMP
    thread calls sgemm on tiny matrices, and a multi-threaded BLAS underneath would
    oversubscribe the cores (threadpoolctl; a no-op context if it is missing)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        import contextlib
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")
