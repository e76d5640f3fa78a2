"""What ``import fastvec`` and a word2vec job load: scipy.linalg and scipy.sparse only when a
feature needs them (fastvec._scipy_blas, fastvec._lazy), and nothing breaks for code that
imports them before or after fastvec."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import pytest


def run(code: str, **env: str | None) -> str:
    # from a neutral directory: `python -c` puts the working directory first on sys.path, and
    # the source tree (unbuilt in CI, which tests the installed package) must not shadow it
    with tempfile.TemporaryDirectory() as cwd:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=cwd,
                              env={k: v for k, v in {**os.environ, **env}.items() if v is not None})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_word2vec_job_loads_neither_scipy_linalg_nor_scipy_sparse(tmp_path):
    out = run(f"""
import sys, fastvec
text = "the cat sat on the mat and the dog sat on the log " * 200
m = fastvec.Word2Vec(vector_size=8, min_count=1, epochs=1, workers=2, seed=1, progress=False).fit([text.split()])
m.wv.save_word2vec_format({str(tmp_path / 'v.bin')!r}, binary=True)
print(sorted(k for k in ("scipy.linalg", "scipy.sparse", "scipy.linalg.cython_blas") if k in sys.modules))
""")
    assert out.strip() == "[]"


def test_scipy_linalg_imported_after_fastvec_is_whole():
    out = run("""
import fastvec, numpy as np
fastvec.Word2Vec(vector_size=8, min_count=1, epochs=1, workers=1, seed=1, progress=False).fit([["a", "b", "c"] * 50])
import scipy.linalg, scipy.linalg.cython_blas
from scipy.linalg import cython_blas
assert scipy.linalg.cython_blas is cython_blas and "sgemm" in cython_blas.__pyx_capi__
print(scipy.linalg.svd(np.diag([3.0, 2.0]))[1].tolist())
""")
    assert out.strip() == "[3.0, 2.0]"


@pytest.mark.parametrize("before", ["import scipy.linalg", "import scipy.linalg.cython_blas",
                                    "import fastvec._scipy_blas as b; b._load_from_file = None"])
def test_kernels_load_whatever_was_imported_before(before):
    # the usual import path (scipy.linalg already there, or the direct load failing) still works
    out = run(f"""
{before}
import fastvec
m = fastvec.Word2Vec(vector_size=8, min_count=1, epochs=2, workers=2, seed=1, progress=False).fit([["a", "b", "c"] * 50])
print(m.kernel_, len(m.wv))
""")
    assert out.split()[1] == "3"


def test_lazy_attributes():
    out = run("""
import sys, fastvec
assert "scipy.linalg" not in sys.modules and "SVDEmbedding" in dir(fastvec) and "SVDEmbedding" in fastvec.__all__
print(fastvec.SVDEmbedding.__name__, "scipy.linalg" in sys.modules)
import fastvec.ppmi
print(callable(fastvec.ppmi), fastvec.ppmi.__module__)
try:
    fastvec.no_such_thing
except AttributeError as e:
    print("AttributeError", e)
""")
    lines = out.splitlines()
    assert lines[0] == "SVDEmbedding True"
    assert lines[1] == "True fastvec.ppmi"
    assert lines[2].startswith("AttributeError") and "no_such_thing" in lines[2]


@pytest.mark.parametrize("bind", ["false", "true", "spread"])
def test_thread_binding_does_not_hide_the_cores(bind):
    """With OMP_PROC_BIND set, libgomp pins the Python thread to one core when the extension
    loads; the cores counted afterwards (default threads, the cap on ``workers``) must still
    be the ones the process had before."""
    out = run("""
import math, os, warnings
before = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
import fastvec
from fastvec import _threads
quota = _threads.cgroup_cpu_quota()   # a container's CPU limit, if any, caps the count too
before = before if quota is None else min(before, math.ceil(quota))
with warnings.catch_warnings():
    warnings.simplefilter("error")
    n = _threads.resolve_workers(before)
print(before, _threads.available_cores(), _threads.default_threads(),
      n if fastvec._runtime.openmp_enabled() else before)
""", OMP_PROC_BIND=bind, OMP_NUM_THREADS=None)
    before, cores, default, resolved = map(int, out.split())
    assert cores == default == resolved == before


def test_kernels_load_once_when_two_threads_train_first_at_the_same_time():
    # the first kernel import puts scipy's cython_blas into sys.modules for its duration: a second
    # thread importing meanwhile took the half-initialised module (AttributeError: no __pyx_capi__),
    # about one fresh process in two
    code = """
import threading, fastvec
text = ("the cat sat on the mat and the dog sat on the log " * 50).split()
errors, barrier = [], threading.Barrier(2)
def fit():
    barrier.wait()
    try:
        fastvec.Word2Vec(vector_size=8, min_count=1, epochs=1, workers=1, seed=1, progress=False).fit([text])
    except BaseException as e:
        errors.append(repr(e))
threads = [threading.Thread(target=fit) for _ in range(2)]
[t.start() for t in threads]
[t.join() for t in threads]
print(errors)
"""
    for _ in range(4):
        assert run(code).strip() == "[]"


def test_the_forced_variant_is_reported_by_the_name_it_was_forced_with():
    code = "import fastvec; print(fastvec._config.config()['simd_kernels'])"
    env = dict(os.environ, FASTVEC_SIMD="baseline")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd=tempfile.gettempdir(), check=True).stdout.strip()
    assert out.split()[0] == "baseline"   # it said "sse2", a name FASTVEC_SIMD does not take
