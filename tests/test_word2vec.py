"""The Word2Vec estimator: contract, semantics on real text, determinism, persistence, errors."""
import numpy as np
import pytest

import fastvec
from fastvec import Corpus, DivergenceError, NotFittedError, Word2Vec

from conftest import SANITY_PAIRS, StopAfter


def rank(kv, word, other):
    return [w for w, _ in kv.most_similar(word, topn=None)].index(other)


@pytest.mark.parametrize("model_name", ["sg_model", "cbow_model"])
def test_related_words_rank_high(request, model_name):
    kv = request.getfixturevalue(model_name).wv
    ranks = {pair: rank(kv, *pair) for pair in SANITY_PAIRS}
    # out of ~14,700 words: an untrained model puts these around rank 7,000
    assert all(r < 30 for r in ranks.values()), ranks
    assert np.median(list(ranks.values())) < 8, ranks


def test_untrained_vectors_fail_the_sanity_ranks(bundled_text):
    """The semantic test can fail: random vectors of the same vocabulary do."""
    model = Word2Vec(epochs=1, seed=1, progress=False, alpha=1e-12, min_alpha=1e-12).fit(bundled_text)
    kv = model.wv
    assert np.median([rank(kv, *p) for p in SANITY_PAIRS]) > 1000


def test_fit_returns_self_and_learned_attributes(sg_model):
    m = sg_model
    assert isinstance(m.wv, fastvec.KeyedVectors) and m.wv.vectors.dtype == np.float32
    assert m.wv.vectors.shape == (len(m.vocabulary_), 100)
    assert m.output_vectors_.shape == m.wv.vectors.shape
    assert len(m.loss_history_) == 5 and all(0 < x < 5 for x in m.loss_history_)
    assert m.words_per_second_ > 0 and m.train_seconds_ > 0 and m.epochs_trained_ == 5
    assert [h["epoch"] for h in m.history_] == [1, 2, 3, 4, 5]
    assert m.history_[-1]["alpha"] < m.history_[0]["alpha"]


def test_constructor_does_not_train_or_validate():
    m = Word2Vec(vector_size=0)
    assert m.vector_size == 0
    with pytest.raises(NotFittedError):
        m.wv


@pytest.mark.parametrize("params,error", [
    (dict(vector_size=0), ValueError), (dict(negative=-1), ValueError), (dict(negative=0), ValueError),
    (dict(window=0), ValueError), (dict(epochs=0), ValueError), (dict(sample=-1e-3), ValueError),
    (dict(alpha=0.0), ValueError), (dict(alpha=-1.0), ValueError), (dict(min_alpha=1.0), ValueError),
    (dict(min_count=0), ValueError), (dict(workers=0), ValueError), (dict(vector_size=10.5), TypeError),
    (dict(sg="yes"), TypeError), (dict(ns_exponent=float("nan")), ValueError), (dict(workers="2"), TypeError),
    (dict(callbacks=[42]), TypeError), (dict(max_vocab_size=0), ValueError), (dict(hot_rows=-1), ValueError),
    (dict(hot_rows=2.5), TypeError), (dict(sg=2), TypeError),
])
def test_bad_parameters_raise_clear_errors(small_text, params, error):
    name = next(iter(params))
    with pytest.raises(error, match=name):
        Word2Vec(progress=False, **params).fit(small_text)


