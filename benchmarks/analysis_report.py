#!/usr/bin/env python
"""Issue 4 measurements on wiki17m: training dynamics, isotropy and post-processing.

    python benchmarks/analysis_report.py                    # train (20 epochs, 2 threads), then analyse
    python benchmarks/analysis_report.py --reuse            # analyse the vectors of an earlier run
    python benchmarks/analysis_report.py --corpus my.txt --epochs 5 --workers 4

1. Training dynamics: skip-gram with the default settings (vector_size 100, window 5,
   negative 5, sample 1e-3, min_count 5, alpha 0.025) for ``--epochs`` epochs with
   ``fastvec.callbacks.EvaluationLog(every=1)``: loss, Google analogies (top 30,000 words,
   3CosAdd, semantic/syntactic), WordSim-353 and SimLex-999 Spearman after every epoch.
2. Geometry of the final vectors before and after ``center``, ``all_but_the_top`` (D = 1, 2, 3,
   5, 10; Mu & Viswanath suggest D ~ d/100) and ZCA whitening: eigenvalue-ratio isotropy,
   partition-function isotropy, average cosine, cone half-angle, participation ratio,
   effective rank, and the same evaluations.
3. Seconds taken by each analysis function on these vectors.
4. Why the per-epoch training loss can rise in the last epochs: on the bundled 1M-token sample
   (``--loss-corpus``), snapshots of the model are saved during a 20-epoch run and each is
   re-scored on the whole corpus with a learning rate of 1e-12 (weights frozen): the "static"
   loss of the weights, next to the "online" loss reported during training.

Prints Markdown tables (also written to ``--markdown``), writes figures (PNG) to
``benchmarks/figures`` and keeps the vectors and the per-epoch history in the cache directory
(``benchmarks/datasets.py``), so that ``--reuse`` skips the training.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

import fastvec  # noqa: E402
from fastvec import analysis as A  # noqa: E402
from fastvec._io import atomic_write  # noqa: E402
from fastvec.callbacks import EvaluationLog  # noqa: E402
from fastvec.evaluation import default_pairs, evaluate_word_analogies, evaluate_word_pairs  # noqa: E402
from machine import describe  # noqa: E402

ABTT_D = (1, 2, 3, 5, 10)
PROJECTION_WORDS = [w for pair in (("france", "paris"), ("germany", "berlin"), ("italy", "rome"),
                                   ("spain", "madrid"), ("russia", "moscow"), ("japan", "tokyo"),
                                   ("china", "beijing"), ("greece", "athens"), ("egypt", "cairo"),
                                   ("poland", "warsaw")) for w in pair]


def static_vs_online_loss(corpus: str, epochs: int, seed: int, workdir: Path) -> str:
    """Per-epoch online loss vs the loss of frozen snapshots, with public API only."""
    snapshots = {}
    marks = sorted({max(1, epochs // 4), epochs // 2, (3 * epochs) // 4, epochs - 3, epochs})

    def snapshot(model, metrics):
        if metrics["epoch"] in marks:
            path = workdir / f"snapshot-{metrics['epoch']}.fv"
            model.save(path)
            snapshots[metrics["epoch"]] = path

    model = fastvec.Word2Vec(epochs=epochs, workers=1, seed=seed, progress=False, callbacks=[snapshot]).fit(corpus)
    rows = ["| after epoch | learning rate at the end of the epoch | online loss (reported while training) | "
            "static loss (frozen weights, one pass) | online - static |", "|---:|---:|---:|---:|---:|"]
    for epoch, path in sorted(snapshots.items()):
        frozen = fastvec.Word2Vec.load(path)
        frozen.alpha = frozen.min_alpha = 1e-12
        frozen.train_more(corpus, epochs=1)
        online, static = model.history_[epoch - 1]["loss"], frozen.loss_history_[-1]
        rows.append(f"| {epoch} | {model.history_[epoch - 1]['alpha']:.5f} | {online:.4f} | {static:.4f} | "
                    f"{online - static:+.4f} |")
        path.unlink()
    return "\n".join(rows)


def machine() -> str:
    return f"{describe()}, NumPy {np.__version__}, fastvec {fastvec.__version__}"


def evaluate(kv) -> dict[str, float]:
    analogy = evaluate_word_analogies(kv)
    pairs = {name: evaluate_word_pairs(kv, path).spearman for name, path in default_pairs().items()}
    return {"analogy": analogy.accuracy, "semantic": analogy.semantic_accuracy,
            "syntactic": analogy.syntactic_accuracy, **pairs}


def train(corpus: str, epochs: int, workers: int, seed: int, cache: Path) -> tuple[fastvec.KeyedVectors, list]:
    log = EvaluationLog(every=1, verbose=True)
    model = fastvec.Word2Vec(epochs=epochs, workers=workers, seed=seed, progress=False, callbacks=[log])
    started = time.perf_counter()
    model.fit(corpus)
    # words/s as the benchmark protocol and compare.py count them: raw corpus tokens (out-of-
    # vocabulary ones included) x epochs / training seconds (the evaluations not included);
    # model.words_per_second_ counts the in-vocabulary tokens the kernels train on
    words_per_second = model.vocabulary_.raw_tokens * epochs / model.train_seconds_
    print(f"trained in {time.perf_counter() - started:.1f} s (training {model.train_seconds_:.1f} s, "
          f"{words_per_second:,.0f} words/s)", file=sys.stderr)
    model.wv.save(cache / "vectors.fv")
    with atomic_write(cache / "history.json", "w", encoding="utf-8") as f:
        json.dump({"history": model.history_, "train_seconds": model.train_seconds_,
                   "words_per_second": words_per_second, "vocabulary": len(model.wv),
                   "epochs": epochs, "workers": workers, "seed": seed, "corpus": corpus}, f, indent=1)
    return model.wv, model.history_


def training_table(history: list) -> str:
    rows = ["| epoch | loss | analogy | semantic | syntactic | WS-353 | SimLex-999 | epoch s | eval s |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for h in history:
        rows.append(f"| {h['epoch']} | {h['loss']:.4f} | {100 * h['analogy_accuracy']:.2f}% | "
                    f"{100 * h['analogy_semantic']:.2f}% | {100 * h['analogy_syntactic']:.2f}% | "
                    f"{h['wordsim353_spearman']:.3f} | {h['simlex999_spearman']:.3f} | {h['seconds']:.1f} | "
                    f"{h['eval_seconds']:.1f} |")
    return "\n".join(rows)


def geometry(kv, removed: int = 0) -> dict[str, float]:
    return {"isotropy": A.isotropy(kv, exclude_smallest=removed), "partition": A.partition_isotropy(kv),
            "avg_cos": A.average_cosine(kv), "cone": A.cone_half_angle(kv),
            "pr": A.intrinsic_dimension(kv), "erank": A.effective_rank(kv)}


def geometry_table(kv) -> tuple[str, dict]:
    d = kv.vector_size
    variants = {"raw vectors": (kv, 0), "center": (A.center(kv), 0)}
    for D in ABTT_D:
        variants[f"all_but_the_top D={D}" + (" (d/100)" if D == max(1, round(d / 100)) else "")] = \
            (A.all_but_the_top(kv, D), D)
    variants["whiten (ZCA)"] = (A.whiten(kv, method="zca"), 0)
    rows = ["| vectors | isotropy (eig. ratio) | partition isotropy | average cosine | cone half-angle | "
            "participation ratio | effective rank | analogy (sem / syn) | WS-353 | SimLex-999 |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, (vectors, removed) in variants.items():
        g, e = geometry(vectors, removed), evaluate(vectors)
        print(f"{name}: {g} {e}", file=sys.stderr)
        rows.append(f"| {name} | {g['isotropy']:.2e} | {g['partition']:.3f} | {g['avg_cos']:.3f} | "
                    f"{g['cone']:.1f} deg | {g['pr']:.1f} | {g['erank']:.1f} | {100 * e['analogy']:.2f}% "
                    f"({100 * e['semantic']:.2f} / {100 * e['syntactic']:.2f}) | {e['wordsim353']:.3f} | "
                    f"{e['simlex999']:.3f} |")
    return "\n".join(rows), {name: v for name, (v, _) in variants.items()}


def timing_table(kv) -> str:
    calls = [
        ("spectrum(W)", lambda: A.spectrum(kv)),
        ("isotropy(W)", lambda: A.isotropy(kv)),
        ("partition_isotropy(W)", lambda: A.partition_isotropy(kv)),
        ("average_cosine(W) (exact)", lambda: A.average_cosine(kv)),
        ("average_cosine(W, sample=100_000)", lambda: A.average_cosine(kv, sample=100_000, seed=0)),
        ("cone_half_angle(W)", lambda: A.cone_half_angle(kv)),
        ("effective_rank(W)", lambda: A.effective_rank(kv)),
        ("center(W)", lambda: A.center(kv)),
        ("all_but_the_top(W, 1)", lambda: A.all_but_the_top(kv, 1)),
        ("whiten(W, method='zca')", lambda: A.whiten(kv, method="zca")),
        ("random_projection(W, 50)", lambda: A.random_projection(kv, 50, seed=0)),
        ("distance_concentration(W, n=1000)", lambda: A.distance_concentration(kv, 1000, seed=0)),
        ("embedding_report(W)", lambda: A.embedding_report(kv)),
    ]
    rows = ["| call | seconds (best of 3) |", "|---|---:|"]
    for name, call in calls:
        best = min(_timed(call) for _ in range(3))
        rows.append(f"| `{name}` | {best:.3f} |")
    return "\n".join(rows)


def _timed(call) -> float:
    t0 = time.perf_counter()
    call()
    return time.perf_counter() - t0


def figures(kv, history: list, variants: dict, out: Path, name: str = "wiki17m") -> list[Path]:
    """The five figures, named and titled after the corpus ``name`` (so that a run on another
    corpus does not replace the committed wiki17m figures)."""
    from fastvec import plot

    out.mkdir(parents=True, exist_ok=True)
    paths = {kind: out / f"analysis_{kind}_{name}.png"
             for kind in ("training", "spectrum", "projection", "analogy", "concentration")}
    plot.plot_training_curves(history, title=f"skip-gram on {name}, {len(history)} epochs", path=paths["training"])
    chosen = {k: v for k, v in variants.items() if k in ("raw vectors", "center") or "(d/100)" in k or "D=3" in k}
    plot.plot_spectrum(chosen, title=f"spectrum of W^T W, {name} skip-gram", path=paths["spectrum"])
    words = [w for w in PROJECTION_WORDS if w in kv]
    plot.plot_projection(kv, words, title=f"countries and capitals (PCA), {name} skip-gram", path=paths["projection"])
    plot.plot_analogy(kv, path=paths["analogy"])
    plot.plot_distance_concentration(points={f"{name} SG": kv, f"{name} SG, unit length": A.normalize(kv)},
                                     path=paths["concentration"])
    return list(paths.values())


def main() -> int:
    from datasets import cache_dir, wiki17m

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", help="text corpus (default: wiki17m)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--reuse", action="store_true", help="analyse the vectors saved by an earlier run")
    p.add_argument("--figures", default=str(HERE / "figures"), help="where to write the PNG figures")
    p.add_argument("--markdown", help="also write the tables to this file")
    p.add_argument("--loss-corpus", help="corpus for the online vs static loss check (default: the bundled sample)")
    p.add_argument("--sections", default="geometry,timing,loss,figures",
                   help="comma-separated parts to run after training (default: all of geometry,timing,loss,figures)")
    args = p.parse_args()
    wanted = set(args.sections.split(","))
    unknown = wanted - {"geometry", "timing", "loss", "figures"}
    if unknown:   # before training: a typo must not cost a training run (nor replace the cached vectors)
        p.error(f"unknown sections: {', '.join(sorted(unknown))}")

    corpus = args.corpus or str(wiki17m())
    cache = cache_dir() / f"analysis-{Path(corpus).stem}-sg{args.epochs}"
    cache.mkdir(parents=True, exist_ok=True)
    if args.reuse:
        kv = fastvec.KeyedVectors.load(cache / "vectors.fv")
        history = json.loads((cache / "history.json").read_text())["history"]
    else:
        kv, history = train(corpus, args.epochs, args.workers, args.seed, cache)
    meta = json.loads((cache / "history.json").read_text())

    sections = [
        f"Command: `{shlex.join(['python', 'benchmarks/analysis_report.py'] + sys.argv[1:])}` "
        f"({datetime.date.today().isoformat()}; {machine()}).",
        f"Skip-gram, default settings, {meta['epochs']} epochs, {meta['workers']} threads, seed {meta['seed']}: "
        f"{meta['vocabulary']:,} words x 100 dimensions, training {meta['train_seconds']:.0f} s "
        f"({meta['words_per_second']:,.0f} words/s; evaluation time not included).",
        "### Training dynamics\n\n" + training_table(history),
    ]
    variants = {}
    if "geometry" in wanted or "figures" in wanted:
        table, variants = geometry_table(kv)
        if "geometry" in wanted:
            sections.append("### Isotropy before and after post-processing\n\n" + table)
    if "timing" in wanted:
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        sections.append(f"### Cost of the analysis functions on these vectors (load average before: {load})\n\n"
                        + timing_table(kv))
    from fastvec.cli import bundled_corpus
    loss_corpus = args.loss_corpus or bundled_corpus()
    if "loss" in wanted:
        if loss_corpus.endswith(".xz"):  # decompress the bundled sample once into the cache
            import lzma
            plain = cache_dir() / "wiki1m.txt"
            if not plain.exists():
                with lzma.open(loss_corpus, "rb") as src, atomic_write(plain, "wb") as dst:
                    dst.write(src.read())
            loss_corpus = str(plain)
        sections.append(f"### Online vs static loss ({Path(loss_corpus).name}, {args.epochs} epochs, 1 thread)\n\n"
                        + static_vs_online_loss(loss_corpus, args.epochs, args.seed, cache))
    if "figures" in wanted:
        name = "wiki17m" if not args.corpus else Path(args.corpus).name.split(".")[0]
        paths = figures(kv, history, variants, Path(args.figures), name)
        sections.append("Figures: " + ", ".join(
            f"`{p.relative_to(HERE.parent) if p.is_relative_to(HERE.parent) else p}`" for p in paths))
    text = "\n\n".join(sections) + "\n"
    print(text)
    if args.markdown:
        with atomic_write(args.markdown, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
