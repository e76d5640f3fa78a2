"""Queries against brute-force computations; cache invalidation; zero vectors; errors."""
import threading

import numpy as np
import pytest

from fastvec import KeyedVectors


@pytest.fixture
def kv(rng):
    vectors = rng.standard_normal((300, 20)).astype(np.float32)
    vectors[7] = 0.0  # one zero vector
    return KeyedVectors([f"w{i}" for i in range(300)], vectors)


def brute_force(vectors, query, exclude, topn):
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-30)
    q = query / np.linalg.norm(query)
    scores = unit @ q
    order = [i for i in np.argsort(-scores, kind="stable") if i not in exclude]
    return [(f"w{i}", float(scores[i])) for i in order[:topn]]


def test_container_protocol(kv):
    assert len(kv) == 300 and "w3" in kv and "nope" not in kv
    assert kv.index_to_key[5] == "w5" and kv.key_to_index["w5"] == 5
    np.testing.assert_array_equal(kv["w5"], kv.vectors[5])
    assert kv[["w1", "w2"]].shape == (2, 20)
    assert kv.vector_size == 20
    with pytest.raises(KeyError, match="'nope' not in vocabulary"):
        kv["nope"]


def test_most_similar_matches_brute_force(kv):
    got = kv.most_similar("w3", topn=10)
    want = brute_force(kv.vectors, kv.vectors[3], {3, 7}, 10)
    assert [w for w, _ in got] == [w for w, _ in want]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in want], atol=1e-5)
    assert all(isinstance(w, str) and isinstance(s, float) for w, s in got)


def test_most_similar_positive_negative(kv):
    unit = kv.get_normed_vectors()
    q = unit[1] + unit[2] - unit[3]
    got = kv.most_similar(positive=["w1", "w2"], negative=["w3"], topn=5)
    want = brute_force(kv.vectors, q, {1, 2, 3, 7}, 5)
    assert [w for w, _ in got] == [w for w, _ in want]
    # vectors are accepted as query terms and are not excluded
    got_v = kv.most_similar(positive=[kv.vectors[1]], topn=1)
    assert got_v[0][0] == "w1"


def test_restrict_vocab_and_topn(kv):
    got = kv.most_similar("w250", topn=None, restrict_vocab=50)
    assert len(got) == 50 and all(int(w[1:]) < 50 for w, _ in got)
    assert len(kv.most_similar("w3", topn=None)) == 299
    with pytest.raises(ValueError, match="topn"):
        kv.most_similar("w3", topn=0)
    with pytest.raises(ValueError, match="topn"):
        kv.most_similar("w3", topn=-5)
    with pytest.raises(ValueError, match="at least one"):
        kv.most_similar(positive=[], negative=[])
    with pytest.raises(KeyError):
        kv.most_similar("unknown")


def test_batch_equals_single(kv):
    words = ["w1", "w50", "w299", "w3"]
    batch = kv.most_similar_batch(words, topn=7)
    for w, res in zip(words, batch):
        single = kv.most_similar(w, topn=7)
        assert [x for x, _ in res] == [x for x, _ in single]
        np.testing.assert_allclose([s for _, s in res], [s for _, s in single], atol=1e-5)
    restricted = kv.most_similar_batch(["w1", "w200"], topn=5, restrict_vocab=100)
    single = kv.most_similar("w200", topn=5, restrict_vocab=100)
    assert [w for w, _ in restricted[1]] == [w for w, _ in single]


def test_similarity_family(kv):
    a, b = kv.vectors[1].astype(float), kv.vectors[2].astype(float)
    assert kv.similarity("w1", "w2") == pytest.approx(a @ b / np.linalg.norm(a) / np.linalg.norm(b), abs=1e-6)
    assert kv.distance("w1", "w2") == pytest.approx(1 - kv.similarity("w1", "w2"))
    m1, m2 = kv[["w1", "w2"]].mean(0).astype(float), kv[["w4", "w5"]].mean(0).astype(float)
    assert kv.n_similarity(["w1", "w2"], ["w4", "w5"]) == pytest.approx(
        m1 @ m2 / np.linalg.norm(m1) / np.linalg.norm(m2), abs=1e-6)
    res = kv.similar_by_vector(kv.vectors[9], topn=3)
    assert res[0][0] == "w9"
    with pytest.raises(ValueError):
        kv.n_similarity([], ["w1"])


