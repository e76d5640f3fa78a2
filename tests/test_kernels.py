"""Every build of the word2vec kernels against the NumPy reference (fastvec/_reference.py)."""
import importlib

import numpy as np
import pytest

from fastvec import _dispatch, _reference
from fastvec.sampling import keep_thresholds, noise_table
from fastvec.vocab import Vocabulary
from fastvec.word2vec import work_items

VARIANTS = [v for v in _dispatch.supported_variants()
            if importlib.util.find_spec(f"fastvec._word2vec_{v}") is not None]


def _problem(dim, seed=0, n_words=30, n_tokens=400, sample=1e-2, sentence=37):
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n_words + 1)
    ids = rng.choice(n_words, size=n_tokens, p=weights / weights.sum()).astype(np.int32)
    counts = np.bincount(ids, minlength=n_words).astype(np.int64) + 1
    vocab = Vocabulary([f"w{i}" for i in range(n_words)], counts)
    offsets = np.r_[np.arange(0, n_tokens, sentence), n_tokens].astype(np.int64)
    items = work_items(offsets, max_tokens=25)
    noise = noise_table(vocab.noise_distribution(0.75))
    keep = keep_thresholds(vocab.keep_probabilities(sample))
    syn0 = ((rng.random((n_words, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    syn1 = (rng.standard_normal((n_words, dim)).astype(np.float32) * 0.1)
    return dict(ids=ids, items=items, keep_threshold=keep, noise_table=noise), syn0, syn1


MODES = {"sg": dict(cbow=False, batched=False, group=1), "cbow": dict(cbow=True, batched=False, group=1),
         "sg-batched": dict(cbow=False, batched=True, group=1),
         "cbow-batched": dict(cbow=True, batched=True, group=3)}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("dim,hot_rows", [(1, 0), (13, 0), (32, 0), (100, 0), (13, 5), (100, 30)])
def test_kernel_matches_reference(variant, mode, dim, hot_rows):
    """With hot_rows > 0 (thread-private copies of the most frequent rows, here synchronised
    every 60 tokens and at the end), one thread computes the same updates up to rounding."""
    kernels = importlib.import_module(f"fastvec._word2vec_{variant}")
    args, syn0, syn1 = _problem(dim)
    common = dict(window=3, negative=4, alpha=0.05, alpha_slope=1e-5, min_alpha=0.001,
                  position_base=100, seed=99, epoch=2, **MODES[mode])
    ref0, ref1 = syn0.copy(), syn1.copy()
    got = kernels.train_slice(syn0=syn0, syn1=syn1, first_item=0, last_item=len(args["items"]), n_threads=1,
                              hot_rows=hot_rows, hot_sync_tokens=60, **args, **common)
    want = _reference.train_items(syn0=ref0, syn1=ref1, tables=_reference.SigmoidTables(*kernels.sigmoid_tables()),
                                  **args, **common)
    assert got[0] == want[0] and got[1] == want[1]          # same words kept, same examples
    assert got[1] > 0
    np.testing.assert_allclose(got[2], want[2], rtol=1e-4)   # loss
    np.testing.assert_allclose(syn0, ref0, atol=1e-5, rtol=1e-4)
    np.testing.assert_allclose(syn1, ref1, atol=1e-5, rtol=1e-4)
    assert not np.array_equal(syn1, _problem(dim)[2]), "the kernel must have changed the weights"


@pytest.mark.parametrize("cbow", [False, True], ids=["sg", "cbow"])
def test_one_update_matches_hand_computation(cbow):
    """A single (centre, context) example without noise words, computed by hand."""
    kernels = _dispatch.kernels("word2vec")
    syn0 = np.array([[0.1, -0.2, 0.3, 0.0, 0.05, -0.1], [0.2, 0.1, -0.1, 0.3, 0.0, 0.1]], dtype=np.float32)
    syn1 = np.array([[0.3, 0.1, 0.0, -0.2, 0.1, 0.2], [-0.1, 0.2, 0.2, 0.1, -0.3, 0.0]], dtype=np.float32)
    s0, s1 = syn0.copy(), syn1.copy()
    ids = np.array([0, 1], dtype=np.int32)
    items = np.array([[0, 2]], dtype=np.int64)
    noise = noise_table(np.array([0.5, 0.5]))
    keep = np.full(2, 0xFFFFFFFF, dtype=np.uint32)
    kernels.train_slice(cbow=cbow, batched=False, group=1, syn0=syn0, syn1=syn1, ids=ids, items=items,
                        first_item=0, last_item=1,
                        keep_threshold=keep, noise_table=noise, window=1, negative=0,
                        alpha=0.5, alpha_slope=0.0, min_alpha=0.0, position_base=0, seed=1, epoch=0, n_threads=1)
    # examples in order: centre 0 with context 1, then centre 1 with context 0
    max_exp, table, _, _ = kernels.sigmoid_tables()
    for centre, ctx in ((0, 1), (1, 0)):
        f = np.float32(s0[ctx] @ s1[centre])
        idx = int(float(np.float32(f + np.float32(max_exp))) * (len(table) - 1) / (2 * max_exp))
        g = np.float32((1 - table[idx]) * 0.5)
        grad = g * s1[centre]
        s1[centre] = s1[centre] + g * s0[ctx]
        s0[ctx] = s0[ctx] + grad
        assert abs(float(table[idx]) - 1 / (1 + np.exp(-float(f)))) < 1e-2  # the table is a sigmoid
    np.testing.assert_allclose(syn0, s0, atol=1e-6)
    np.testing.assert_allclose(syn1, s1, atol=1e-6)


@pytest.mark.parametrize("hot_rows", [0, 20])
@pytest.mark.parametrize("mode", list(MODES))
def test_multithreaded_kernel_trains_the_same_amount(mode, hot_rows):
    kernels = _dispatch.kernels("word2vec")
    args, syn0, syn1 = _problem(16, n_tokens=5000)
    common = dict(window=3, negative=4, alpha=0.05, alpha_slope=0.0, min_alpha=0.0,
                  position_base=0, seed=5, epoch=0, **MODES[mode])
    one = kernels.train_slice(syn0=syn0.copy(), syn1=syn1.copy(), first_item=0, last_item=len(args["items"]),
                              n_threads=1, **args, **common)
    two = kernels.train_slice(syn0=syn0.copy(), syn1=syn1.copy(), first_item=0, last_item=len(args["items"]),
                              n_threads=2, hot_rows=hot_rows, hot_sync_tokens=200, **args, **common)
    # random streams belong to work items, not threads: same subsampling, windows and examples
    assert one[0] == two[0] and one[1] == two[1]
    assert two[2] == pytest.approx(one[2], rel=0.05)


def test_sigmoid_table_is_accurate():
    kernels = _dispatch.kernels("word2vec")
    max_exp, sig, logsig, log_one_minus = kernels.sigmoid_tables()
    x = ((np.arange(len(sig)) + 0.5) / (len(sig) - 1) * 2 - 1) * max_exp
    np.testing.assert_allclose(sig, 1 / (1 + np.exp(-x)), atol=1e-6)
    np.testing.assert_allclose(logsig, -np.log1p(np.exp(-x)), atol=1e-5)
    np.testing.assert_allclose(log_one_minus, np.log(1 - 1 / (1 + np.exp(-x))), atol=1e-5)


def test_slice_of_items_only_touches_its_items():
    kernels = _dispatch.kernels("word2vec")
    args, syn0, syn1 = _problem(8)
    before = syn1.copy()
    out = kernels.train_slice(syn0=syn0, syn1=syn1, first_item=3, last_item=3, n_threads=1, cbow=False,
                              batched=False, group=1, window=2,
                              negative=2, alpha=0.05, alpha_slope=0, min_alpha=0, position_base=0, seed=1, epoch=0,
                              **args)
    assert out == (0, 0, 0.0)
    np.testing.assert_array_equal(syn1, before)


def test_hot_row_settings_out_of_range_are_refused():
    kernels = _dispatch.kernels("word2vec")
    args, syn0, syn1 = _problem(8)
    for bad in (dict(hot_rows=-1), dict(hot_rows=len(syn1) + 1), dict(hot_rows=1, hot_sync_tokens=0)):
        with pytest.raises(ValueError, match="hot_rows|hot_sync_tokens"):
            kernels.train_slice(syn0=syn0, syn1=syn1, first_item=0, last_item=len(args["items"]), n_threads=1,
                                **bad, window=3, negative=4, alpha=0.05, alpha_slope=0.0, min_alpha=0.0,
                                position_base=0, seed=1, epoch=0, **args, **MODES["cbow"])
