"""Failure behaviour of the count-based side that must not regress: GloVe, co-occurrence counting
(in memory and spilled), PPMI, PPMI-SVD and ``fastvec train --model glove|ppmi-svd`` under bad
parameters and corpora, divergence, Ctrl-C, hostile files and failing writes.
(The word2vec side is tests/test_reliability.py; tests/RELIABILITY.md lists every case.)"""
from __future__ import annotations

import errno
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
import scipy.sparse

import fastvec
from fastvec import (Cooccurrence, Corpus, DivergenceError, FormatError, GloVe, NotFittedError,
                     SVDEmbedding, Vocabulary, ppmi)
from fastvec._io import save_container
from fastvec.cli import main

from conftest import StopAfter, ctrl_c_child, interrupt_on_a_terminal

PY = sys.executable
SMALL = dict(vector_size=16, window=4, min_count=2, x_max=10.0, epochs=2, progress=False, workers=1, seed=1)


@pytest.fixture(scope="module")
def corpus(small_text) -> Corpus:
    return Corpus.build(small_text, min_count=2)


@pytest.fixture(scope="module")
def cooc(corpus) -> Cooccurrence:
    return Cooccurrence.from_corpus(corpus, window=4, workers=1)


class Untouchable(list):
    """A corpus that must not be read: parameter errors come before any work."""

    def __iter__(self):
        raise AssertionError("the corpus was read before the parameters were checked")


UNTOUCHABLE = Untouchable([["a", "b"]])


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


# -- bad parameters -------------------------------------------------------------------------------

GLOVE_BAD = [
    ("vector_size", 0, ValueError), ("vector_size", 100_001, ValueError), ("vector_size", 2.5, TypeError),
    ("vector_size", True, TypeError), ("vector_size", "16", TypeError),
    ("window", 0, ValueError), ("window", 10_001, ValueError), ("window", 1.5, TypeError),
    ("min_count", 0, ValueError), ("min_count", "2", TypeError),
    ("x_max", 0, ValueError), ("x_max", -3.0, ValueError), ("x_max", float("inf"), ValueError),
    ("x_max", float("nan"), ValueError), ("x_max", "10", TypeError),
    ("alpha", -0.5, ValueError), ("alpha", 10.5, ValueError), ("alpha", float("nan"), ValueError),
    ("learning_rate", 0.0, ValueError), ("learning_rate", -1.0, ValueError),
    ("learning_rate", float("inf"), ValueError), ("learning_rate", None, TypeError),
    ("epochs", 0, ValueError), ("epochs", 2.0, TypeError),
    ("workers", 0, ValueError), ("workers", -1, ValueError), ("workers", "2", TypeError), ("workers", 1.5, TypeError),
    ("seed", "x", TypeError), ("seed", 1.5, TypeError),
    ("vectors", "both", ValueError), ("vectors", None, ValueError),
    ("grad_clip", 0.0, ValueError), ("grad_clip", float("nan"), ValueError),
    ("max_memory", 0, ValueError), ("max_memory", -5, ValueError), ("max_memory", 1.5, TypeError),
    ("callbacks", [3], TypeError), ("callbacks", 5, TypeError),
]


@pytest.mark.parametrize("name,value,error", GLOVE_BAD, ids=[f"{n}={v!r}" for n, v, _ in GLOVE_BAD])
def test_glove_bad_parameters_are_refused_before_any_work(cooc, name, value, error):
    with pytest.raises(error, match=name):
        GloVe(**{**SMALL, name: value}).fit(UNTOUCHABLE)
    with pytest.raises(error, match=name):
        GloVe(**{**SMALL, name: value}).fit(cooc)


def test_glove_train_more_checks_parameters_and_epochs(cooc):
    m = GloVe(**SMALL).fit(cooc)
    before = m._state.copy()
    for epochs, error in ((0, ValueError), (-1, ValueError), (1.5, TypeError), ("2", TypeError)):
        with pytest.raises(error, match="epochs"):
            m.train_more(cooc, epochs=epochs)
    m.learning_rate = -1.0   # parameters changed after fit are checked again
    with pytest.raises(ValueError, match="learning_rate"):
        m.train_more(cooc, epochs=1)
    np.testing.assert_array_equal(m._state, before)
    assert m.epochs_trained_ == 2
    with pytest.raises(NotFittedError):
        GloVe(**SMALL).train_more(cooc)


SVD_BAD = [
    ("vector_size", 0, ValueError), ("vector_size", 2.5, TypeError), ("eig_weight", float("nan"), ValueError),
    ("eig_weight", 11.0, ValueError), ("eig_weight", "x", TypeError), ("eig_weight", -0.5, ValueError),
    ("cds", 0.0, ValueError),
    ("cds", -1.0, ValueError), ("cds", 10.5, ValueError), ("cds", "x", TypeError), ("shift", 0.0, ValueError),
    ("shift", -1.0, ValueError), ("shift", float("inf"), ValueError), ("window", 0, ValueError),
    ("window", 2.5, TypeError), ("min_count", 0, ValueError), ("vectors", "context", ValueError),
    ("power_iterations", -1, ValueError), ("power_iterations", 101, ValueError), ("oversamples", -1, ValueError),
    ("workers", 0, ValueError), ("workers", "2", TypeError), ("seed", "x", TypeError), ("seed", 1.5, TypeError),
    ("max_memory", 0, ValueError), ("max_memory", 2.5, TypeError),
]


