"""What the compiler made of the kernels: the prefetches of the source are in the binaries.

GCC treats a prefetch as no side effect: a small function whose only work is a loop of
prefetches can be found "looping pure" and every call to it deleted, silently (the GloVe
epochs ran 50% slower when that happened to its row prefetch). fastvec/_fv_platform.h now
emits them as volatile asm, which no compiler may delete; this checks the built modules.
It disassembles them with objdump, so it runs where the modules are x86-64 ELF files (Linux
builds, CI among them)."""
from __future__ import annotations

import importlib
import platform
import shutil
import subprocess
import sys

import pytest

from fastvec import _dispatch

#: module -> prefetch call sites in its source (fastvec/_glove.pxi: the CSR reads while
#: gathering and the two parameter rows; fastvec/_word2vec.pxi: prefetch_row; fastvec/_cooccur.pyx:
#: the window ahead). Inlining may copy a site; nothing may remove one.
SITES = {"_glove": 8, "_word2vec": 2, "_cooccur": 3}

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.machine() not in ("x86_64", "AMD64") or not shutil.which("objdump"),
    reason="disassembles x86-64 ELF modules with objdump (Linux x86-64 only)")


def _modules() -> list[str]:
    names = ["fastvec._cooccur"]
    for kernel in ("_glove", "_word2vec"):
        for variant in _dispatch.PREFERENCE:
            name = f"fastvec.{kernel}_{variant}"
            if importlib.util.find_spec(name) is not None:
                names.append(name)
    return names


def _prefetches(path: str) -> int:
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", path], capture_output=True, text=True, check=True,
                         timeout=120).stdout
    return sum(1 for line in out.splitlines() if "\tprefetch" in line)


@pytest.mark.parametrize("name", _modules())
def test_every_prefetch_of_the_source_is_in_the_binary(name):
    module = importlib.util.find_spec(name)
    kernel = next(k for k in SITES if name.startswith(f"fastvec.{k}"))
    found = _prefetches(module.origin)
    assert found >= SITES[kernel], (f"{module.origin} has {found} prefetch instructions, the source "
                                    f"{SITES[kernel]} call sites: the compiler dropped some")
