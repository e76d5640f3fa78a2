"""Memory helpers: arrays aligned to cache lines, and giving memory back to the operating
system after the big temporary structures of counting."""
from __future__ import annotations

import ctypes
import math
import sys

import numpy as np
import numpy.typing as npt

#: bytes of a cache line on x86-64, the unit the GloVe state's rows are laid out in
CACHE_LINE = 64


def aligned_zeros(shape: tuple[int, ...], dtype: npt.DTypeLike, alignment: int = CACHE_LINE) -> np.ndarray:
    """A C-contiguous array of zeros whose first byte sits on a multiple of ``alignment``.

    NumPy's allocator (malloc) aligns large arrays to 16 bytes only, so rows laid out in whole
    cache lines (the GloVe state, fastvec/_glove.pxi) would each straddle one line more than
    they fill (8 lines per 448-byte row instead of 7 at vector_size 50), on a kernel bound by
    fetching rows. The array is a view into a zeroed buffer ``alignment`` bytes larger (calloc:
    untouched pages cost nothing). An empty array has no first byte, and no alignment."""
    dtype = np.dtype(dtype)
    if alignment < 1 or alignment & (alignment - 1):
        raise ValueError(f"alignment must be a power of two, not {alignment}")
    nbytes = math.prod(shape) * dtype.itemsize
    buf = np.zeros(nbytes + alignment, dtype=np.uint8)
    start = -buf.ctypes.data % alignment
    return buf[start:start + nbytes].view(dtype).reshape(shape)


def aligned(a: np.ndarray, alignment: int = CACHE_LINE) -> np.ndarray:
    """``a`` itself when it is C-contiguous, writeable and aligned to ``alignment`` bytes, else
    an aligned copy (a loaded file's arrays, say)."""
    if a.flags.c_contiguous and a.flags.writeable and (a.size == 0 or a.ctypes.data % alignment == 0):
        return a
    out = aligned_zeros(a.shape, a.dtype, alignment)
    out[...] = a
    return out


def release_free_heap() -> None:
    """Return the heap memory already freed by the process to the operating system.

    glibc keeps freed small blocks in its arenas; after counting a large corpus (millions of
    short-lived strings and hash-table blocks) that is 10 MB or more of resident memory that
    training would otherwise carry on top of its weights. ``malloc_trim`` exists only in glibc;
    elsewhere (macOS, Windows, musl) this does nothing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    trim(0)
