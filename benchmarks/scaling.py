#!/usr/bin/env python
"""Why word2vec training scales the way it does from 1 to 2 threads (benchmarks/RESULTS.md).

Three experiments, each one epoch on a pre-encoded corpus (default: wiki17m), printed as
Markdown tables:

    python benchmarks/scaling.py processes   # 1 thread alone, 2 single-thread processes at once, 2 threads
    python benchmarks/scaling.py hot         # settings without hot rows (uniform noise, strong subsampling)
    python benchmarks/scaling.py hot_rows    # Word2Vec(hot_rows=...) interleaved with hot_rows=0

Two independent processes share the cores, caches and memory but not the weights; two threads
of one process also share the weights (Hogwild). The gap between the two is the cost of
moving the rows both threads write between the cores.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def epoch_seconds(corpus, **params) -> float:
    import fastvec
    model = fastvec.Word2Vec(epochs=1, seed=1, progress=False, **params).fit(corpus)
    return model.history_[-1]["seconds"]


def child(args) -> int:
    """One epoch in this process (used by the `processes` experiment)."""
    import fastvec
    corpus = fastvec.Corpus.load(args.cached)
    print(epoch_seconds(corpus, sg=args.job == "sg", workers=1))
    return 0


def processes(args, corpus) -> None:
    print("| job | 1 process, 1 thread | 2 processes, 1 thread each | 1 process, 2 threads | in-process speed-up |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        cached = str(Path(tmp) / "corpus")
        corpus.save(cached)
        for job in args.jobs.split(","):
            one = epoch_seconds(corpus, sg=job == "sg", workers=1)
            cmd = [sys.executable, __file__, "--child", "--job", job, "--cached", cached]
            procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(2)]
            pair = [float(p.communicate()[0].split()[-1]) for p in procs]
            two = epoch_seconds(corpus, sg=job == "sg", workers=2)
            print(f"| {job} | {one:.2f} s | {pair[0]:.2f} s, {pair[1]:.2f} s | {two:.2f} s | {one / two:.2f}x |",
                  flush=True)


def hot(args, corpus) -> None:
    settings = {"default": {}, "uniform noise (ns_exponent 0)": {"ns_exponent": 0.0},
                "sample 1e-5": {"sample": 1e-5}, "both": {"ns_exponent": 0.0, "sample": 1e-5}}
    print("| job | setting | 1 thread | 2 threads | speed-up |")
    print("|---|---|---|---|---|")
    for job in args.jobs.split(","):
        for label, kw in settings.items():
            one = epoch_seconds(corpus, sg=job == "sg", workers=1, **kw)
            two = epoch_seconds(corpus, sg=job == "sg", workers=2, **kw)
            print(f"| {job} | {label} | {one:.2f} s | {two:.2f} s | {one / two:.2f}x |", flush=True)


def hot_rows(args, corpus) -> None:
    print(f"| job | kernel | 1 thread | hot_rows 0, 2 threads (median of {args.rounds}) | "
          f"hot_rows {args.hot_rows}, 2 threads (median of {args.rounds}) |")
    print("|---|---|---|---|---|")
    for job in args.jobs.split(","):
        for kernel in ("classic", "batched"):
            kw = dict(sg=job == "sg", kernel=kernel)
            one = epoch_seconds(corpus, workers=1, **kw)
            off, on = [], []
            for _ in range(args.rounds):  # interleaved: the machine's slow moments hit both
                off.append(epoch_seconds(corpus, workers=2, hot_rows=0, **kw))
                on.append(epoch_seconds(corpus, workers=2, hot_rows=args.hot_rows, **kw))
            a, b = statistics.median(off), statistics.median(on)
            print(f"| {job} | {kernel} | {one:.2f} s | {a:.2f} s ({one / a:.2f}x) | {b:.2f} s ({one / b:.2f}x) |",
                  flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("experiment", nargs="?", choices=["processes", "hot", "hot_rows"], default="processes")
    p.add_argument("--corpus", help="text corpus (default: wiki17m)")
    p.add_argument("--jobs", default="cbow,sg")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--hot-rows", type=int, default=1024)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--job", help=argparse.SUPPRESS)
    p.add_argument("--cached", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return child(args)

    import fastvec
    from datasets import wiki17m
    corpus = fastvec.Corpus.build(args.corpus or str(wiki17m()), min_count=5)
    {"processes": processes, "hot": hot, "hot_rows": hot_rows}[args.experiment](args, corpus)
    return 0


if __name__ == "__main__":
    sys.exit(main())
