#!/usr/bin/env python
"""Why word2vec training scales the way it does from 1 to 2 threads (benchmarks/RESULTS.md).

Four experiments, each one epoch on a pre-encoded corpus (default: wiki17m), printed as
Markdown tables:

    python benchmarks/scaling.py processes   # 1 thread alone, 2 single-thread processes at once, 2 threads
    python benchmarks/scaling.py hot         # settings without hot rows (uniform noise, strong subsampling)
    python benchmarks/scaling.py hot_rows    # Word2Vec(hot_rows=...) settings, interleaved
    python benchmarks/scaling.py threads     # 2 OpenMP threads vs 2 Python threads on halves of the corpus

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
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def fastvec_model(corpus, **params):
    """One epoch of Word2Vec (seed 1) on ``corpus``."""
    import fastvec
    return fastvec.Word2Vec(epochs=1, seed=1, progress=False, **params).fit(corpus)


def epoch_seconds(corpus, **params) -> float:
    return fastvec_model(corpus, **params).history_[-1]["seconds"]


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
            two = epoch_seconds(corpus, sg=job == "sg", workers=2, hot_rows=0, **kw)
            print(f"| {job} | {label} | {one:.2f} s | {two:.2f} s | {one / two:.2f}x |", flush=True)


def hot_rows(args, corpus) -> None:
    """One epoch on 2 threads for each hot-row setting "H" or "H/A" (A: rows synced by each
    thread itself, fastvec.word2vec.HOT_ASYNC_ROWS; the other H - A merged between calls),
    interleaved over the rounds; the default kernel of each job. Reports the median time, the
    speed-up over one thread and the epoch's loss (staleness shows there first)."""
    from fastvec import word2vec
    default_async = word2vec.HOT_ASYNC_ROWS
    settings = []
    for spec in args.hot_rows.split(","):
        h, _, a = spec.partition("/")
        settings.append((spec, int(h), int(a) if a else default_async))
    print(f"| job | hot rows (H/A) | 2 threads, median of {args.rounds} | speed-up over 1 thread | epoch loss |")
    print("|---|---|---|---|---|")
    for job in args.jobs.split(","):
        one = epoch_seconds(corpus, sg=job == "sg", workers=1)
        print(f"| {job} | 1 thread | {one:.2f} s | | |", flush=True)
        times = {spec: [] for spec, _, _ in settings}
        loss = {}
        try:
            for _ in range(args.rounds):  # interleaved: the machine's slow moments hit all settings
                for spec, h, a in settings:
                    word2vec.HOT_ASYNC_ROWS = a
                    model = fastvec_model(corpus, sg=job == "sg", workers=2, hot_rows=h)
                    times[spec].append(model.history_[-1]["seconds"])
                    loss[spec] = model.loss_history_[-1]
        finally:
            word2vec.HOT_ASYNC_ROWS = default_async
        for spec, _, _ in settings:
            t = statistics.median(times[spec])
            print(f"| {job} | {spec} | {t:.2f} s | {one / t:.2f}x | {loss[spec]:.4f} |", flush=True)


def threads(args, corpus) -> None:
    """One epoch's items, no hot rows, 2 workers three ways: one kernel call with 2 OpenMP
    threads; two Python threads each running a 1-thread call on half of the items, on the same
    weights (Hogwild as usual) or on separate copies (nothing shared but the machine)."""
    import threading

    import numpy as np
    from threadpoolctl import threadpool_limits

    from fastvec import _dispatch
    from fastvec.sampling import keep_thresholds, noise_table
    from fastvec.word2vec import CBOW_GROUP, work_items

    kernels = _dispatch.kernels("word2vec")
    vocab = corpus.vocabulary
    noise = noise_table(vocab.noise_distribution(0.75))
    keep = keep_thresholds(vocab.keep_probabilities(1e-3))
    items = work_items(corpus.offsets)
    ids = np.ascontiguousarray(corpus.ids)
    half = len(items) // 2

    def weights():
        rng = np.random.default_rng(1)
        return (rng.random((len(vocab), 100), dtype=np.float32) - 0.5) / 100, np.zeros((len(vocab), 100), np.float32)

    def call(job, w, lo, hi, n_threads):
        kernels.train_slice(cbow=job == "cbow", batched=job == "sg", group=CBOW_GROUP, syn0=w[0], syn1=w[1], ids=ids,
                            items=items, first_item=lo, last_item=hi, keep_threshold=keep, noise_table=noise, window=5,
                            negative=5, alpha=0.025 if job == "sg" else 0.05, alpha_slope=0.0, min_alpha=1e-4,
                            position_base=0, seed=1, epoch=0, n_threads=n_threads)

    def timed(fn) -> float:
        t = time.perf_counter()
        fn()
        return time.perf_counter() - t

    def python_threads(job, shared):
        """shared: which weight matrices the two threads share ("syn0", "syn1", both or neither)."""
        a = weights()
        b = weights()
        b = (a[0] if "syn0" in shared else b[0], a[1] if "syn1" in shared else b[1])
        pool = [threading.Thread(target=call, args=(job, a, 0, half, 1)),
                threading.Thread(target=call, args=(job, b, half, len(items), 1))]
        for t in pool:
            t.start()
        for t in pool:
            t.join()

    variants = {"shared weights": ("syn0", "syn1"), "shared input rows only": ("syn0",),
                "shared output rows only": ("syn1",), "separate weights": ()}
    print(f"One epoch, no hot rows, median of {args.rounds} rounds; 2 Python threads each train half of the items.")
    print()
    print("| job | 1 thread | 2 OpenMP threads | " + " | ".join(f"2 Python threads, {k}" for k in variants) + " |")
    print("|---|---|---|" + "---|" * len(variants))
    with threadpool_limits(1):
        for job in args.jobs.split(","):
            ones = []
            runs = {k: [] for k in ("omp", *variants)}
            for _ in range(args.rounds):   # the 1-thread baseline in every round too, interleaved
                ones.append(timed(lambda: call(job, weights(), 0, len(items), 1)))
                runs["omp"].append(timed(lambda: call(job, weights(), 0, len(items), 2)))
                for k, shared in variants.items():
                    runs[k].append(timed(lambda: python_threads(job, shared)))
            one = statistics.median(ones)
            cells = [f"{m:.2f} s ({one / m:.2f}x)" for m in (statistics.median(v) for v in runs.values())]
            print(f"| {job} | {one:.2f} s | " + " | ".join(cells) + " |", flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("experiment", nargs="?", choices=["processes", "hot", "hot_rows", "threads"], default="processes")
    p.add_argument("--corpus", help="text corpus (default: wiki17m)")
    p.add_argument("--jobs", default="cbow,sg")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--hot-rows", default="0,1024/1024,8192/1024",
                   help="hot_rows experiment: comma-separated H or H/A settings")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--job", help=argparse.SUPPRESS)
    p.add_argument("--cached", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return child(args)

    import fastvec
    from datasets import wiki17m
    corpus = fastvec.Corpus.build(args.corpus or str(wiki17m()), min_count=5)
    {"processes": processes, "hot": hot, "hot_rows": hot_rows, "threads": threads}[args.experiment](args, corpus)
    return 0


if __name__ == "__main__":
    sys.exit(main())