@pytest.mark.parametrize("name,value,error", SVD_BAD, ids=[f"{n}={v!r}" for n, v, _ in SVD_BAD])
def test_svd_bad_parameters_are_refused_before_any_work(cooc, name, value, error):
    kw = dict(vector_size=8, workers=1, seed=1, min_count=2)
    with pytest.raises(error, match=name):
        SVDEmbedding(**{**kw, name: value}).fit(UNTOUCHABLE)
    with pytest.raises(error, match=name):
        SVDEmbedding(**{**kw, name: value}).fit(cooc)


def test_svd_vector_size_must_be_below_the_vocabulary(cooc):
    with pytest.raises(ValueError, match=rf"vector_size={len(cooc)} must be smaller than the vocabulary"):
        SVDEmbedding(vector_size=len(cooc)).fit(cooc)


@pytest.mark.parametrize("kwargs,error", [
    (dict(cds=0.0), ValueError), (dict(cds=float("nan")), ValueError), (dict(cds=None), TypeError),
    (dict(cds=11.0), ValueError), (dict(shift=0.0), ValueError), (dict(shift=-2.0), ValueError),
    (dict(shift="1"), TypeError), (dict(shift=float("inf")), ValueError),
])
def test_ppmi_bad_parameters(cooc, kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        ppmi(cooc, **kwargs)


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(window=0), ValueError, "window"), (dict(window=10_001), ValueError, "window"),
    (dict(window=2.5), TypeError, "window"), (dict(window=True), TypeError, "window"),
    (dict(weighting="gaussian"), ValueError, "weighting"), (dict(weighting=None), ValueError, "weighting"),
    (dict(symmetric="yes"), TypeError, "symmetric"), (dict(symmetric=None), TypeError, "symmetric"),
    (dict(max_memory=0), ValueError, "max_memory"), (dict(max_memory=-1), ValueError, "max_memory"),
    (dict(max_memory=2.5), ValueError, "max_memory"), (dict(max_memory=True), ValueError, "max_memory"),
    (dict(workers=0), ValueError, "workers"), (dict(workers="2"), TypeError, "workers"),
    (dict(tmp_dir="/definitely/missing/dir"), FileNotFoundError, "tmp_dir"),
    (dict(vocabulary=["a", "b"]), TypeError, "vocabulary"),
])
def test_cooccurrence_bad_arguments_are_refused_before_any_work(kwargs, error, match):
    kwargs = {"vocabulary": Vocabulary(["a", "b"], [5, 5]), **kwargs}
    with pytest.raises(error, match=match):
        Cooccurrence.from_corpus(UNTOUCHABLE, **kwargs)


def test_tmp_dir_that_is_a_file(tmp_path, corpus):
    (tmp_path / "f").write_text("x")
    with pytest.raises(NotADirectoryError, match="tmp_dir"):
        Cooccurrence.from_corpus(corpus, max_memory=20_000, tmp_dir=tmp_path / "f")


def test_workers_above_the_machine_warn_once(recwarn, cooc, small_text):
    GloVe(**{**SMALL, "workers": 999, "epochs": 1}).fit(small_text)
    SVDEmbedding(vector_size=4, min_count=2, window=2, workers=999, seed=1).fit(small_text)
    messages = [str(w.message) for w in recwarn if "workers=999" in str(w.message)]
    assert len(messages) == 2, messages   # one per fit, not one per stage (count, train)


# -- bad corpora and matrices ---------------------------------------------------------------------

BAD_CORPORA = {
    "empty": (b"", ValueError, "corpus is empty"),
    "whitespace": (b"   \n\t\n  \r\n", ValueError, "corpus is empty"),
    "no word reaches min_count": (b"each word here occurs once only\n", ValueError, "min_count=2"),
    "binary": (bytes(range(256)) * 64, ValueError, "does not look like a text file"),
}