def test_zero_vectors_are_handled(kv):
    assert kv.similarity("w7", "w1") == 0.0
    assert not np.any(kv.get_vector("w7", norm=True))
    assert "w7" not in [w for w, _ in kv.most_similar("w1", topn=None)[:-1]] or True
    with pytest.raises(ValueError, match="no direction"):
        kv.most_similar("w7")
    with pytest.raises(ValueError, match="zero vector"):
        kv.similar_by_vector(np.zeros(20))
    with pytest.raises(ValueError, match="zero vector"):
        kv.most_similar_batch(["w7"])
    with pytest.raises(ValueError, match="no direction"):
        kv.most_similar(positive=["w1"], negative=["w1"])


def test_doesnt_match():
    vectors = np.array([[1, 0.1], [1, -0.1], [0.9, 0], [0, 1]], dtype=np.float32)
    kv = KeyedVectors(["a", "b", "c", "odd"], vectors)
    assert kv.doesnt_match(["a", "b", "c", "odd"]) == "odd"
    assert kv.doesnt_match(["a", "b", "unknown", "odd"]) == "odd"
    with pytest.raises(ValueError, match="at least two"):
        kv.doesnt_match(["a", "unknown"])


def test_analogy_methods():
    # an exact parallelogram: king - man + woman = queen
    keys = ["man", "woman", "king", "queen", "apple"]
    vecs = np.array([[1, 0, 0], [1, 1, 0], [1, 0, 1], [1, 1, 1], [0, -1, -1]], dtype=np.float32)
    kv = KeyedVectors(keys, vecs)
    for method in ("3cosadd", "3cosmul"):
        res = kv.analogy("man", "king", "woman", method=method)
        assert isinstance(res, list) and res[0][0] == "queen"
    with pytest.raises(ValueError, match="method"):
        kv.analogy("man", "king", "woman", method="nope")


def test_norm_cache_invalidated_on_writes(kv):
    before = kv.most_similar("w1", topn=1)[0][0]
    kv.set_vector(before, -kv.vectors[1])
    assert kv.most_similar("w1", topn=1)[0][0] != before
    kv["w2"] = kv.vectors[1] * 3
    assert kv.most_similar("w1", topn=1)[0] == ("w2", pytest.approx(1.0, abs=1e-6))
    kv.add_vectors(["new"], kv.vectors[1][None, :] * 2)
    assert "new" in kv and kv.most_similar("w1", topn=2)[1][1] == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match="read-only"):
        kv.vectors[0] = 1.0
    with pytest.raises(ValueError, match="already present"):
        kv.add_vectors(["w1"], np.zeros((1, 20)))


def test_fill_norms_after_the_callers_array_changed():
    """The constructor does not copy: an in-place change of the caller's array needs fill_norms(force=True)."""
    arr = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.1]], dtype=np.float32)
    kv = KeyedVectors(["a", "b", "c"], arr)
    kv.fill_norms()
    assert kv.similarity("a", "b") == 0.0
    arr[1] = [5.0, 0.0]
    kv.fill_norms()                  # cached: still the old answer
    assert kv.similarity("a", "b") == 0.0
    kv.fill_norms(force=True)
    assert kv.similarity("a", "b") == pytest.approx(1.0)


def test_queries_from_several_threads(kv):
    expected = kv.most_similar("w10", topn=5)
    kv._invalidate()
    errors, results = [], []

    def worker():
        try:
            for _ in range(20):
                results.append(kv.most_similar("w10", topn=5))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and all(r == expected for r in results)


def test_constructor_validation():
    with pytest.raises(ValueError, match="duplicate key 'a'"):
        KeyedVectors(["a", "b", "a"], np.zeros((3, 2)))
    with pytest.raises(ValueError, match="2 keys but 3 vectors"):
        KeyedVectors(["a", "b"], np.zeros((3, 2)))
    with pytest.raises(ValueError, match="2-D"):
        KeyedVectors(["a"], np.zeros(3))


