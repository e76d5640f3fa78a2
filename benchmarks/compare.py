#!/usr/bin/env python
"""Train fastvec and every installed peer with the settings of ../shared/BENCHMARKS.md and
print one Markdown table (whole-job and training seconds, words/s, peak RSS, analogy and
word-pair scores), plus time ratios fastvec / peer measured in the same invocation.

    python benchmarks/compare.py                         # wiki17m, SG and CBOW, 1 and all threads
    python benchmarks/compare.py --jobs sg --threads 2 --impls fastvec,gensim
    python benchmarks/compare.py --corpus my.txt --json out.json
    python benchmarks/compare.py --jobs cbow --threads 2 --repeat 3 --seeds 1,2,3   # quality: mean of 3

Each run happens in its own subprocess (so peak RSS is that run's own), writes its vectors
in word2vec binary format, and all vectors are evaluated by the same code (fastvec.evaluation,
Google analogies on the top 30,000 words, case-insensitive, 3CosAdd; Spearman on WordSim-353
and SimLex-999). "Whole job" is corpus file to vectors written, vocabulary building included;
"train" is the training phase alone; words/s = raw corpus tokens x epochs / train seconds.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# Settings from ../shared/BENCHMARKS.md
JOBS = {
    "sg": dict(sg=True, dim=100, window=5, negative=5, ns_exponent=0.75, sample=1e-3, min_count=5, alpha=0.025,
               epochs=5),
    "cbow": dict(sg=False, dim=100, window=5, negative=5, ns_exponent=0.75, sample=1e-3, min_count=5, alpha=0.05,
                 epochs=5),
}
for _s in JOBS.values():
    _s["min_alpha"] = 0.0001 * _s["alpha"] / 0.025
# GloVe settings of ../shared/BENCHMARKS.md; PPMI-SVD counts its co-occurrences the same way
JOBS["glove"] = dict(dim=50, window=15, min_count=5, x_max=10.0, alpha=0.75, learning_rate=0.05, epochs=15)
JOBS["ppmi-svd"] = dict(dim=50, window=15, min_count=5, cds=0.75, shift=1.0, eig_weight=0.5, epochs=1)

#: job name -> implementation name -> runner(settings, corpus, threads, out_path) -> dict
RUNNERS: dict[str, dict] = {job: {} for job in JOBS}


def runner(jobs, impl):
    def register(fn):
        for job in jobs:
            RUNNERS.setdefault(job, {})[impl] = fn
        return fn
    return register


def _raw_tokens(corpus: str) -> int:
    from fastvec.vocab import Vocabulary
    return Vocabulary.build(corpus, min_count=1).raw_tokens


# --------------------------------------------------------------------------------------------
# runners: each is executed in a fresh subprocess (see --run-one)

@runner(["sg", "cbow"], "fastvec")
def run_fastvec(s, corpus, threads, out):
    import fastvec
    t0 = time.perf_counter()
    model = fastvec.Word2Vec(sg=s["sg"], vector_size=s["dim"], window=s["window"], negative=s["negative"],
                             ns_exponent=s["ns_exponent"], sample=s["sample"], min_count=s["min_count"],
                             alpha=s["alpha"], min_alpha=s["min_alpha"], epochs=s["epochs"], workers=threads,
                             seed=SEED, progress=False).fit(corpus)
    model.wv.save_word2vec_format(out, binary=True)
    whole = time.perf_counter() - t0
    return {"whole_seconds": whole, "train_seconds": model.train_seconds_,
            "raw_tokens": model.vocabulary_.raw_tokens, "version": fastvec.__version__, "kernel": model.kernel_,
            "examples": sum(h["examples"] for h in model.history_)}


@runner(["sg", "cbow"], "gensim")
def run_gensim(s, corpus, threads, out):
    import gensim
    from gensim.models import Word2Vec
    t0 = time.perf_counter()
    model = Word2Vec(sg=int(s["sg"]), vector_size=s["dim"], window=s["window"], negative=s["negative"], hs=0,
                     ns_exponent=s["ns_exponent"], sample=s["sample"], min_count=s["min_count"], alpha=s["alpha"],
                     min_alpha=s["min_alpha"], epochs=s["epochs"], workers=threads, cbow_mean=1, seed=SEED)
    model.build_vocab(corpus_file=corpus)
    t1 = time.perf_counter()
    model.train(corpus_file=corpus, total_words=model.corpus_total_words, epochs=s["epochs"])
    t2 = time.perf_counter()
    model.wv.save_word2vec_format(out, binary=True)
    whole = time.perf_counter() - t0
    return {"whole_seconds": whole, "train_seconds": t2 - t1, "raw_tokens": model.corpus_total_words,
            "version": gensim.__version__}


def _word2vec_binary() -> str | None:
    """word2vec.c's binary: on PATH, or beside this interpreter (where pip puts it)."""
    binary = shutil.which("word2vec") or str(Path(sys.executable).parent / "word2vec")
    return binary if os.path.isfile(binary) and os.access(binary, os.X_OK) else None