def test_bad_corpora(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty"):
        Word2Vec().fit(str(empty))
    with pytest.raises(FileNotFoundError):
        Word2Vec().fit(str(tmp_path / "missing.txt"))
    with pytest.raises(IsADirectoryError):
        Word2Vec().fit(str(tmp_path))
    with pytest.raises(ValueError, match="min_count"):
        Word2Vec(min_count=5).fit([["a", "b"], ["c"]])
    with pytest.raises(TypeError, match="one-shot"):
        Word2Vec(min_count=1).fit(iter([["a", "b"]]))
    for bad, match in ((None, "not NoneType"), (123, "not int"), (b"corpus.txt", "pass a file path as str")):
        with pytest.raises(TypeError, match=match):
            Word2Vec().fit(bad)


def test_negative_below_one_says_why():
    for value in (-1, 0):
        with pytest.raises(ValueError, match=r"negative must be >= 1.*negative sampling only"):
            Word2Vec(negative=value, min_count=1).fit([["a", "b"]])


def test_gensim_spellings_numpy_ints_and_scikit_learn_parameters():
    m = Word2Vec(sg=1, workers=np.int64(1), vector_size=np.int64(8), min_count=1, epochs=1, progress=False, sample=0)
    sentences = [["a", "b", "c", "d"]] * 50
    assert m.fit(sentences).kernel_ == "batched"
    assert Word2Vec(sg=0, min_count=1, epochs=1, progress=False, sample=0).fit(sentences).kernel_ == "classic"
    clone = type(m)(**m.get_params(deep=False))          # what sklearn.base.clone does
    assert clone.get_params() == m.get_params() and not hasattr(clone, "vocabulary_")
    assert clone.set_params(window=3, epochs=2) is clone and clone.window == 3
    with pytest.raises(ValueError, match="unknown parameter.*size"):
        clone.set_params(size=100)


def test_numpy_parameters_save_and_load(tmp_path):
    model = Word2Vec(sg=np.int64(1), workers=np.int64(1), vector_size=np.int64(8), window=np.int32(2), min_count=1,
                     epochs=1, progress=False, sample=0.0).fit([["a", "b", "c", "d"]] * 30)
    model.save(tmp_path / "m.fv")
    assert Word2Vec.load(tmp_path / "m.fv").get_params()["window"] == 2


def test_a_later_empty_epoch_warns_instead_of_failing_the_fit(monkeypatch):
    import itertools
    from fastvec import word2vec
    real = word2vec._dispatch.kernels("word2vec")
    calls = itertools.count()

    class SecondEpochEmpty:        # the kernels, except that the second call trains nothing
        def __getattr__(self, name):
            return getattr(real, name)

        def train_slice(self, **kw):
            words, examples, loss = real.train_slice(**kw)
            return (0, 0, 0.0) if next(calls) == 1 else (words, examples, loss)
    monkeypatch.setattr(word2vec._dispatch, "kernels", lambda name: SecondEpochEmpty())
    with pytest.warns(UserWarning, match="epoch 2 trained nothing"):
        model = Word2Vec(min_count=1, epochs=3, workers=1, progress=False, sample=0).fit([["a", "b", "c"]] * 20)
    assert model.epochs_trained_ == 3 and model.history_[1]["examples"] == 0


def test_corpora_with_nothing_to_train_raise():
    with pytest.raises(ValueError, match="no sentence .* 2 or more"):
        Word2Vec(min_count=1, progress=False).fit([["a"], ["b"], ["a"]] * 100)
    model = Word2Vec(min_count=1, progress=False, sample=1e-9, seed=1)
    with pytest.raises(ValueError, match="trained nothing: subsampling"):
        model.fit([["a", "b", "a"]])
    with pytest.raises(NotFittedError):   # a fit that trained nothing leaves the model as it was
        model.wv


def test_training_time_leaves_callbacks_out(small_text):
    import time
    model = Word2Vec(epochs=2, min_count=2, progress=False, callbacks=[lambda m, metrics: time.sleep(0.5)])
    model.fit(small_text)
    assert model.train_seconds_ == pytest.approx(sum(h["seconds"] for h in model.history_), rel=1e-6)
    assert model.words_per_second_ == pytest.approx(2 * model.history_[0]["work"] / model.train_seconds_)


def test_an_encoded_corpus_is_used_as_it_is_and_says_so(small_text):
    corpus = Corpus.build(small_text, min_count=2)
    with pytest.warns(UserWarning, match=r"min_count=5 \(its words occur down to 2 times\) not applied"):
        model = Word2Vec(min_count=5, epochs=1, progress=False).fit(corpus)
    assert len(model.wv) == len(corpus.vocabulary)


def test_checkpoint_may_not_overwrite_the_corpus(tmp_path, small_text):
    import shutil
    corpus = tmp_path / "corpus.txt"
    shutil.copyfile(small_text, corpus)
    before = corpus.read_bytes()
    model = Word2Vec(epochs=1, min_count=2, progress=False, checkpoint_every=1, checkpoint_path=corpus)
    with pytest.raises(ValueError, match="is the corpus being trained"):
        model.fit(str(corpus))
    assert corpus.read_bytes() == before


def test_weights_are_read_only_views(sg_model):
    for weights in (sg_model.vectors_, sg_model.output_vectors_):
        with pytest.raises(ValueError, match="read-only"):
            weights[0] = 1.0


def test_workers_one_with_seed_is_bit_reproducible(small_text):
    kw = dict(epochs=2, seed=42, workers=1, progress=False, min_count=2)
    a, b = Word2Vec(**kw).fit(small_text), Word2Vec(**kw).fit(small_text)
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)
    np.testing.assert_array_equal(a.output_vectors_, b.output_vectors_)
    assert a.loss_history_ == b.loss_history_
    c = Word2Vec(**{**kw, "seed": 43}).fit(small_text)
    assert not np.array_equal(a.wv.vectors, c.wv.vectors)


def test_hot_rows_train_as_well_as_shared_rows(bundled_text, tmp_path):
    """hot_rows (thread-private copies of the most frequent rows, 2 threads) must not change
    what is learned beyond thread-timing noise, and is kept by save/load."""
    kw = dict(sg=False, epochs=3, seed=3, progress=False, workers=2)
    shared = Word2Vec(**kw).fit(bundled_text)
    hot = Word2Vec(hot_rows=2048, **kw).fit(bundled_text)   # both tiers: 1,024 synced, 1,024 merged
    assert [h["examples"] for h in hot.history_] == [h["examples"] for h in shared.history_]
    # the first epoch's loss is 3-4% higher (the threads' changes to a hot row meet only every
    # 16,384 tokens or every 2^18-token call, a large part of this 1M-token corpus); by the
    # last epoch within 1%
    np.testing.assert_allclose(hot.loss_history_, shared.loss_history_, rtol=0.07)
    assert hot.loss_history_[-1] == pytest.approx(shared.loss_history_[-1], rel=0.02)
    for a, b in SANITY_PAIRS[:4]:
        assert hot.wv.similarity(a, b) > 0.3, (a, b)
    hot.save(tmp_path / "hot.fv")
    assert Word2Vec.load(tmp_path / "hot.fv").hot_rows == 2048
    assert hot.hot_rows_ == 2048 and shared.hot_rows_ == 0  # default: this corpus is too small