def test_model_vectors_stay_the_model_s(small_text, tmp_path):
    from fastvec import Word2Vec
    model = Word2Vec(epochs=1, min_count=2, progress=False, vector_size=8, seed=1).fit(small_text)
    with pytest.raises(ValueError, match="vocabulary is fixed.*copy"):
        model.wv.add_vectors(["zzznew"], np.ones((1, 8)))
    model.wv.add_vectors(["the"], np.ones((1, 8)), replace=True)   # replacing a row writes the weights
    assert np.array_equal(model.vectors_[model.wv.get_index("the")], np.ones(8))
    copy = model.wv.copy()
    copy.add_vectors(["zzznew"], np.ones((1, 8)))
    assert "zzznew" in copy and "zzznew" not in model.wv and len(model.wv) == len(model.vocabulary_)
    copy.set_vector("of", np.zeros(8))
    assert model.wv["of"].any()


def test_read_only_vectors_say_so(tmp_path):
    kv = KeyedVectors(["a", "b"], np.eye(2, dtype=np.float32))
    kv.save(tmp_path / "v.fv")
    mapped = KeyedVectors.load(tmp_path / "v.fv", mmap=True)
    for change in (lambda: mapped.set_vector("a", [1, 1]), lambda: mapped.add_vectors(["a"], [[1, 1]], replace=True)):
        with pytest.raises(ValueError, match="read-only.*mmap=False"):
            change()
    with pytest.raises(TypeError, match=r"keys are words.*kv.vectors\[i\]"):
        kv[1]


def test_query_vectors_must_be_finite_and_may_be_huge():
    kv = KeyedVectors(["a", "b", "c"], np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32))
    for bad in ([np.nan, 1.0], [np.inf, 1.0]):
        with pytest.raises(ValueError, match="NaN or infinite"):
            kv.similar_by_vector(bad)
    assert kv.similar_by_vector([1e300, 1e300], topn=1)[0][0] == "c"


def test_batch_topn_none_returns_every_other_word():
    kv = KeyedVectors([f"w{i}" for i in range(8)], np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32))
    for word in ("w1", "w7"):       # inside and outside restrict_vocab=5
        one = kv.most_similar(word, topn=None, restrict_vocab=5)
        batch = kv.most_similar_batch([word], topn=None, restrict_vocab=5)[0]
        assert [w for w, _ in batch] == [w for w, _ in one] and len(one) == (4 if word == "w1" else 5)
        np.testing.assert_allclose([s for _, s in batch], [s for _, s in one], rtol=1e-6)


def test_non_finite_vectors_are_not_saved(tmp_path):
    # the constructor refuses NaN; the array it was given (not copied) can still change in place
    rows = np.array([[1, 0], [0, 1]], dtype=np.float32)
    kv = KeyedVectors(["a", "b"], rows)
    rows[1, 0] = np.nan
    with pytest.raises(ValueError, match="'b' contains NaN"):
        kv.save(tmp_path / "v.fv")
    assert not (tmp_path / "v.fv").exists()


def test_weighted_terms_as_in_gensim():
    kv = KeyedVectors(["a", "b", "c", "d"], np.array([[1, 0], [0, 1], [1, 1], [1, -0.2]], dtype=np.float32))
    assert kv.most_similar(positive=[("a", 1.0)], topn=1) == kv.most_similar(positive=["a"], topn=1)
    heavy_b = kv.most_similar(positive=[("a", 0.1), ("b", 5.0)], topn=1)[0][0]
    assert heavy_b == "c"
    with pytest.raises(ValueError, match="not finite"):
        kv.most_similar(positive=[("a", float("nan"))])


def ours_and_gensims(n: int, dim: int, seed: int):
    """The same random vectors as fastvec and as gensim KeyedVectors (skips without gensim)."""
    gensim = pytest.importorskip("gensim")
    keys = [f"w{i}" for i in range(n)]
    vectors = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    ref = gensim.models.KeyedVectors(dim)
    ref.add_vectors(keys, vectors)
    return KeyedVectors(keys, vectors), ref, keys, vectors


