"""GloVe: the epoch kernel against its NumPy twin and a hand-computed step, the estimator's
contract (determinism, continuation, persistence, divergence) and bad inputs."""
import importlib
import math

import numpy as np
import pytest
import scipy.sparse

import fastvec
from fastvec import Cooccurrence, Corpus, DivergenceError, GloVe, NotFittedError, Vocabulary
from fastvec import _dispatch
from fastvec import _reference_glove as ref
from fastvec._io import load_container, save_container
from fastvec._memory import aligned, aligned_zeros

from conftest import StopAfter

VARIANTS = [v for v in _dispatch.supported_variants()
            if importlib.util.find_spec(f"fastvec._glove_{v}") is not None]


def _matrix(seed=0, n_words=30, n_tokens=2000):
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, n_words + 1)
    ids = rng.choice(n_words, size=n_tokens, p=p / p.sum())
    m = ref.count_cooccurrences(ids, np.r_[0:n_tokens:50, n_tokens], n_words, 5)
    return m.indptr.astype(np.int64), m.indices.astype(np.int32), m.data.astype(np.float32)


def _state(kernels, n_words, dim, seed=1):
    rng = np.random.default_rng(seed)
    state = ref.initial_state(n_words, dim, (rng.random((2 * n_words, dim)) - 0.5) / (dim + 1),
                              (rng.random(2 * n_words) - 0.5) / (dim + 1))
    dpad = kernels.padded_size(dim)
    assert state.shape == (2 * n_words, kernels.row_length(dpad))
    state[:, dpad:] += rng.random((2 * n_words, dpad)).astype(np.float32)   # sums already grown a little
    return state, dpad


def _run(kernels, state, indptr, indices, data, dim, *, block, per_item, first=0, last=None, clip=100.0,
         seed=5, epoch=3, threads=1, x_max=10.0):
    n_words = len(indptr) - 1
    if last is None:
        last = kernels.epoch_items(len(indices), block, per_item)
    return kernels.train_slice(state=state, indptr=indptr, row_hint=kernels.row_hints(indptr, 3), hint_shift=3,
                               indices=indices, data=data, n_words=n_words, vector_size=dim, first_item=first,
                               last_item=last, block=block, blocks_per_item=per_item, x_max=x_max, alpha=0.75,
                               eta=0.05, clip=clip, seed=seed, epoch=epoch, n_threads=threads)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("dim", [1, 13, 16, 50, 63])
@pytest.mark.parametrize("block,per_item", [(1, 7), (8, 4), (16, 256)])
def test_kernel_matches_reference(variant, dim, block, per_item):
    kernels = importlib.import_module(f"fastvec._glove_{variant}")
    indptr, indices, data = _matrix()
    state, dpad = _state(kernels, len(indptr) - 1, dim)
    before = state.copy()
    want_state = state.copy()
    got = _run(kernels, state, indptr, indices, data, dim, block=block, per_item=per_item)
    want = ref.train_items(state=want_state, indptr=indptr, indices=indices, data=data, n_words=len(indptr) - 1,
                           vector_size=dim, first_item=0, last_item=kernels.epoch_items(len(indices), block, per_item),
                           block=block, blocks_per_item=per_item, x_max=10.0, alpha=0.75, eta=0.05, clip=100.0,
                           seed=5, epoch=3)
    assert got[0] == want[0] == len(indices)        # every non-zero exactly once per epoch
    np.testing.assert_allclose(got[1], want[1], rtol=1e-5)
    np.testing.assert_allclose(state, want_state, rtol=1e-5, atol=1e-6)
    assert not np.array_equal(state, before)
    # padding lanes stay 0 and constant lanes 1; biases learn
    n = len(indptr) - 1
    np.testing.assert_array_equal(state[:, dim + 2:dpad], 0.0)
    np.testing.assert_array_equal(state[:n, dim + 1], 1.0)
    np.testing.assert_array_equal(state[n:, dim], 1.0)
    assert not np.array_equal(state[:n, dim], before[:n, dim]) and not np.array_equal(state[n:, dim + 1], before[n:, dim + 1])


