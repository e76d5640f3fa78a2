"""Shared fixtures: small corpora and one trained model per test session."""
from __future__ import annotations

import lzma
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

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


def ctrl_c_child(estimator: str) -> str:
    """A script for :func:`interrupt_on_a_terminal`: ``fastvec.<estimator>`` trains for 1000
    epochs on ``argv[1]`` with a progress bar, prints "epoch N" after each epoch, and after
    Ctrl-C prints "interrupted <epochs trained> <schedule done> <schedule epochs>", queries the
    model and saves it to ``argv[2]``."""
    return f"""
import sys, fastvec
def on_epoch(model, metrics):
    print("epoch", metrics["epoch"], flush=True)
model = fastvec.{estimator}(epochs=1000, seed=1, progress=True, workers=2, callbacks=[on_epoch], min_count=2)
try:
    model.fit(sys.argv[1])
except KeyboardInterrupt:
    print("interrupted", model.epochs_trained_, model._schedule["done"], model._schedule["epochs"], flush=True)
    print("neighbours", model.wv.most_similar("the", topn=3)[0][0], flush=True)
    model.save(sys.argv[2])
    print("saved", flush=True)
"""


@dataclass
class Interrupted:
    line: str        # the first line the child printed after its "epoch N" lines
    rest: str        # the rest of its standard output
    seconds: float   # from SIGINT to that line
    terminal: bytes  # everything written to the terminal (standard error)


def interrupt_on_a_terminal(script: str, args: list[str], cwd, after: float) -> Interrupted:
    """Run the Python ``script`` (with ``args``) with standard error on a pseudo-terminal, so
    that its progress bar is drawn; once it prints its first "epoch" line, wait ``after``
    seconds, send SIGINT and time how long it takes to report. The child must exit with 0.
    Skips the test where there are no pseudo-terminals (Windows, whose wheels run the suite)."""
    pty = pytest.importorskip("pty", reason="pseudo-terminals are POSIX-only")
    import select

    path = os.path.join(cwd, "child.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(script)
    master, slave = pty.openpty()  # stderr is a TTY (of unknown width): the progress bar is on
    # SIGINT back to default in the child: a script's `pytest &` runs with SIGINT ignored, which is
    # inherited, and the child would then train on and fill the terminal until it blocks
    proc = subprocess.Popen([sys.executable, path, *args], stdout=subprocess.PIPE, stderr=slave, text=True, cwd=cwd,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    os.close(slave)
    terminal = b""

    def drain():
        nonlocal terminal
        while select.select([master], [], [], 0)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            terminal += chunk

    try:
        line = proc.stdout.readline()
        drain()
        assert line.startswith("epoch 1"), line
        time.sleep(after)
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        line = proc.stdout.readline()
        while line.startswith("epoch"):
            line = proc.stdout.readline()
        stopped = time.perf_counter() - sent
        rest = proc.stdout.read()
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        drain()
        os.close(master)
    return Interrupted(line, rest, stopped, terminal)
