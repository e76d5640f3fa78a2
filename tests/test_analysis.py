"""fastvec.analysis: known answers on synthetic data, brute-force twins, real vectors, the CLI report."""
from __future__ import annotations

import itertools
import json
import math
from collections import Counter

import numpy as np
import pytest
from scipy import sparse

import fastvec
from fastvec import analysis as A
from fastvec.cli import main
from fastvec.evaluation import default_pairs, evaluate_word_pairs


def gaussian(n=20000, d=10, seed=0):
    return np.random.default_rng(seed).standard_normal((n, d))


def cone(n=5000, d=20, seed=0, offset=3.0, noise=0.3):
    """Gaussian noise around a common mean vector: the shape of word2vec vectors."""
    x = np.random.default_rng(seed).standard_normal((n, d)) * noise
    x[:, 0] += offset
    return x


def low_rank(n, d, k, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, k)) @ rng.standard_normal((k, d))


def with_singular_values(sigma, n=300, d=None, seed=0):
    """An n x d matrix with exactly the given singular values."""
    rng = np.random.default_rng(seed)
    k = len(sigma)
    d = d or k
    u, _ = np.linalg.qr(rng.standard_normal((n, k)))
    v, _ = np.linalg.qr(rng.standard_normal((d, k)))
    return (u * np.asarray(sigma)) @ v.T


def brute_average_cosine(w):
    norms = np.linalg.norm(w, axis=1)
    total, pairs = 0.0, 0
    for i in range(len(w)):
        for j in range(len(w)):
            if i != j:
                denom = norms[i] * norms[j]
                total += w[i] @ w[j] / denom if denom > 0 else 0.0
                pairs += 1
    return total / pairs


# -- known answers ---------------------------------------------------------------------------------
def test_isotropic_gaussian_is_isotropic():
    g = gaussian()
    assert A.isotropy(g) > 0.85          # Marchenko-Pastur: about ((1 - 0.022) / (1 + 0.022))^2 = 0.91
    assert A.partition_isotropy(g) > 0.9
    assert abs(A.average_cosine(g)) < 0.01
    assert abs(A.average_cosine(g, sample=20000, seed=1)) < 0.02
    assert A.cone_half_angle(g) > 150
    assert A.intrinsic_dimension(g) > 9.8 and A.effective_rank(g) > 9.9
    assert abs(A.spectrum_power_law(g).alpha) < 0.1


def test_cone_has_high_average_cosine_that_center_removes():
    c = cone()
    assert A.average_cosine(c) > 0.8
    assert A.cone_half_angle(c) < 45
    assert A.isotropy(c) < 0.05 and A.partition_isotropy(c) < 0.05
    centred = A.center(c)
    assert abs(A.average_cosine(centred)) < 0.01
    assert A.isotropy(centred) > 0.7 and A.partition_isotropy(centred) > 0.7
    assert np.allclose(centred.mean(axis=0), 0.0, atol=1e-12)
    # the measures with center=True see the same centred matrix
    assert A.isotropy(c, center=True) == pytest.approx(A.isotropy(centred), rel=1e-9)


@pytest.mark.parametrize("n,d,k", [(200, 30, 1), (200, 30, 3), (50, 80, 7), (500, 20, 20)])
def test_rank_k_matrix_has_effective_rank_at_most_k(n, d, k):
    w = low_rank(n, d, k, seed=k)
    assert A.effective_rank(w) <= k + 1e-9
    assert A.effective_rank(w) > 1 if k > 1 else A.effective_rank(w) == pytest.approx(1.0)
    assert 1.0 - 1e-9 <= A.intrinsic_dimension(w) <= k + 1e-9
    assert np.count_nonzero(A.spectrum(w)) == k


def test_effective_rank_and_participation_ratio_known_values():
    assert A.effective_rank(with_singular_values([2.0] * 6, d=10)) == pytest.approx(6.0)
    assert A.intrinsic_dimension(with_singular_values([3.0] * 6, d=10)) == pytest.approx(6.0)
    sigma = np.array([4.0, 2.0, 1.0, 1.0])
    p = sigma / sigma.sum()
    assert A.effective_rank(with_singular_values(sigma)) == pytest.approx(math.exp(-(p * np.log(p)).sum()))
    lam = sigma ** 2
    assert A.intrinsic_dimension(with_singular_values(sigma)) == pytest.approx(lam.sum() ** 2 / (lam ** 2).sum())
    assert A.isotropy(with_singular_values(sigma)) == pytest.approx(1 / 16)
    assert A.isotropy(with_singular_values(sigma), exclude_smallest=2) == pytest.approx(1 / 4)
    assert A.isotropy(with_singular_values([1.0, 1.0], d=3)) == 0.0  # rank 2 in 3 dimensions
    with pytest.raises(ValueError, match="exclude_smallest must be <= 3"):
        A.isotropy(with_singular_values(sigma), exclude_smallest=4)


