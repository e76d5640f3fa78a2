"""Giving memory back to the operating system after the big temporary structures of counting."""
from __future__ import annotations

import ctypes
import sys


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
