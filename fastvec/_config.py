"""``fastvec.show_config()``: what this build is and what it will use."""
from __future__ import annotations

import os
import platform
import sys

from fastvec import _dispatch, _runtime, _threads
from fastvec._version import __version__


def _blas_info() -> list[dict]:
    """The BLAS libraries loaded in the process (threadpoolctl), scipy's first: that is the one
    the kernels call through scipy.linalg.cython_blas (NumPy may bring another)."""
    try:
        import scipy
        import scipy.linalg  # noqa: F401  (loads scipy's BLAS so threadpoolctl can see it)
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    scipy_dir = os.path.dirname(os.path.dirname(os.path.abspath(scipy.__file__)))
    found = [{k: d.get(k) for k in ("internal_api", "version", "architecture", "num_threads", "filepath")}
             for d in threadpool_info() if d.get("user_api") == "blas"]

    def from_scipy(d: dict) -> bool:
        path = os.path.abspath(d.get("filepath") or "")
        return os.path.basename(os.path.dirname(path)).startswith("scipy") and path.startswith(scipy_dir)

    return sorted(found, key=lambda d: not from_scipy(d))   # stable: scipy's first


def _variant_name(kernels) -> str:
    """The loaded kernel variant by the name FASTVEC_SIMD and ``simd_supported`` use
    (``avx512``, ``avx2``, ``baseline``), with the instruction set it was compiled for where
    that differs (``baseline (sse2)`` on x86-64, ``baseline (neon)`` on arm64)."""
    variant, isa = kernels.__name__.rsplit("_", 1)[1], kernels.compiled_isa()
    return variant if variant == isa else f"{variant} ({isa})"


def config() -> dict:
    """Build and runtime facts as a dict (see :func:`show_config`)."""
    kernels = _dispatch.kernels("word2vec")
    return {
        "version": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "openmp": _runtime.openmp_enabled(),
        "debug_build": _runtime.debug_build(),
        "default_threads": _threads.default_threads() if _runtime.openmp_enabled() else 1,
        "available_cores": _threads.available_cores(),
        "simd_supported": _dispatch.supported_variants(),
        "simd_kernels": _variant_name(kernels),
        "blas": _blas_info(),
    }


def show_config(file=None) -> dict:
    """Print (and return) version, OpenMP on/off, default thread count, SIMD kernels and BLAS."""
    c = config()
    blas = c["blas"][0] if c["blas"] else None
    blas_line = (f"{blas['internal_api']} {blas['version']} ({blas['architecture']}, via scipy.linalg.cython_blas)"
                 f"\n  blas library:    {blas['filepath']}" if blas else "not found")
    print(f"fastvec {c['version']} (Python {c['python']}, {c['platform']})\n"
          f"  openmp:          {'on' if c['openmp'] else 'off'}\n"
          f"  debug build:     {'yes (bounds and index checks on)' if c['debug_build'] else 'no'}\n"
          f"  default threads: {c['default_threads']} (available cores: {c['available_cores']})\n"
          f"  simd kernels:    {c['simd_kernels']} (cpu supports: {', '.join(c['simd_supported'])})\n"
          f"  blas:            {blas_line}", file=file or sys.stdout)
    return c