def test_power_law_exponent_is_recovered():
    k = np.arange(1, 41)
    fit = A.spectrum_power_law(with_singular_values(3.0 * k ** -0.75))  # lambda_k = 9 k^-1.5
    assert fit.alpha == pytest.approx(1.5, abs=1e-9)
    assert fit.scale == pytest.approx(9.0, rel=1e-9)
    assert fit.r_squared == pytest.approx(1.0)
    part = A.spectrum_power_law(with_singular_values(3.0 * k ** -0.75), ranks=(5, 20))
    assert (part.first_rank, part.last_rank) == (5, 20) and part.alpha == pytest.approx(1.5, abs=1e-9)
    with pytest.raises(ValueError, match="ranks"):
        A.spectrum_power_law(with_singular_values(k + 0.0), ranks=(5, 41))


def test_unit_ball_volume_closed_forms_and_decay():
    assert A.unit_ball_volume(0) == pytest.approx(1.0)
    assert A.unit_ball_volume(1) == pytest.approx(2.0)
    assert A.unit_ball_volume(2) == pytest.approx(math.pi)
    assert A.unit_ball_volume(3) == pytest.approx(4 * math.pi / 3)
    for d in range(2, 60):  # V_d = 2 pi / d * V_{d-2}
        assert A.unit_ball_volume(d) == pytest.approx(2 * math.pi / d * A.unit_ball_volume(d - 2), rel=1e-12)
    volumes = [A.unit_ball_volume(d) for d in range(5, 400)]
    assert all(a > b for a, b in zip(volumes, volumes[1:]))
    assert max(range(30), key=A.unit_ball_volume) == 5
    assert A.unit_ball_volume(100) < 1e-39 and A.unit_ball_volume(5000) == 0.0
    assert math.isfinite(A.unit_ball_volume(10**6, log=True)) and A.unit_ball_volume(10**6, log=True) < -1e6


def test_shell_fraction():
    assert A.shell_fraction(1, 0.5) == 0.5
    assert A.shell_fraction(3, 0.5) == 0.125
    assert A.shell_fraction(1000, 0.99) == pytest.approx(0.99 ** 1000) and A.shell_fraction(1000, 0.99) < 5e-5
    assert A.shell_fraction(10, 1.0) == 1.0
    with pytest.raises(ValueError, match="r must be <= 1"):
        A.shell_fraction(3, 1.5)


def test_distance_concentration_shrinks_with_dimension():
    results = [A.distance_concentration(d, 200, seed=3) for d in (2, 10, 100, 1000)]
    contrast = [r["relative_contrast"] for r in results]
    spread = [r["spread"] for r in results]
    assert all(a > b for a, b in zip(contrast, contrast[1:]))
    assert all(a > b for a, b in zip(spread, spread[1:]))
    assert contrast[-1] < 0.5 and contrast[0] > 10
    assert results[-1]["d"] == 1000 and results[-1]["n"] == 200


def test_distance_concentration_of_given_points_matches_brute_force():
    pts = np.random.default_rng(1).standard_normal((30, 4))
    dist = [np.linalg.norm(pts[i] - pts[j]) for i, j in itertools.combinations(range(30), 2)]
    r = A.distance_concentration(pts, 100)
    assert r["min"] == pytest.approx(min(dist)) and r["max"] == pytest.approx(max(dist))
    assert r["relative_contrast"] == pytest.approx((max(dist) - min(dist)) / min(dist))
    assert r["spread"] == pytest.approx((max(dist) - min(dist)) / np.mean(dist))
    sub = A.distance_concentration(pts, 10, seed=0)
    assert sub["n"] == 10 and sub["d"] == 4
    assert A.distance_concentration(pts, 10, seed=0) == sub


def test_all_but_the_top_removes_exactly_the_top_components():
    rng = np.random.default_rng(5)
    w = with_singular_values([20.0, 10.0, 5.0, 3.0, 2.0, 1.5, 1.0, 0.5], n=400, d=12) + rng.normal(0, 0.01, (400, 12))
    w += rng.normal(0, 1, 12)  # a common mean vector, as in real embeddings
    x = w - w.mean(axis=0)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    for D in (0, 1, 3):
        out = A.all_but_the_top(w, D)
        top = vt[:D]
        assert np.allclose(out, x - x @ top.T @ top, atol=1e-10)        # brute-force twin
        assert np.allclose(out @ top.T, 0.0, atol=1e-10)               # nothing left along u_1..u_D
        kept = A.spectrum(out, center=True)
        assert np.allclose(kept[:12 - D], s[D:] ** 2, rtol=1e-8)         # the other directions untouched
        assert np.allclose(kept[12 - D:], 0.0, atol=1e-8)
    assert np.allclose(A.all_but_the_top(w, 0), A.center(w))
    assert np.allclose(A.all_but_the_top(w), A.all_but_the_top(w, 1))  # d / 100 rounds to at least 1
    with pytest.raises(ValueError, match="D must be <= 12"):
        A.all_but_the_top(w, 13)