@runner(["sg", "cbow"], "word2vec.c")
def run_word2vec_c(s, corpus, threads, out):
    binary = _word2vec_binary()
    if binary is None:
        raise RuntimeError("word2vec binary not found (pip install word2vec)")
    cmd = [binary, "-train", corpus, "-output", out, "-cbow", str(int(not s["sg"])), "-size", str(s["dim"]),
           "-window", str(s["window"]), "-negative", str(s["negative"]), "-hs", "0", "-sample", str(s["sample"]),
           "-min-count", str(s["min_count"]), "-alpha", str(s["alpha"]), "-iter", str(s["epochs"]),
           "-threads", str(threads), "-binary", "1", "-debug", "2"]
    stdbuf = shutil.which("stdbuf")
    if stdbuf:
        cmd = [stdbuf, "-o0"] + cmd
    t0 = time.perf_counter()
    train_start = None
    raw = 0
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    buf = b""
    while True:
        chunk = proc.stdout.read1(4096) if hasattr(proc.stdout, "read1") else proc.stdout.read(4096)
        if not chunk:
            break
        buf += chunk
        global CHILD_PEAK_RSS_MB
        CHILD_PEAK_RSS_MB = max(CHILD_PEAK_RSS_MB, peak_rss_mb(proc.pid))
        if train_start is None and b"Words in train file" in buf:
            train_start = time.perf_counter()  # vocabulary done, training starts
            m = re.search(rb"Words in train file: (\d+)", buf)
            raw = int(m.group(1)) if m else 0
        buf = buf[-4096:]
    if proc.wait() != 0:
        raise RuntimeError(f"word2vec.c failed: {buf[-500:]!r}")
    t_end = time.perf_counter()
    return {"whole_seconds": t_end - t0, "train_seconds": t_end - (train_start or t0), "raw_tokens": raw,
            "version": "word2vec (PyPI) " + _version("word2vec")}


@runner(["sg", "cbow"], "fasttext")
def run_fasttext(s, corpus, threads, out):
    import fasttext
    import numpy as np
    t0 = time.perf_counter()
    model = fasttext.train_unsupervised(corpus, model="skipgram" if s["sg"] else "cbow", dim=s["dim"], ws=s["window"],
                                        neg=s["negative"], loss="ns", t=s["sample"], minCount=s["min_count"],
                                        lr=s["alpha"], epoch=s["epochs"], thread=threads, minn=0, maxn=0,
                                        wordNgrams=1, verbose=0)
    t1 = time.perf_counter()
    words = model.get_words()
    matrix = np.asarray(model.get_input_matrix())[:len(words)]
    from fastvec import KeyedVectors
    KeyedVectors(list(words), matrix.astype(np.float32)).save_word2vec_format(out, binary=True)
    whole = time.perf_counter() - t0
    # fastText builds its vocabulary inside train_unsupervised: train_seconds includes it
    return {"whole_seconds": whole, "train_seconds": t1 - t0, "raw_tokens": 0, "version": _version("fasttext-wheel")
            or _version("fasttext"), "note": "train includes vocabulary; noise distribution count^0.5; learning rate decays to 0"}