def test_kernel_takes_a_state_off_cache_lines():
    """The state fastvec.glove allocates starts on a cache line; the kernel's row prefetch also
    covers rows that straddle one more line, and the result does not depend on it."""
    kernels = importlib.import_module(f"fastvec._glove_{VARIANTS[-1]}")
    indptr, indices, data = _matrix()
    state, _ = _state(kernels, len(indptr) - 1, 13)
    on_line = aligned(state)
    raw = np.zeros(state.size + 64, dtype=np.float32)
    skew = (-raw.ctypes.data % 64) // 4 + 4                  # 16 bytes past a cache line
    off_line = raw[skew:skew + state.size].reshape(state.shape)
    off_line[...] = state
    assert on_line.ctypes.data % 64 == 0 and off_line.ctypes.data % 64 == 16
    got = [_run(kernels, s, indptr, indices, data, 13, block=1, per_item=7) for s in (on_line, off_line)]
    assert got[0] == got[1]
    np.testing.assert_array_equal(on_line, off_line)


@pytest.mark.parametrize("shape,dtype", [((0,), np.float32), ((3, 5), np.float64), ((7, 128), np.float32),
                                         ((2, 3, 4), np.int16)])
@pytest.mark.parametrize("alignment", [8, 64, 4096])
def test_aligned_arrays(shape, dtype, alignment):
    a = aligned_zeros(shape, dtype, alignment)
    assert a.shape == shape and a.dtype == dtype and a.flags.c_contiguous and a.flags.writeable
    assert (a.size == 0 or a.ctypes.data % alignment == 0) and not a.any()   # empty: no first byte
    assert aligned(a, alignment) is a
    b = np.arange(math.prod(shape) + 1, dtype=dtype)[1:].reshape(shape)   # 1 itemsize past NumPy's alignment
    c = aligned(b, alignment)
    assert c.size == 0 or c.ctypes.data % alignment == 0
    np.testing.assert_array_equal(c, b)
    with pytest.raises(ValueError, match="power of two"):
        aligned_zeros(shape, dtype, 48)


def test_state_rows_sit_on_cache_lines_after_fit_and_load(tmp_path, small_cooc):
    """Each row is whole cache lines (the kernel's layout); allocated by NumPy alone the state
    would start 16 bytes into one, and every row would straddle one line more."""
    m = GloVe(seed=1, workers=1, **SMALL).fit(small_cooc)
    assert m._state.ctypes.data % 64 == 0 and m._state.shape[1] * 4 % 64 == 0
    m.save(tmp_path / "g.fv")
    back = GloVe.load(tmp_path / "g.fv")
    assert back._state.ctypes.data % 64 == 0
    np.testing.assert_array_equal(back._state, m._state)
    m.train_more(small_cooc, epochs=1)
    back.train_more(small_cooc, epochs=1)
    np.testing.assert_array_equal(back._state, m._state)


def test_one_adagrad_step_by_hand():
    """One non-zero X[0, 1] = 3, vector size 3: glove.c's update computed with NumPy in float64."""
    kernels = _dispatch.kernels("glove")
    dpad = kernels.padded_size(3)
    w, c = np.array([0.1, -0.2, 0.3]), np.array([0.4, 0.1, -0.5])
    vectors = np.zeros((4, 3))
    vectors[0], vectors[3] = w, c                           # word 0, context 1 (row V + 1)
    state = ref.initial_state(2, 3, vectors, np.array([0.05, 0, 0, -0.02]))
    state[0, dpad:dpad + 4] = [1.0, 2.0, 4.0, 2.0]          # the word's sums (bias sum last)
    state[3, dpad:dpad + 3] = [1.0, 1.5, 3.0]
    untouched = state[[1, 2]].copy()
    indptr = np.array([0, 1, 1], dtype=np.int64)
    indices, data = np.array([1], dtype=np.int32), np.array([3.0], dtype=np.float32)
    x_max, alpha, eta = 10.0, 0.75, 0.05
    diff = w @ c + 0.05 - 0.02 - np.log(3.0)
    fdiff = (3.0 / x_max) ** alpha * diff
    gw, gc = np.array([1.0, 2.0, 4.0]), np.array([1.0, 1.5, 3.0])
    t_w, t_c = fdiff * c * eta, fdiff * w * eta
    done, loss = _run(kernels, state, indptr, indices, data, 3, block=1, per_item=1, x_max=x_max)
    assert done == 1 and loss == pytest.approx(0.5 * fdiff * diff, rel=1e-5)
    np.testing.assert_allclose(state[0, :3], w - t_w / np.sqrt(gw), rtol=1e-5)
    np.testing.assert_allclose(state[3, :3], c - t_c / np.sqrt(gc), rtol=1e-5)
    np.testing.assert_allclose(state[0, dpad:dpad + 3], gw + t_w**2, rtol=1e-6)
    np.testing.assert_allclose(state[3, dpad:dpad + 3], gc + t_c**2, rtol=1e-6)
    # biases: the unclipped f*diff without the learning rate, as glove.c; constants stay 1
    np.testing.assert_allclose(state[0, [3, dpad + 3]], [0.05 - fdiff / np.sqrt(2.0), 2.0 + fdiff**2], rtol=1e-5)
    np.testing.assert_allclose(state[3, [4, dpad + 4]], [-0.02 - fdiff, 1.0 + fdiff**2], rtol=1e-5)
    assert state[0, 4] == state[3, 3] == 1.0 and state[0, dpad + 4] == state[3, dpad + 3] == 1.0
    np.testing.assert_array_equal(state[[1, 2]], untouched)   # nothing else moved
    np.testing.assert_array_equal(state[[0, 3], 5:dpad], 0.0)