@pytest.mark.parametrize("method", ["pca", "zca"])
def test_whiten_gives_identity_covariance(method):
    c = cone(n=3000, d=6) @ np.random.default_rng(2).standard_normal((6, 6))
    z = A.whiten(c, method=method)
    assert np.allclose(np.cov(z, rowvar=False), np.eye(6), atol=1e-9)
    assert np.allclose(z.mean(axis=0), 0.0, atol=1e-9)
    x = c - c.mean(axis=0)
    lam, u = np.linalg.eigh(np.cov(c, rowvar=False))
    if method == "zca":  # X C^(-1/2), the symmetric inverse square root
        assert np.allclose(z, x @ (u / np.sqrt(lam)) @ u.T, atol=1e-9)
    else:  # principal axes, largest variance first (up to sign)
        assert np.allclose(np.abs(z), np.abs(x @ (u / np.sqrt(lam))[:, ::-1]), atol=1e-9)


def test_whiten_singular_covariance():
    w = low_rank(100, 5, 2)
    with pytest.raises(ValueError, match="singular"):
        A.whiten(w)
    assert np.isfinite(A.whiten(w, eps=1e-6)).all()
    with pytest.raises(ValueError, match="method"):
        A.whiten(w, method="svd")


def test_post_processing_returns_the_kind_it_was_given_and_leaves_inputs_alone():
    rng = np.random.default_rng(0)
    vectors = (rng.standard_normal((50, 8)) + 2).astype(np.float32)
    keys = [f"w{i}" for i in range(50)]
    kv = fastvec.KeyedVectors(keys, vectors.copy(), counts=np.arange(50, 0, -1))
    arr64 = vectors.astype(np.float64)
    before = arr64.copy()
    funcs = [A.center, A.normalize, lambda w: A.all_but_the_top(w, 2), A.whiten,
             lambda w: A.whiten(w, method="zca"), lambda w: A.random_projection(w, 5, seed=1)]
    for f in funcs:
        out_kv, out_arr = f(kv), f(arr64)
        assert isinstance(out_kv, fastvec.KeyedVectors) and out_kv is not kv
        assert out_kv.index_to_key == keys and np.array_equal(out_kv.counts, kv.counts)
        assert out_kv.vectors.dtype == np.float32
        assert isinstance(out_arr, np.ndarray) and out_arr.dtype == np.float64
        assert np.allclose(out_kv.vectors, out_arr, atol=1e-4)
    assert np.array_equal(arr64, before) and np.array_equal(kv.vectors, vectors)
    assert A.center(vectors.tolist()).dtype == np.float64  # array-likes become float64 arrays
    for f in funcs:  # every float dtype is kept, float16 included; integers become float64
        assert f(vectors.astype(np.float16)).dtype == np.float16
        assert f(vectors.astype(np.int32)).dtype == np.float64


def test_normalize_keeps_zero_rows():
    w = np.array([[3.0, 4.0], [0.0, 0.0], [-2.0, 0.0]])
    assert np.array_equal(A.normalize(w), [[0.6, 0.8], [0.0, 0.0], [-1.0, 0.0]])


# -- brute-force twins ---------------------------------------------------------------------------
def test_spectrum_matches_svd():
    w = np.random.default_rng(4).standard_normal((60, 9)) + 1
    s = np.linalg.svd(w, compute_uv=False)
    assert np.allclose(A.spectrum(w), s ** 2)
    assert np.allclose(A.singular_values(w), s)
    sc = np.linalg.svd(w - w.mean(axis=0), compute_uv=False)
    assert np.allclose(A.spectrum(w, center=True), sc ** 2)
    assert A.isotropy(w) == pytest.approx(s[-1] ** 2 / s[0] ** 2)