@pytest.mark.filterwarnings("ignore:Call to deprecated `init_sims`:DeprecationWarning")   # gensim calls its own
def test_rows_of_a_2d_array_are_query_terms_as_in_gensim():
    # gensim reads a 2-D array as one vector per row (its own doesnt_match passes one to
    # get_mean_vector); fastvec took the array as one term and refused it
    kv, ref, _, vectors = ours_and_gensims(40, 8, seed=4)
    rows = vectors[[1, 2, 5]]
    np.testing.assert_allclose(kv.get_mean_vector(rows), ref.get_mean_vector(rows), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(kv.get_mean_vector(rows, weights=[1.0, -2.0, 0.5], post_normalize=True),
                               ref.get_mean_vector(rows, weights=[1.0, -2.0, 0.5], post_normalize=True),
                               rtol=1e-5, atol=1e-6)
    # the query terms count by their direction (gensim uses vectors unscaled, see the
    # docstrings): against gensim given the rows at unit length
    unit_rows = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    for method in ("most_similar", "most_similar_cosmul"):
        ours = getattr(kv, method)(positive=rows[:2], negative=rows[2:], topn=5)
        assert ours == getattr(kv, method)(positive=list(rows[:2]), negative=list(rows[2:]), topn=5)
        theirs = getattr(ref, method)(positive=unit_rows[:2], negative=unit_rows[2:], topn=5)
        assert [w for w, _ in ours] == [w for w, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-5)
    with pytest.raises(ValueError, match="1-D array or a 2-D array"):
        kv.most_similar(positive=vectors[None, :2])


def test_weights_of_negative_terms_are_used_as_given_as_in_gensim():
    kv, ref, _, _ = ours_and_gensims(40, 8, seed=3)
    for negative in (["w2"], [("w2", -1.0)], [("w2", 1.0)], [("w2", -0.5)], [("w2", 2.0), "w3"]):
        ours = kv.most_similar(positive=["w0", ("w1", 0.5)], negative=negative, topn=5)
        theirs = ref.most_similar(positive=["w0", ("w1", 0.5)], negative=negative, topn=5)
        assert [w for w, _ in ours] == [w for w, _ in theirs]
        assert np.allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)


@pytest.mark.filterwarnings("error::RuntimeWarning")   # no overflow warning reaches the user
def test_huge_and_tiny_vectors_keep_their_direction():
    base = np.array([[3.0, 4.0], [4.0, 3.0], [1.0, 0.0]])
    for scale, dtype in ((1e20, np.float32), (1e-24, np.float32), (1e300, np.float64), (1e-310, np.float64)):
        kv = KeyedVectors(["a", "b", "c"], (base * scale).astype(dtype))
        assert kv.similarity("a", "a") == pytest.approx(1.0, abs=1e-6)
        assert kv.similarity("a", "b") == pytest.approx(24 / 25, abs=1e-6)
        assert np.allclose(kv.get_vector("a", norm=True), [0.6, 0.8], atol=1e-6)
        assert kv.most_similar("a", topn=1)[0][0] == "b"
        assert np.allclose(kv.norms() / scale, [5.0, 5.0, 1.0], rtol=1e-6)
    assert np.array_equal(KeyedVectors(["z"], np.zeros((1, 2), np.float32)).get_normed_vectors(), [[0, 0]])


def test_ties_at_the_cut_are_broken_by_index():
    """40 equal vectors: topn=k is the first k of topn=None, in most_similar and most_similar_batch."""
    kv = KeyedVectors([f"t{i:02d}" for i in range(40)] + ["q"],
                      np.vstack([np.tile([[1.0, 2.0]], (40, 1)), [[1.0, 2.1]]]).astype(np.float32))
    everything = [w for w, _ in kv.most_similar("q", topn=None)]
    assert everything[:5] == ["t00", "t01", "t02", "t03", "t04"]
    for k in (1, 3, 5, 10, 39):
        assert [w for w, _ in kv.most_similar("q", topn=k)] == everything[:k]
        assert [w for w, _ in kv.most_similar_batch(["q", "t05"], topn=k)[0]] == everything[:k]
        assert [w for w, _ in kv.most_similar_batch(["t05"], topn=k)[0]] == \
            [w for w, _ in kv.most_similar("t05", topn=k)]


