"""Thread-count policy, defined once: ``workers=None`` means every core this process may use."""
from __future__ import annotations

import contextlib
import math
import numbers
import os
import threading
from typing import Iterator

from fastvec import _runtime, _warnings


def available_cores() -> int:
    """Cores this process may use: the CPUs it may run on, and no more than a container's CPU
    quota allows (cgroup ``cpu.max`` or ``cpu.cfs_quota_us``, rounded up: in a container limited
    to 2 CPUs on a 64-core host, 64 Hogwild threads would crowd into 2 CPUs' worth of time).
    With OpenMP, the CPUs are counted as OpenMP itself counts them at start-up: setting
    OMP_PROC_BIND makes the runtime pin the Python thread to a single core when the extension
    loads, and the affinity mask read afterwards would then say one core."""
    if _runtime.openmp_enabled():
        cpus = _runtime.openmp_num_procs()
    else:
        try:
            cpus = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            cpus = os.cpu_count() or 1
    quota = cgroup_cpu_quota()
    if quota is not None:
        cpus = min(cpus, math.ceil(quota))
    return max(1, cpus)


def cgroup_cpu_quota(root: str = "/sys/fs/cgroup") -> float | None:
    """CPUs' worth of time the process's cgroup may use (quota / period), or None without a
    limit. Reads cgroup v2 (``cpu.max``) or v1 (``cpu/cpu.cfs_quota_us`` and
    ``cpu.cfs_period_us``) under ``root``, which inside a container is the container's own."""
    try:
        with open(os.path.join(root, "cpu.max")) as f:
            fields = f.read().split()
        quota, period = fields[0], fields[1] if len(fields) > 1 else "100000"
    except (OSError, IndexError):
        try:
            with open(os.path.join(root, "cpu", "cpu.cfs_quota_us")) as f:
                quota = f.read().strip()
            with open(os.path.join(root, "cpu", "cpu.cfs_period_us")) as f:
                period = f.read().strip()
        except OSError:
            return None
    try:
        q, p = float(quota), float(period)
    except ValueError:      # "max": no limit
        return None
    if not (q > 0 and p > 0 and math.isfinite(q) and math.isfinite(p)):
        return None         # -1 (v1's "no limit") or nonsense
    return q / p


def _env_threads() -> int | None:
    """OMP_NUM_THREADS (its first level) when set to a positive integer."""
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    return int(env) if env.isdigit() and int(env) > 0 else None


def default_threads() -> int:
    """Threads used when ``workers=None``: OMP_NUM_THREADS if set, else all available cores,
    and never more than the cores, as :func:`resolve_workers` caps them (which also falls back
    to one thread without OpenMP)."""
    cores = available_cores()
    limit = _runtime.openmp_thread_limit() if _runtime.openmp_enabled() else cores
    return max(1, min(_env_threads() or cores, cores, limit))


def check_workers(workers: int | None) -> None:
    """Validate ``workers`` (None or an int >= 1) without resolving it."""
    if workers is None:
        return
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral):
        raise TypeError(f"workers must be an int or None, not {type(workers).__name__}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")


def resolve_workers(workers: int | None, *, warn: bool = True) -> int:
    """Validate ``workers`` and return the thread count to pass to a kernel (warning, once per
    call, if more threads than cores were asked for or OpenMP is missing; ``warn=False`` for
    planning, such as memory estimates)."""
    check_workers(workers)
    cores = available_cores()
    n = int(workers) if workers is not None else _env_threads() or cores
    if n > cores:
        if warn:
            asked = f"workers={n}" if workers is not None else f"OMP_NUM_THREADS={n} (workers=None)"
            _warnings.warn(f"{asked} exceeds the {cores} available core(s); using {cores} "
                          "(more threads than cores only slows Hogwild training down)")
        n = cores
    limit = _runtime.openmp_thread_limit() if _runtime.openmp_enabled() else n
    if workers is None:
        n = min(n, limit)   # the default (default_threads()) stays within the limit, silently
    if limit < n:  # the kernels cope with a smaller team; this says so and plans for it
        if warn:
            _warnings.warn(f"OMP_THREAD_LIMIT={limit} caps workers={n}; using {limit}")
        n = limit
    if n > 1 and not _runtime.openmp_enabled():
        if warn:
            _warnings.warn("fastvec was built without OpenMP: training runs on one thread")
        n = 1
    return n


_blas_lock = threading.Lock()
_blas_requests: list[int] = []   # the BLAS thread limits asked for by the trainings inside blas_limit now
_blas_original = None            # the threadpoolctl limiter holding the limits from before the first of them


@contextlib.contextmanager
def blas_limit(threads: int) -> Iterator[None]:
    """Context manager limiting BLAS to ``threads`` threads (threadpoolctl; a no-op context if
    it is missing). The limit is process-wide, so the requests are counted across Python
    threads: while several overlap, the smallest holds (a training's OpenMP threads each call
    sgemm, and a multi-threaded BLAS underneath would oversubscribe the cores), and the last
    to leave restores what was there before. (Nested threadpool_limits contexts whose
    trainings overlapped left BLAS on one thread for the rest of the process: the second saved
    the first one's limit and restored it last.) A Ctrl-C at any point leaves no request
    behind: the request is added and removed inside the try."""
    global _blas_original
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        yield
        return
    added = False
    try:
        with _blas_lock:
            if not _blas_requests:
                _blas_original = threadpool_limits(limits=None, user_api="blas")   # saves, changes nothing
            _blas_requests.append(threads)
            added = True
            threadpool_limits(limits=min(_blas_requests), user_api="blas")
        yield
    finally:
        if added:
            with _blas_lock:
                _blas_requests.remove(threads)
                if _blas_requests:
                    threadpool_limits(limits=min(_blas_requests), user_api="blas")
                else:
                    original, _blas_original = _blas_original, None
                    original.restore_original_limits()


def single_threaded_blas() -> contextlib.AbstractContextManager:
    """BLAS on one thread inside our own parallel regions (see :func:`blas_limit`)."""
    return blas_limit(1)
