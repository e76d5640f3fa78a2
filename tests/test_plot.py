"""fastvec.plot: every figure is a valid, non-empty PNG written atomically; the `fastvec plot` command."""
from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

import fastvec

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.image import imread  # noqa: E402

from fastvec import plot  # noqa: E402
from fastvec.cli import main  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
WORDS = ["king", "queen", "man", "woman", "paris", "france", "berlin", "germany", "water", "music"]


def assert_png(path, min_side=100):
    data = open(path, "rb").read()
    assert data[:8] == PNG_MAGIC and len(data) > 2000
    image = imread(path)
    assert image.ndim == 3 and min(image.shape[:2]) >= min_side
    assert image[..., :3].std() > 0.01  # not a blank canvas
    leftovers = [f for f in os.listdir(os.path.dirname(path)) if f.endswith(".tmp")]
    assert leftovers == []


@pytest.fixture(scope="module")
def kv(sg_model):
    return sg_model.wv


def test_projection_pca(kv, tmp_path):
    path = tmp_path / "pca.png"
    fig = plot.plot_projection(kv, WORDS, path=path)
    assert isinstance(fig, Figure)
    assert_png(path)
    labels = {t.get_text() for t in fig.axes[0].texts}
    assert labels == set(WORDS)
    offsets = fig.axes[0].collections[0].get_offsets()
    assert offsets.shape == (len(WORDS), 2)
    assert not (tmp_path / "none.png").exists()
    assert isinstance(plot.plot_projection(kv.vectors[:30]), Figure)  # bare arrays: rows labelled by index


def test_projection_tsne(kv, tmp_path):
    pytest.importorskip("sklearn")
    path = tmp_path / "tsne.png"
    fig = plot.plot_projection(kv, WORDS, method="tsne", seed=1, path=path)
    assert_png(path)
    assert fig.axes[0].collections[0].get_offsets().shape == (len(WORDS), 2)


def test_tsne_without_scikit_learn_says_what_to_install(kv, monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.manifold", None)
    with pytest.raises(ImportError, match="scikit-learn"):
        plot.plot_projection(kv, WORDS, method="tsne")


@pytest.mark.parametrize("vectors", [np.ones((10, 4)), np.zeros((6, 3)), np.arange(1, 6)[:, None] * np.ones((5, 3))])
def test_tsne_of_identical_points_is_an_error_not_a_crash(vectors):
    # scikit-learn's t-SNE killed the interpreter (SIGSEGV) on points that are all equal; with
    # normalize, parallel vectors are equal too (the third case)
    with pytest.raises(ValueError, match="not all the same"):
        plot.plot_projection(vectors, method="tsne")


def test_heatmap(kv, tmp_path):
    path = tmp_path / "heat.png"
    fig = plot.plot_similarity_heatmap(kv, WORDS[:6], path=path)
    assert_png(path)
    data = fig.axes[0].images[0].get_array()
    assert data.shape == (6, 6)
    assert data[0, 1] == pytest.approx(kv.similarity("king", "queen"), abs=1e-5)
    assert len(fig.axes[0].texts) == 36  # values written in the cells


def test_analogy_parallelogram(kv, tmp_path):
    path = tmp_path / "analogy.png"
    fig = plot.plot_analogy(kv, [("man", "woman"), ("king", "queen")], path=path)
    assert_png(path)
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert all(w in texts for w in ("man", "woman", "king", "queen"))
    legend = fig.axes[0].get_legend().get_texts()[0].get_text()
    assert legend.startswith("king - man + woman (nearest word: ")
    arrows = [t for t in fig.axes[0].texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == 2  # man -> woman, king -> queen
    with pytest.raises(ValueError, match="pairs"):
        plot.plot_analogy(kv, [("man", "woman")])
    with pytest.raises(TypeError, match="KeyedVectors"):
        plot.plot_analogy(kv.vectors)
    # one dimension: the second axis is zero; three words: no fourth to complete the analogy
    line = fastvec.KeyedVectors(["man", "woman", "king", "queen"], np.array([[1.0], [2.0], [3.0], [4.5]]))
    assert isinstance(plot.plot_analogy(line), Figure)
    three = fastvec.KeyedVectors(["man", "woman", "king"], np.eye(3))
    with pytest.raises(ValueError, match="no word besides"):
        plot.plot_analogy(three, [("man", "woman"), ("king", "man")])


def test_spectrum(kv, tmp_path):
    from fastvec.analysis import all_but_the_top
    path = tmp_path / "spectrum.png"
    fig = plot.plot_spectrum({"raw": kv, "all-but-the-top": all_but_the_top(kv, 2)}, path=path)
    assert_png(path)
    assert len(fig.axes[0].lines) == 4  # two spectra and their power-law fits
    assert isinstance(plot.plot_spectrum(kv.vectors, center=True, fit=False), Figure)
    with pytest.raises(ValueError, match="no spectrum"):
        plot.plot_spectrum(np.zeros((5, 3)))


def test_distance_concentration_curve(kv, tmp_path):
    path = tmp_path / "conc.png"
    fig = plot.plot_distance_concentration((2, 10, 100), n=100, points={"sg": kv}, path=path)
    assert_png(path)
    contrast = fig.axes[0].lines[0].get_ydata()
    assert len(contrast) == 3 and contrast[0] > contrast[1] > contrast[2]
    # two equal vectors: infinite relative contrast, not drawn and not in the legend; spread still is
    fig = plot.plot_distance_concentration((2, 10), n=10, points={"dup": np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 1.0]])})
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "dup: spread" in labels and "dup: relative contrast" not in labels