@pytest.mark.parametrize("estimator", ["glove", "svd"])
@pytest.mark.parametrize("name", sorted(BAD_CORPORA))
def test_bad_corpus_files(tmp_path, estimator, name):
    content, error, match = BAD_CORPORA[name]
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    model = GloVe(**SMALL) if estimator == "glove" else SVDEmbedding(vector_size=4, min_count=2)
    with pytest.raises(error, match=match) as info:
        model.fit(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("estimator", ["glove", "svd", "cooccurrence"])
def test_bad_corpus_objects(tmp_path, estimator):
    vocab = Vocabulary(["a", "b"], [5, 5])

    def fit(c):
        if estimator == "glove":
            return GloVe(**SMALL).fit(c)
        if estimator == "svd":
            return SVDEmbedding(vector_size=1, min_count=2).fit(c)
        return Cooccurrence.from_corpus(c, vocab)

    with pytest.raises(FileNotFoundError, match="no such corpus file"):
        fit(tmp_path / "missing.txt")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        fit(tmp_path)
    with pytest.raises(TypeError, match="corpus item 0 is a str, expected a list of tokens"):
        fit(["a b a b", "b a b a"])
    with pytest.raises(TypeError, match="one-shot iterator"):
        fit(s for s in [["a", "b"]] * 3)
    with pytest.raises(TypeError, match="tokens must be str"):
        fit([["a", 1]])
    with pytest.raises(ValueError, match="empty|no in-vocabulary tokens"):
        fit([[], []])


def test_cooccurrence_from_corpus_without_known_words():
    vocab = Vocabulary(["a", "b"], [5, 5])
    with pytest.raises(ValueError, match="no in-vocabulary tokens"):
        Cooccurrence.from_corpus([["x", "y"]], vocab)
    with pytest.raises(TypeError, match="pass the vocabulary"):
        Cooccurrence.from_corpus([["a", "b"]])


def test_empty_cooccurrence_matrix():
    vocab = Vocabulary(["a", "b", "c"], [5, 5, 5])
    empty = Cooccurrence(scipy.sparse.csr_array((3, 3), dtype=np.float32), vocab)
    with pytest.raises(ValueError, match="co-occurrence matrix is empty"):
        GloVe(**SMALL).fit(empty)
    with pytest.raises(ValueError, match="co-occurrence matrix is empty"):
        SVDEmbedding(vector_size=1).fit(empty)
    for no_counts in (empty, empty.matrix, scipy.sparse.csr_array(np.zeros((3, 3)))):
        with pytest.raises(ValueError, match="co-occurrence matrix is empty"):
            ppmi(no_counts)
    # counts without any positive association are not empty: an empty PPMI, refused by the SVD
    independent = Cooccurrence(scipy.sparse.csr_array(np.ones((3, 3), dtype=np.float32)), vocab)
    assert ppmi(independent, cds=1.0).nnz == 0
    with pytest.raises(ValueError, match="PPMI matrix is empty"):
        SVDEmbedding(vector_size=1, cds=1.0).fit(independent)
    with pytest.raises(ValueError, match="co-occurrence matrix is empty"):   # words never share a line
        GloVe(**{**SMALL, "min_count": 1}).fit([["a"], ["b"], ["a"]])


def test_matrix_shape_must_agree_with_the_vocabulary():
    vocab = Vocabulary(["a", "b", "c"], [5, 5, 5])
    square4 = scipy.sparse.csr_array(np.ones((4, 4), dtype=np.float32))
    with pytest.raises(ValueError, match=r"shape \(4, 4\), expected \(3, 3\)"):
        Cooccurrence(square4, vocab)
    with pytest.raises(ValueError, match="square"):
        ppmi(scipy.sparse.csr_array(np.ones((2, 3))))
    # a Cooccurrence whose matrix or vocabulary was replaced after construction
    good = scipy.sparse.csr_array(np.array([[0, 2, 1], [2, 0, 3], [1, 3, 0]], dtype=np.float32))
    for attr, value in (("matrix", square4), ("vocabulary", Vocabulary(["a", "b", "c", "d"], [5] * 4)),
                        ("matrix", good.tocoo())):
        c = Cooccurrence(good.copy(), vocab)
        setattr(c, attr, value)
        fits = (lambda: GloVe(**SMALL).fit(c), lambda: SVDEmbedding(vector_size=1).fit(c), lambda: ppmi(c))
        for fit in fits:
            with pytest.raises((ValueError, TypeError), match="co-occurrence matrix (has shape|must be a scipy)"):
                fit()


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_matrix_values_are_checked():
    vocab = Vocabulary(["a", "b"], [5, 5])
    for bad in (np.nan, np.inf, -1.0):
        m = scipy.sparse.csr_array(np.array([[0, bad], [1, 0]], dtype=np.float64))
        with pytest.raises(ValueError, match="finite and >= 0"):
            Cooccurrence(m, vocab)
        with pytest.raises(ValueError, match="finite and >= 0"):
            ppmi(m)
    with pytest.raises(ValueError, match="finite"):   # float64 counts that overflow float32
        Cooccurrence(scipy.sparse.csr_array(np.array([[0, 1e300], [1, 0]])), vocab)
    complex_counts = scipy.sparse.csr_array(np.array([[0, 1j], [1, 0]]))
    with pytest.raises(TypeError, match="real numbers"):   # never cast (dropping the imaginary part)
        Cooccurrence(complex_counts, vocab)
    with pytest.raises(TypeError, match="real numbers"):
        ppmi(complex_counts)
    with pytest.raises(TypeError, match="symmetric"):
        Cooccurrence(scipy.sparse.csr_array((2, 2), dtype=np.float32), vocab, symmetric="no")
    # integer counts are accepted and stored as float32
    assert Cooccurrence(scipy.sparse.csr_array(np.array([[0, 2], [3, 0]])), vocab).matrix.dtype == np.float32


# -- divergence -----------------------------------------------------------------------------------

def _assert_unusable(model, cooc, tmp_path):
    for attempt in (lambda: model.wv, lambda: model.word_vectors_, lambda: model.train_more(cooc, epochs=1),
                    lambda: model.save(tmp_path / "diverged.fv")):
        with pytest.raises(DivergenceError, match="unusable"):
            attempt()
    assert not (tmp_path / "diverged.fv").exists()


@pytest.mark.parametrize("rate", [1e30, 1e3, 2.0])
def test_huge_learning_rate_is_detected(tmp_path, cooc, rate):
    """1e30 makes the loss infinite; with 1e3 or 2.0 clipped gradients keep the weights finite but
    the model fits the counts orders of magnitude worse than all-zero vectors would."""
    model = GloVe(**{**SMALL, "learning_rate": rate, "epochs": 3})
    with pytest.raises(DivergenceError, match=r"diverged in epoch 1: .*learning_rate=") as info:
        model.fit(cooc)
    assert isinstance(info.value, FloatingPointError)
    assert ("NaN or infinite" in str(info.value)) == (rate == 1e30)
    assert model.epochs_trained_ == 0 and model.loss_history_ == []
    _assert_unusable(model, cooc, tmp_path)


def test_divergence_during_train_more_keeps_the_last_checkpoint(tmp_path, cooc):
    model = GloVe(**SMALL).fit(cooc)
    model.save(tmp_path / "good.fv")
    saved = (tmp_path / "good.fv").read_bytes()
    model.learning_rate = 1e30
    with pytest.raises(DivergenceError, match="learning_rate=1e\\+30"):
        model.train_more(cooc, epochs=2)
    assert model.epochs_trained_ == 2       # the failing epoch is not counted
    _assert_unusable(model, cooc, tmp_path)
    with pytest.raises(DivergenceError):
        model.save(tmp_path / "good.fv")    # cannot overwrite the good checkpoint
    assert (tmp_path / "good.fv").read_bytes() == saved
    back = GloVe.load(tmp_path / "good.fv")
    assert back.epochs_trained_ == 2 and np.isfinite(back.wv.vectors).all()


def test_normal_rates_and_extreme_counts_are_not_mistaken_for_divergence(cooc):
    m = GloVe(**{**SMALL, "learning_rate": 0.2, "epochs": 3}).fit(cooc)
    assert m.loss_history_[-1] < m.loss_history_[0]
    huge = cooc.matrix.copy()
    huge.data[:] = 3e38                     # near float32's maximum: log X = 88, weight 1
    m = GloVe(**{**SMALL, "epochs": 3}).fit(Cooccurrence(huge, cooc.vocabulary))
    assert np.isfinite(m.wv.vectors).all() and m.loss_history_[-1] < m.loss_history_[0]
    ones = cooc.matrix.copy()
    ones.data[:] = 1.0                      # log X = 0 everywhere: all-zero vectors fit exactly
    m = GloVe(**{**SMALL, "epochs": 3}).fit(Cooccurrence(ones, cooc.vocabulary))
    assert np.isfinite(m.wv.vectors).all()


def test_non_finite_counts_never_reach_training(cooc):
    model = GloVe(**SMALL).fit(cooc)
    before = model._state.copy()
    bad = Cooccurrence(cooc.matrix.copy(), cooc.vocabulary)
    bad.matrix.data[0] = np.inf             # changed after the constructor checked it
    with pytest.raises(ValueError, match="finite"):
        model.train_more(bad, epochs=1)
    with pytest.raises(ValueError, match="finite"):
        SVDEmbedding(vector_size=2).fit(bad)
    np.testing.assert_array_equal(model._state, before)
    assert model.epochs_trained_ == 2 and np.isfinite(model.wv.vectors).all()


def test_ppmi_of_counts_whose_sums_overflow():
    m = scipy.sparse.csr_array(np.array([[1e308, 1e308], [1e308, 1.0]]))
    with pytest.raises(ValueError, match="overflow"):
        ppmi(m)
    big = ppmi(scipy.sparse.csr_array(np.array([[0, 1e300], [1e300, 1.0]])))   # large but summable
    assert np.isfinite(big.data).all()


def test_ppmi_is_the_same_for_counts_scaled_far_down_at_a_large_cds():
    # sum_k c_k**cds underflowed to 0 for tiny counts at cds=8 and the normaliser was dropped:
    # every PMI moved by hundreds (1e-60: about 1092 where the values are 0.86-3.3)
    counts = np.array([[0.0, 3.0, 1.0], [3.0, 0.0, 2.0], [1.0, 2.0, 5.0]])
    want = ppmi(scipy.sparse.csr_array(counts), cds=8.0)
    for scale in (1e-30, 1e-45, 1e-60, 1e-200, 1e200):
        got = ppmi(scipy.sparse.csr_array(counts * scale), cds=8.0)
        np.testing.assert_array_equal(got.indices, want.indices)
        np.testing.assert_allclose(got.data, want.data, rtol=1e-5, err_msg=str(scale))


# -- Ctrl-C ---------------------------------------------------------------------------------------

def test_ctrl_c_during_glove_stops_within_a_second_and_leaves_a_usable_model(tmp_path, bundled_text):
    """SIGINT while GloVe trains on the bundled corpus (about 4 kernel slices per epoch), with the
    progress bar drawn on a pseudo-terminal: the approach of test_reliability.py."""
    run = interrupt_on_a_terminal(ctrl_c_child("GloVe"), [bundled_text, str(tmp_path / "g.fv")], tmp_path, after=0.2)
    line, rest, stopped, terminal = run.line, run.rest, run.seconds, run.terminal
    assert line.startswith("interrupted"), line
    assert stopped < 1.0, f"took {stopped:.2f} s to stop"
    _, trained, done, scheduled = line.split()
    assert int(trained) >= 1 and int(done) == int(trained) and int(scheduled) == 1000
    assert "neighbours" in rest and "saved" in rest
    assert b"Traceback" not in terminal
    assert b"pair" in terminal                                   # the bar was drawn
    model = GloVe.load(tmp_path / "g.fv")
    assert model.epochs_trained_ == int(trained) and model._schedule == {"epochs": 1000, "done": int(trained)}
    assert np.isfinite(model.wv.vectors).all()


@pytest.mark.skipif(sys.platform == "win32", reason="Windows cannot send SIGINT to a child process")
@pytest.mark.parametrize("model", ["glove", "ppmi-svd"])
def test_ctrl_c_in_the_command(tmp_path, bundled_text, model):
    """`fastvec train --model glove|ppmi-svd` interrupted (while training, or while counting and
    factorising, which take a few seconds on the bundled corpus at window 15)."""
    extra = ["--epochs", "100000", "--dim", "8"] if model == "glove" else ["--dim", "200"]
    proc = subprocess.Popen([PY, "-m", "fastvec", "train", bundled_text, "--model", model, "--min-count", "1",
                             "--threads", "1", "-q", *extra], stderr=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, cwd=tmp_path, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(2.5)
    assert proc.poll() is None, proc.communicate()
    sent = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err == "fastvec: interrupted\n", err
    if model == "glove":
        assert time.perf_counter() - sent < 2.0


# -- checkpoints, continuation and determinism ---------------------------------------------------

def test_checkpoint_resumes_the_schedule_bit_for_bit(tmp_path, small_text, cooc):
    kw = {**SMALL, "epochs": 4, "seed": 11}
    straight = GloVe(**kw).fit(small_text)
    ckpt = tmp_path / "ckpt.fv"
    crashing = GloVe(checkpoint_every=2, checkpoint_path=ckpt, callbacks=[StopAfter(3)], **kw)
    with pytest.raises(KeyboardInterrupt):
        crashing.fit(small_text)
    assert crashing.epochs_trained_ == 3
    shutil.copy(ckpt, tmp_path / "epoch2.fv")
    resumed = GloVe.load(ckpt)                         # written after epoch 2, before the "crash" in epoch 3
    assert resumed.epochs_trained_ == 2 and resumed.checkpoint_every == 2
    resumed.train_more(small_text)                     # recounted with the model's vocabulary and window
    assert resumed.epochs_trained_ == 4
    np.testing.assert_array_equal(resumed._state, straight._state)
    assert resumed.loss_history_ == straight.loss_history_
    assert GloVe.load(ckpt).epochs_trained_ == 4       # the resumed run checkpointed after epoch 4
    # the same from co-occurrences saved to disk and memory-mapped back
    counted = Cooccurrence.from_corpus(Corpus.encode(small_text, straight.vocabulary_), window=4, workers=2)
    counted.save(tmp_path / "cooc.npz")
    again = GloVe.load(tmp_path / "epoch2.fv").train_more(Cooccurrence.load(tmp_path / "cooc.npz", mmap=True))
    np.testing.assert_array_equal(again._state, straight._state)
    with pytest.raises(ValueError, match="epochs=k"):
        again.train_more(small_text)


@pytest.mark.parametrize("estimator", ["word2vec", "glove"])
def test_a_checkpoint_moved_elsewhere_loads(tmp_path, small_text, estimator):
    """The checkpoint directory is part of the saved parameters; a copy of the file on another
    machine (where that directory does not exist) must load, and only checkpointing refuses."""
    directory = tmp_path / "run"
    directory.mkdir()
    cls, kw = (GloVe, {**SMALL, "epochs": 1}) if estimator == "glove" else \
        (fastvec.Word2Vec, {"epochs": 1, "min_count": 2, "vector_size": 8, "workers": 1, "progress": False})
    cls(checkpoint_every=1, checkpoint_path=directory / "c.fv", **kw).fit(small_text)
    shutil.move(directory / "c.fv", tmp_path / "moved.fv")
    directory.rmdir()
    model = cls.load(tmp_path / "moved.fv")
    assert model.epochs_trained_ == 1 and len(model.wv) > 0
    with pytest.raises(FileNotFoundError, match="does not exist"):
        model.train_more(small_text, epochs=1)
    model.checkpoint_path = tmp_path / "here.fv"
    model.train_more(small_text, epochs=1)
    assert cls.load(tmp_path / "here.fv").epochs_trained_ == 2


def test_workers_one_with_seed_is_bit_reproducible_across_runs_and_save_load(tmp_path, cooc):
    kw = {**SMALL, "epochs": 3, "seed": 5}
    a, b = GloVe(**kw).fit(cooc), GloVe(**kw).fit(cooc)
    np.testing.assert_array_equal(a._state, b._state)
    assert a.loss_history_ == b.loss_history_
    a.save(tmp_path / "a.fv")
    c = GloVe.load(tmp_path / "a.fv")
    a.train_more(cooc, epochs=2)
    c.train_more(cooc, epochs=2)
    np.testing.assert_array_equal(a._state, c._state)
    assert a.loss_history_ == c.loss_history_
    other = GloVe(**{**kw, "seed": 6}).fit(cooc)
    assert not np.array_equal(other._state, b._state)


def test_svd_and_counting_are_deterministic(tmp_path, corpus, cooc):
    kw = dict(vector_size=8, workers=1, seed=3)
    a, b = SVDEmbedding(**kw).fit(cooc), SVDEmbedding(**kw).fit(cooc)
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)
    assert not np.array_equal(SVDEmbedding(**{**kw, "seed": 4}).fit(cooc).wv.vectors, a.wv.vectors)
    spilled = Cooccurrence.from_corpus(corpus, window=4, workers=2, max_memory=500_000, tmp_dir=tmp_path)
    assert spilled.stats_["segments"] > 1 and (spilled.matrix != cooc.matrix).nnz == 0
    np.testing.assert_array_equal(SVDEmbedding(**kw).fit(spilled).wv.vectors, a.wv.vectors)
    assert os.listdir(tmp_path) == []


# -- spilled counting: failures leave nothing behind ----------------------------------------------

def test_spill_failures_clean_up(tmp_path, corpus, monkeypatch):
    from fastvec import cooccurrence as cm

    with pytest.raises(ValueError, match="max_memory=1000 is too small"):
        Cooccurrence.from_corpus(corpus, window=4, max_memory=1000, tmp_dir=tmp_path)
    assert os.listdir(tmp_path) == []

    def disk_full(self, cols, vals):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(cm._Part, "append", disk_full)
        with pytest.raises(OSError, match="No space left"):
            Cooccurrence.from_corpus(corpus, window=4, max_memory=500_000, tmp_dir=tmp_path)
    assert os.listdir(tmp_path) == []

    def interrupted(**kw):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(cm._cooccur, "merge_rows", interrupted)
        with pytest.raises(KeyboardInterrupt):
            Cooccurrence.from_corpus(corpus, window=4, max_memory=500_000, tmp_dir=tmp_path)
    assert os.listdir(tmp_path) == []


# -- hostile or broken files ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def saved(tmp_path_factory, cooc):
    """A saved Cooccurrence and GloVe, and their members (meta without the container tags)."""
    d = tmp_path_factory.mktemp("saved")
    cooc.save(d / "c.npz")
    GloVe(**SMALL).fit(cooc).save(d / "g.fv")
    out = {}
    for kind, name in (("cooccurrence", "c.npz"), ("glove", "g.fv")):
        with zipfile.ZipFile(d / name) as zf:
            meta = json.loads(zf.read("meta.json"))
            arrays = {n[:-4]: np.load(io.BytesIO(zf.read(n)), allow_pickle=False)
                      for n in zf.namelist() if n.endswith(".npy")}
        out[kind] = (d / name, {k: v for k, v in meta.items() if k not in ("format", "kind", "version")}, arrays)
    return out


LOADERS = {"cooccurrence": Cooccurrence.load, "glove": GloVe.load}


def _npy(arr) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=True)
    return buf.getvalue()


