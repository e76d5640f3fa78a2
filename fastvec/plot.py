"""Figures of an embedding space (optional: ``pip install fastvec[plot]`` for matplotlib).

Every function builds a new matplotlib ``Figure`` on the Agg canvas (no display, no pyplot
global state, safe in scripts, servers and notebooks), writes it as a PNG to ``path``
atomically when a path is given, and returns the Figure. Vectors are KeyedVectors or 2-D
arrays, as in :mod:`fastvec.analysis`.
"""
from __future__ import annotations

import io
import math
import os
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from fastvec import analysis
from fastvec._base import check_float, check_int
from fastvec._io import atomic_write, check_output_path
from fastvec.keyedvectors import KeyedVectors

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_analogy", "plot_distance_concentration", "plot_projection", "plot_similarity_heatmap",
           "plot_spectrum", "plot_training_curves"]


_INSTALL_HINT = "pip install matplotlib (the plot extra of fastvec)"


def _figure(width: float = 6.4, height: float = 4.8):
    """A new Figure with an Agg canvas; a clear ImportError when matplotlib is missing."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError(f"fastvec's plots need matplotlib, which is not installed: {_INSTALL_HINT}") from e
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _check_path(path: Any) -> str | None:
    if path is None:
        return None
    path = os.fspath(path)
    check_output_path(path)
    return path


def _finish(fig, path: str | None, dpi: int):
    if path is not None:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi)
        with atomic_write(path, "wb") as f:
            f.write(buffer.getvalue())
    return fig


def _labelled_rows(W: Any, words: Sequence[Any] | None, default: int = 40) -> tuple[np.ndarray, list[str]]:
    """Chosen rows (float64) and their labels: words for KeyedVectors, row numbers for arrays."""
    W = analysis._keyed(W)
    arr = analysis._matrix(W)
    if words is None:
        words = list(W.index_to_key[:default]) if isinstance(W, KeyedVectors) else list(range(min(default, len(arr))))
    rows = analysis._rows(W, arr, words)
    labels = [str(w) for w in words]
    return np.asarray(arr[rows], dtype=np.float64), labels


def _pca2(x: np.ndarray) -> np.ndarray:
    """Coordinates on the two leading principal axes (zeros if there is no variance)."""
    x = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    return _two_columns(x @ vt[:2].T)


def _two_columns(coords: np.ndarray) -> np.ndarray:
    """Plane coordinates: a missing second axis (1-D vectors, one point) is filled with zeros."""
    if coords.shape[1] < 2:
        coords = np.column_stack([coords, np.zeros((len(coords), 2 - coords.shape[1]))])
    return coords


def _tsne2(x: np.ndarray, seed: int, perplexity: float | None) -> np.ndarray:
    if len(x) < 4:
        raise ValueError(f"t-SNE needs at least 4 points, got {len(x)}")
    # equal points (up to rounding): scikit-learn's t-SNE crashes the interpreter on them
    if np.ptp(x, axis=0).max() <= 1e-9 * np.abs(x).max():
        raise ValueError(f"t-SNE needs points that are not all the same: the {len(x)} chosen vectors are equal"
                         " (after scaling to unit length, with normalize)")
    try:
        from sklearn.manifold import TSNE
    except ImportError as e:
        raise ImportError("method='tsne' needs scikit-learn, which is not installed: pip install scikit-learn "
                          "(or use method='pca')") from e
    if perplexity is None:
        perplexity = min(30.0, (len(x) - 1) / 3.0)
    perplexity = check_float("perplexity", perplexity, 0.0, len(x) - 1, low_open=True, high_open=True)
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x)


def plot_projection(W: Any, words: Sequence[Any] | None = None, *, method: str = "pca", normalize: bool = True,
                    seed: int = 0, perplexity: float | None = None, title: str | None = None,
                    path: str | os.PathLike | None = None, dpi: int = 100) -> "Figure":
    """Scatter the chosen words (default: the 40 first rows) in 2-D, each point labelled.

    ``method="pca"`` projects on the two leading principal axes of the chosen vectors (unit
    length first if ``normalize``, so the picture reflects cosine similarity);
    ``method="tsne"`` runs scikit-learn's t-SNE (``perplexity`` default min(30, (m - 1) / 3))."""
    if method not in ("pca", "tsne"):
        raise ValueError(f"method must be 'pca' or 'tsne', not {method!r}")
    path = _check_path(path)
    x, labels = _labelled_rows(W, words)
    if len(x) < 2:
        raise ValueError(f"a projection needs at least 2 words, got {len(x)}")
    if normalize:
        x = analysis._unit_rows(x)
    coords = _pca2(x) if method == "pca" else _tsne2(x, check_int("seed", seed, 0), perplexity)
    fig = _figure(7.0, 5.6)
    ax = fig.add_subplot()
    ax.scatter(coords[:, 0], coords[:, 1], s=14, color="tab:blue")
    for (px, py), label in zip(coords, labels):
        ax.annotate(label, (px, py), xytext=(3, 3), textcoords="offset points", fontsize=8)
    ax.set_title(title or f"{'PCA' if method == 'pca' else 't-SNE'} projection of {len(x)} words")
    if method == "pca":
        ax.set_xlabel("PC 1")
        ax.set_ylabel("PC 2")
    return _finish(fig, path, dpi)


