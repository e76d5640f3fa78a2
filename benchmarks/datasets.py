"""Benchmark data: the wiki17m corpus decompressed once into a cache outside the repository."""
from __future__ import annotations

import hashlib
import lzma
import os
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"
WIKI17M_XZ = SHARED / "wiki17m.txt.xz"
WIKI17M_SHA256 = "9d92b077bb4953a122f436ab60b34f8dc29f25754d2f5b5f8a8ce4ed38a162f5"


def cache_dir() -> Path:
    """$FASTVEC_CACHE, else $XDG_CACHE_HOME/fastvec, else ~/.cache/fastvec."""
    base = os.environ.get("FASTVEC_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "fastvec")
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def wiki17m() -> Path:
    """Path of the decompressed wiki17m corpus (decompressed on first use, checksum verified)."""
    target = cache_dir() / "wiki17m.txt"
    if target.exists() and target.stat().st_size == 101_378_347:
        return target
    if not WIKI17M_XZ.exists():
        raise FileNotFoundError(f"{WIKI17M_XZ} not found: give the scripts a corpus (--corpus, or "
                                "FASTVEC_BENCH_CORPUS for benchmarks/test_micro.py)")
    tmp = target.with_suffix(".tmp")
    digest = hashlib.sha256()
    with lzma.open(WIKI17M_XZ, "rb") as src, open(tmp, "wb") as dst:
        while chunk := src.read(1 << 22):
            digest.update(chunk)
            dst.write(chunk)
    if digest.hexdigest() != WIKI17M_SHA256:
        tmp.unlink()
        raise RuntimeError("wiki17m checksum mismatch")
    shutil.move(tmp, target)
    return target


def eval_files() -> dict[str, Path]:
    """The evaluation sets bundled with fastvec (identical to ../shared/data/eval)."""
    import fastvec.evaluation as ev
    pairs = ev.default_pairs()
    return {"analogies": Path(ev.default_analogies()), "wordsim353": Path(pairs["wordsim353"]),
            "simlex999": Path(pairs["simlex999"])}
