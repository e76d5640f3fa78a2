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
@pytest.mark.parametrize("dim,hot_rows,hot_async", [(1, 0, 0), (13, 0, 0), (32, 0, 0), (100, 0, 0), (13, 5, 0),
                                                   (100, 30, 0), (13, 5, 2), (100, 30, 30), (32, 20, 7)])
def test_kernel_matches_reference(variant, mode, dim, hot_rows, hot_async):
    """With hot rows (thread-private copies of the most frequent rows, kept in a workspace
    across calls: the first hot_async synced every 60 tokens and at the end of each call, the
    others merged between calls), one thread computes the same updates up to rounding."""
    kernels = importlib.import_module(f"fastvec._word2vec_{variant}")
    args, syn0, syn1 = _problem(dim)
    common = dict(window=3, negative=4, alpha=0.05, alpha_slope=1e-5, min_alpha=0.001,
                  position_base=100, seed=99, epoch=2, **MODES[mode])
    ref0, ref1 = syn0.copy(), syn1.copy()
    ws = kernels.Workspace(dim=dim, window=3, negative=4, n_threads=1, max_len=25, hot_rows=hot_rows,
                           hot_async=hot_async, sync_tokens=60, **MODES[mode])
    n = len(args["items"])
    got = [0, 0, 0.0]
    for first, last in ((0, 4), (4, 9), (9, n)):   # three calls, a sync after the second only
        out = kernels.train_slice(syn0=syn0, syn1=syn1, first_item=first, last_item=last, n_threads=1, workspace=ws,
                                  **args, **common)
        got = [g + o for g, o in zip(got, out)]
        if first == 4:
            ws.sync(syn0, syn1)
    assert ws.live == (hot_rows > 0)
    if hot_async:   # each call has added its change of the first hot_async rows (up to rounding)
        copies = ws.hot_copies()[0]
        np.testing.assert_allclose(copies[0, :hot_async], syn1[:hot_async], atol=1e-6)
        np.testing.assert_allclose(copies[1, :hot_async], syn0[:hot_async], atol=1e-6)
    ws.sync(syn0, syn1, release=True)
    assert not ws.live
    want = _reference.train_items(syn0=ref0, syn1=ref1, tables=_reference.SigmoidTables(*kernels.sigmoid_tables()),
                                  **args, **common)
    assert got[0] == want[0] and got[1] == want[1]          # same words kept, same examples
    assert got[1] > 0
    np.testing.assert_allclose(got[2], want[2], rtol=1e-4)   # loss
    assert np.isfinite(syn0).all() and np.isfinite(syn1).all()   # (assert_allclose takes NaN == NaN)
    np.testing.assert_allclose(syn0, ref0, atol=1e-5, rtol=1e-4)
    np.testing.assert_allclose(syn1, ref1, atol=1e-5, rtol=1e-4)
    assert not np.array_equal(syn1, _problem(dim)[2]), "the kernel must have changed the weights"


@pytest.mark.parametrize("mode", list(MODES))
def test_hot_rows_on_one_thread_change_nothing(mode):
    """One thread merging its copies (Workspace.sync) gives exactly the weights of training on
    the shared rows."""
    kernels = _dispatch.kernels("word2vec")
    args, syn0, syn1 = _problem(16, n_tokens=2000)
    common = dict(window=3, negative=4, alpha=0.05, alpha_slope=1e-6, min_alpha=0.001,
                  position_base=0, seed=7, epoch=0, **MODES[mode])
    results = []
    for hot_rows in (0, 12):
        s0, s1 = syn0.copy(), syn1.copy()
        ws = kernels.Workspace(dim=16, window=3, negative=4, n_threads=1, max_len=25, hot_rows=hot_rows,
                               **MODES[mode])
        for first in range(0, len(args["items"]), 7):
            kernels.train_slice(syn0=s0, syn1=s1, first_item=first, last_item=min(first + 7, len(args["items"])),
                                n_threads=1, workspace=ws, **args, **common)
            ws.sync(s0, s1)
        ws.sync(s0, s1, release=True)
        results.append((s0, s1))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("n_threads,hot_rows,dim", [(1, 3, 5), (2, 7, 13), (2, 300, 100), (3, 50, 17)])
