"""PPMI against its formula on hand-made matrices, the randomized SVD against LAPACK, and the
SVDEmbedding estimator on real text."""
import math

import numpy as np
import pytest
import scipy.sparse

from fastvec import Cooccurrence, Corpus, SVDEmbedding, Vocabulary, ppmi
from fastvec.svd import randomized_svd

from conftest import SANITY_PAIRS

HAND = np.array([[0.0, 2.0, 1.0],
                 [2.0, 0.0, 3.0],
                 [1.0, 3.0, 4.0]])


def test_ppmi_matches_the_formula_by_hand():
    # cds = 1: PMI = log(X_ij N / (r_i c_j)); N = 16, r = c = (3, 5, 8)
    got = ppmi(scipy.sparse.csr_array(HAND), cds=1.0).toarray()
    want = np.zeros((3, 3))
    want[0, 1] = want[1, 0] = math.log(2 * 16 / (3 * 5))      # 0.758
    want[1, 2] = want[2, 1] = math.log(3 * 16 / (5 * 8))      # 0.182
    # (0, 2): log(16 / 24) < 0 and (2, 2): log(64 / 64) = 0 are not positive: dropped
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert scipy.sparse.csr_array(ppmi(scipy.sparse.csr_array(HAND), cds=1.0)).nnz == 4


@pytest.mark.parametrize("cds,shift", [(0.75, 1.0), (0.5, 2.0), (1.0, 5.0)])
def test_ppmi_smoothing_and_shift(cds, shift):
    rng = np.random.default_rng(1)
    dense = rng.poisson(2.0, size=(12, 12)).astype(np.float64) * (rng.random((12, 12)) < 0.6)
    dense[3] = 0.0                                       # an empty row stays empty
    got = ppmi(scipy.sparse.csr_array(dense), cds=cds, shift=shift)
    r, c = dense.sum(1), dense.sum(0)
    p_context = c**cds / (c**cds).sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(dense / dense.sum()) - np.log(r / dense.sum())[:, None] - np.log(p_context)[None, :]
    want = np.where(dense > 0, np.maximum(pmi - np.log(shift), 0.0), 0.0)
    assert got.dtype == np.float32 and got.has_sorted_indices
    np.testing.assert_allclose(got.toarray(), want, rtol=1e-5, atol=1e-6)
    assert (got.data > 0).all() and got.nnz == np.count_nonzero(want)


def test_ppmi_accepts_cooccurrence_and_rejects_bad_input():
    vocab = Vocabulary(["a", "b", "c"], [5, 5, 5])
    cooc = Cooccurrence(scipy.sparse.csr_array(HAND.astype(np.float32)), vocab)
    np.testing.assert_allclose(ppmi(cooc, cds=1.0).toarray(), ppmi(scipy.sparse.csr_array(HAND), cds=1.0).toarray())
    with pytest.raises(ValueError, match="cds"):
        ppmi(cooc, cds=0.0)
    with pytest.raises(ValueError, match="shift"):
        ppmi(cooc, shift=0.0)
    with pytest.raises(ValueError, match="square"):
        ppmi(scipy.sparse.csr_array(np.ones((2, 3))))
    with pytest.raises(ValueError, match=">= 0"):
        ppmi(scipy.sparse.csr_array(-np.eye(3)))
    with pytest.raises(TypeError, match="Cooccurrence"):
        ppmi(HAND)


def test_randomized_svd_matches_lapack():
    rng = np.random.default_rng(0)
    # a matrix with a decaying spectrum, as PPMI matrices have
    u, _ = np.linalg.qr(rng.standard_normal((300, 300)))
    v, _ = np.linalg.qr(rng.standard_normal((200, 200)))
    s = 1.0 / np.arange(1, 201) ** 0.7
    a = (u[:, :200] * s) @ v.T
    got_u, got_s, got_vt = randomized_svd(scipy.sparse.csr_array(a.astype(np.float32)), 10, seed=3)
    np.testing.assert_allclose(got_s, s[:10], rtol=2e-3)
    # singular vectors up to sign
    np.testing.assert_allclose(np.abs(np.sum(got_u * u[:, :10], axis=0)), 1.0, atol=2e-2)
    np.testing.assert_allclose(np.abs(np.sum(got_vt.T * v[:, :10], axis=0)), 1.0, atol=2e-2)


@pytest.fixture(scope="module")
def svd_model(bundled_text):
    return SVDEmbedding(vector_size=100, window=5, workers=1, seed=1).fit(bundled_text)