def test_training_curves(tmp_path):
    history = [{"epoch": e, "loss": 3.0 / e, "analogy_accuracy": 0.1 * e, "analogy_semantic": 0.08 * e,
                "analogy_syntactic": 0.12 * e, "wordsim353_spearman": 0.5 + 0.01 * e,
                "simlex999_spearman": 0.2 + 0.01 * e} for e in range(1, 6)]
    path = tmp_path / "train.png"
    fig = plot.plot_training_curves(history, path=path)
    assert_png(path)
    assert len(fig.axes) == 3
    assert list(fig.axes[0].lines[0].get_ydata()) == [h["loss"] for h in history]
    loss_only = plot.plot_training_curves([{"epoch": 1, "loss": 2.0}, {"epoch": 2, "loss": 1.5}])
    assert len(loss_only.axes) == 1
    with pytest.raises(ValueError, match="empty"):
        plot.plot_training_curves([])


def test_writes_are_atomic_and_replace(kv, tmp_path):
    path = tmp_path / "fig.png"
    path.write_bytes(b"old")
    plot.plot_spectrum(kv, path=path)
    assert_png(path)
    with pytest.raises(FileNotFoundError, match="output directory does not exist"):
        plot.plot_spectrum(kv, path=tmp_path / "missing" / "fig.png")


def test_missing_matplotlib_says_what_to_install(kv, monkeypatch):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r"pip install matplotlib \(the plot extra of fastvec\)"):
        plot.plot_spectrum(kv)


def test_cli_plot(capsys, tmp_path, sg_model):
    vectors = tmp_path / "v.bin"
    sg_model.wv.save_word2vec_format(vectors, binary=True)
    for kind, extra in [("projection", ["--words", *WORDS]), ("heatmap", ["--words", *WORDS[:5]]),
                        ("analogy", []), ("spectrum", ["--center"]), ("concentration", [])]:
        out = tmp_path / f"{kind}.png"
        assert main(["plot", str(vectors), "--kind", kind, "-o", str(out), *extra]) == 0, capsys.readouterr().err
        assert_png(out)
    model_path = tmp_path / "model.fv"
    sg_model.save(model_path)
    assert main(["plot", str(model_path), "--kind", "training", "-o", str(tmp_path / "t.png")]) == 0
    assert_png(tmp_path / "t.png")
    history = tmp_path / "history.json"
    history.write_text(json.dumps(sg_model.history_))
    assert main(["plot", str(history), "--kind", "training", "-o", str(tmp_path / "t2.png")]) == 0
    assert_png(tmp_path / "t2.png")
    capsys.readouterr()
    for argv, message in [
        (["--kind", "heatmap", "-o", str(tmp_path / "x.png"), "--words", "king", "notaword"], "not in the vocabulary"),
        (["--kind", "analogy", "-o", str(tmp_path / "x.png"), "--words", "man", "woman", "king"], "pairs of words"),
        (["--kind", "spectrum", "-o", str(tmp_path / "x.jpg")], "ending in .png"),
        (["--kind", "spectrum", "-o", str(tmp_path / "no" / "x.png")], "output directory does not exist"),
        (["--kind", "training", "-o", str(tmp_path / "x.png")], "needs a saved model"),
        ([str(tmp_path / "empty.json"), "--kind", "training", "-o", str(tmp_path / "x.png")], "no per-epoch"),
    ]:
        (tmp_path / "empty.json").write_text("{}")
        argv = argv if argv[0] != "--kind" else [str(vectors), *argv]
        assert main(["plot", *argv]) == 1
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