def test_hot_row_merge_matches_reference(variant, n_threads, hot_rows, dim):
    """Workspace.sync against _reference.merge_hot_rows, with copies changed by hand."""
    kernels = importlib.import_module(f"fastvec._word2vec_{variant}")
    rng = np.random.default_rng(n_threads * 1000 + hot_rows)
    syn0 = rng.standard_normal((hot_rows + 4, dim)).astype(np.float32)
    syn1 = rng.standard_normal((hot_rows + 4, dim)).astype(np.float32)
    args = dict(ids=np.zeros(1, dtype=np.int32), items=np.array([[0, 1]], dtype=np.int64),
                keep_threshold=np.zeros(hot_rows + 4, dtype=np.uint32),
                noise_table=noise_table(np.full(hot_rows + 4, 1.0 / (hot_rows + 4))))
    ws = kernels.Workspace(cbow=False, batched=False, group=1, dim=dim, window=2, negative=1, n_threads=n_threads,
                           max_len=1, hot_rows=hot_rows)
    # a one-token item trains nothing (keep_threshold 0 drops it too) but takes the copies
    kernels.train_slice(syn0=syn0, syn1=syn1, first_item=0, last_item=1, n_threads=n_threads, workspace=ws,
                        cbow=False, batched=False, group=1, window=2, negative=1, alpha=0.05, alpha_slope=0.0,
                        min_alpha=0.0, position_base=0, seed=1, epoch=0, **args)
    copies = ws.hot_copies()
    assert copies.shape == (n_threads, 2, hot_rows, dim)
    np.testing.assert_array_equal(copies[:, 0], np.broadcast_to(syn1[:hot_rows], copies[:, 0].shape))
    np.testing.assert_array_equal(copies[:, 1], np.broadcast_to(syn0[:hot_rows], copies[:, 1].shape))
    copies += rng.standard_normal(copies.shape).astype(np.float32)   # the threads' "training"
    want0, want1, want_copies = syn0.copy(), syn1.copy(), copies.copy()
    _reference.merge_hot_rows(want1[:hot_rows], want_copies[:, 0])
    _reference.merge_hot_rows(want0[:hot_rows], want_copies[:, 1])
    ws.sync(syn0, syn1)
    # the same float32 operations, possibly reassociated by the compiler (-fassociative-math);
    # one thread copies without arithmetic
    tol = dict(rtol=0, atol=0) if n_threads == 1 else dict(rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(syn0, want0, **tol)
    np.testing.assert_allclose(syn1, want1, **tol)
    np.testing.assert_allclose(ws.hot_copies(), want_copies, **tol)
    for t in range(1, n_threads):   # every copy is the merged row, exactly
        np.testing.assert_array_equal(ws.hot_copies()[t], ws.hot_copies()[0])
    np.testing.assert_array_equal(ws.hot_copies()[0, 0], syn1[:hot_rows])


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
                              n_threads=2, hot_rows=hot_rows, **args, **common)
    # random streams belong to work items, not threads: same subsampling, windows and examples
    assert one[0] == two[0] and one[1] == two[1]
    assert two[2] == pytest.approx(one[2], rel=0.05)