def test_spectrum_streams_over_blocks(monkeypatch):
    w = cone(n=1000, d=7).astype(np.float32)
    expected = (A.spectrum(w), A.partition_isotropy(w), A.average_cosine(w), A.all_but_the_top(w, 2))
    monkeypatch.setattr(A, "_BLOCK_ROWS", 64)
    assert np.allclose(A.spectrum(w), expected[0])
    assert A.partition_isotropy(w) == pytest.approx(expected[1], rel=1e-9)
    assert A.average_cosine(w) == pytest.approx(expected[2], rel=1e-9)
    assert np.allclose(A.all_but_the_top(w, 2), expected[3], atol=1e-6)


def test_average_cosine_exact_matches_all_pairs():
    w = np.random.default_rng(7).standard_normal((40, 5)) + 0.5
    w[3] = 0.0  # zero vectors count with cosine 0
    assert A.average_cosine(w) == pytest.approx(brute_average_cosine(w), abs=1e-12)


def test_average_cosine_sampled_estimate_is_unbiased_over_distinct_pairs():
    w = np.random.default_rng(8).standard_normal((6, 3))
    w[0] *= 50  # cosine ignores length
    exact = brute_average_cosine(w)
    estimates = np.array([A.average_cosine(w, sample=200, seed=s) for s in range(200)])
    stderr = estimates.std() / math.sqrt(len(estimates))
    assert abs(estimates.mean() - exact) < 4 * stderr + 1e-12
    # with two rows the only pair of distinct rows is (0, 1): a sampler that drew i == j would show 1.0
    two = np.array([[1.0, 0.0], [1.0, 1.0]])
    assert A.average_cosine(two, sample=50, seed=0) == pytest.approx(math.sqrt(0.5))
    assert A.average_cosine(w, sample=100, seed=5) == A.average_cosine(w, sample=100, seed=5)


def test_partition_isotropy_matches_brute_force():
    w = cone(n=200, d=4, noise=1.0, offset=1.0)
    _, vecs = np.linalg.eigh(w.T @ w)
    z = [np.exp(w @ (s * vecs[:, i])).sum() for i in range(4) for s in (1, -1)]
    assert A.partition_isotropy(w) == pytest.approx(min(z) / max(z), rel=1e-9)
    big = cone(n=200, d=4) * 1000  # exp(c^T w) overflows float64; log-sum-exp does not
    value = A.partition_isotropy(big)
    assert 0.0 <= value <= 1.0 and math.isfinite(value)
    assert A.partition_isotropy(-w) == pytest.approx(A.partition_isotropy(w), rel=1e-9)


def test_cone_half_angle_known_geometry():
    theta = math.radians(30)
    w = np.array([[math.cos(theta), s * math.sin(theta), t * math.sin(theta)]
                  for s, t in ((1, 0), (-1, 0), (0, 1), (0, -1))]) * np.array([[1], [2], [3], [4]])
    assert A.cone_half_angle(w) == pytest.approx(30.0)
    assert A.cone_half_angle(w, degrees=False) == pytest.approx(theta)
    assert A.cone_half_angle(np.vstack([w, [[1, 0, 0]]]), quantile=0.0) == pytest.approx(0.0, abs=1e-6)
    # opposite directions have no mean direction: the cone is the whole space; zero vectors have none
    assert A.cone_half_angle(np.array([[1.0, 0.0], [-2.0, 0.0], [0.0, 0.0]])) == 180.0
    with pytest.raises(ValueError, match="only zero vectors"):
        A.cone_half_angle(np.zeros((3, 2)))


def test_cosine_similarity_matrix(sg_model):
    kv = sg_model.wv
    words = ["king", "queen", "paris", "water"]
    sims = A.cosine_similarity_matrix(kv, words)
    assert sims.shape == (4, 4) and np.allclose(np.diag(sims), 1.0) and np.allclose(sims, sims.T)
    for (i, a), (j, b) in itertools.product(enumerate(words), repeat=2):
        assert sims[i, j] == pytest.approx(kv.similarity(a, b), abs=1e-5)
    rows = [kv.get_index(w) for w in words]
    assert np.allclose(A.cosine_similarity_matrix(kv.vectors, rows), sims)
    w = np.array([[1.0, 0.0], [0.0, 0.0]])
    assert np.array_equal(A.cosine_similarity_matrix(w), [[1.0, 0.0], [0.0, 0.0]])
    with pytest.raises(KeyError, match="notaword"):
        A.cosine_similarity_matrix(kv, ["king", "notaword"])
    with pytest.raises(TypeError, match="KeyedVectors"):
        A.cosine_similarity_matrix(kv.vectors, ["king"])
    assert A.cosine_similarity_matrix(kv.vectors, []).shape == (0, 0) == A.cosine_similarity_matrix(kv, []).shape


