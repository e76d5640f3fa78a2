"""Co-occurrence counting: brute-force counts, spilled == in memory, threads, persistence, errors."""
import re
import tracemalloc
from collections import defaultdict

import numpy as np
import pytest
import scipy.sparse

import fastvec
from fastvec import Cooccurrence, Corpus, Vocabulary
from fastvec._reference_glove import count_cooccurrences
from fastvec.cooccurrence import fixed_point_units


def brute_force(sentences, vocab, window, weighting, symmetric):
    """Literal definition: for every token i and every token j 1..window positions after it in
    the same sentence, add weight(d) to X[i, j] (and to X[j, i] when symmetric)."""
    counts = defaultdict(float)
    for sentence in sentences:
        ids = [vocab.key_to_index[w] for w in sentence if w in vocab.key_to_index]
        for a in range(len(ids)):
            for d in range(1, window + 1):
                if a + d >= len(ids):
                    break
                w = 1.0 / d if weighting == "harmonic" else 1.0
                counts[ids[a], ids[a + d]] += w
                if symmetric:
                    counts[ids[a + d], ids[a]] += w
    dense = np.zeros((len(vocab), len(vocab)))
    for (i, j), x in counts.items():
        dense[i, j] = x
    return dense


def random_sentences(seed, n_sentences=40, n_words=25, max_len=60):
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, n_words + 1)
    sentences = []
    for _ in range(n_sentences):
        n = int(rng.integers(0, max_len))
        sentences.append([f"w{i}" for i in rng.choice(n_words, size=n, p=p / p.sum())])
    sentences.append([f"w{i}" for i in rng.choice(n_words, size=400, p=p / p.sum())])  # one long line
    sentences.append(["w0"])                                                         # and a one-word line
    return sentences


@pytest.fixture(scope="module")
def sentences():
    return random_sentences(0)


@pytest.fixture(scope="module")
def vocab(sentences):
    return Vocabulary.build(sentences, min_count=3)   # some words are out of vocabulary


# a budget this small forces many segments (and spills) on these corpora
TINY_MEMORY = 16_000


@pytest.mark.parametrize("weighting", ["harmonic", "uniform"])
@pytest.mark.parametrize("symmetric", [True, False], ids=["symmetric", "asymmetric"])
@pytest.mark.parametrize("window", [1, 2, 7])
@pytest.mark.parametrize("max_memory", [None, TINY_MEMORY], ids=["in-memory", "spilled"])
def test_counts_equal_brute_force(sentences, vocab, weighting, symmetric, window, max_memory):
    cooc = Cooccurrence.from_corpus(sentences, vocab, window=window, weighting=weighting, symmetric=symmetric,
                                    max_memory=max_memory, workers=1)
    want = brute_force(sentences, vocab, window, weighting, symmetric)
    got = cooc.matrix.toarray()
    assert got.dtype == np.float32 and cooc.matrix.nnz == np.count_nonzero(want)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=0)
    if max_memory is not None:
        assert cooc.stats_["segments"] > 1 and cooc.stats_["spilled_bytes"] > 0
    if symmetric:
        assert (abs(cooc.matrix - cooc.matrix.T) > 1e-6 * cooc.matrix.max()).nnz == 0
    # rows are in canonical form: sorted, no duplicates
    assert cooc.matrix.has_sorted_indices and cooc.matrix.has_canonical_format


@pytest.mark.parametrize("symmetric", [True, False])
def test_spilled_and_threads_give_the_same_matrix_bit_for_bit(small_text, symmetric):
    corpus = Corpus.build(small_text, min_count=2)
    kw = dict(window=10, symmetric=symmetric)
    memory = Cooccurrence.from_corpus(corpus, workers=1, **kw).matrix
    budget = 4 * 12 * len(corpus.vocabulary) + 250_000
    spilled = Cooccurrence.from_corpus(corpus, workers=2, max_memory=budget, **kw)
    assert spilled.stats_["segments"] > 2
    two = Cooccurrence.from_corpus(corpus, workers=2, **kw).matrix
    for other in (spilled.matrix, two):
        np.testing.assert_array_equal(other.indptr, memory.indptr)
        np.testing.assert_array_equal(other.indices, memory.indices)
        np.testing.assert_array_equal(other.data, memory.data)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("max_memory", [None, TINY_MEMORY], ids=["in-memory", "spilled"])