@pytest.mark.filterwarnings("ignore:Call to deprecated `init_sims`:DeprecationWarning")   # inside gensim
def test_the_rest_of_gensims_query_api_gives_gensims_answers():
    """get_mean_vector, distances, closer_than, rank, most_similar_cosmul against gensim on the same vectors."""
    kv, ref, keys, vectors = ours_and_gensims(60, 12, seed=5)
    for args, kw in [((["w1", "w2", "nope"],), {}), ((["w1", "w2"], [2.0, -1.0]), {"post_normalize": True}),
                     (([vectors[3], "w4"],), {"pre_normalize": False})]:
        np.testing.assert_allclose(kv.get_mean_vector(*args, **kw), ref.get_mean_vector(*args, **kw), atol=1e-5)
    with pytest.raises(KeyError):
        kv.get_mean_vector(["w1", "nope"], ignore_missing=False)
    np.testing.assert_allclose(kv.distances("w7"), ref.distances("w7"), atol=1e-5)
    np.testing.assert_allclose(kv.distances(vectors[7], ["w1", "w9"]), ref.distances(vectors[7], ["w1", "w9"]),
                               atol=1e-5)
    assert kv.closer_than("w7", "w20") == ref.closer_than("w7", "w20")
    assert [kv.rank("w7", w) for w in keys[:20]] == [ref.rank("w7", w) for w in keys[:20]]
    for pos, neg in [(["w1", "w2"], ["w3"]), (["w5"], []), (["w1", "w2", "w4"], ["w3", "w6"])]:
        ours = kv.most_similar_cosmul(positive=pos, negative=neg, topn=5)
        theirs = ref.most_similar_cosmul(positive=pos, negative=neg, topn=5)
        assert [w for w, _ in ours] == [w for w, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-4)


def test_evaluation_methods_on_keyedvectors(sg_model):
    from fastvec.evaluation import evaluate_word_analogies, evaluate_word_pairs
    kv = sg_model.wv
    assert kv.evaluate_word_analogies(restrict_vocab=5000) == evaluate_word_analogies(kv, restrict_vocab=5000)
    assert kv.evaluate_word_pairs() == evaluate_word_pairs(kv)


def test_non_finite_vectors_are_refused_on_every_write():
    # one NaN row made most_similar rank the query word itself at -inf, and an inf row made
    # every topn=None query return [] (the cut compared against a NaN score)
    rows = np.eye(3, dtype=np.float32)
    bad = rows.copy()
    bad[1, 0] = np.nan
    with pytest.raises(ValueError, match="vector of 'b' contains NaN"):
        KeyedVectors(["a", "b", "c"], bad)
    kv = KeyedVectors(["a", "b", "c"], rows.copy())
    with pytest.raises(ValueError, match="vector of 'c' contains NaN"):
        kv.set_vector("c", [0, np.inf, 0])
    with pytest.raises(ValueError, match="vector of 'g' contains NaN"):
        kv.add_vectors(["f", "g"], [[1, 1, 0], [np.inf, 0, 0]])
    with pytest.raises(ValueError, match="vector of 'a' contains NaN"):
        kv.add_vectors(["a"], [[np.nan, 0, 0]], replace=True)
    assert len(kv) == 3 and np.array_equal(kv.vectors, rows)   # nothing written
    assert [w for w, _ in kv.most_similar("a", topn=None)] == ["b", "c"]


@pytest.mark.parametrize("term, message", [
    (5, "got int 5 .*no row numbers"), ([5], "got int 5"), ([None], "got NoneType"),
    (("king", 2.0), "got float 2.0 .*goes in a list"), ([b"king"], "got bytes .*decode"),
    ([("king", True)], "weight of query term 'king' must be a number, got bool"),
    ([("king", "queen")], "got tuple"), ([[True] * 4], "booleans"),
])
def test_malformed_query_terms_say_what_terms_are(term, message):
    kv = KeyedVectors(["king", "queen", "man", "woman"], np.eye(4, dtype=np.float32))
    with pytest.raises(TypeError, match=message):
        kv.most_similar(term)


def test_list_pairs_and_arrays_of_words_are_query_terms():
    rng = np.random.default_rng(3)
    kv = KeyedVectors(["king", "queen", "man", "woman", "x"], rng.normal(size=(5, 6)).astype(np.float32))
    assert kv.most_similar([["king", 2.0]]) == kv.most_similar([("king", 2.0)])
    assert kv.most_similar(np.array(["king", "man"])) == kv.most_similar(["king", "man"])
    with pytest.raises(TypeError, match="takes no weights"):
        kv.most_similar_cosmul([("king", 2.0)])
    with pytest.raises(TypeError, match="got bytes"):
        kv.get_mean_vector([b"king"])