def test_svd_embedding_on_real_text(svd_model):
    m = svd_model
    kv = m.wv
    assert kv.vectors.shape == (len(m.vocabulary_), 100) and kv.vectors.dtype == np.float32
    assert (np.diff(m.singular_values_) <= 0).all() and m.singular_values_[-1] > 0
    np.testing.assert_allclose(np.linalg.norm(kv.vectors, axis=0), m.singular_values_**0.5, rtol=1e-3)
    ranks = [[w for w, _ in kv.most_similar(a, topn=None)].index(b) for a, b in SANITY_PAIRS]
    assert np.median(ranks) < 30, ranks   # out of ~14,700 words


def test_svd_embedding_options_and_errors(small_text):
    corpus = Corpus.build(small_text, min_count=3)
    cooc = Cooccurrence.from_corpus(corpus, window=3)
    a = SVDEmbedding(vector_size=8, eig_weight=0.0, seed=2).fit(cooc)
    np.testing.assert_allclose(np.linalg.norm(a.wv.vectors, axis=0), 1.0, rtol=1e-4)   # U has unit columns
    b = SVDEmbedding(vector_size=8, vectors="sum", seed=2).fit(cooc)
    assert b.context_vectors_.shape == b.wv.vectors.shape
    with pytest.raises(ValueError, match="vector_size"):
        SVDEmbedding(vector_size=len(corpus.vocabulary)).fit(cooc)
    with pytest.raises(ValueError, match="vectors"):
        SVDEmbedding(vectors="context").fit(cooc)
    with pytest.raises(ValueError, match="cds"):
        SVDEmbedding(cds=-1.0).fit(cooc)


def test_svd_wv_follows_a_later_change_of_vectors(small_text):
    cooc = Cooccurrence.from_corpus(Corpus.build(small_text, min_count=3), window=3)
    word = SVDEmbedding(vector_size=8, seed=2).fit(cooc)
    summed = SVDEmbedding(vector_size=8, vectors="sum", seed=2).fit(cooc)
    before = word.wv.vectors.copy()
    word.vectors = "sum"
    np.testing.assert_array_equal(word.wv.vectors, summed.wv.vectors)
    word.vectors = "word"
    np.testing.assert_array_equal(word.wv.vectors, before)
    np.testing.assert_array_equal(word.word_vectors_, before)
    summed.vectors = "word"
    np.testing.assert_array_equal(summed.wv.vectors, word.word_vectors_)
    summed.vectors = "context"
    with pytest.raises(ValueError, match="vectors must be one of"):
        summed.wv


def test_svd_embedding_parameters_as_scikit_learn_has_them():
    from fastvec import SVDEmbedding
    model = SVDEmbedding(vector_size=8, window=3)
    clone = type(model)(**model.get_params(deep=False))
    assert clone.get_params() == model.get_params()
    assert clone.set_params(window=5) is clone and clone.window == 5
    with pytest.raises(ValueError, match="unknown parameter"):
        clone.set_params(size=3)


def test_ppmi_keeps_int32_indices_and_ignores_stored_zeros():
    import warnings
    m = scipy.sparse.csr_array((np.array([2.0, 2.0, 0.0], dtype=np.float32), np.array([1, 0, 2], dtype=np.int32),
                                np.array([0, 1, 2, 3])), shape=(3, 3))   # a stored 0 in an empty column
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ppmi(m, cds=1.0)
    assert out.indices.dtype == np.int32 and out.indptr.dtype == np.int32
    np.testing.assert_allclose(out.toarray(), [[0, math.log(2), 0], [math.log(2), 0, 0], [0, 0, 0]], rtol=1e-6)


def test_svd_vectors_are_read_only(small_text):
    from fastvec import NotFittedError
    for name in ("word_vectors_", "context_vectors_", "wv"):
        with pytest.raises(NotFittedError, match="not fitted"):
            getattr(SVDEmbedding(), name)
    model = SVDEmbedding(vector_size=5, window=2, min_count=3).fit(small_text)
    for learned in (model.word_vectors_, model.context_vectors_):
        with pytest.raises(ValueError, match="read-only"):
            learned[0] = 0.0
    assert np.shares_memory(model.wv.vectors, model.word_vectors_)
    model.wv.set_vector(model.wv.index_to_key[0], np.ones(5, dtype=np.float32))   # through wv: allowed
    assert np.array_equal(model.word_vectors_[0], np.ones(5))


def test_a_failed_svd_refit_changes_nothing(small_text):
    model = SVDEmbedding(vector_size=5, window=2, min_count=3).fit(small_text)
    learned = {k: v for k, v in vars(model).items() if k.endswith("_")}
    with pytest.raises(ValueError, match="smaller than the vocabulary"):
        model.set_params(vector_size=100_000).fit(small_text)
    assert {k: v for k, v in vars(model).items() if k.endswith("_")}.keys() == learned.keys()
    assert all(getattr(model, k) is v for k, v in learned.items())
