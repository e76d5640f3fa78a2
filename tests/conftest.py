"""Shared fixtures: small corpora and one trained model per test session."""
from __future__ import annotations

import lzma
import os

import numpy as np
import pytest

import fastvec
from fastvec.cli import bundled_corpus

# Related-word pairs that any reasonable model of the bundled corpus ranks close together.
# (Ranks seen over seeds for SG and CBOW on the bundled corpus: 0 to 16 out of ~14,700 words.)
SANITY_PAIRS = [("france", "germany"), ("january", "february"), ("two", "three"), ("city", "town"),
                ("son", "daughter"), ("film", "movie"), ("he", "she"), ("university", "college")]


@pytest.fixture(scope="session")
def bundled_text(tmp_path_factory) -> str:
    """The bundled corpus, decompressed once."""
    path = tmp_path_factory.mktemp("data") / "wiki1m.txt"
    with lzma.open(bundled_corpus(), "rb") as src:
        path.write_bytes(src.read())
    return str(path)


@pytest.fixture(scope="session")
def small_text(tmp_path_factory, bundled_text) -> str:
    """About 100k tokens of real text."""
    path = tmp_path_factory.mktemp("data") / "small.txt"
    with open(bundled_text, encoding="utf-8") as f:
        lines = [next(f) for _ in range(170)]
    path.write_text("".join(lines), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="session")
def sg_model(bundled_text) -> fastvec.Word2Vec:
    """Skip-gram trained on the bundled corpus (shared by the semantic tests)."""
    return fastvec.Word2Vec(sg=True, epochs=5, seed=7, progress=False).fit(bundled_text)


@pytest.fixture(scope="session")
def cbow_model(bundled_text) -> fastvec.Word2Vec:
    return fastvec.Word2Vec(sg=False, epochs=5, seed=7, progress=False).fit(bundled_text)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


class StopAfter:
    """Callback that interrupts training (as Ctrl-C would) at the end of epoch ``epoch``."""

    def __init__(self, epoch: int):
        self.epoch = epoch

    def on_epoch_end(self, model, metrics):
        if metrics["epoch"] == self.epoch:
            raise KeyboardInterrupt


def write_text(path, text: str) -> str:
    path = os.fspath(path)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path