def plot_similarity_heatmap(W: Any, words: Sequence[Any] | None = None, *, annotate: bool | None = None,
                            title: str | None = None, path: str | os.PathLike | None = None, dpi: int = 100) -> "Figure":
    """Cosine similarity of every pair of the chosen words as a heat map (-1 blue ... +1 red).

    ``annotate`` writes the values in the cells (default: when there are at most 12 words)."""
    path = _check_path(path)
    x, labels = _labelled_rows(W, words, default=20)
    sims = analysis.cosine_similarity_matrix(x)
    m = len(labels)
    size = min(9.0, 3.0 + 0.3 * m)
    fig = _figure(size + 1.0, size)
    ax = fig.add_subplot()
    image = ax.imshow(sims, cmap="RdBu_r", vmin=-1.0, vmax=1.0)
    ax.set_xticks(range(m), labels, rotation=90, fontsize=8)
    ax.set_yticks(range(m), labels, fontsize=8)
    if annotate if annotate is not None else m <= 12:
        for i in range(m):
            for j in range(m):
                ax.text(j, i, f"{sims[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if abs(sims[i, j]) > 0.6 else "black")
    fig.colorbar(image, ax=ax, label="cosine similarity", shrink=0.8)
    ax.set_title(title or "cosine similarity")
    return _finish(fig, path, dpi)


def plot_analogy(kv: KeyedVectors, pairs: Sequence[tuple[str, str]] = (("man", "woman"), ("king", "queen")), *,
                 title: str | None = None, path: str | os.PathLike | None = None, dpi: int = 100) -> "Figure":
    """The analogy parallelogram: for each pair (a, b) an arrow a -> b, in the PCA plane of the
    words' unit vectors; dashed lines join consecutive pairs (man -> king, woman -> queen).

    The figure also marks the 3CosAdd point of the first two pairs (A1, B1), (A2, B2), that
    is A2 - A1 + B1 (king - man + woman for the default pairs), and names its nearest word:
    the parallelogram is closed when that word is B2 (queen)."""
    kv = analysis._keyed(kv)
    if not isinstance(kv, KeyedVectors):
        raise TypeError("plot_analogy needs KeyedVectors (words), not a bare array")
    path = _check_path(path)
    pairs = [tuple(p) for p in pairs]
    if len(pairs) < 2 or any(len(p) != 2 or not all(isinstance(w, str) for w in p) for p in pairs):
        raise ValueError("pairs must be at least two (word, word) pairs, e.g. [('man', 'woman'), ('king', 'queen')]")
    words = [w for p in pairs for w in p]
    unit = analysis._unit_rows(np.asarray(kv[words], dtype=np.float64))
    a, b, c = unit[0], unit[1], unit[2]
    offset = c - a + b  # king - man + woman, for pairs (man, woman), (king, queen)
    nearest = kv.most_similar(positive=[words[2], words[1]], negative=[words[0]], topn=1)
    if not nearest:
        raise ValueError(f"no word besides {words[0]!r}, {words[1]!r} and {words[2]!r} to complete the analogy")
    answer = nearest[0]
    center = unit.mean(axis=0)
    _, _, vt = np.linalg.svd(unit - center, full_matrices=False)
    axes = vt[:2]
    coords = _two_columns((unit - center) @ axes.T)
    predicted = _two_columns(((offset - center) @ axes.T)[None, :])[0]
    fig = _figure(6.4, 5.2)
    ax = fig.add_subplot()
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]
    for k in range(len(pairs)):
        (x0, y0), (x1, y1) = coords[2 * k], coords[2 * k + 1]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="->", color=colors[k % len(colors)], lw=2))
        if k:
            for j in (0, 1):
                (px, py), (qx, qy) = coords[2 * (k - 1) + j], coords[2 * k + j]
                ax.plot([px, qx], [py, qy], ls="--", color="grey", lw=1)
    ax.scatter(coords[:, 0], coords[:, 1], color="black", s=18, zorder=3)
    for (px, py), word in zip(coords, words):
        ax.annotate(word, (px, py), xytext=(4, 4), textcoords="offset points", fontsize=10)
    ax.scatter([predicted[0]], [predicted[1]], marker="x", color="tab:red", s=60, zorder=3,
               label=f"{words[2]} - {words[0]} + {words[1]} (nearest word: {answer[0]}, cos {answer[1]:.2f})")
    ax.legend(fontsize=8, loc="best")
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.margins(0.2)
    ax.set_title(title or "analogy: " + ", ".join(f"{p} -> {q}" for p, q in pairs))
    return _finish(fig, path, dpi)