def test_rows_that_touch_every_column(workers, max_memory):
    # "hub" co-occurs with every word of the vocabulary, itself included, in every sentence:
    # its row fills the whole scratch row (an overrun there once corrupted the heap; the debug
    # build checks the slot index)
    words = [f"w{i}" for i in range(40)]
    sentences = [["hub", w, "hub"] + words[:k] + ["hub"] for k in range(len(words)) for w in words[:5]] * 3
    vocab = Vocabulary.build(sentences, min_count=1)
    cooc = Cooccurrence.from_corpus(sentences, vocab, window=50, workers=workers,
                                    max_memory=None if max_memory is None else 2 * max_memory)
    want = brute_force(sentences, vocab, 50, "harmonic", True)
    assert np.count_nonzero(want[vocab.key_to_index["hub"]]) == len(vocab)
    np.testing.assert_allclose(cooc.matrix.toarray(), want, rtol=1e-6, atol=0)


def zipf_corpus(n_words, n_tokens, seed=0):
    """Words w0..w{n_words-1} with Zipf frequencies (w0 co-occurs with nearly every word), in
    lines of 50 tokens."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, n_words + 1)
    ids = rng.choice(n_words, size=n_tokens, p=p / p.sum())
    words = [f"w{i}" for i in range(n_words)]
    return Corpus.build([[words[t] for t in ids[i:i + 50]] for i in range(0, n_tokens, 50)], min_count=1)


def test_max_memory_bounds_the_working_memory_with_many_segments(monkeypatch):
    # Many segments (the row pointers of every partial result used to stay in memory:
    # segments x 8 B per word) and frequent rows (merging one used to read it from every
    # segment at once: up to segments x V x 12 B). The working memory, measured up to the
    # moment the merged result is read back and again after, stays within max_memory
    # (+10% for the interpreter's own allocations); the matrix is bit for bit the same.
    corpus = zipf_corpus(1000, 200_000)
    budget = 100_000
    in_memory = Cooccurrence.from_corpus(corpus, window=5, workers=1).matrix
    Cooccurrence.from_corpus(corpus, window=5, workers=1, max_memory=budget)   # warm up caches
    peaks = []
    fromfile = np.fromfile

    def record_then_read(*args, **kwargs):
        if not peaks:   # the merged result is about to be read: working memory until now
            peaks.append(tracemalloc.get_traced_memory()[1])
        return fromfile(*args, **kwargs)

    monkeypatch.setattr(np, "fromfile", record_then_read)
    tracemalloc.start()
    try:
        cooc = Cooccurrence.from_corpus(corpus, window=5, workers=1, max_memory=budget)
        peaks.append(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()
    m = cooc.matrix
    result = m.data.nbytes + m.indices.nbytes + m.indptr.nbytes
    assert cooc.stats_["segments"] > 20
    assert peaks[0] <= 1.1 * budget, f"{peaks[0]} bytes before the result was read"
    assert peaks[1] - result <= 1.1 * budget, f"{peaks[1] - result} bytes beyond the result"
    assert cooc.stats_["heavy_rows"] > 0   # rows merged through the dense row were exercised
    np.testing.assert_array_equal(m.indptr, in_memory.indptr)
    np.testing.assert_array_equal(m.indices, in_memory.indices)
    np.testing.assert_array_equal(m.data.view(np.uint32), in_memory.data.view(np.uint32))


@pytest.mark.parametrize("weighting", ["harmonic", "uniform"])
@pytest.mark.parametrize("symmetric", [True, False], ids=["symmetric", "asymmetric"])
@pytest.mark.parametrize("workers", [1, 2])
def test_rows_merged_through_a_dense_row_are_bit_identical(weighting, symmetric, workers):
    corpus = zipf_corpus(300, 30_000, seed=1)
    kw = dict(window=7, weighting=weighting, symmetric=symmetric)
    spilled = Cooccurrence.from_corpus(corpus, max_memory=40_000, workers=workers, **kw)
    assert spilled.stats_["segments"] > 10 and spilled.stats_["heavy_rows"] > 10
    want = Cooccurrence.from_corpus(corpus, workers=1, **kw).matrix
    np.testing.assert_array_equal(spilled.matrix.indptr, want.indptr)
    np.testing.assert_array_equal(spilled.matrix.indices, want.indices)
    np.testing.assert_array_equal(spilled.matrix.data.view(np.uint32), want.data.view(np.uint32))


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("n_words,window", [(300, 7), (100, 20)])
def test_the_smallest_accepted_max_memory_counts_the_same_matrix(workers, n_words, window):
    # dense rows are then written in several column blocks (300 words) and some rows of a
    # partial result are read in more than one piece (100 words, window 20)
    corpus = zipf_corpus(n_words, 10_000, seed=2)
    with pytest.raises(ValueError, match="too small") as info:
        Cooccurrence.from_corpus(corpus, window=window, max_memory=1, workers=workers)
    need = int(re.search(r"at least (\d+) bytes", str(info.value)).group(1))
    spilled = Cooccurrence.from_corpus(corpus, window=window, max_memory=need, workers=workers)
    assert spilled.stats_["segments"] > 5 and spilled.stats_["heavy_rows"] > 10
    # but not pathologically many: each costs a row-pointer file and a read in every merge block
    # (a segment of 256 tokens at the minimum once made 1,944 parts and 1.3 GB of spill files)
    assert spilled.stats_["segments"] <= corpus.n_tokens // max(1024, 2 * n_words) + 1
    want = Cooccurrence.from_corpus(corpus, window=window, workers=1).matrix
    np.testing.assert_array_equal(spilled.matrix.indptr, want.indptr)
    np.testing.assert_array_equal(spilled.matrix.indices, want.indices)
    np.testing.assert_array_equal(spilled.matrix.data.view(np.uint32), want.data.view(np.uint32))


def test_checking_a_matrix_makes_no_temporary_of_its_size():
    # np.isfinite(data) once took 1 B per non-zero (and np.diff(indptr) 8 B per row)
    rng = np.random.default_rng(0)
    n, nnz = 2000, 1_000_000
    m = scipy.sparse.csr_array((rng.random(nnz, dtype=np.float32) + 1, rng.integers(0, n, nnz).astype(np.int32),
                                np.linspace(0, nnz, n + 1).astype(np.int64)), shape=(n, n))
    m.sum_duplicates()
    vocab = Vocabulary([f"w{i}" for i in range(n)], [5] * n)
    tracemalloc.start()
    try:
        Cooccurrence(m, vocab)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024, peak


def test_kernel_matches_numpy_reference(small_text):
    corpus = Corpus.build(small_text, min_count=2)
    got = Cooccurrence.from_corpus(corpus, window=5, workers=1).matrix
    want = count_cooccurrences(corpus.ids, corpus.offsets, len(corpus.vocabulary), 5)
    assert got.nnz == want.nnz > 10_000
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_allclose(got.data, want.data, rtol=1e-6)


def test_distances_skip_dropped_words_and_stop_at_line_ends():
    vocab = Vocabulary(["a", "b", "c"], [10, 10, 10])
    cooc = Cooccurrence.from_corpus([["a", "zzz", "b"], ["c"], ["b", "a"]], vocab, window=1, workers=1)
    x = cooc.matrix.toarray()
    assert x[0, 1] == 2.0 and x[1, 0] == 2.0   # "a zzz b" counts at distance 1 once zzz is dropped
    assert x[2].sum() == 0 and x[:, 2].sum() == 0


def test_inputs_path_iterable_and_encoded_corpus_agree(small_text):
    vocab = Vocabulary.build(small_text, min_count=3)
    sentences = [line.split() for line in open(small_text, encoding="utf-8")]
    a = Cooccurrence.from_corpus(small_text, vocab, window=3, workers=1).matrix
    b = Cooccurrence.from_corpus(sentences, vocab, window=3, workers=1).matrix
    c = Cooccurrence.from_corpus(vocab.encode(small_text), window=3, workers=1).matrix
    assert (a != b).nnz == 0 and (a != c).nnz == 0


def test_save_load_round_trip_without_pickle(tmp_path, small_text):
    corpus = Corpus.build(small_text, min_count=2)
    cooc = Cooccurrence.from_corpus(corpus, window=4, weighting="uniform", symmetric=False, workers=2)
    path = tmp_path / "cooc.npz"
    cooc.save(path)
    for mmap in (False, True):
        back = Cooccurrence.load(path, mmap=mmap)
        assert (back.matrix != cooc.matrix).nnz == 0 and back.matrix.dtype == np.float32
        assert back.vocabulary.index_to_key == cooc.vocabulary.index_to_key
        assert (back.window, back.weighting, back.symmetric) == (4, "uniform", False)
    with np.load(path, allow_pickle=False) as npz:   # plain NumPy can read the arrays
        np.testing.assert_array_equal(npz["data"], cooc.matrix.data)
    assert not list(tmp_path.glob(".*.tmp"))        # atomic write left no temporary file


def test_load_rejects_corrupt_or_foreign_files(tmp_path, small_text):
    corpus = Corpus.build(small_text, min_count=2)
    Cooccurrence.from_corpus(corpus, window=2, workers=1).save(tmp_path / "c.npz")
    raw = (tmp_path / "c.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(fastvec.FormatError):
        Cooccurrence.load(tmp_path / "cut.npz")
    corpus.vocabulary.save(tmp_path / "v.fv")
    with pytest.raises(fastvec.FormatError, match="vocabulary"):
        Cooccurrence.load(tmp_path / "v.fv")
    np.savez(tmp_path / "plain.npz", data=np.ones(3))
    with pytest.raises(fastvec.FormatError):
        Cooccurrence.load(tmp_path / "plain.npz")


def test_matrix_validation():
    vocab = Vocabulary(["a", "b"], [5, 5])
    ok = Cooccurrence(scipy.sparse.coo_array(([1.0, 2.0], ([0, 1], [1, 0])), shape=(2, 2)), vocab)
    assert ok.matrix.format == "csr" and ok.matrix.dtype == np.float32 and ok.nnz == 2
    with pytest.raises(ValueError, match="shape"):
        Cooccurrence(scipy.sparse.csr_array((3, 3), dtype=np.float32), vocab)
    with pytest.raises(ValueError, match=">= 0"):
        Cooccurrence(scipy.sparse.csr_array(np.array([[0, -1.0], [0, 0]], dtype=np.float32)), vocab)
    with pytest.raises(TypeError, match="scipy.sparse"):
        Cooccurrence(np.eye(2), vocab)


def duplicated_entry():
    """3 x 3 counts with X[0, 1] = 2 stored as 1 + 1 (and X[1, 0] = 2, X[2, 2] = 5)."""
    return scipy.sparse.csr_array((np.array([1.0, 1.0, 2.0, 5.0], dtype=np.float32), np.array([1, 1, 0, 2]),
                                   np.array([0, 2, 3, 4])), shape=(3, 3))


@pytest.mark.parametrize("kind", [scipy.sparse.csr_array, scipy.sparse.csr_matrix])
def test_counts_stored_in_pieces_are_summed(kind):
    vocab = Vocabulary(["a", "b", "c"], [5, 5, 5])
    given = kind(duplicated_entry())
    assert not given.has_canonical_format and given.nnz == 4
    cooc = Cooccurrence(given, vocab)
    assert cooc.nnz == 3 and cooc.matrix.has_canonical_format and cooc.matrix[0, 1] == 2.0
    np.testing.assert_array_equal(given.data, [1.0, 1.0, 2.0, 5.0])   # the caller's matrix is left alone
    want = np.array([[0, 2, 0], [2, 0, 0], [0, 0, 5]], dtype=np.float32)
    np.testing.assert_array_equal(fastvec.ppmi(cooc, cds=1.0).toarray(),
                                  fastvec.ppmi(scipy.sparse.csr_array(want), cds=1.0).toarray())
    # unsorted columns are sorted; integer pieces are summed exactly before the cast
    unsorted = scipy.sparse.csr_array((np.array([2, 1, 5]), np.array([1, 0, 2]), np.array([0, 2, 2, 3])),
                                      shape=(3, 3))
    sorted_ = Cooccurrence(unsorted, vocab).matrix
    assert sorted_.has_sorted_indices and sorted_.dtype == np.float32
    np.testing.assert_array_equal(sorted_.toarray(), unsorted.toarray())


@pytest.mark.parametrize("dtype,value", [(np.uint8, 255), (np.int8, 127), (np.int16, 32767), (np.bool_, True)])
@pytest.mark.parametrize("layout", ["coo", "csr"])
def test_pieces_of_small_types_are_summed_without_wrapping(dtype, value, layout):
    """uint8 255 + 255 is 510, True + True is 2: summed wide, then stored as float32."""
    vocab = Vocabulary(["a", "b"], [5, 5])
    rows, cols = np.array([0, 0, 1]), np.array([1, 1, 0])
    data = np.array([value, value, value], dtype=dtype)
    given = scipy.sparse.coo_array((data, (rows, cols)), shape=(2, 2))
    if layout == "csr":
        given = scipy.sparse.csr_array((data, cols, np.array([0, 2, 3])), shape=(2, 2))
    want = 2.0 * float(value)
    assert Cooccurrence(given, vocab).matrix[0, 1] == np.float32(want)
    expected = fastvec.ppmi(scipy.sparse.csr_array(np.array([[0, want], [float(value), 0]])), cds=1.0).toarray()
    np.testing.assert_allclose(fastvec.ppmi(given, cds=1.0).toarray(), expected, rtol=1e-6)


def test_a_corrupt_indptr_is_refused_before_it_is_narrowed(tmp_path):
    """int64 row pointers that would wrap to plausible int32 ones (and drop non-zeros)."""
    from fastvec._io import save_container

    vocab = Vocabulary(["a", "b", "c"], [5, 5, 5])
    for indptr in ([0, 2, 4, 5], [0, 0, 0, 2**62], [0, 2**32 + 2, 2**32 + 4, 6], [0, 2, 2**32, 6]):
        arrays, meta = vocab._to_arrays()
        arrays.update(indptr=np.array(indptr, dtype=np.int64), indices=np.array([1, 2, 0, 2, 0, 1], dtype=np.int32),
                      data=np.ones(6, dtype=np.float32))
        meta.update(window=None, weighting=None, symmetric=None)
        save_container(tmp_path / "bad.npz", "cooccurrence", meta, arrays)
        for mmap in (False, True):
            with pytest.raises(fastvec.FormatError, match="malformed CSR"):
                Cooccurrence.load(tmp_path / "bad.npz", mmap=mmap)


def test_a_replaced_matrix_in_pieces_is_refused_before_use():
    vocab = Vocabulary(["a", "b", "c"], [5, 5, 5])
    cooc = Cooccurrence(scipy.sparse.csr_array(np.eye(3, dtype=np.float32)), vocab)
    cooc.matrix = duplicated_entry()
    for use in (lambda: fastvec.ppmi(cooc), lambda: fastvec.GloVe(epochs=1, workers=1, progress=False).fit(cooc)):
        with pytest.raises(ValueError, match="column twice"):
            use()


def test_save_refuses_a_replaced_matrix_that_load_would_refuse(tmp_path):
    vocab = Vocabulary(["a", "b", "c"], [5, 5, 5])
    cooc = Cooccurrence(scipy.sparse.csr_array(np.eye(3, dtype=np.float32)), vocab)
    for bad, match in ((duplicated_entry(), "column twice"), (scipy.sparse.csr_array(np.eye(4)), "shape"),
                       (scipy.sparse.csr_array(-np.eye(3, dtype=np.float32)), ">= 0"),
                       (scipy.sparse.csr_array(np.eye(3) * 1e39), "float32 counts, not float64"),
                       (scipy.sparse.csr_array(np.eye(3) * (1 + 1j)), "float32 counts, not complex128")):
        cooc.matrix = bad
        with pytest.raises((ValueError, TypeError), match=match):
            cooc.save(tmp_path / "c.npz")
        with pytest.raises((ValueError, TypeError), match=match):
            fastvec.ppmi(cooc)
        assert not (tmp_path / "c.npz").exists()


def test_load_sums_a_count_in_pieces_in_memory_and_refuses_it_mapped(tmp_path):
    from fastvec._io import save_container

    vocab = Vocabulary(["a", "b", "c"], [5, 5, 5])
    Cooccurrence(scipy.sparse.csr_array(np.eye(3, dtype=np.float32)), vocab).save(tmp_path / "ok.npz")
    arrays, meta = vocab._to_arrays()
    m = duplicated_entry()
    arrays.update(indptr=m.indptr.astype(np.int64), indices=m.indices.astype(np.int32), data=m.data)
    meta.update(window=None, weighting=None, symmetric=None)
    save_container(tmp_path / "pieces.npz", "cooccurrence", meta, arrays)
    for mmap in (False, True):
        assert Cooccurrence.load(tmp_path / "ok.npz", mmap=mmap).nnz == 3
    summed = Cooccurrence.load(tmp_path / "pieces.npz")      # as the constructor does
    assert summed.nnz == 3 and summed.matrix[0, 1] == 2.0
    with pytest.raises(fastvec.FormatError, match="column stored twice.*mmap=False"):
        Cooccurrence.load(tmp_path / "pieces.npz", mmap=True)


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(window=0), ValueError, "window"),
    (dict(window=2.5), TypeError, "window"),
    (dict(weighting="gaussian"), ValueError, "weighting"),
    (dict(symmetric="yes"), TypeError, "symmetric"),
    (dict(max_memory=0), ValueError, "max_memory"),
    (dict(max_memory=100), ValueError, "too small"),
    (dict(workers=0), ValueError, "workers"),
])
def test_bad_arguments(small_text, kwargs, error, match):
    corpus = Corpus.build(small_text, min_count=2)
    with pytest.raises(error, match=match):
        Cooccurrence.from_corpus(corpus, **kwargs)


def test_bad_corpora():
    vocab = Vocabulary(["a", "b"], [5, 5])
    with pytest.raises(TypeError, match="vocabulary"):
        Cooccurrence.from_corpus([["a", "b"]])
    with pytest.raises(ValueError, match="no in-vocabulary tokens"):
        Cooccurrence.from_corpus([["x", "y"]], vocab)
    other = Corpus.build([["a", "b", "c"]] * 5, min_count=1)
    with pytest.raises(ValueError, match="different vocabulary"):
        Cooccurrence.from_corpus(other, vocab)


def test_fixed_point_scale_shrinks_before_it_could_overflow():
    units, bits = fixed_point_units(15, "harmonic", 10**6)
    assert bits == 32 and units[1] == 2**32 and units[3] == round(2**32 / 3) and units[0] == 0
    _, bits_big = fixed_point_units(15, "harmonic", 10**13)
    assert bits_big < 32 and 10**13 * 2.0**bits_big < 2.0**63
    units_u, _ = fixed_point_units(4, "uniform", 10)
    assert len(set(units_u[1:].tolist())) == 1


def test_files_with_unsorted_columns_from_earlier_versions_load(tmp_path):
    from fastvec._io import save_container
    vocab = Vocabulary(["a", "b", "c"], [5, 5, 5])
    arrays, meta = vocab._to_arrays()
    arrays.update(indptr=np.array([0, 2, 2, 3], dtype=np.int64), indices=np.array([2, 0, 1], dtype=np.int32),
                  data=np.array([3.0, 1.0, 5.0], dtype=np.float32))
    save_container(tmp_path / "old.fvc", "cooccurrence", meta, arrays)
    loaded = Cooccurrence.load(tmp_path / "old.fvc")
    assert loaded.matrix.has_canonical_format
    np.testing.assert_array_equal(loaded.matrix.toarray(), [[1, 0, 3], [0, 0, 0], [0, 5, 0]])
    with pytest.raises(fastvec.FormatError, match="mmap=False"):
        Cooccurrence.load(tmp_path / "old.fvc", mmap=True)