@runner(["glove"], "fastvec")
def run_fastvec_glove(s, corpus, threads, out):
    import fastvec
    t0 = time.perf_counter()
    model = fastvec.GloVe(vector_size=s["dim"], window=s["window"], min_count=s["min_count"], x_max=s["x_max"],
                          alpha=s["alpha"], learning_rate=s["learning_rate"], epochs=s["epochs"], workers=threads,
                          seed=SEED, progress=False).fit(corpus)
    model.wv.save_word2vec_format(out, binary=True)
    whole = time.perf_counter() - t0
    return {"whole_seconds": whole, "train_seconds": model.train_seconds_, "count_seconds": model.count_seconds_,
            "epoch_seconds": [h["seconds"] for h in model.history_], "nnz": model.history_[0]["examples"],
            "raw_tokens": model.vocabulary_.raw_tokens, "version": fastvec.__version__}


@runner(["ppmi-svd"], "fastvec")
def run_fastvec_ppmi_svd(s, corpus, threads, out):
    import fastvec
    t0 = time.perf_counter()
    model = fastvec.SVDEmbedding(vector_size=s["dim"], window=s["window"], min_count=s["min_count"], cds=s["cds"],
                                 shift=s["shift"], eig_weight=s["eig_weight"], workers=threads, seed=SEED).fit(corpus)
    model.wv.save_word2vec_format(out, binary=True)
    whole = time.perf_counter() - t0
    return {"whole_seconds": whole, "train_seconds": model.svd_seconds_, "count_seconds": model.count_seconds_,
            "nnz": model.ppmi_nnz_, "raw_tokens": model.vocabulary_.raw_tokens, "version": fastvec.__version__,
            "note": "train = PPMI + randomized SVD"}


def _version(dist: str) -> str:
    try:
        from importlib.metadata import version
        return version(dist)
    except Exception:  # noqa: BLE001
        return ""


def available(impl: str) -> str | None:
    """None if ``impl`` can run here, else why not (printed: a requested peer is never dropped silently)."""
    if impl not in {"fastvec", "gensim", "fasttext", "word2vec.c"}:
        return "unknown implementation (fastvec, gensim, word2vec.c, fasttext)"
    if impl == "word2vec.c":   # the binary runs, built by the PyPI package `word2vec` (pip install word2vec)
        return None if _word2vec_binary() else "no word2vec binary (pip install word2vec builds it)"
    module = {"fastvec": "fastvec", "gensim": "gensim", "fasttext": "fasttext"}[impl]
    return None if importlib.util.find_spec(module) is not None else f"module {module} not installed"


# --------------------------------------------------------------------------------------------
# orchestration