class _KernelSpy:
    """Word2Vec's kernels, recording the tokens of each train_slice call; with ``interrupt_after=n``
    Ctrl-C arrives during the n-th call."""

    def __init__(self, real, interrupt_after=0):
        self.real, self.interrupt_after, self.tokens, self.workspace = real, interrupt_after, [], None

    def __getattr__(self, name):
        return getattr(self.real, name)

    def train_slice(self, **kw):
        items, first, last = kw["items"], kw["first_item"], kw["last_item"]
        self.tokens.append(int(items[last - 1, 1] - items[first, 0]))
        out = self.real.train_slice(**kw)
        if len(self.tokens) == self.interrupt_after:
            self.workspace = kw["workspace"]
            raise KeyboardInterrupt
        return out


@pytest.mark.parametrize("env,expected,warns", [("64", 2, True), ("2", 2, False), ("1", 1, False),
                                               ("", 2, False), ("auto", 2, False)])
def test_omp_num_threads_sets_the_default_within_the_cores(monkeypatch, env, expected, warns):
    """workers=None takes OMP_NUM_THREADS, capped at the available cores like an explicit
    ``workers`` (with a warning naming the variable)."""
    import warnings

    from fastvec import _runtime, _threads
    monkeypatch.setattr(_threads, "available_cores", lambda: 2)
    monkeypatch.setattr(_runtime, "openmp_enabled", lambda: True)
    monkeypatch.setenv("OMP_NUM_THREADS", env)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert _threads.resolve_workers(None) == expected
    assert [str(w.message).split(" exceeds")[0] for w in record] == (["OMP_NUM_THREADS=64 (workers=None)"] if warns else [])


@pytest.mark.parametrize("env,expected", [("64", 2), ("2", 2), ("1", 1), ("", 2)])
def test_default_threads_reports_what_training_uses(monkeypatch, env, expected):
    """show_config's default thread count is the count workers=None trains with: OMP_NUM_THREADS
    above the cores is capped there too."""
    from fastvec import _config, _runtime, _threads
    monkeypatch.setattr(_threads, "available_cores", lambda: 2)
    monkeypatch.setattr(_runtime, "openmp_enabled", lambda: True)
    monkeypatch.setenv("OMP_NUM_THREADS", env)
    assert _threads.default_threads() == expected
    assert _config.config()["default_threads"] == expected
    assert _threads.resolve_workers(None, warn=False) == expected