@pytest.mark.parametrize("n_threads", [2, 3, 5])
def test_threads_split_any_slice_and_train_each_item_once(n_threads):
    # each thread trains its part of the slice, then claims the others' remaining items: every
    # item of [first, last) exactly once, whatever the item sizes and thread count
    kernels = _dispatch.kernels("word2vec")
    args, syn0, syn1 = _problem(16, n_tokens=3000)
    lengths = np.diff(args["items"], axis=1)[:, 0]
    first, last = 3, len(args["items"]) - 2
    common = dict(cbow=False, batched=False, group=1, window=2, negative=2, alpha=0.05, alpha_slope=0.0,
                  min_alpha=0.0, position_base=0, seed=9, epoch=0, **args)
    one = kernels.train_slice(syn0=syn0.copy(), syn1=syn1.copy(), first_item=first, last_item=last, n_threads=1,
                              **common)
    many = kernels.train_slice(syn0=syn0.copy(), syn1=syn1.copy(), first_item=first, last_item=last,
                               n_threads=n_threads, **common)
    assert one[0] == many[0] and one[1] == many[1]
    # one item alone, more threads than items
    single = [kernels.train_slice(syn0=syn0.copy(), syn1=syn1.copy(), first_item=first, last_item=first + 1,
                                  n_threads=t, **common) for t in (1, n_threads)]
    assert single[0] == single[1] and 0 < single[0][0] <= lengths[first]


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
    kw = dict(window=3, negative=4, alpha=0.05, alpha_slope=0.0, min_alpha=0.0, position_base=0, seed=1, epoch=0,
              **args, **MODES["cbow"])
    n = len(args["items"])
    for bad in (dict(hot_rows=-1), dict(hot_rows=len(syn1) + 1)):
        with pytest.raises(ValueError, match="hot_rows"):
            kernels.train_slice(syn0=syn0, syn1=syn1, first_item=0, last_item=n, n_threads=1, **bad, **kw)


def test_tables_and_items_must_fit_the_weights():
    kernels = _dispatch.kernels("word2vec")
    args, syn0, syn1 = _problem(8)
    kw = dict(window=3, negative=4, alpha=0.05, alpha_slope=0.0, min_alpha=0.0, position_base=0, seed=1, epoch=0,
              n_threads=1, **MODES["cbow"])
    n = len(args["items"])
    big = dict(args, noise_table=noise_table(np.full(len(syn0) + 5, 1.0 / (len(syn0) + 5))))
    with pytest.raises(ValueError, match="one entry per row"):
        kernels.train_slice(syn0=syn0, syn1=syn1, first_item=0, last_item=n, **big, **kw)
    with pytest.raises(ValueError, match="one entry per row"):
        kernels.train_slice(syn0=syn0, syn1=syn1, first_item=0, last_item=n, **dict(args, keep_threshold=args["keep_threshold"][:-1]), **kw)
    for first, last in ((0, n + 1), (-1, n), (3, 2)):
        if first > last >= 0:
            continue
        with pytest.raises(ValueError, match="out of range"):
            kernels.train_slice(syn0=syn0, syn1=syn1, first_item=first, last_item=last, **args, **kw)


THREAD_LIMIT_CHILD = """
import numpy as np
from fastvec import _dispatch
from fastvec.sampling import keep_thresholds, noise_table
k = _dispatch.kernels("word2vec")
V, D = 50, 16
rng = np.random.default_rng(0)
ids = rng.integers(0, V, 20000).astype(np.int32)
items = np.stack([np.arange(0, 20000, 100), np.arange(100, 20001, 100)], 1).astype(np.int64)
syn0 = rng.random((V, D), dtype=np.float32) - 0.5
syn1 = rng.random((V, D), dtype=np.float32) - 0.5
before = syn0.copy(), syn1.copy()
ws = k.Workspace(cbow=True, batched=False, group=4, dim=D, window=5, negative=5, n_threads=2, max_len=100,
                 hot_rows=20, hot_async=4, sync_tokens=1000)
for call in range(2):
    k.train_slice(cbow=True, batched=False, group=4, syn0=syn0, syn1=syn1, ids=ids, items=items, first_item=0,
                  last_item=len(items), keep_threshold=keep_thresholds(np.ones(V)),
                  noise_table=noise_table(np.full(V, 1.0 / V)), window=5, negative=5, alpha=0.0, alpha_slope=0.0,
                  min_alpha=0.0, position_base=0, seed=1, epoch=call, n_threads=2, workspace=ws)
    ws.sync(syn0, syn1, release=call == 1)
print(float(np.abs(syn0 - before[0]).max()), float(np.abs(syn1 - before[1]).max()))
"""


