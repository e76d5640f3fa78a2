"""Micro-benchmarks (pytest-benchmark). Not part of the unit tests; run with

    pytest benchmarks/test_micro.py --benchmark-only --benchmark-columns=median,iqr,rounds

(needs the benchmark extra: pip install ".[benchmark]"). The corpus benchmarks read wiki17m
(../shared/data/wiki17m.txt.xz, decompressed once into a cache); FASTVEC_BENCH_CORPUS=path.txt
runs them on another text file, e.g. a small one for a quick check.

Each fastvec benchmark records its throughput in ``extra_info``; where a peer offers the same
operation (gensim), it is measured in the same run so that ratios, not absolute times, are
compared. Speed goals live here and in compare.py, never in the unit tests.
"""
from __future__ import annotations

import collections
import importlib.util
import os

import numpy as np
import pytest

from fastvec import Corpus, KeyedVectors, Vocabulary, Word2Vec
from fastvec.sampling import draw_noise, noise_table

from datasets import wiki17m

HAVE_GENSIM = importlib.util.find_spec("gensim") is not None


@pytest.fixture(scope="module")
def corpus_path() -> str:
    return os.environ.get("FASTVEC_BENCH_CORPUS") or str(wiki17m())


@pytest.fixture(scope="module")
def zipf_corpus() -> Corpus:
    """2M tokens drawn from a Zipf law over 50,000 words, in 'sentences' of 1,000 tokens; the
    vocabulary holds the words drawn at least once (a few hundred of the rarest never are)."""
    rng = np.random.default_rng(0)
    n_words, n_tokens = 50_000, 2_000_000
    p = 1.0 / np.arange(1, n_words + 1)
    ids = rng.choice(n_words, size=n_tokens, p=p / p.sum()).astype(np.int32)
    counts = np.bincount(ids, minlength=n_words)
    order = np.argsort(-counts, kind="stable")[:np.count_nonzero(counts)]
    remap = np.full(n_words, -1, dtype=np.int32)
    remap[order] = np.arange(len(order))
    vocab = Vocabulary([f"w{i}" for i in order], counts[order])
    offsets = np.arange(0, n_tokens + 1, 1000, dtype=np.int64)
    return Corpus(remap[ids], offsets, vocab)


def _throughput(benchmark, units: float, name: str) -> None:
    if benchmark.stats is None:   # --benchmark-disable: each benchmark ran once as a smoke test
        return
    benchmark.extra_info[name] = units / benchmark.stats.stats.median


def test_vocabulary_counting(benchmark, corpus_path):
    vocab = benchmark.pedantic(Vocabulary.build, args=(corpus_path,), kwargs={"min_count": 5}, rounds=5)
    _throughput(benchmark, vocab.raw_tokens, "tokens_per_second")


def test_vocabulary_counting_python_counter(benchmark, corpus_path):
    """Baseline: collections.Counter over line.split()."""
    def count():
        c = collections.Counter()
        with open(corpus_path, encoding="utf-8") as f:
            for line in f:
                c.update(line.split())
        return c
    c = benchmark.pedantic(count, rounds=3)
    _throughput(benchmark, sum(c.values()), "tokens_per_second")


@pytest.mark.skipif(not HAVE_GENSIM, reason="gensim not installed")
def test_vocabulary_counting_gensim(benchmark, corpus_path):
    from gensim.models import Word2Vec as GensimWord2Vec

    def build():
        m = GensimWord2Vec(min_count=5)
        m.build_vocab(corpus_file=corpus_path)
        return m
    m = benchmark.pedantic(build, rounds=3)
    _throughput(benchmark, m.corpus_total_words, "tokens_per_second")


def test_encoding_corpus_build_one_pass(benchmark, corpus_path):
    """Count and encode in one read of the file (what Word2Vec.fit does)."""
    c = benchmark.pedantic(Corpus.build, args=(corpus_path,), kwargs={"min_count": 5}, rounds=5)
    _throughput(benchmark, c.raw_tokens, "tokens_per_second")


def test_encoding(benchmark, corpus_path):
    vocab = Vocabulary.build(corpus_path, min_count=5)
    c = benchmark.pedantic(vocab.encode, args=(corpus_path,), rounds=5)
    _throughput(benchmark, c.raw_tokens, "tokens_per_second")


def test_noise_draws(benchmark):
    counts = (1e7 / np.arange(1, 100_001)).astype(np.int64) + 1
    table = noise_table(counts ** 0.75 / np.sum(counts ** 0.75))
    n = 10_000_000
    benchmark.pedantic(draw_noise, args=(table, n), rounds=10)
    _throughput(benchmark, n, "draws_per_second")


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("sg", [True, False], ids=["sg", "cbow"])
def test_word2vec_fit_one_epoch_zipf(benchmark, zipf_corpus, sg, threads):
    """A whole one-epoch fit: the epoch plus the set-up (tables, weights), about 5% of it."""
    def epoch():
        return Word2Vec(sg=sg, epochs=1, workers=threads, seed=1, progress=False, min_count=1).fit(zipf_corpus)
    benchmark.pedantic(epoch, rounds=3)
    _throughput(benchmark, zipf_corpus.n_tokens, "words_per_second")


@pytest.fixture(scope="module")
def random_kv() -> KeyedVectors:
    rng = np.random.default_rng(0)
    return KeyedVectors([f"w{i}" for i in range(100_000)], rng.standard_normal((100_000, 100)).astype(np.float32))


def test_most_similar(benchmark, random_kv):
    words = [f"w{i}" for i in range(0, 100_000, 1000)]
    random_kv.get_normed_vectors()
    benchmark(lambda: [random_kv.most_similar(w, topn=10) for w in words])
    _throughput(benchmark, len(words), "queries_per_second")


def test_most_similar_batch(benchmark, random_kv):
    words = [f"w{i}" for i in range(0, 100_000, 100)]
    random_kv.get_normed_vectors()
    benchmark(lambda: random_kv.most_similar_batch(words, topn=10))
    _throughput(benchmark, len(words), "queries_per_second")


@pytest.mark.skipif(not HAVE_GENSIM, reason="gensim not installed")
def test_most_similar_gensim(benchmark, random_kv):
    from gensim.models import KeyedVectors as GensimKV
    g = GensimKV(vector_size=100)
    g.add_vectors(random_kv.index_to_key, random_kv.vectors)
    g.fill_norms()
    words = [f"w{i}" for i in range(0, 100_000, 1000)]
    benchmark(lambda: [g.most_similar(w, topn=10) for w in words])
    _throughput(benchmark, len(words), "queries_per_second")
