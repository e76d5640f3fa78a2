"""Pick the SIMD build of each kernel module that this CPU can run.

setup.py compiles the kernels three times on x86-64 (baseline SSE2, AVX2+FMA, AVX-512);
the variant modules are only imported after the CPU (and OS) were checked to support them,
so a wheel stays portable. FASTVEC_SIMD=baseline|avx2|avx512 forces a variant.
"""
from __future__ import annotations

import importlib
import os
import threading
from types import ModuleType

from fastvec import _runtime, _scipy_blas

# fastest first, as measured on AVX-512 hardware (see benchmarks/RESULTS.md)
PREFERENCE = ("avx512", "avx2", "baseline")
_loaded: dict[str, ModuleType] = {}


def supported_variants() -> list[str]:
    features = _runtime.cpu_features()
    return [v for v in PREFERENCE if v == "baseline" or features.get(v, False)]


_load_lock = threading.RLock()


def kernels(name: str) -> ModuleType:
    """The best available build of ``fastvec._{name}_*``."""
    if name in _loaded:
        return _loaded[name]
    # one thread at a time: the kernels' first import puts scipy's cython_blas into sys.modules
    # for its duration, and a second thread importing meanwhile took the half-initialised
    # module ("has no attribute '__pyx_capi__'": two models trained at once from two threads)
    with _load_lock:
        if name in _loaded:
            return _loaded[name]
        return _load(name)


def _load(name: str) -> ModuleType:
    forced = os.environ.get("FASTVEC_SIMD", "").strip().lower()
    if forced:
        if forced not in PREFERENCE:
            raise ImportError(f"FASTVEC_SIMD={forced!r}: expected one of {', '.join(PREFERENCE)}")
        if forced not in supported_variants():
            raise ImportError(f"FASTVEC_SIMD={forced!r}: this CPU does not support {forced}")
        candidates = [forced]
    else:
        candidates = supported_variants()
    for variant in candidates:
        try:
            with _scipy_blas.loaded():
                module = importlib.import_module(f"fastvec._{name}_{variant}")
        except ImportError:
            if forced:
                raise
            continue  # variant not built (non-x86 or FASTVEC_SIMD_VARIANTS=0)
        _loaded[name] = module
        return module
    raise ImportError(f"no build of fastvec._{name} found; is the package compiled?")