def test_gradient_components_are_clipped():
    kernels = _dispatch.kernels("glove")
    vectors = np.zeros((4, 4))
    vectors[0] = [5.0, -5.0, 0.001, 0.0]
    vectors[3] = [5.0, 5.0, 0.0, -0.001]
    state = ref.initial_state(2, 4, vectors, np.zeros(4))
    indptr = np.array([0, 1, 1], dtype=np.int64)
    indices, data = np.array([1], dtype=np.int32), np.array([20.0], dtype=np.float32)
    before = state.copy()
    _run(kernels, state, indptr, indices, data, 4, block=1, per_item=1, clip=0.01)
    step = before[0, :4] - state[0, :4]
    # fdiff = w.c - log 20 ~ -3: components fdiff*c = -15, -15 clip to -0.01; tiny ones pass
    np.testing.assert_allclose(step[:2], [-0.01 * 0.05] * 2, atol=1e-6)  # float32 steps on 5.0
    assert abs(step[3]) < 0.01 * 0.05 and step[3] != 0


def test_block_order_is_a_permutation_for_any_size():
    for n_blocks in (1, 2, 3, 7, 64, 1000, 1025):
        for epoch in (0, 1):
            order = ref.block_order(n_blocks, seed=11, epoch=epoch)
            assert sorted(order) == list(range(n_blocks))
    a, b = ref.block_order(1000, 11, 0), ref.block_order(1000, 11, 1)
    assert a != b                                   # a fresh order every epoch
    assert abs(np.corrcoef(np.arange(1000), a)[0, 1]) < 0.1


# -- the estimator ----------------------------------------------------------------------------------

SMALL = dict(vector_size=20, window=5, min_count=2, x_max=10.0, epochs=3, progress=False)


@pytest.fixture(scope="module")
def small_cooc(small_text):
    return Cooccurrence.from_corpus(Corpus.build(small_text, min_count=2), window=5, workers=1)


def test_loss_decreases_and_learned_attributes(small_cooc):
    m = GloVe(seed=1, workers=1, **{**SMALL, "epochs": 6}).fit(small_cooc)
    assert m.loss_history_ == sorted(m.loss_history_, reverse=True) and m.loss_history_[-1] < 0.7 * m.loss_history_[0]
    n = len(m.vocabulary_)
    assert m.wv.vectors.shape == (n, 20) and m.wv.vectors.dtype == np.float32
    assert m.word_vectors_.shape == m.context_vectors_.shape == (n, 20)
    assert m.word_biases_.shape == m.context_biases_.shape == (n,)
    np.testing.assert_allclose(m.wv.vectors, m.word_vectors_ + m.context_vectors_, rtol=1e-6)
    assert [h["epoch"] for h in m.history_] == [1, 2, 3, 4, 5, 6] and m.epochs_trained_ == 6
    assert all(h["examples"] == small_cooc.nnz for h in m.history_)
    assert m.pairs_per_second_ > 0 and m.train_seconds_ > 0


def test_vectors_choice(small_cooc):
    kw = dict(seed=1, workers=1, **SMALL)
    word = GloVe(vectors="word", **kw).fit(small_cooc)
    context = GloVe(vectors="context", **kw).fit(small_cooc)
    np.testing.assert_array_equal(word.wv.vectors, word.word_vectors_)
    np.testing.assert_array_equal(context.wv.vectors, context.context_vectors_)
    np.testing.assert_array_equal(word.word_vectors_, context.word_vectors_)


