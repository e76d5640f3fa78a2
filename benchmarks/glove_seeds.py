#!/usr/bin/env python
"""Spread of GloVe's scores over seeds (the GloVe settings of ../shared/BENCHMARKS.md).

A single run's WordSim-353 moves by several thousandths with the seed (initialisation and
order of the updates), which matters next to a 0.01 tolerance; this script measures the spread
and, with --block, what the order of the non-zeros costs (see fastvec.glove.BLOCK).

    python benchmarks/glove_seeds.py --seeds 1-8                 # the default order
    python benchmarks/glove_seeds.py --seeds 1-8 --block 16      # blocks of 16 non-zeros

Co-occurrences are counted once and reused for every seed; each line is printed as JSON.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def seeds(text: str) -> list[int]:
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(s) for s in text.split(",")]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", help="text corpus (default: wiki17m)")
    p.add_argument("--seeds", default="1-8")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--block", type=int, default=None, help="non-zeros per block of the epoch order")
    args = p.parse_args(argv)

    import fastvec
    import fastvec.glove
    from fastvec.evaluation import default_pairs, evaluate_word_analogies, evaluate_word_pairs

    if args.block:
        fastvec.glove.BLOCK = args.block
        fastvec.glove.BLOCKS_PER_ITEM = max(1, 4096 // args.block)
    from datasets import wiki17m
    corpus = fastvec.Corpus.build(args.corpus or str(wiki17m()), min_count=5)
    cooc = fastvec.Cooccurrence.from_corpus(corpus, window=15, workers=args.threads)
    del corpus
    rows = []
    for seed in seeds(args.seeds):
        started = time.perf_counter()
        model = fastvec.GloVe(vector_size=50, x_max=10.0, alpha=0.75, learning_rate=0.05, epochs=15,
                              workers=args.threads, seed=seed, progress=False).fit(cooc)
        seconds = time.perf_counter() - started
        a = evaluate_word_analogies(model.wv, restrict_vocab=30000, case_insensitive=True, method="3cosadd")
        pairs = {name: evaluate_word_pairs(model.wv, path).spearman for name, path in default_pairs().items()}
        row = {"seed": seed, "block": fastvec.glove.BLOCK, "analogy": 100 * a.accuracy,
               "semantic": 100 * a.semantic_accuracy, "syntactic": 100 * a.syntactic_accuracy,
               "wordsim353": pairs["wordsim353"], "simlex999": pairs["simlex999"], "train_seconds": seconds,
               "epoch_seconds": statistics.median(h["seconds"] for h in model.history_)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    for key in ("analogy", "wordsim353", "simlex999", "epoch_seconds"):
        values = [r[key] for r in rows]
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        print(f"{key}: mean {statistics.mean(values):.4f}, sd {spread:.4f}, min {min(values):.4f}, "
              f"max {max(values):.4f} over {len(values)} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