def test_hot_rows_survive_a_smaller_thread_team_than_asked_for(tmp_path):
    # OMP_THREAD_LIMIT=1 starts one thread where the call asks for two: the copy of the thread
    # that never ran must not be merged (it once zeroed or reverted hot rows)
    import os
    import subprocess
    import sys
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    out = subprocess.run([sys.executable, "-c", THREAD_LIMIT_CHILD], env=env, capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)   # not the source tree: the installed package
    assert out.returncode == 0, out.stderr
    assert [float(x) for x in out.stdout.split()] == [0.0, 0.0]   # alpha = 0: nothing may change


def test_workspace_must_fit_the_call():
    kernels = _dispatch.kernels("word2vec")
    args, syn0, syn1 = _problem(8)
    kw = dict(alpha=0.05, alpha_slope=0.0, min_alpha=0.0, position_base=0, seed=1, epoch=0, **args)
    settings = dict(window=3, negative=4, **MODES["cbow"])
    n = len(args["items"])
    with pytest.raises(ValueError, match="hot_rows"):
        kernels.Workspace(dim=8, n_threads=1, max_len=25, hot_rows=-1, **settings)
    with pytest.raises(ValueError, match=">= 1"):
        kernels.Workspace(dim=8, n_threads=0, max_len=25, **settings)
    with pytest.raises(ValueError, match="hot_async"):
        kernels.Workspace(dim=8, n_threads=1, max_len=25, hot_rows=4, hot_async=5, sync_tokens=10, **settings)
    with pytest.raises(ValueError, match="sync_tokens"):
        kernels.Workspace(dim=8, n_threads=1, max_len=25, hot_rows=4, hot_async=2, **settings)
    ws = kernels.Workspace(dim=8, n_threads=1, max_len=25, hot_rows=len(syn1) + 1, **settings)
    with pytest.raises(ValueError, match="hot_rows"):
        kernels.train_slice(syn0=syn0, syn1=syn1, first_item=0, last_item=n, n_threads=1, workspace=ws, **settings, **kw)
    ws = kernels.Workspace(dim=8, n_threads=1, max_len=25, hot_rows=5, **settings)
    for bad, match in ((dict(window=2), "other kernel settings"), (dict(negative=3), "other kernel settings"),
                       (dict(cbow=False), "other kernel settings"), (dict(hot_rows=5), "setting of the workspace")):
        with pytest.raises(ValueError, match=match):
            kernels.train_slice(syn0=syn0, syn1=syn1, first_item=0, last_item=n, n_threads=1, workspace=ws,
                                **{**settings, **bad}, **kw)
    with pytest.raises(ValueError, match="other kernel settings"):
        kernels.train_slice(syn0=syn0, syn1=syn1, first_item=0, last_item=n, n_threads=2, workspace=ws, **settings, **kw)
    short = kernels.Workspace(dim=8, n_threads=1, max_len=10, **settings)
    with pytest.raises(ValueError, match="longer than the workspace"):
        kernels.train_slice(syn0=syn0, syn1=syn1, first_item=0, last_item=n, n_threads=1, workspace=short,
                            **settings, **kw)
    kernels.train_slice(syn0=syn0, syn1=syn1, first_item=0, last_item=n, n_threads=1, workspace=ws, **settings, **kw)
    assert ws.live
    other0, other1 = syn0.copy(), syn1.copy()   # the copies belong to syn0/syn1 until released
    with pytest.raises(ValueError, match="other weight arrays"):
        kernels.train_slice(syn0=other0, syn1=other1, first_item=0, last_item=n, n_threads=1, workspace=ws,
                            **settings, **kw)
    with pytest.raises(ValueError, match="other weight arrays"):
        ws.sync(other0, other1)
    with pytest.raises(ValueError, match="shape"):
        ws.sync(syn0[:, :4].copy(), syn1)
    ws.sync(syn0, syn1, release=True)
    kernels.train_slice(syn0=other0, syn1=other1, first_item=0, last_item=n, n_threads=1, workspace=ws,
                        **settings, **kw)
    ws.sync(other0, other1, release=True)