def test_wv_follows_a_later_change_of_vectors(small_cooc):
    model = GloVe(vectors="sum", seed=1, workers=1, **SMALL).fit(small_cooc)
    np.testing.assert_array_equal(model.wv.vectors, model.word_vectors_ + model.context_vectors_)
    for choice, want in (("word", model.word_vectors_), ("context", model.context_vectors_),
                         ("sum", model.word_vectors_ + model.context_vectors_)):
        model.vectors = choice
        np.testing.assert_array_equal(model.wv.vectors, want)
        assert model.wv is model.wv   # cached while the setting stays
    model.vectors = "mean"
    with pytest.raises(ValueError, match="vectors must be one of"):
        model.wv


def test_memory_is_estimated_before_allocating(monkeypatch, small_text, small_cooc):
    model = GloVe(seed=1, workers=2, **SMALL).fit(small_cooc)
    est = model.memory_estimate_
    assert est["parameters"] + est["adagrad_state"] == model._state.nbytes
    m = small_cooc.matrix
    assert est["cooccurrences"] == m.data.nbytes + m.indices.nbytes + m.indptr.nbytes
    assert est["shuffle_buffers"] > 0 and est["training_tables"] > 8 * len(model.vocabulary_)
    assert est["total"] == sum(v for k, v in est.items() if k != "total")
    assert model.estimate_memory(nnz=m.nnz) == est   # the fitted vocabulary by default
    plan = GloVe(vector_size=300).estimate_memory(n_words=400_000, nnz=10**9)
    assert plan["parameters"] == plan["adagrad_state"] == 2 * 400_000 * 304 * 4   # 300 + 2 lanes, padded to 16
    assert plan["cooccurrences"] == 8 * 10**9 + 4 * 400_001
    with pytest.raises(NotFittedError):
        GloVe().estimate_memory()

    import fastvec._base as base
    monkeypatch.setattr(base, "available_memory", lambda: 1000)
    for corpus in (small_cooc, small_text):
        fresh = GloVe(**SMALL)
        with pytest.raises(MemoryError, match="GloVe training .* needs about .* GiB but only .*vector_size"):
            fresh.fit(corpus)
        assert not hasattr(fresh, "_state")   # refused before the parameters were allocated
    # from text, before the co-occurrences were counted
    monkeypatch.setattr(Cooccurrence, "from_corpus", lambda *a, **k: pytest.fail("counted before refusing"))
    with pytest.raises(MemoryError):
        GloVe(**SMALL).fit(small_text)


def test_workers_one_with_seed_is_bit_reproducible(small_text, small_cooc):
    kw = dict(seed=42, workers=1, **SMALL)
    a, b = GloVe(**kw).fit(small_cooc), GloVe(**kw).fit(small_text)   # matrix given or counted: same
    np.testing.assert_array_equal(a._state, b._state)
    assert a.loss_history_ == b.loss_history_
    c = GloVe(**{**kw, "seed": 43}).fit(small_cooc)
    assert not np.array_equal(a._state, c._state)


def test_threads_change_only_the_races(small_cooc):
    kw = dict(seed=3, **SMALL)
    one, two = GloVe(workers=1, **kw).fit(small_cooc), GloVe(workers=2, **kw).fit(small_cooc)
    np.testing.assert_allclose(one.loss_history_, two.loss_history_, rtol=0.02)


def test_too_many_workers_warn_once_per_call(small_text, monkeypatch):
    from fastvec import _threads
    monkeypatch.setattr(_threads, "available_cores", lambda: 1)
    model = GloVe(workers=2, seed=1, **SMALL)
    for train in (lambda: model.fit(small_text), lambda: model.train_more(small_text, epochs=1)):
        with pytest.warns(UserWarning, match="exceeds the 1 available core") as record:
            train()
        exceeds = [w for w in record if "exceeds" in str(w.message)]
        assert len(exceeds) == 1, [str(w.message) for w in record]
        assert exceeds[0].filename == __file__   # blames the caller's line