@pytest.mark.parametrize("files,quota", [
    ({"cpu.max": "200000 100000\n"}, 2.0), ({"cpu.max": "150000 100000"}, 1.5), ({"cpu.max": "max 100000\n"}, None),
    ({"cpu/cpu.cfs_quota_us": "300000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 3.0),
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({"cpu/cpu.cfs_quota_us": "50000\n"}, None), ({"cpu.max": "garbage"}, None), ({}, None)])
def test_cgroup_cpu_quota(tmp_path, files, quota):
    from fastvec import _threads
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    assert _threads.cgroup_cpu_quota(str(tmp_path)) == quota


@pytest.mark.parametrize("quota,expected", [(None, 4), (1.5, 2), (0.5, 1), (64.0, 4)])
def test_available_cores_respect_a_container_cpu_quota(monkeypatch, quota, expected):
    from fastvec import _runtime, _threads
    monkeypatch.setattr(_runtime, "openmp_enabled", lambda: True)
    monkeypatch.setattr(_runtime, "openmp_num_procs", lambda: 4)
    monkeypatch.setattr(_threads, "cgroup_cpu_quota", lambda: quota)
    assert _threads.available_cores() == expected


def test_memory_estimate_counts_the_hot_row_copies(monkeypatch):
    from fastvec import _runtime, _threads
    from fastvec.word2vec import AUTO_HOT_ROWS, HOT_ASYNC_ROWS
    monkeypatch.setattr(_threads, "available_cores", lambda: 4)
    monkeypatch.setattr(_runtime, "openmp_enabled", lambda: True)
    big = 2 * 256 * 16_384
    est = Word2Vec(sg=False, workers=2, vector_size=10).estimate_memory(n_words=10**5, n_tokens=big)
    assert est["hot_row_copies"] == 2 * 2 * (AUTO_HOT_ROWS + HOT_ASYNC_ROWS) * 10 * 4
    assert Word2Vec(workers=1, vector_size=10).estimate_memory(n_words=10**5, n_tokens=big)["hot_row_copies"] == 0
    assert Word2Vec(sg=False, workers=2, vector_size=10).estimate_memory(n_words=10**5, n_tokens=1000)["hot_row_copies"] == 0
    assert Word2Vec(sg=True, workers=2, vector_size=10).estimate_memory(n_words=10**5, n_tokens=big)["hot_row_copies"] == 0


@pytest.mark.parametrize("interrupt", [False, True])
def test_hot_rows_reach_the_weights_at_epoch_end_and_on_interruption(small_text, monkeypatch, interrupt):
    """Merged hot rows live in per-thread copies between syncs; the weights must get them at
    the end of an epoch and when training stops midway. syn1 starts at zero, so an output row
    the merge missed stays zero."""
    from fastvec import _dispatch, word2vec
    corpus = Corpus.build(small_text, min_count=2)
    monkeypatch.setattr(word2vec, "HOT_ASYNC_ROWS", 8)
    kernels = _KernelSpy(_dispatch.kernels("word2vec"), interrupt_after=1 if interrupt else 0)
    monkeypatch.setattr(word2vec._dispatch, "kernels", lambda name: kernels)
    model = Word2Vec(sg=False, epochs=1, seed=1, workers=2, hot_rows=200, progress=False, min_count=2)
    if interrupt:
        with pytest.raises(KeyboardInterrupt):
            model.fit(corpus)
        assert kernels.workspace is not None and not kernels.workspace.live
        assert model.epochs_trained_ == 0
    else:
        model.fit(corpus)
    assert model.hot_rows_ == 200
    merged = model.output_vectors_[8:200]          # rows of the merged tier, all frequent words
    assert np.count_nonzero(np.abs(merged).sum(axis=1)) == len(merged)
    assert np.isfinite(model.output_vectors_).all()


@pytest.mark.parametrize("sg, hot_rows, expected", [(False, 200, "hot"), (False, 0, "plain"), (True, 200, "plain"),
                                                    (True, 0, "plain")])
def test_cbow_with_hot_rows_trains_longer_slices_between_merges(small_text, monkeypatch, sg, hot_rows, expected):
    """The merges of hot rows between kernel calls cost time, so CBOW with hot rows calls the
    kernel with up to HOT_SLICE_TOKENS tokens; everything else with SLICE_TOKENS (Ctrl-C response)."""
    from fastvec import _dispatch, word2vec
    corpus = Corpus.build(small_text, min_count=2)
    monkeypatch.setattr(word2vec, "SLICE_TOKENS", 5_000)
    monkeypatch.setattr(word2vec, "HOT_SLICE_TOKENS", 20_000)
    monkeypatch.setattr(word2vec, "HOT_MIN_MERGES", 2)
    kernels = _KernelSpy(_dispatch.kernels("word2vec"))
    monkeypatch.setattr(word2vec._dispatch, "kernels", lambda name: kernels)
    Word2Vec(sg=sg, epochs=1, seed=1, workers=2, hot_rows=hot_rows, progress=False, vector_size=16, min_count=2).fit(corpus)
    size = 20_000 if expected == "hot" else 5_000
    assert sum(kernels.tokens) == corpus.n_tokens
    assert len(kernels.tokens) == pytest.approx(corpus.n_tokens / size, abs=1.5)
    assert max(kernels.tokens) < size + word2vec.MAX_ITEM_TOKENS


def test_call_tokens_keep_enough_merges_per_epoch():
    from fastvec.word2vec import (EXAMPLE_COST, HOT_MIN_MERGES, HOT_SLICE_TOKENS, MAX_ITEM_TOKENS, REFERENCE_WORK,
                                  SLICE_TOKENS, call_tokens)
    assert call_tokens(cbow=True, hot_rows=8192, n_tokens=17_000_000) == HOT_SLICE_TOKENS == 1 << 20
    assert call_tokens(cbow=True, hot_rows=8192, n_tokens=10**6) == SLICE_TOKENS == 1 << 18
    assert call_tokens(cbow=True, hot_rows=8192, n_tokens=HOT_MIN_MERGES * 500_000) == 500_000
    assert call_tokens(cbow=True, hot_rows=0, n_tokens=10**9) == SLICE_TOKENS
    assert call_tokens(cbow=False, hot_rows=8192, n_tokens=10**9) == SLICE_TOKENS
    # heavier work per token, fewer tokens per call (Ctrl-C within a second), never below one item
    assert call_tokens(cbow=False, hot_rows=0, n_tokens=10**9, work=REFERENCE_WORK * 3) == SLICE_TOKENS // 3
    assert call_tokens(cbow=True, hot_rows=8192, n_tokens=17_000_000, work=REFERENCE_WORK * 4) == HOT_SLICE_TOKENS // 4
    assert REFERENCE_WORK == (100 + EXAMPLE_COST) * 5 * 6   # the defaults: unchanged call sizes
    from fastvec.word2vec import work_per_token
    for cbow in (False, True):
        assert work_per_token(cbow=cbow, vector_size=100, window=5, negative=5) == REFERENCE_WORK
    # CBOW's work grows with window + negative, skip-gram's with their product
    assert work_per_token(cbow=True, vector_size=300, window=10, negative=10) < 5 * REFERENCE_WORK
    assert work_per_token(cbow=False, vector_size=300, window=10, negative=10) > 8 * REFERENCE_WORK
    assert call_tokens(cbow=False, hot_rows=0, n_tokens=10**9, work=10**9) == MAX_ITEM_TOKENS
    assert call_tokens(cbow=False, hot_rows=0, n_tokens=10**9, work=10) == SLICE_TOKENS


def test_automatic_hot_rows_only_for_large_corpora_classic_kernels_and_threads():
    from fastvec.word2vec import AUTO_HOT_ROWS, resolve_hot_rows
    large = 2 * 256 * 16_384
    assert resolve_hot_rows(None, batched=False, threads=2, n_tokens=large, n_words=10**5) == AUTO_HOT_ROWS
    assert resolve_hot_rows(None, batched=False, threads=2, n_tokens=large - 1, n_words=10**5) == 0
    assert resolve_hot_rows(None, batched=False, threads=4, n_tokens=large, n_words=10**5) == 0
    assert resolve_hot_rows(None, batched=True, threads=2, n_tokens=large, n_words=10**5) == 0
    assert resolve_hot_rows(64, batched=True, threads=2, n_tokens=10, n_words=100) == 64
    assert resolve_hot_rows(None, batched=False, threads=1, n_tokens=10 * large, n_words=10**5) == 0
    assert resolve_hot_rows(None, batched=False, threads=2, n_tokens=large, n_words=100) == 100
    assert resolve_hot_rows(64, batched=False, threads=2, n_tokens=10, n_words=100) == 64
    assert resolve_hot_rows(64, batched=False, threads=1, n_tokens=large, n_words=100) == 0
    assert resolve_hot_rows(0, batched=False, threads=2, n_tokens=large, n_words=10**5) == 0


@pytest.mark.parametrize("sg", [True, False])
def test_loss_is_a_mean_that_does_not_depend_on_threads(small_text, sg):
    kw = dict(sg=sg, epochs=3, seed=3, progress=False, min_count=2)
    one = Word2Vec(workers=1, **kw).fit(small_text)
    two = Word2Vec(workers=2, **kw).fit(small_text)
    np.testing.assert_allclose(one.loss_history_, two.loss_history_, rtol=0.03)
    assert one.loss_history_[-1] < one.loss_history_[0]
    assert [h["examples"] for h in one.history_] == [h["examples"] for h in two.history_]


def test_iterables_and_encoded_corpora(small_text):
    sentences = [line.split() for line in open(small_text, encoding="utf-8")]
    kw = dict(epochs=1, seed=1, workers=1, progress=False, min_count=2)
    from_file = Word2Vec(**kw).fit(small_text)
    from_list = Word2Vec(**kw).fit(sentences)
    from_corpus = Word2Vec(**kw).fit(Corpus.build(small_text, min_count=2))
    np.testing.assert_array_equal(from_file.wv.vectors, from_list.wv.vectors)
    np.testing.assert_array_equal(from_file.wv.vectors, from_corpus.wv.vectors)


def test_interrupted_training_continues_exactly_after_save_and_load(tmp_path, small_text):
    kw = dict(epochs=4, seed=9, workers=1, progress=False, min_count=2)
    straight = Word2Vec(**kw).fit(small_text)
    interrupted = Word2Vec(callbacks=[StopAfter(2)], **kw)
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(small_text)
    assert interrupted.epochs_trained_ == 2 and len(interrupted.loss_history_) == 2
    interrupted.wv.most_similar("the")  # a usable model
    interrupted.save(tmp_path / "ckpt.fv")
    resumed = Word2Vec.load(tmp_path / "ckpt.fv")
    resumed.callbacks = ()
    resumed.train_more(small_text)
    assert resumed.epochs_trained_ == 4
    np.testing.assert_array_equal(resumed.wv.vectors, straight.wv.vectors)
    np.testing.assert_array_equal(resumed.output_vectors_, straight.output_vectors_)
    assert resumed.loss_history_ == straight.loss_history_
    with pytest.raises(ValueError, match="schedule is complete"):
        resumed.train_more(small_text)


def test_train_more_accepts_a_saved_corpus_with_the_same_vocabulary(tmp_path, small_text):
    corpus = Corpus.build(small_text, min_count=2)
    corpus.save(tmp_path / "c.fvc")
    model = Word2Vec(epochs=1, seed=1, progress=False, min_count=2).fit(corpus)
    model.save(tmp_path / "m.fv")
    resumed = Word2Vec.load(tmp_path / "m.fv").train_more(Corpus.load(tmp_path / "c.fvc"), epochs=1)
    assert resumed.epochs_trained_ == 2
    other = Corpus.build([["x", "y"]] * 3, min_count=1)
    with pytest.raises(ValueError, match="different vocabulary"):
        resumed.train_more(other, epochs=1)


def test_train_more_with_new_epochs_starts_a_new_schedule(small_text):
    m = Word2Vec(epochs=1, seed=1, progress=False, min_count=2).fit(small_text)
    before = m.wv.vectors.copy()
    cached = m.wv.most_similar("the", topn=3)
    m.train_more(small_text, epochs=2)
    assert m.epochs_trained_ == 3 and len(m.loss_history_) == 3
    assert m.history_[1]["alpha"] > m.history_[0]["alpha"]  # restarted from alpha
    assert not np.array_equal(before, m.wv.vectors)
    assert m.wv.most_similar("the", topn=3) != cached  # norms cache was invalidated


def test_save_load_round_trip(tmp_path, sg_model):
    sg_model.save(tmp_path / "m.fv")
    m = Word2Vec.load(tmp_path / "m.fv")
    assert m.get_params() == {**sg_model.get_params(), "callbacks": ()}
    np.testing.assert_array_equal(m.wv.vectors, sg_model.wv.vectors)
    assert m.vocabulary_.index_to_key == sg_model.vocabulary_.index_to_key
    assert m.loss_history_ == sg_model.loss_history_
    with pytest.raises(fastvec.FormatError, match="keyedvectors"):
        Word2Vec.load(_kv_file(tmp_path, sg_model))


def _kv_file(tmp_path, model):
    path = tmp_path / "kv.fv"
    model.wv.save(path)
    return path


def test_callbacks_receive_metrics(small_text):
    seen = []
    Word2Vec(epochs=2, progress=False, min_count=2, callbacks=[lambda m, metrics: seen.append(metrics)]).fit(small_text)
    assert [s["epoch"] for s in seen] == [1, 2]
    assert all({"loss", "seconds", "alpha", "words_per_second", "examples"} <= set(s) for s in seen)


def test_divergence_is_detected_and_explained(small_text):
    m = Word2Vec(alpha=1e30, epochs=2, progress=False, min_count=2)
    with pytest.raises(DivergenceError, match="alpha"):
        m.fit(small_text)
    with pytest.raises(DivergenceError, match="unusable"):
        m.wv


@pytest.mark.parametrize("kernel", ["batched", "classic"])
def test_divergence_hint_names_the_batched_kernel_whatever_the_window(small_text, kernel):
    # the batched kernel sums a window's updates into a row: its hint used to need window x
    # negative > 1000, while window=400 with negative=1 diverged with only "alpha too high"
    m = Word2Vec(alpha=1e30, window=2, negative=2, epochs=1, progress=False, min_count=2, kernel=kernel)
    with pytest.raises(DivergenceError, match="alpha") as info:
        m.fit(small_text)
    assert ("kernel='classic'" in str(info.value)) == (kernel == "batched")


def test_tiny_sample_that_drops_everything_says_to_raise_it(small_text):
    with pytest.raises(ValueError, match="use a larger sample") as info:
        Word2Vec(sample=1e-300, epochs=1, progress=False, min_count=2).fit(small_text)
    assert "lower sample" not in str(info.value)


def test_alpha_defaults():
    assert Word2Vec(sg=True).alpha_ == 0.025 and Word2Vec(sg=False).alpha_ == 0.05
    assert Word2Vec(sg=True).min_alpha_ == pytest.approx(0.0001)
    assert Word2Vec(sg=False).min_alpha_ == pytest.approx(0.0002)


def test_progress_bar_does_not_break_non_tty(small_text, capsys):
    Word2Vec(epochs=1, progress=True, min_count=2).fit(small_text)
    assert capsys.readouterr().err == ""  # not a TTY: no bar


def test_show_config(capsys):
    cfg = fastvec.show_config()
    out = capsys.readouterr().out
    assert "openmp" in out and cfg["version"] == fastvec.__version__
    assert isinstance(cfg["openmp"], bool) and cfg["default_threads"] >= 1


@pytest.mark.parametrize("sg", [True, False], ids=["sg", "cbow"])
def test_batched_kernel_matches_classic_quality(bundled_text, sg):
    """Shared noise words (sgemm) against per-pair noise words (word2vec.c), same data and seed."""
    from fastvec.evaluation import default_pairs, evaluate_word_analogies, evaluate_word_pairs

    def scores(kernel):
        # one thread: reproducible scores (with two, the CBOW WS-353 gap varied 0.019-0.034 between runs)
        kv = Word2Vec(sg=sg, kernel=kernel, seed=1, progress=False, epochs=5, workers=1).fit(bundled_text).wv
        return (evaluate_word_analogies(kv).accuracy,
                *(evaluate_word_pairs(kv, p).spearman for p in default_pairs().values()))

    classic, batched = scores("classic"), scores("batched")
    assert classic[0] > 0.02 and classic[1] > 0.25   # the comparison is between trained models
    assert batched[0] >= classic[0] - 0.01, (batched, classic)
    assert batched[1] >= classic[1] - 0.03 and batched[2] >= classic[2] - 0.03, (batched, classic)


def test_kernel_choice():
    assert Word2Vec(sg=True).kernel_ == "batched" and Word2Vec(sg=False).kernel_ == "classic"
    assert Word2Vec(sg=True, kernel="classic").kernel_ == "classic"
    with pytest.raises(ValueError, match="kernel"):
        Word2Vec(kernel="fast").fit([["a", "b"]] * 10)


def test_learned_attributes_exist_after_load(tmp_path, small_text):
    model = Word2Vec(epochs=1, min_count=2, progress=False, vector_size=8).fit(small_text)
    model.save(tmp_path / "m.fv")
    loaded = Word2Vec.load(tmp_path / "m.fv")
    assert loaded.hot_rows_ == 0 and loaded.memory_estimate_["total"] > 0


def test_repairs_are_reported_once_when_the_corpus_is_read_twice(tmp_path):
    import warnings
    path = tmp_path / "c.txt"
    path.write_bytes(b"caf\xe9 the of\n" * 50)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        Corpus.build(str(path), min_count=1, max_vocab_size=100)
    assert sum("undecodable" in str(w.message) for w in record) == 1


def test_a_failed_refit_leaves_the_fitted_model_as_it_was(small_text, monkeypatch):
    model = Word2Vec(vector_size=20, epochs=1, min_count=2, workers=1, seed=1, progress=False).fit(small_text)
    neighbours = model.wv.most_similar("the", topn=3)
    state = dict(vars(model))
    syn0 = model._syn0.copy()
    # a bad seed (checked before reading), nothing to train on, too little memory: nothing changes
    for change, corpus, error in [({"seed": 1.5}, small_text, TypeError),
                                  ({}, [["x"], ["y"]] * 10, ValueError),
                                  ({}, [["lonely", "words"]] * 3 + [["x"]], ValueError)]:
        model.set_params(**change)
        with pytest.raises(error):
            model.fit(corpus)
        model.set_params(seed=1)
        assert vars(model).keys() == state.keys() and "_rollback" not in vars(model)
        assert all(vars(model)[k] is v for k, v in state.items())
        assert np.array_equal(model._syn0, syn0) and model.wv.most_similar("the", topn=3) == neighbours
    monkeypatch.setattr(fastvec._base, "available_memory", lambda: 1000)
    with pytest.raises(MemoryError):
        model.fit(small_text)
    assert model._syn0 is state["_syn0"] and model.epochs_trained_ == 1
    monkeypatch.undo()
    # an unfitted model that fails stays unfitted
    fresh = Word2Vec(epochs=1, progress=False)
    with pytest.raises(ValueError):
        fresh.fit([["x"], ["y"]] * 10)
    with pytest.raises(NotFittedError):
        fresh.wv


def test_a_refit_that_completes_an_epoch_keeps_the_new_model(small_text):
    """Ctrl-C (here: a callback) after the first epoch of a refit: the new model is kept."""
    model = Word2Vec(vector_size=20, epochs=2, min_count=2, workers=1, seed=1, progress=False).fit(small_text)
    old = model._syn0
    model.set_params(callbacks=[StopAfter(1)], vector_size=12)
    with pytest.raises(KeyboardInterrupt):
        model.fit(small_text)
    assert model._syn0 is not old and model._syn0.shape[1] == 12 and model.epochs_trained_ == 1
    assert "_rollback" not in vars(model)


def test_one_shot_callbacks_and_sentences_are_refused(small_text):
    with pytest.raises(TypeError, match="callbacks must be a list or tuple"):
        Word2Vec(epochs=1, progress=False, callbacks=(cb for cb in [print])).fit(small_text)
    sentences = [iter(["a", "b", "c"]) for _ in range(20)]
    with pytest.raises(TypeError, match="corpus item 0 is a one-shot iterator"):
        Word2Vec(epochs=1, min_count=1, progress=False).fit(sentences)
    tuples_and_ranges = [("a", "b", "c")] * 10 + [list("abc")] * 10
    assert len(Word2Vec(epochs=1, min_count=1, sample=0, progress=False).fit(tuples_and_ranges).wv) == 3


@pytest.mark.parametrize("path", [b"/tmp/model.fv", 123, True, ["m.fv"]])
def test_checkpoint_path_of_the_wrong_type_is_named(path, small_text):
    with pytest.raises(TypeError, match="checkpoint_path must be a str or os.PathLike"):
        Word2Vec(epochs=1, checkpoint_every=1, checkpoint_path=path, progress=False).fit(small_text)


def test_a_device_or_fifo_as_checkpoint_path_is_refused_before_training(tmp_path, small_text):
    import os
    fifo = tmp_path / "ck.fifo"
    os.mkfifo(fifo)
    for path in ("/dev/null", fifo):
        for model in (Word2Vec(epochs=1, checkpoint_every=1, checkpoint_path=path, progress=False),
                      fastvec.GloVe(epochs=1, checkpoint_every=1, checkpoint_path=path, progress=False)):
            with pytest.raises(OSError, match="not a regular file"):
                model.fit(small_text)
            assert not hasattr(model, "epochs_trained_")


def test_save_refuses_parameters_that_load_would_refuse(tmp_path, small_text):
    model = Word2Vec(vector_size=10, epochs=1, min_count=2, progress=False).fit(small_text)
    path = tmp_path / "m.fv"
    for change, message in [({"window": 0}, "window must be >= 1"), ({"alpha": -1.0}, "alpha must be > 0"),
                            ({"vector_size": 12}, "vector_size cannot change after fit")]:
        model.set_params(**change)
        with pytest.raises(ValueError, match=message):
            model.save(path)
        assert not path.exists()
        model.set_params(window=5, alpha=None, vector_size=10)
    model.save(path)
    assert Word2Vec.load(path).vector_size == 10


def test_checkpoints_and_callbacks_see_the_statistics_so_far(tmp_path, small_text):
    seen = []
    path = tmp_path / "ck.fv"
    model = Word2Vec(epochs=3, min_count=2, workers=1, progress=False, checkpoint_every=2, checkpoint_path=path,
                     callbacks=[lambda m, metrics: seen.append((m.train_seconds_, m.words_per_second_))])
    model.fit(small_text)
    assert all(s > 0 and r > 0 for s, r in seen) and seen[0][0] < seen[1][0] < seen[2][0]
    saved = Word2Vec.load(path)
    assert saved.epochs_trained_ == 2
    assert saved.train_seconds_ == pytest.approx(sum(h["seconds"] for h in model.history_[:2]), rel=1e-6)
    assert saved.train_seconds_ > 0 and saved.words_per_second_ > 0


def test_numpy_epochs_of_a_small_type_do_not_overflow(small_text):
    model = Word2Vec(epochs=np.int8(2), min_count=2, progress=False).fit(small_text)
    assert model.epochs_trained_ == 2 and model._schedule["epochs"] == 2


def test_a_fitted_model_can_be_deep_copied_after_encoding(small_text):
    import copy
    model = Word2Vec(vector_size=10, epochs=1, min_count=2, progress=False).fit(small_text)
    model.wv.most_similar("the")             # the vectors' lock and norm cache
    model.train_more(small_text, epochs=1)   # builds the vocabulary's encoding table
    clone = copy.deepcopy(model)
    assert np.array_equal(clone.wv.vectors, model.wv.vectors) and clone.vocabulary_ is not model.vocabulary_
    assert clone.vocabulary_.encode([["the", "of"]]).n_tokens == 2


def test_a_new_fit_forgets_the_custom_tokenizer_note(tmp_path, small_text):
    import warnings
    Word2Vec(vector_size=10, epochs=1, min_count=2, progress=False, tokenizer=str.split).fit(small_text).save(
        tmp_path / "m.fv")
    model = Word2Vec.load(tmp_path / "m.fv")
    with pytest.warns(UserWarning, match="custom tokenizer"):
        model.train_more(small_text, epochs=1)
    model.fit(small_text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.train_more(small_text, epochs=1)


def test_warnings_point_at_the_callers_line(small_text):
    import inspect
    model = Word2Vec(vector_size=10, epochs=1, min_count=2, progress=False, workers=64)
    with pytest.warns(UserWarning, match="exceeds") as record:
        line = inspect.currentframe().f_lineno + 1
        model.fit(small_text)
    assert record[0].filename == __file__ and record[0].lineno == line


def test_ctrl_c_while_a_refit_sets_up_restores_the_model(small_text, monkeypatch):
    model = Word2Vec(vector_size=10, epochs=1, min_count=2, workers=1, seed=1, progress=False).fit(small_text)
    state = dict(vars(model))

    def interrupted(self):
        raise KeyboardInterrupt
    monkeypatch.setattr(Word2Vec, "_init_weights", interrupted)   # after the new vocabulary, before training
    with pytest.raises(KeyboardInterrupt):
        model.fit([["a", "b", "c"]] * 50)
    assert vars(model).keys() == state.keys() and all(vars(model)[k] is v for k, v in state.items())


def test_save_refuses_a_replaced_vocabulary(tmp_path, small_text):
    model = Word2Vec(vector_size=10, epochs=1, min_count=2, progress=False).fit(small_text)
    model.vocabulary_ = fastvec.Vocabulary(["a", "b"], [2, 1])
    with pytest.raises(ValueError, match="needs \\(2, 10\\); nothing was saved"):
        model.save(tmp_path / "m.fv")
    assert not (tmp_path / "m.fv").exists()


def test_messages_number_epochs_as_history_does(small_text):
    # train_more numbers its epochs after the ones already trained, in errors too
    model = Word2Vec(vector_size=8, min_count=1, epochs=2, seed=1, workers=1, progress=False).fit(small_text)
    model.set_params(alpha=1e30)
    with pytest.raises(DivergenceError, match="diverged in epoch 3"):
        model.train_more(small_text, epochs=2)