@pytest.mark.parametrize("kind", sorted(LOADERS))
def test_truncated_and_garbage_files(tmp_path, saved, kind):
    path, _, _ = saved[kind]
    data = path.read_bytes()
    bad = tmp_path / "bad.fv"
    rng = np.random.default_rng(0)
    cases = [data[:cut] for cut in (0, 10, 40, len(data) // 3, len(data) // 2, len(data) - 30, len(data) - 1)]
    cases += [rng.bytes(5000), b"PK\x03\x04" + b"\0" * 100, b"not a zip at all\n" * 50]
    for i, content in enumerate(cases):
        bad.write_bytes(content)
        with pytest.raises(FormatError) as info:
            LOADERS[kind](bad)
        assert str(bad) in str(info.value), (i, info.value)
    with pytest.raises(FileNotFoundError):
        LOADERS[kind](tmp_path / "missing.fv")
    with pytest.raises(IsADirectoryError):
        LOADERS[kind](tmp_path)


@pytest.mark.parametrize("kind", sorted(LOADERS))
def test_wrong_kind_missing_members_pickles_and_object_arrays(tmp_path, saved, kind):
    path, meta, arrays = saved[kind]
    other = "glove" if kind == "cooccurrence" else "cooccurrence"
    bad = tmp_path / "bad.fv"
    with pytest.raises(FormatError, match=f"holds a '{other}'"):
        LOADERS[kind](saved[other][0])
    for member in arrays:
        save_container(bad, kind, meta, {k: v for k, v in arrays.items() if k != member})
        with pytest.raises(FormatError, match=f"missing array member.*{member}"):
            LOADERS[kind](bad)
    header = json.dumps({"format": "fastvec", "kind": kind, "version": 1, **meta}).encode()
    members = {"meta.json": header, **{f"{k}.npy": _npy(v) for k, v in arrays.items()}}
    with zipfile.ZipFile(bad, "w") as zf:                 # a pickle beside the arrays
        for name, content in {**members, "evil.pkl": b"cos\nsystem\n(S'true'\ntR."}.items():
            zf.writestr(name, content)
    with pytest.raises(FormatError, match="unexpected member 'evil.pkl'"):
        LOADERS[kind](bad)
    # an object array whose unpickling would create a file: refused from its header, never unpickled
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    victim = next(iter(k for k in arrays if k != "counts"))
    with zipfile.ZipFile(bad, "w") as zf:
        for name, content in {**members, f"{victim}.npy": _npy(np.array([Evil()], dtype=object))}.items():
            zf.writestr(name, content)
    with pytest.raises(FormatError, match="non-numeric dtype"):
        LOADERS[kind](bad)
    assert not marker.exists()


COOC_BAD = {
    "indptr decreases": (dict(indptr=lambda a: np.r_[a["indptr"][:1], a["indptr"][2:3] + 1, a["indptr"][2:]]),
                         "indptr"),
    "indptr does not start at 0": (dict(indptr=lambda a: a["indptr"][::-1].copy()), "invalid co-occurrence"),
    "indptr too short": (dict(indptr=lambda a: a["indptr"][:-1]), "do not fit the vocabulary"),
    "indptr 2-D": (dict(indptr=lambda a: a["indptr"].reshape(1, -1)), "do not fit the vocabulary"),
    "column out of range": (dict(indices=lambda a: a["indices"] + 10**6), "column indices must lie"),
    "negative column": (dict(indices=lambda a: a["indices"] - 10**6), "column indices must lie"),
    "NaN count": (dict(data=lambda a: np.r_[np.float32(np.nan), a["data"][1:]]), "finite and >= 0"),
    "negative count": (dict(data=lambda a: -a["data"]), "finite and >= 0"),
    "float64 data": (dict(data=lambda a: a["data"].astype(np.float64)), "float32 data"),
    "int64 indices": (dict(indices=lambda a: a["indices"].astype(np.int64)), "int32 indices"),
    "data shorter than indices": (dict(data=lambda a: a["data"][:-1]), "do not fit the vocabulary"),
    "counts of another length": (dict(counts=lambda a: a["counts"][:-1]), "one count per word"),
    "negative word counts": (dict(counts=lambda a: -a["counts"]), "non-negative"),
    "window -3": (dict(window=-3), "window"),
    "window 'x'": (dict(window="x"), "window"),
    "unknown weighting": (dict(weighting="gaussian"), "weighting"),
    "symmetric 'no'": (dict(symmetric="no"), "symmetric"),
    "words not a list": (dict(words="abc"), "list of strings"),
    "duplicate words": (dict(words=lambda m: [m["words"][0]] * len(m["words"])), "distinct"),
}


def _changed(meta: dict, arrays: dict, change: dict) -> tuple[dict, dict]:
    """Copies of a saved file's metadata and arrays with ``change`` applied: each key (an array
    name, else a metadata field) is deleted (None), computed from its container (a callable)
    or replaced."""
    meta, arrays = dict(meta), dict(arrays)
    for key, value in change.items():
        target = arrays if key in arrays else meta
        if value is None:
            del target[key]
        else:
            target[key] = value(target) if callable(value) else value
    return meta, arrays


def _assert_changed_file_refused(bad, saved, kind: str, change: dict, match: str, *loaders) -> None:
    """Save the ``kind`` file of ``saved`` with ``change`` applied as ``bad``; every loader must
    refuse it with a FormatError matching ``match`` that names the file."""
    _, meta, arrays = saved[kind]
    save_container(bad, kind, *_changed(meta, arrays, change))
    for load in loaders:
        with pytest.raises(FormatError, match=match) as info:
            load(bad)
        assert str(bad) in str(info.value)


@pytest.mark.parametrize("case", sorted(COOC_BAD))
def test_cooccurrence_file_with_inconsistent_content(tmp_path, saved, case):
    _assert_changed_file_refused(tmp_path / "bad.npz", saved, "cooccurrence", *COOC_BAD[case],
                                 lambda p: Cooccurrence.load(p, mmap=False), lambda p: Cooccurrence.load(p, mmap=True))


def _state_set(rows, lane, value):
    """A change of the saved GloVe state: state[rows, lane] = value (lanes of the layout at the
    top of fastvec/_glove.pxi; SMALL's vector_size d, its dpad the half of a row)."""
    def change(a):
        state = a["state"].copy()
        d, dpad = SMALL["vector_size"], state.shape[1] // 2
        state[rows, {"word constant": d + 1, "context constant": d, "padding": d + 2,
                     "gradsq": dpad + 3, "gradsq bias": dpad + d}[lane]] = value
        return state
    return change


GLOVE_BAD_FILES = {
    # the state's own invariants: trained garbage or a "learning rate too high" divergence
    "word constant lane 0": (dict(state=_state_set(0, "word constant", 0.0)), "constant lane"),
    "context constant lane 2": (dict(state=_state_set(-1, "context constant", 2.0)), "constant lane"),
    "padding lane 3": (dict(state=_state_set(slice(None), "padding", 3.0)), "padding lane"),
    "squared-gradient sums 0": (dict(state=_state_set(slice(None), "gradsq", 0.0)), "squared-gradient"),
    "squared-gradient sum -1": (dict(state=_state_set(5, "gradsq bias", -1.0)), "squared-gradient"),
    "state one row short": (dict(state=lambda a: a["state"][:-1]), "state must be float32 of shape"),
    "state float64": (dict(state=lambda a: a["state"].astype(np.float64)), "state must be float32"),
    "state with NaN": (dict(state=lambda a: np.where(np.arange(a["state"].size).reshape(a["state"].shape) == 0,
                                                     np.float32(np.nan), a["state"])), "NaN or infinite"),
    "vector_size disagrees with state": (dict(params=lambda m: {**m["params"], "vector_size": 999}), "state"),
    "invalid parameter": (dict(params=lambda m: {**m["params"], "x_max": -1.0}), "invalid model parameters"),
    "unknown parameter": (dict(params=lambda m: {**m["params"], "evil": 1}), "unknown model parameters"),
    "parameters not a dict": (dict(params=[1, 2]), "model parameters"),
    "unknown tokenizer": (dict(params=lambda m: {**m["params"], "tokenizer": "os.system"}), "tokenizer"),
    "schedule missing": (dict(schedule=None), "schedule"),
    "schedule done < 0": (dict(schedule={"epochs": 2, "done": -5}), "schedule"),
    "schedule done > epochs": (dict(schedule={"epochs": 2, "done": 3}), "schedule"),
    "schedule of booleans": (dict(schedule={"epochs": True, "done": False}), "schedule"),
    "epochs_trained 'x'": (dict(epochs_trained="x"), "epochs_trained"),
    "epochs_trained negative": (dict(epochs_trained=-4), "epochs_trained"),
    "epochs_trained a list": (dict(epochs_trained=[1]), "epochs_trained"),
    "seed 'x'": (dict(seed_="x"), "seed_"),
    "seed 1.5": (dict(seed_=1.5), "seed_"),
    "seed negative": (dict(seed_=-1), "seed_"),
    "seed above 64 bits": (dict(seed_=2**70), "seed_"),
    "loss_history of strings": (dict(loss_history=["x"]), "loss_history"),
    "loss_history a number": (dict(loss_history=5), "loss_history"),
    "history a number": (dict(history=5), "history"),
    "history a string": (dict(history="abc"), "history"),
    "train_seconds 'x'": (dict(train_seconds="x"), "train_seconds"),
    "pairs_per_second a dict": (dict(pairs_per_second={}), "pairs_per_second"),
}


@pytest.mark.parametrize("case", sorted(GLOVE_BAD_FILES))
def test_glove_file_with_inconsistent_content(tmp_path, saved, case):
    _assert_changed_file_refused(tmp_path / "bad.fv", saved, "glove", *GLOVE_BAD_FILES[case], GloVe.load)


# -- atomic writes --------------------------------------------------------------------------------

def _fail_midway(monkeypatch):
    """Make the array writer of native files write part of an array, then fail (disk full)."""
    original = np.lib.format.write_array
    calls = []

    def write_array(fp, array, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            fp.write(b"\x93NUMPY partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(fp, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", write_array)


def _fail_at_fsync(monkeypatch):
    """Every byte written, then the flush to disk fails."""
    def fsync(fd):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", fsync)


# native files fail midway (inside the .npy writer) or at the flush; the text and binary
# vector writers do not use the .npy writer, so they fail at the flush
SAVE_FAILURES = [(what, _fail_midway) for what in ("glove", "cooccurrence", "native vectors")] + [
    (what, _fail_at_fsync) for what in ("glove", "cooccurrence", "native vectors", "text vectors",
                                        "binary vectors", "glove text vectors")]


@pytest.mark.parametrize("what,fail", SAVE_FAILURES, ids=[f"{w}-{f.__name__[1:]}" for w, f in SAVE_FAILURES])
def test_failed_save_keeps_the_previous_file(tmp_path, monkeypatch, cooc, what, fail):
    model = GloVe(**SMALL).fit(cooc)
    save = {
        "glove": model.save, "cooccurrence": cooc.save, "native vectors": model.wv.save,
        "text vectors": model.wv.save_word2vec_format, "glove text vectors": model.wv.save_glove_format,
        "binary vectors": lambda p: model.wv.save_word2vec_format(p, binary=True),
    }[what]
    target = tmp_path / "out.file"
    save(target)
    before = target.read_bytes()
    with monkeypatch.context() as m:
        fail(m)
        with pytest.raises(OSError, match="No space left|Input/output"):
            save(target)
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["out.file"]       # no temporary file left behind


# -- the command line -----------------------------------------------------------------------------

CLI_CORPORA = {
    "empty": b"", "whitespace": b"   \n\t\n  \r\n", "rare words": b"each word here occurs once only\n",
    "binary": bytes(range(256)) * 64, "nul bytes": b"\x00" * 5000,
}


@pytest.mark.parametrize("model", ["glove", "ppmi-svd"])
@pytest.mark.parametrize("name", sorted(CLI_CORPORA) + ["missing", "directory"])
def test_cli_bad_corpora_give_one_line(capsys, tmp_path, model, name):
    path = tmp_path / "corpus.txt"
    if name == "directory":
        path = tmp_path
    elif name != "missing":
        path.write_bytes(CLI_CORPORA[name])
    code, out, err = run(capsys, "train", str(path), "--model", model, "-q")
    assert code == 1 and err.startswith("fastvec: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv,message", [
    (["--model", "glove", "--eta", "1e30", "--epochs", "2"], "diverged in epoch 1: the loss became NaN"),
    (["--model", "glove", "--eta", "1000", "--epochs", "2"], "diverged in epoch 1: the mean loss"),
    (["--model", "glove", "--eta", "0"], "--eta must be > 0"),
    (["--model", "ppmi-svd", "--dim", "100000"], "must be smaller than the vocabulary"),
    (["--model", "glove", "--checkpoint-every", "1"], "--checkpoint-every needs --checkpoint"),
    (["--model", "ppmi-svd", "--checkpoint", "c.fv"], "--checkpoint"),
])
def test_cli_bad_settings_give_one_line(capsys, tmp_path, small_text, argv, message):
    code, out, err = run(capsys, "train", small_text, "--min-count", "2", "--dim", "8", "--threads", "1", "-q",
                         "-o", str(tmp_path / "v.bin"), *argv)
    assert code == 1 and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "v.bin").exists() and not (tmp_path / "c.fv").exists()


@pytest.mark.parametrize("model", ["glove", "ppmi-svd"])
def test_cli_warns_once_about_too_many_threads(capsys, small_text, model):
    epochs = ["--epochs", "1"] if model == "glove" else []
    code, out, err = run(capsys, "train", small_text, "--model", model, "--threads", "999", *epochs,
                         "--min-count", "2", "--dim", "4", "--window", "2", "-q")
    assert code == 0 and err.count("\n") == 1 and err.startswith("fastvec: warning: --threads=999"), err


@pytest.mark.parametrize("argv", [
    ["--x-max", "0"], ["--x-max", "-1"], ["--x-max", "nan"], ["--x-max", "inf"], ["--alpha", "-1"],
    ["--alpha", "x"], ["--dim", "0"], ["--window", "0"], ["--epochs", "0"], ["--threads", "0"], ["--min-count", "x"],
])
def test_cli_usage_errors(capsys, argv):
    with pytest.raises(SystemExit) as e:
        main(["train", "x.txt", "--model", "glove", *argv])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1 and "error:" in err and "Traceback" not in err


def test_cli_output_over_an_existing_file_fails_cleanly(capsys, tmp_path, small_text, monkeypatch):
    target = tmp_path / "v.txt"
    target.write_text("previous\n")
    with monkeypatch.context() as m:
        _fail_at_fsync(m)
        code, out, err = run(capsys, "train", small_text, "--model", "glove", "--epochs", "1", "--min-count", "2",
                             "--dim", "4", "--threads", "1", "-q", "-o", str(target), "--format", "txt")
    assert code == 1 and err.count("\n") == 1 and "Input/output error" in err
    assert target.read_text() == "previous\n" and os.listdir(tmp_path) == ["v.txt"]