def test_interrupted_training_continues_exactly_after_save_and_load(tmp_path, small_cooc):
    kw = dict(seed=9, workers=1, **{**SMALL, "epochs": 4})
    straight = GloVe(**kw).fit(small_cooc)
    interrupted = GloVe(callbacks=[StopAfter(2)], **kw)
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(small_cooc)
    assert interrupted.epochs_trained_ == 2
    interrupted.save(tmp_path / "ckpt.fv")
    resumed = GloVe.load(tmp_path / "ckpt.fv")
    resumed.train_more(small_cooc)
    assert resumed.epochs_trained_ == 4
    np.testing.assert_array_equal(resumed._state, straight._state)
    np.testing.assert_array_equal(resumed.wv.vectors, straight.wv.vectors)
    assert resumed.loss_history_ == straight.loss_history_
    with pytest.raises(ValueError, match="epochs=k"):
        resumed.train_more(small_cooc)
    before = resumed.wv.most_similar("the", topn=3)
    resumed.train_more(small_cooc, epochs=2)
    assert resumed.epochs_trained_ == 6 and resumed.wv.most_similar("the", topn=3) != before


def test_train_more_on_text_uses_the_model_vocabulary(small_text, small_cooc):
    m = GloVe(seed=1, workers=1, **SMALL).fit(small_cooc)
    m.train_more(small_text, epochs=1)
    assert m.epochs_trained_ == 4
    other = Cooccurrence.from_corpus([["a", "b", "a"]] * 3, Vocabulary(["a", "b"], [6, 3]), window=2)
    with pytest.raises(ValueError, match="different vocabulary"):
        m.train_more(other, epochs=1)


def test_save_load_round_trip(tmp_path, small_cooc):
    m = GloVe(seed=1, workers=1, **SMALL).fit(small_cooc)
    m.save(tmp_path / "g.fv")
    back = GloVe.load(tmp_path / "g.fv")
    assert back.get_params() == {**m.get_params(), "callbacks": ()}
    np.testing.assert_array_equal(back.wv.vectors, m.wv.vectors)
    np.testing.assert_array_equal(back.word_biases_, m.word_biases_)
    with pytest.raises(fastvec.FormatError, match="glove"):
        fastvec.Word2Vec.load(tmp_path / "g.fv")


def _legacy_layout(state, d):
    """The state in the layout of files saved before 2026-11-25: halves padded to 16 floats."""
    dpad, old = state.shape[1] // 2, fastvec.glove.legacy_padded_size(d)
    legacy = np.zeros((len(state), 2 * old), dtype=np.float32)
    legacy[:, :d + 2] = state[:, :d + 2]
    legacy[:, old:] = 1.0
    legacy[:, old:old + d + 2] = state[:, dpad:dpad + d + 2]
    return legacy


def test_files_of_the_older_state_layout_load_and_continue_exactly(tmp_path, small_cooc):
    d = SMALL["vector_size"]
    kernels = _dispatch.kernels("glove")
    assert fastvec.glove.legacy_padded_size(d) != kernels.padded_size(d)   # the case being tested
    m = GloVe(seed=3, workers=1, **SMALL).fit(small_cooc)
    m.save(tmp_path / "new.fv")
    meta, arrays = load_container(tmp_path / "new.fv", "glove")
    save_container(tmp_path / "old.fv", "glove", meta, {**arrays, "state": _legacy_layout(arrays["state"], d)})
    back = GloVe.load(tmp_path / "old.fv")
    np.testing.assert_array_equal(back._state, m._state)
    assert back._state.ctypes.data % 64 == 0
    np.testing.assert_array_equal(back.wv.vectors, m.wv.vectors)
    back.train_more(small_cooc, epochs=1)
    m.train_more(small_cooc, epochs=1)
    np.testing.assert_array_equal(back._state, m._state)
    # its padding lanes are dropped, so they are checked before: a corrupt one is refused
    legacy = _legacy_layout(arrays["state"], d)
    legacy[:, d + 2] = 5.0
    save_container(tmp_path / "bad.fv", "glove", meta, {**arrays, "state": legacy})
    with pytest.raises(fastvec.FormatError, match="padding lane"):
        GloVe.load(tmp_path / "bad.fv")


def test_callbacks_receive_metrics(small_cooc):
    seen = []
    GloVe(seed=1, callbacks=[lambda model, metrics: seen.append(metrics)], **SMALL).fit(small_cooc)
    assert [s["epoch"] for s in seen] == [1, 2, 3]
    assert all({"loss", "seconds", "examples", "pairs_per_second"} <= set(s) for s in seen)


def test_divergence_is_detected_and_explained(small_cooc):
    m = GloVe(learning_rate=1e30, seed=1, **SMALL)
    with pytest.raises(DivergenceError, match="learning_rate"):
        m.fit(small_cooc)
    with pytest.raises(DivergenceError, match="unusable"):
        m.wv