def test_one_hot_and_its_sparsity():
    vocab = ["the", "cat", "sat", "on", "mat"]
    m = A.one_hot(vocab, ["cat", "mat", "cat"])
    assert sparse.issparse(m) and m.shape == (3, 5)
    assert np.array_equal(m.toarray(), [[0, 1, 0, 0, 0], [0, 0, 0, 0, 1], [0, 1, 0, 0, 0]])
    assert A.sparsity(m) == pytest.approx(4 / 5)
    big = A.one_hot({f"w{i}": i for i in range(1000)}, [f"w{i}" for i in range(0, 1000, 7)])
    assert A.sparsity(big) == pytest.approx(999 / 1000) and big.sum() == len(range(0, 1000, 7))
    assert A.sparsity(np.eye(4)) == 0.75
    with pytest.raises(KeyError, match="dog"):
        A.one_hot(vocab, ["dog"])
    # a mapping whose indices are not 0 .. V-1 would put the 1 outside the matrix
    for mapping in ({"cat": 0, "dog": 5}, {"cat": 1, "dog": 1}, {"cat": 0, "dog": -1}, {"cat": 0, "dog": 1.0}):
        with pytest.raises(ValueError, match="indices 0 .. V-1"):
            A.one_hot(mapping, ["dog"])
    assert np.array_equal(A.one_hot({"dog": 1, "cat": 0}, ["dog"]).toarray(), [[0, 1]])


def test_skipgram_pairs_match_a_loop():
    assert A.skipgram_pairs(["the", "quick", "brown", "fox"], 1) == [
        ("the", "quick"), ("quick", "the"), ("quick", "brown"), ("brown", "quick"), ("brown", "fox"),
        ("fox", "brown")]
    rng = np.random.default_rng(0)
    for window in (1, 2, 5):
        tokens = rng.integers(0, 9, size=23).tolist()
        expected = [(tokens[i], tokens[j]) for i in range(len(tokens)) for j in range(len(tokens))
                    if j != i and abs(i - j) <= window]
        assert A.skipgram_pairs(tokens, window) == expected
    assert A.skipgram_pairs(["a"], 3) == [] and A.skipgram_pairs([], 3) == []
    with pytest.raises(ValueError, match="window must be >= 1"):
        A.skipgram_pairs(["a", "b"], 0)


def test_cooccurrence_matrix_counts_the_pairs():
    tokens = "the cat sat on the mat the end".split()
    vocab = ["the", "cat", "sat", "on", "mat"]  # "end" is out of vocabulary and dropped first
    m = A.cooccurrence_matrix(tokens, 2, vocab)
    kept = [t for t in tokens if t in vocab]
    expected = Counter(A.skipgram_pairs(kept, 2))
    dense = m.toarray()
    for (a, b), count in expected.items():
        assert dense[vocab.index(a), vocab.index(b)] == count
    assert dense.sum() == sum(expected.values()) and np.array_equal(dense, dense.T)


def test_pmi_matches_the_formula():
    cooc = np.array([[0.0, 4, 2], [4, 1, 0], [2, 0, 3]])
    total = cooc.sum()
    p_w, p_c = cooc.sum(1) / total, cooc.sum(0) / total
    out = A.pmi(cooc)
    for i, j in itertools.product(range(3), repeat=2):
        if cooc[i, j] > 0:
            assert out[i, j] == pytest.approx(math.log(cooc[i, j] / total / (p_w[i] * p_c[j])))
        else:
            assert out[i, j] == -np.inf
    ppmi = A.pmi(cooc, positive=True)
    assert (ppmi >= 0).all() and np.allclose(ppmi, np.maximum(out, 0))
    assert np.allclose(A.pmi(cooc, shift=5)[cooc > 0], out[cooc > 0] - math.log(5))
    smoothed = A.pmi(cooc, cds=0.75)
    pc75 = cooc.sum(0) ** 0.75 / (cooc.sum(0) ** 0.75).sum()
    assert smoothed[0, 1] == pytest.approx(math.log(4 / total / (p_w[0] * pc75[1])))
    sp = A.pmi(sparse.csr_matrix(cooc))
    assert sparse.issparse(sp) and sp.nnz == np.count_nonzero(cooc)
    assert np.allclose(sp.toarray()[cooc > 0], out[cooc > 0])
    independent = np.outer([1.0, 2, 3], [4.0, 5, 6])  # p(w, c) = p(w) p(c): PMI 0 everywhere
    assert np.allclose(A.pmi(independent), 0.0)
    with pytest.raises(ValueError, match="non-negative"):
        A.pmi(np.array([[1.0, -1.0]]))