def plot_spectrum(W: Any, *, center: bool = False, fit: bool = True, title: str | None = None,
                  path: str | os.PathLike | None = None, dpi: int = 100) -> "Figure":
    """Eigenvalue spectrum of W^T W (X^T X with ``center``) on log-log axes, as the fraction of
    the total lambda_k / sum lambda, with the power-law fit of each spectrum (``fit``).

    ``W``: vectors, or a mapping label -> vectors to compare several on one plot (e.g. before
    and after post-processing)."""
    path = _check_path(path)
    series = dict(W) if isinstance(W, Mapping) else {"vectors": W}
    if not series:
        raise ValueError("W is an empty mapping; nothing to plot")
    fig = _figure(6.4, 4.6)
    ax = fig.add_subplot()
    for label, matrix in series.items():
        values = analysis.spectrum(matrix, center=center)
        values = values[values > 0]
        if not len(values):
            raise ValueError(f"{'the vectors' if label == 'vectors' else repr(label)} have no spectrum to plot: "
                             f"every eigenvalue is 0 ({'all vectors equal' if center else 'all vectors are zero'})")
        ranks = np.arange(1, len(values) + 1)
        line, = ax.loglog(ranks, values / values.sum(), marker=".", ms=3, lw=1, label=str(label))
        if fit and len(values) >= 2:
            law = analysis.spectrum_power_law(matrix, center=center)
            ax.loglog(ranks, law.scale * ranks ** -law.alpha / values.sum(), ls=":", color=line.get_color(),
                      label=f"{label}: fit alpha = {law.alpha:.2f}")
    ax.set_xlabel("rank k")
    ax.set_ylabel("lambda_k / sum lambda")
    ax.legend(fontsize=8)
    ax.set_title(title or f"spectrum of {'X^T X (centred)' if center else 'W^T W'}")
    return _finish(fig, path, dpi)