def test_constructor_does_not_train_or_validate():
    m = GloVe(x_max=-1)
    assert m.x_max == -1
    with pytest.raises(NotFittedError):
        m.wv


@pytest.mark.parametrize("params,error", [
    (dict(x_max=0), ValueError), (dict(x_max=-3.0), ValueError), (dict(window=0), ValueError),
    (dict(vector_size=0), ValueError), (dict(epochs=0), ValueError), (dict(learning_rate=0.0), ValueError),
    (dict(alpha=-1.0), ValueError), (dict(grad_clip=0.0), ValueError), (dict(vectors="both"), ValueError),
    (dict(workers=0), ValueError), (dict(min_count=0), ValueError), (dict(vector_size=2.5), TypeError),
    (dict(x_max=float("nan")), ValueError), (dict(callbacks=[3]), TypeError),
    (dict(x_max=1e39), ValueError),  # beyond float32, where the kernel computes: inf
])
def test_bad_parameters_raise_clear_errors(small_cooc, params, error):
    name = next(iter(params))
    with pytest.raises(error, match=name):
        GloVe(**{**SMALL, **params}).fit(small_cooc)


def test_empty_or_unusable_cooccurrences():
    vocab = Vocabulary(["a", "b"], [5, 5])
    empty = Cooccurrence(scipy.sparse.csr_array((2, 2), dtype=np.float32), vocab)
    with pytest.raises(ValueError, match="empty"):
        GloVe(**SMALL).fit(empty)
    with pytest.raises(ValueError, match="empty"):
        GloVe(**{**SMALL, "min_count": 1}).fit([["a"], ["b"]])   # no two words share a line
    zero = Cooccurrence(scipy.sparse.csr_array((np.array([0.0], np.float32), (np.array([0]), np.array([1]))),
                                               shape=(2, 2)), vocab)
    with pytest.raises(ValueError, match="> 0"):
        GloVe(**SMALL).fit(zero)
    with pytest.raises(TypeError):
        GloVe(**SMALL).fit(scipy.sparse.eye(2))


def test_parameter_views_are_read_only(tmp_path):
    model = GloVe(vector_size=4, epochs=1, min_count=1, progress=False, seed=1).fit([["a", "b", "c", "a"]] * 30)
    for view in (model.word_vectors_, model.context_vectors_, model.word_biases_, model.context_biases_):
        with pytest.raises(ValueError, match="read-only"):
            view[0] = 1.0


def test_checkpoint_may_not_overwrite_the_corpus(tmp_path, small_text):
    import shutil
    corpus = tmp_path / "corpus.txt"
    shutil.copyfile(small_text, corpus)
    before = corpus.read_bytes()
    with pytest.raises(ValueError, match="is the corpus being trained"):
        GloVe(epochs=1, min_count=2, progress=False, checkpoint_every=1, checkpoint_path=corpus).fit(str(corpus))
    assert corpus.read_bytes() == before


def test_vector_size_cannot_change_after_fit(small_cooc, tmp_path):
    model = GloVe(vector_size=10, epochs=1, workers=1, seed=1, progress=False).fit(small_cooc)
    model.set_params(vector_size=12)   # same padded row: would read the biases as vector components
    for use in (lambda: model.word_vectors_, lambda: model.wv, lambda: model.train_more(small_cooc, epochs=1),
                lambda: model.save(tmp_path / "g.fv")):
        with pytest.raises(ValueError, match="vector_size cannot change after fit"):
            use()
    assert not (tmp_path / "g.fv").exists() and model.epochs_trained_ == 1
    model.set_params(vector_size=10)
    model.save(tmp_path / "g.fv")
    loaded = GloVe.load(tmp_path / "g.fv")
    assert loaded.word_vectors_.shape[1] == 10 and loaded.memory_estimate_["total"] > 0


def test_a_failed_refit_leaves_the_fitted_glove_as_it_was(small_cooc):
    model = GloVe(vector_size=10, epochs=1, workers=1, seed=1, progress=False).fit(small_cooc)
    state = dict(vars(model))
    bad = Cooccurrence(small_cooc.matrix.copy(), small_cooc.vocabulary)
    bad.matrix.data[0] = 0.0
    with pytest.raises(ValueError, match="must be > 0"):
        model.fit(bad)
    assert vars(model).keys() == state.keys() and all(vars(model)[k] is v for k, v in state.items())