def test_pmi_of_a_cooccurrence_and_the_sparse_kind_it_returns():
    counts = np.array([[0.0, 4, 2], [4, 1, 0], [2, 0, 3]], dtype=np.float32)
    want = A.pmi(counts.astype(np.float64), cds=0.75)
    vocab = fastvec.Vocabulary(["a", "b", "c"], [5, 5, 5])
    for given, kind in ((fastvec.Cooccurrence(sparse.csr_array(counts), vocab), sparse.csr_array),
                        (sparse.csr_array(counts), sparse.csr_array), (sparse.coo_array(counts), sparse.csr_array),
                        (sparse.csr_matrix(counts), sparse.csr_matrix)):
        got = A.pmi(given, cds=0.75)
        assert type(got) is kind and got.format == "csr" and got.dtype == np.float64
        np.testing.assert_allclose(got.toarray()[counts > 0], want[counts > 0], rtol=1e-12)
        assert type(A.pmi(given, positive=True)) is kind


def test_pmi_sums_a_count_stored_in_pieces():
    # X[0, 1] = 4 stored as 1 + 3: PMI of the count 4, not the sum of the PMIs of 1 and 3
    counts = np.array([[0.0, 4, 2], [4, 1, 0], [2, 0, 3]])
    pieces = sparse.csr_array((np.array([1.0, 3, 2, 4, 1, 2, 3]), np.array([1, 1, 2, 0, 1, 0, 2]),
                               np.array([0, 3, 5, 7])), shape=(3, 3))
    assert not pieces.has_canonical_format
    np.testing.assert_allclose(A.pmi(pieces).toarray(), A.pmi(sparse.csr_array(counts)).toarray(), rtol=1e-12)
    assert pieces.nnz == 7 and pieces.data[0] == 1.0   # the caller's matrix is left alone


def test_unigram_entropy():
    assert A.unigram_entropy(np.full(1024, 7)) == pytest.approx(10.0)
    assert A.unigram_entropy([5, 0, 0]) == 0.0
    assert A.unigram_entropy([1, 1], base=math.e) == pytest.approx(math.log(2))
    p = np.array([0.5, 0.25, 0.25])
    assert A.unigram_entropy(p * 8) == pytest.approx(1.5)
    kv = fastvec.KeyedVectors(["a", "b", "c"], np.eye(3), counts=[4, 2, 2])
    assert A.unigram_entropy(kv) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="no word counts"):
        A.unigram_entropy(fastvec.KeyedVectors(["a"], np.eye(1)))


def test_jl_dimension_and_random_projection():
    assert A.jl_dimension(1000, 0.1) == math.ceil(4 * math.log(1000) / (0.1 ** 2 / 2 - 0.1 ** 3 / 3))
    assert A.jl_dimension(1, 0.5) == 1  # no pairs to keep apart; still a usable k
    assert A.jl_dimension(10**6, 0.1) > A.jl_dimension(10**3, 0.1) > A.jl_dimension(10**3, 0.3)
    n, eps = 40, 0.5
    k = A.jl_dimension(n, eps)
    w = np.random.default_rng(0).standard_normal((n, 1000))
    p = A.random_projection(w, k, seed=1)
    assert p.shape == (n, k)
    for i, j in itertools.combinations(range(n), 2):
        ratio = np.sum((p[i] - p[j]) ** 2) / np.sum((w[i] - w[j]) ** 2)
        assert 1 - eps < ratio < 1 + eps
    assert np.array_equal(A.random_projection(w, 5, seed=3), A.random_projection(w, 5, seed=3))
    with pytest.raises(ValueError, match="eps must be < 1"):
        A.jl_dimension(10, 1.0)