def plot_distance_concentration(dims: Sequence[int] = (2, 5, 10, 20, 50, 100, 200, 500, 1000), *, n: int = 500,
                                points: Mapping[str, Any] | None = None, seed: int = 0, title: str | None = None,
                                path: str | os.PathLike | None = None, dpi: int = 100) -> "Figure":
    """Relative contrast (max - min) / min and spread (max - min) / mean of pairwise distances
    between ``n`` Gaussian points, against the dimension d (log-log). ``points`` maps labels to
    vectors (e.g. embeddings) whose values are marked at their own dimension."""
    path = _check_path(path)
    dims = [check_int("dims", d, 1) for d in dims]
    if not dims:
        raise ValueError("dims must name at least one dimension")
    results = [analysis.distance_concentration(d, n, seed=seed) for d in dims]
    fig = _figure(6.4, 4.6)
    ax = fig.add_subplot()
    ax.loglog(dims, [r["relative_contrast"] for r in results], marker="o", label="relative contrast, Gaussian")
    ax.loglog(dims, [r["spread"] for r in results], marker="s", label="spread, Gaussian")
    for k, (label, matrix) in enumerate((points or {}).items()):
        r = analysis.distance_concentration(matrix, n, seed=seed)
        if math.isfinite(r["relative_contrast"]):  # infinite when two of the points coincide
            ax.scatter([r["d"]], [r["relative_contrast"]], marker="*", s=140, zorder=3, color=f"C{k + 2}",
                       label=f"{label}: relative contrast")
        ax.scatter([r["d"]], [r["spread"]], marker="P", s=90, zorder=3, color=f"C{k + 2}", label=f"{label}: spread")
    ax.set_xlabel("dimension d")
    ax.set_ylabel("(max - min) / min   or   (max - min) / mean")
    ax.legend(fontsize=8)
    ax.set_title(title or f"concentration of pairwise distances (n = {n})")
    return _finish(fig, path, dpi)


def _history(history: Any) -> list[dict]:
    if hasattr(history, "history_"):
        history = history.history_
    elif hasattr(history, "history") and not isinstance(history, Mapping):
        history = history.history
    if isinstance(history, (str, bytes, Mapping)) or not all(isinstance(h, Mapping) for h in history):
        raise TypeError("history must be a list of per-epoch dicts, a model with history_, or an EvaluationLog")
    history = list(history)
    if not history:
        raise ValueError("history is empty: nothing to plot")
    return history


def plot_training_curves(history: Any, *, title: str | None = None, path: str | os.PathLike | None = None,
                         dpi: int = 100) -> "Figure":
    """Loss, analogy accuracy and word-pair correlations against the epoch.

    ``history``: ``model.history_``, an :class:`fastvec.callbacks.EvaluationLog` or any list of
    per-epoch dicts with ``epoch`` and ``loss`` (plus ``analogy_*`` and ``*_spearman`` keys
    when they were evaluated). One panel per kind of number present."""
    path = _check_path(path)
    history = _history(history)

    def series(key):
        pts = [(h.get("epoch", i + 1), h[key]) for i, h in enumerate(history)
               if isinstance(h.get(key), (int, float)) and math.isfinite(h[key])]
        return [p[0] for p in pts], [p[1] for p in pts]

    keys = {k for h in history for k in h}
    analogy_keys = [k for k in ("analogy_accuracy", "analogy_semantic", "analogy_syntactic") if k in keys]
    pair_keys = sorted(k for k in keys if k.endswith("_spearman"))
    panels = [("loss", ["loss"])] if "loss" in keys else []
    if analogy_keys:
        panels.append(("analogy accuracy (%)", analogy_keys))
    if pair_keys:
        panels.append(("Spearman correlation", pair_keys))
    if not panels:
        raise ValueError("history has no loss, analogy or word-pair numbers to plot")
    fig = _figure(4.2 * len(panels), 3.8)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (ylabel, ks) in zip(axes, panels):
        for k in ks:
            x, y = series(k)
            if ylabel.startswith("analogy"):
                y = [100 * v for v in y]
            ax.plot(x, y, marker="o", ms=3, label=k.replace("analogy_", "").replace("_spearman", ""))
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel(ylabel)
        if len(ks) > 1 or ylabel != "loss":
            ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return _finish(fig, path, dpi)