def peak_rss_mb(pid: int | str = "self") -> float:
    """Peak RSS of one process. /proc's VmHWM belongs to the process's own address space;
    getrusage's ru_maxrss would also count the parent's memory copied at fork."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    if pid == "self":
        scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20
    return 0.0


CHILD_PEAK_RSS_MB = 0.0
# the run's seed (--seeds); word2vec.c has no seed option, fastText's Python API none in 0.9.2
SEED = int(os.environ.get("FASTVEC_BENCH_SEED", "1"))


def run_one(job: str, impl: str, corpus: str, threads: int, out: str) -> dict:
    settings = (JOBS.get(job) or {})
    result = RUNNERS[job][impl](settings, corpus, threads, out)
    result["peak_rss_mb"] = max(peak_rss_mb(), CHILD_PEAK_RSS_MB)
    return result


QUALITY = ("analogy", "semantic", "syntactic", "wordsim353", "simlex999")


def evaluate(path: str) -> dict:
    from fastvec import load_vectors
    from fastvec.evaluation import default_pairs, evaluate_word_analogies, evaluate_word_pairs
    kv = load_vectors(path)
    a = evaluate_word_analogies(kv, restrict_vocab=30000, case_insensitive=True, method="3cosadd")
    pairs = {name: evaluate_word_pairs(kv, p).spearman for name, p in default_pairs().items()}
    return {"analogy": a.accuracy, "semantic": a.semantic_accuracy, "syntactic": a.syntactic_accuracy,
            "wordsim353": pairs["wordsim353"], "simlex999": pairs["simlex999"], "vocab": len(kv)}


def machine() -> str:
    from machine import describe
    return describe()


def spawn(job: str, impl: str, corpus: str, threads: int, workdir: str, seed: int = 1) -> dict:
    out = os.path.join(workdir, f"{job}-{impl}-{threads}.bin")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--run-one", job, impl, corpus, str(threads), out]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "FASTVEC_BENCH_SEED": str(seed)})
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result.update(evaluate(out) if os.path.exists(out) and os.path.getsize(out) else {})
    result["vectors"] = out
    result["seed"] = seed
    return result


def sgemm_gflops(repeat: int = 5) -> float:
    """The machine's single-thread float32 matrix-product rate: NumPy 2048x2048 @ 2048x2048."""
    import numpy as np
    from threadpoolctl import threadpool_limits
    a = np.random.default_rng(0).random((2048, 2048), dtype=np.float32)
    b = a.T.copy()
    times = []
    with threadpool_limits(limits=1, user_api="blas"):
        a @ b
        for _ in range(repeat):
            t = time.perf_counter()
            a @ b
            times.append(time.perf_counter() - t)
    return 2 * 2048**3 / sorted(times)[len(times) // 2] / 1e9


def flops_per_example(job: str) -> float:
    """Floating-point operations of the algorithm per training example (any implementation):
    skip-gram, per (centre, context) pair: (k + 1) targets x (dot 2d + two axpy 4d) + d to apply
    the context gradient; CBOW, per centre word with m ~ window + 1 context words: the mean
    (m + 1) d, the same (k + 1) x 6d, and the gradient added to the m context rows, m d."""
    s = JOBS[job]
    d, k = s["dim"], s["negative"]
    if s["sg"]:
        return (k + 1) * 6 * d + d
    m = s["window"] + 1
    return (m + 1) * d + (k + 1) * 6 * d + m * d


def markdown(rows: list[dict], corpus_tokens: int) -> str:
    head = ("| job | threads | implementation | whole job (s) | train (s) | words/s | peak RSS (MB) | "
            "analogy % (sem / syn) | WS-353 | SimLex-999 | whole-job ratio fastvec/peer |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    best = {}
    for r in rows:
        if r["impl"] == "fastvec" and "whole_seconds" in r:
            best[(r["job"], r["threads"])] = r["whole_seconds"]
    for r in rows:
        if "error" in r or "not_run" in r:
            what = f"not run: {r['not_run'][:60]}" if "not_run" in r else f"failed: {r['error'][:60]}"
            lines.append(f"| {r['job']} | {r['threads']} | {r['impl']} | {what} | | | | | | | |")
            continue
        # a corpus pass rate for the word2vec jobs; GloVe and PPMI-SVD train on co-occurrences
        # (their counting and per-epoch figures are in count_models below)
        words_col = "-"
        if r["job"] in ("sg", "cbow"):
            words = corpus_tokens * r.get("epochs", 1) / r["train_seconds"] if r.get("train_seconds") else 0
            words_col = f"{words / 1e3:,.0f}k"
        ratio = ""
        if r["impl"] != "fastvec" and (r["job"], r["threads"]) in best:
            ratio = f"{best[(r['job'], r['threads'])] / r['whole_seconds']:.2f}"
        quality = ""
        if "analogy" in r:
            quality = f"{100 * r['analogy']:.2f} ({100 * r['semantic']:.2f} / {100 * r['syntactic']:.2f})"
        lines.append(f"| {r['job']} | {r['threads']} | {r['impl']} | {r['whole_seconds']:.1f} | "
                     f"{r['train_seconds']:.1f} | {words_col} | {r['peak_rss_mb']:.0f} | {quality} | "
                     f"{r.get('wordsim353', float('nan')):.3f} | {r.get('simlex999', float('nan')):.3f} | {ratio} |")
    notes = sorted({f"{r['impl']} ({r['job']}): {r['note']}" for r in rows if r.get("note")})
    if notes:   # what a row's figures mean where the peers differ (e.g. fastText's train includes its vocabulary)
        lines += ["", "Notes: " + "; ".join(notes) + "."]
    return "\n".join(lines)


def count_models(rows: list[dict]) -> str:
    """GloVe and PPMI-SVD rows: counting time, training time, seconds per GloVe epoch and the
    co-occurrence matrix's non-zeros (empty when no such row ran)."""
    lines = []
    for r in rows:
        if r["job"] in ("glove", "ppmi-svd") and "count_seconds" in r:
            per_epoch = f"{r['train_seconds'] / r['epochs']:.2f}" if r["job"] == "glove" else "-"
            lines.append(f"| {r['job']} | {r['threads']} | {r['impl']} | {r['count_seconds']:.1f} | "
                         f"{r['train_seconds']:.1f} | {per_epoch} | {r['nnz']:,} |")
    if not lines:
        return ""
    return "\n".join(["| job | threads | implementation | counting (s) | train (s) | s/epoch | non-zeros |",
                      "|---|---|---|---|---|---|---|"] + lines)


def efficiency(rows: list[dict], peak: float) -> str:
    """Training-loop GFLOP/s (algorithmic flops, see flops_per_example; the number of examples is
    fastvec's, the same algorithm on the same data) as a fraction of one core's sgemm rate, and
    the training speed-up from 1 thread to the most threads measured."""
    examples = {(r["job"], r["threads"]): r["examples"] for r in rows if r["impl"] == "fastvec" and "examples" in r}
    lines = ["| job | implementation | threads | train (s) | GFLOP/s | % of 1-thread sgemm (x threads) | "
             "speed-up vs 1 thread |", "|---|---|---|---|---|---|---|"]
    one = {(r["job"], r["impl"]): r["train_seconds"] for r in rows if r["threads"] == 1 and "train_seconds" in r}
    for r in rows:
        key = (r["job"], r["threads"])
        if "train_seconds" not in r or key not in examples or r["job"] not in ("sg", "cbow"):
            continue
        gflops = examples[key] * flops_per_example(r["job"]) / r["train_seconds"] / 1e9
        speedup = one.get((r["job"], r["impl"]))
        speedup = f"{speedup / r['train_seconds']:.2f}x" if speedup and r["threads"] > 1 else ""
        lines.append(f"| {r['job']} | {r['impl']} | {r['threads']} | {r['train_seconds']:.1f} | {gflops:.1f} | "
                     f"{100 * gflops / (peak * r['threads']):.1f}% | {speedup} |")
    return "\n".join(lines) if len(lines) > 2 else ""   # no word2vec row: no table


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", help="text corpus (default: wiki17m, decompressed into the cache)")
    p.add_argument("--jobs", default="sg,cbow", help="comma-separated: " + ", ".join(RUNNERS))
    p.add_argument("--threads", default=f"1,{os.cpu_count()}", help="comma-separated thread counts")
    p.add_argument("--impls", default="fastvec,gensim,word2vec.c,fasttext", help="comma-separated implementations")
    p.add_argument("--repeat", type=int, default=1, help="runs per configuration; the median run is reported "
                                                              "(of an even number, the faster of the two middle runs)")
    p.add_argument("--seeds", default="1", help="comma-separated seeds, used in turn by the repeated runs; "
                   "quality is then the mean over the runs")
    p.add_argument("--json", help="also write all results as JSON here")
    p.add_argument("--run-one", nargs=5, metavar=("JOB", "IMPL", "CORPUS", "THREADS", "OUT"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    known_impls = {impl for runners in RUNNERS.values() for impl in runners}
    unknown = [i for i in args.impls.split(",") if i not in known_impls]
    unknown_jobs = [j for j in args.jobs.split(",") if j not in RUNNERS]
    if unknown or unknown_jobs:
        p.error(f"unknown {'implementation(s) ' + ', '.join(unknown) if unknown else ''}"
                f"{'; ' if unknown and unknown_jobs else ''}{'job(s) ' + ', '.join(unknown_jobs) if unknown_jobs else ''} "
                f"(implementations: {', '.join(sorted(known_impls))}; jobs: {', '.join(RUNNERS)})")

    if args.run_one:
        job, impl, corpus, threads, out = args.run_one
        print(json.dumps(run_one(job, impl, corpus, int(threads), out)))
        return 0

    from datasets import wiki17m
    corpus = args.corpus or str(wiki17m())
    seeds = [int(x) for x in args.seeds.split(",")]
    corpus_tokens = _raw_tokens(corpus)
    rows = []
    with tempfile.TemporaryDirectory(prefix="fastvec-compare-") as workdir:
        # each implementation's thread counts run back to back, so that its scaling ratio spans
        # minutes, not the whole invocation (the machines drift; benchmarks/RESULTS.md)
        for job in args.jobs.split(","):
            for impl in args.impls.split(","):
                for threads in [int(t) for t in args.threads.split(",")]:
                    if impl not in RUNNERS.get(job, {}):
                        continue   # e.g. GloVe has no gensim runner: the peers differ by job
                    missing = available(impl)
                    if missing:   # reported in the table, not dropped from it
                        print(f"skipping {job} {impl}: {missing}", file=sys.stderr, flush=True)
                        rows.append({"job": job, "impl": impl, "threads": threads, "not_run": missing})
                        continue
                    runs = []
                    for i in range(args.repeat):
                        seed = seeds[i % len(seeds)]
                        print(f"running {job} {impl} threads={threads} seed={seed} ...", file=sys.stderr, flush=True)
                        runs.append(spawn(job, impl, corpus, threads, workdir, seed))
                    ok = [r for r in runs if "error" not in r]
                    if ok:
                        # the median run (of an even number, the faster of the two middle ones)
                        result = dict(sorted(ok, key=lambda r: r["whole_seconds"])[(len(ok) - 1) // 2])
                        result["all_whole_seconds"] = [r["whole_seconds"] for r in ok]
                        for key in QUALITY:
                            if all(key in r for r in ok):
                                result["all_" + key] = [r[key] for r in ok]
                                result[key] = statistics.fmean(result["all_" + key])
                    else:
                        result = runs[0]
                    result.update(job=job, impl=impl, threads=threads,
                                  epochs=JOBS.get(job, {}).get("epochs", result.get("epochs", 1)))
                    rows.append(result)
                    print(json.dumps({k: v for k, v in result.items() if k != "vectors"}), file=sys.stderr, flush=True)
    jobs, impls = args.jobs.split(","), args.impls.split(",")
    rows.sort(key=lambda r: (jobs.index(r["job"]), -r["threads"], impls.index(r["impl"])))
    peak = sgemm_gflops()
    print(f"corpus: {corpus} ({corpus_tokens:,} tokens); machine: {machine()}; "
          f"date: {time.strftime('%Y-%m-%d')}; single-thread sgemm (NumPy 2048^3 float32): {peak:.0f} GFLOP/s\n")
    print(markdown(rows, corpus_tokens))
    if args.repeat > 1:
        print(f"\n{args.repeat} runs per row (seeds {args.seeds}): times are the median run's (of an even number of "
              "runs, the faster middle one), quality the mean "
              "over the runs (word2vec.c and fastText have no seed: their runs differ by thread timing only)")
    for table in (count_models(rows), efficiency(rows, peak)):
        if table:
            print()
            print(table)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"corpus": corpus, "tokens": corpus_tokens, "machine": machine(), "sgemm_gflops": peak,
                       "rows": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
