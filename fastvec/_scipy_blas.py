"""Hand scipy's BLAS to the kernels without importing all of ``scipy.linalg``.

The kernels ``cimport`` sgemm from ``scipy.linalg.cython_blas`` (nothing is linked at build
time): when a kernel module is imported, Cython imports that module and takes its function
pointers. Importing it the usual way first runs ``scipy/linalg/__init__.py``, which loads all
of SciPy's linear algebra and about 25 MB of resident memory that training never uses (peak
RSS of a whole word2vec job on wiki17m: benchmarks/RESULTS.md). :func:`loaded` loads the one
extension module from its file instead, for the duration of the kernel imports only: it then
leaves ``sys.modules`` as it found it, so a later ``import scipy.linalg`` runs normally (and
gets the same, already initialised, extension module). Any surprise falls back to the usual
import.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.machinery
import importlib.util
import os
import sys
from typing import Iterator

NAME = "scipy.linalg.cython_blas"


def _load_from_file() -> bool:
    """Put scipy's cython_blas into sys.modules without running scipy.linalg's package init;
    True if this function added it."""
    import scipy  # the package init sets up SciPy's bundled libraries (DLL paths on Windows)

    folder = os.path.join(os.path.dirname(scipy.__file__), "linalg")
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(folder, "cython_blas" + suffix)
        if os.path.isfile(path):
            break
    else:
        return False
    spec = importlib.util.spec_from_file_location(NAME, path)
    if spec is None or spec.loader is None:
        return False
    module = importlib.util.module_from_spec(spec)
    sys.modules[NAME] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[NAME]
        raise
    return True


@contextlib.contextmanager
def loaded() -> Iterator[None]:
    """Within the block, ``scipy.linalg.cython_blas`` is importable cheaply."""
    added = False
    if NAME not in sys.modules and "scipy.linalg" not in sys.modules:
        try:
            added = _load_from_file()
        except Exception:  # an unusual SciPy layout: the normal import below still works
            added = False
    if not added:
        importlib.import_module(NAME)
    try:
        yield
    finally:
        if added:
            sys.modules.pop(NAME, None)