@pytest.mark.parametrize("call,error,message", [
    (lambda: A.isotropy(np.ones(5)), ValueError, "W must be a 2-D array"),
    (lambda: A.isotropy(np.array([[1.0, np.nan]])), ValueError, "NaN"),
    (lambda: A.isotropy(np.array([["a", "b"]])), TypeError, "real numbers"),
    (lambda: A.average_cosine(np.ones((1, 3))), ValueError, "at least 2 rows"),
    (lambda: A.average_cosine(np.eye(3), sample=0), ValueError, "sample must be >= 1"),
    (lambda: A.average_cosine(np.eye(3), sample=5, seed="x"), TypeError, "seed"),
    (lambda: A.all_but_the_top(np.eye(3), D=-1), ValueError, "D must be >= 0"),
    (lambda: A.all_but_the_top(np.eye(3), D=1.5), TypeError, "D must be an int"),
    (lambda: A.random_projection(np.eye(3), 0), ValueError, "k must be >= 1"),
    (lambda: A.unit_ball_volume(-1), ValueError, "d must be >= 0"),
    (lambda: A.distance_concentration(0), ValueError, "points_or_d must be >= 1"),
    (lambda: A.distance_concentration(5, n=1), ValueError, "n must be >= 2"),
    (lambda: A.cone_half_angle(np.eye(3), quantile=2), ValueError, "quantile must be <= 1"),
    (lambda: A.pmi(np.zeros((2, 2))), ValueError, "no co-occurrences"),
])
def test_bad_inputs_name_the_parameter(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- real vectors and the report ---------------------------------------------------------------------
def test_word2vec_vectors_are_anisotropic_and_post_processing_fixes_it(sg_model):
    kv = sg_model.wv
    raw_cos = A.average_cosine(kv)
    assert raw_cos > 0.2  # skip-gram vectors share a common direction
    assert A.average_cosine(kv, sample=20000, seed=0) == pytest.approx(raw_cos, abs=0.02)
    processed = A.all_but_the_top(kv, 2)
    assert abs(A.average_cosine(A.center(kv))) < 0.01 and abs(A.average_cosine(processed)) < 0.01
    assert A.partition_isotropy(processed) > A.partition_isotropy(kv)
    assert A.isotropy(processed) < 1e-6  # two directions emptied by construction
    assert A.isotropy(processed, exclude_smallest=2) > A.isotropy(kv)
    # the top components carry little meaning: similarity judgements survive their removal
    ws = default_pairs()["wordsim353"]
    assert evaluate_word_pairs(processed, ws).spearman > evaluate_word_pairs(kv, ws).spearman - 0.05
    assert processed.most_similar("france", topn=5)[0][0] in {w for w, _ in kv.most_similar("france", topn=20)}


def test_embedding_report(sg_model):
    report = A.embedding_report(sg_model.wv, words=["king", "water"], topn=3)
    assert json.loads(json.dumps(report)) == report
    assert report["n_vectors"] == len(sg_model.wv) and report["dimension"] == 100
    assert [w for w, _ in report["neighbours"]["king"]] == [w for w, _ in sg_model.wv.most_similar("king", topn=3)]
    assert report["average_cosine"] == pytest.approx(A.average_cosine(sg_model.wv))
    text = A.format_report(report)
    assert "partition isotropy" in text and "king" in text and "effective rank" in text
    bare = A.embedding_report(sg_model.wv.vectors[:500])
    assert bare["neighbours"] == {} and bare["n_vectors"] == 500


def test_report_skips_words_with_zero_vectors(capsys, tmp_path):
    # a padding row of zeros has no direction: no neighbours for it, but the rest of the report
    path = tmp_path / "pad.txt"
    path.write_text("3 2\n<pad> 0 0\nthe 1 2\nof 2 1\n", encoding="utf-8")
    kv = fastvec.KeyedVectors.load_word2vec_format(path)
    report = A.embedding_report(kv)
    assert json.loads(json.dumps(report)) == report
    assert report["zero_vector_words"] == ["<pad>"] and set(report["neighbours"]) == {"the", "of"}
    assert report["neighbours"]["the"][0][0] == "of"
    assert "zero vector" in A.format_report(report) and "<pad>" in A.format_report(report)
    assert A.embedding_report(kv, words=["<pad>"])["neighbours"] == {}
    assert main(["analyze", str(path)]) == 0
    out = capsys.readouterr().out
    assert "nearest neighbours" in out and "<pad>" in out and "isotropy" in out
    path.write_text("2 2\na 0 0\nb 0 0\n", encoding="utf-8")   # every vector zero
    assert main(["analyze", str(path)]) == 0
    assert "a, b" in capsys.readouterr().out


def test_cli_analyze(capsys, tmp_path, sg_model):
    path = tmp_path / "v.bin"
    sg_model.wv.save_word2vec_format(path, binary=True)
    assert main(["analyze", str(path), "--words", "king", "paris", "--topn", "3"]) == 0
    out = capsys.readouterr().out
    assert "isotropy" in out and "average cosine" in out and "intrinsic dimension" in out and "paris" in out
    assert main(["analyze", str(path), "--json", "--sample", "1000"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dimension"] == 100 and "king" in report["neighbours"]
    assert main(["analyze", str(path), "--words", "notaword"]) == 1
    err = capsys.readouterr().err
    assert "not in the vocabulary" in err and err.count("\n") == 1
    # one dimension: no power law to fit (NaN), which strict JSON writes as null
    flat = tmp_path / "flat.txt"
    flat.write_text("3 1\nx 1\ny 2\nz -1\n")
    assert main(["analyze", str(flat), "--json"]) == 0
    report = json.loads(capsys.readouterr().out, parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))
    assert report["power_law_alpha"] is None


def test_average_cosine_sample_larger_than_the_pairs_or_than_memory(monkeypatch):
    w = np.random.default_rng(9).standard_normal((2, 3))
    # 10**12 draws over 2 ordered pairs: the exact mean, at once and without allocating them
    assert A.average_cosine(w, sample=10**12) == pytest.approx(brute_average_cosine(w), abs=1e-12)
    big = np.random.default_rng(10).standard_normal((500, 4))
    one = A.average_cosine(big, sample=3000, seed=5)
    monkeypatch.setattr(A, "_SAMPLE_CHUNK", 7)            # drawn in blocks: the same estimator
    chunked = A.average_cosine(big, sample=3000, seed=5)
    assert abs(one - chunked) < 0.05 and abs(chunked - A.average_cosine(big)) < 0.05


def test_gensim_keyed_vectors_are_read_as_keyed_vectors():
    # the README says the analysis takes vectors "from fastvec, gensim, ...": gensim's
    # KeyedVectors used to be refused ("W must be a 2-D array ..., got shape ()")
    gensim = pytest.importorskip("gensim")
    rng = np.random.default_rng(3)
    vectors = (rng.standard_normal((30, 6)) + 2.0).astype(np.float32)
    keys = [f"w{i}" for i in range(30)]
    theirs = gensim.models.KeyedVectors(6)
    theirs.add_vectors(keys, vectors)
    ours = fastvec.KeyedVectors(keys, vectors)
    assert A.average_cosine(theirs) == A.average_cosine(ours)
    assert A.partition_isotropy(theirs) == A.partition_isotropy(ours)
    np.testing.assert_array_equal(A.cosine_similarity_matrix(theirs, ["w3", "w1"]),
                                  A.cosine_similarity_matrix(ours, ["w3", "w1"]))
    processed = A.all_but_the_top(theirs, 1)
    assert isinstance(processed, fastvec.KeyedVectors) and processed.index_to_key == keys
    np.testing.assert_array_equal(processed.vectors, A.all_but_the_top(ours, 1).vectors)
    report = A.embedding_report(theirs, words=["w0"], topn=2)
    assert report["neighbours"] == A.embedding_report(ours, words=["w0"], topn=2)["neighbours"]


def test_pmi_of_counts_scaled_far_down_at_a_large_cds():
    counts = np.array([[0.0, 3.0, 1.0], [3.0, 0.0, 2.0], [1.0, 2.0, 5.0]])
    want = A.pmi(counts, cds=8.0)
    for scale in (1e-60, 1e-200, 1e200):   # c**8 under- or overflows; the PMI does not change
        np.testing.assert_allclose(A.pmi(counts * scale, cds=8.0), want, rtol=1e-9)
        np.testing.assert_allclose(A.pmi(sparse.csr_array(counts * scale), cds=8.0).toarray(),
                                   A.pmi(sparse.csr_array(counts), cds=8.0).toarray(), rtol=1e-9)


@pytest.mark.parametrize("scale", [1e-200, 1e-90, 1e76, 1e155, 1e300])
def test_scale_free_measures_do_not_depend_on_the_scale_of_float64_values(scale):
    # the Gram matrix of values near 1e155 overflowed (LinAlgError, or a participation ratio of
    # NaN from 1e76 on); near 1e-160 it underflowed to zero (isotropy 0, rows left unnormalised)
    rng = np.random.default_rng(0)
    W = rng.standard_normal((50, 10)) + 0.3
    Ws = W * scale
    for f in (A.isotropy, A.intrinsic_dimension, A.effective_rank, A.average_cosine,
              A.cone_half_angle):
        assert f(Ws) == pytest.approx(f(W), rel=1e-9), f.__name__
    assert A.intrinsic_dimension(Ws, center=True) == pytest.approx(A.intrinsic_dimension(W, center=True))
    assert A.spectrum_power_law(Ws).alpha == pytest.approx(A.spectrum_power_law(W).alpha)
    np.testing.assert_allclose(np.linalg.norm(A.normalize(Ws), axis=1), 1.0)
    np.testing.assert_allclose(A.whiten(Ws), A.whiten(W), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(A.all_but_the_top(Ws, 2) / scale, A.all_but_the_top(W, 2),
                               rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(A.singular_values(Ws) / scale, A.singular_values(W), rtol=1e-9)
    assert A.distance_concentration(Ws)["cv"] == pytest.approx(A.distance_concentration(W)["cv"])
    report = A.embedding_report(Ws)
    assert report["intrinsic_dimension"] == pytest.approx(A.intrinsic_dimension(W))
    assert report["mean_norm"] / scale == pytest.approx(np.linalg.norm(W, axis=1).mean())
