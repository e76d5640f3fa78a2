"""Failure behaviour that must not regress: interruptions, killed writers, checkpoints, memory
limits, huge lines, millions of distinct words, hostile native files, debug-build checks.
(tests/RELIABILITY.md lists every case with the behaviour observed.)"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest

import fastvec
from fastvec import FormatError, KeyedVectors, Word2Vec, _runtime
from fastvec._io import save_container

from conftest import StopAfter, ctrl_c_child, interrupt_on_a_terminal

PY = sys.executable


def run_py(code: str, **kw) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter, outside the source tree (so it imports the installed fastvec)."""
    import tempfile
    with tempfile.TemporaryDirectory() as cwd:
        return subprocess.run([PY, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=600,
                              cwd=cwd, **kw)


# -- Ctrl-C -------------------------------------------------------------------------------------

def test_ctrl_c_stops_within_a_second_and_leaves_a_usable_model(tmp_path, bundled_text):
    """SIGINT while training (with the progress bar drawn on a pseudo-terminal)."""
    run = interrupt_on_a_terminal(ctrl_c_child("Word2Vec"), [bundled_text, str(tmp_path / "m.fv")], tmp_path, after=0.3)
    line, rest, stopped, terminal = run.line, run.rest, run.seconds, run.terminal
    assert line.startswith("interrupted"), line
    assert stopped < 1.0, f"took {stopped:.2f} s to stop"
    assert int(line.split()[1]) >= 1                       # completed epochs recorded
    assert "neighbours" in rest and "saved" in rest        # the model answers queries and saves
    assert b"Traceback" not in terminal
    assert b"word" in terminal                             # the bar was drawn (words/s) ...
    model = Word2Vec.load(tmp_path / "m.fv")               # ... and the saved model loads
    assert model.epochs_trained_ == int(line.split()[1])


# -- killed writers -------------------------------------------------------------------------------

WRITER_CHILD = """
import sys, numpy as np, fastvec
rng = np.random.default_rng(0)
kv1 = fastvec.KeyedVectors([f"w{i}" for i in range(2000)], rng.standard_normal((2000, 50)).astype(np.float32))
kv1.save_word2vec_format(sys.argv[1])
print("first", flush=True)
kv2 = fastvec.KeyedVectors([f"x{i}" for i in range(400_000)], rng.standard_normal((400_000, 100)).astype(np.float32))
kv2.save_word2vec_format(sys.argv[1])
print("second", flush=True)
"""


def test_killed_writer_never_leaves_a_partial_file(tmp_path):
    target = tmp_path / "vectors.txt"
    script = tmp_path / "writer.py"
    script.write_text(WRITER_CHILD)
    proc = subprocess.Popen([PY, str(script), str(target)], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    assert proc.stdout.readline().strip() == "first"
    first = target.read_bytes()
    deadline = time.time() + 60
    while time.time() < deadline:  # wait until the second write is under way
        temps = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        if any(p.stat().st_size > 1_000_000 for p in temps) or proc.poll() is not None:
            break
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    assert target.read_bytes() == first, "the target changed although the second write never finished"
    assert KeyedVectors.load_word2vec_format(target).index_to_key[:2] == ["w0", "w1"]
    # a killed process cannot clean up a named temporary file (where O_TMPFILE is unavailable);
    # the next save to the same target removes it
    KeyedVectors(["a"], np.ones((1, 3), dtype=np.float32)).save_word2vec_format(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vectors.txt", "writer.py"]


# -- checkpoints ----------------------------------------------------------------------------------

def test_checkpoint_every_and_resume(tmp_path, small_text):
    kw = dict(epochs=4, seed=5, workers=1, progress=False, min_count=2)
    straight = Word2Vec(**kw).fit(small_text)
    ckpt = tmp_path / "ckpt.fv"
    crashing = Word2Vec(checkpoint_every=2, checkpoint_path=ckpt, callbacks=[StopAfter(3)], **kw)
    with pytest.raises(KeyboardInterrupt):
        crashing.fit(small_text)
    resumed = Word2Vec.load(ckpt)           # written after epoch 2, before the "crash" in epoch 3
    assert resumed.epochs_trained_ == 2
    resumed.train_more(small_text)
    np.testing.assert_array_equal(resumed.wv.vectors, straight.wv.vectors)
    assert resumed.loss_history_ == straight.loss_history_


def test_checkpoint_parameters_are_checked_before_training(tmp_path, small_text):
    with pytest.raises(ValueError, match="checkpoint_path"):
        Word2Vec(checkpoint_every=1).fit(small_text)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Word2Vec(checkpoint_every=1, checkpoint_path=tmp_path / "no" / "c.fv").fit(small_text)
    with pytest.raises(IsADirectoryError):
        Word2Vec(checkpoint_every=1, checkpoint_path=tmp_path).fit(small_text)
    with pytest.raises(ValueError, match="checkpoint_every"):
        Word2Vec(checkpoint_every=0, checkpoint_path=tmp_path / "c.fv").fit(small_text)


# -- memory ---------------------------------------------------------------------------------------

def test_memory_is_estimated_before_allocating(monkeypatch, small_text):
    model = Word2Vec(epochs=1, progress=False, min_count=2).fit(small_text)
    est = model.memory_estimate_
    assert est["input_vectors"] == model.wv.vectors.nbytes and est["output_vectors"] == model.output_vectors_.nbytes
    assert est["corpus_ids"] == 4 * model.history_[0]["work"]  # int32 ids of every corpus token
    assert est["total"] == sum(v for k, v in est.items() if k != "total")
    plan = Word2Vec(vector_size=300).estimate_memory(n_words=3_000_000, n_tokens=10**9)
    assert plan["input_vectors"] == 3_000_000 * 300 * 4

    import fastvec._base as base
    monkeypatch.setattr(base, "available_memory", lambda: 1000)
    fresh = Word2Vec(epochs=1, progress=False, min_count=2)
    with pytest.raises(MemoryError, match="needs about .* GiB but only"):
        fresh.fit(small_text)
    assert not hasattr(fresh, "_syn0")  # refused before the weights were allocated


def _peak_rss_mb() -> str:
    return "int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) // 1024"


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc to read peak RSS")
def test_max_vocab_size_bounds_counting_of_5_million_distinct_words(tmp_path):
    path = tmp_path / "distinct.txt"
    with open(path, "w") as f:  # 5M words seen once, and 3 words seen 2,000 times per 100,000 tokens
        for start in range(0, 5_000_000, 100_000):
            f.write(" ".join(f"t{i}" if i % 50 else f"t{i} the of and" for i in range(start, start + 100_000)) + "\n")
    code = f"""
        import fastvec
        base = {_peak_rss_mb()}
        v = fastvec.Vocabulary.build({str(path)!r}, min_count=1, max_vocab_size={{limit}})
        print(len(v), {_peak_rss_mb()} - base, v.counts[:3].tolist())
    """
    bounded = run_py(code.replace("{limit}", "100_000"))
    unbounded = run_py(code.replace("{limit}", "None"))
    assert bounded.returncode == 0, bounded.stderr
    n_bounded, growth_bounded, top = bounded.stdout.split(maxsplit=2)
    n_all, growth_all, _ = unbounded.stdout.split(maxsplit=2)
    assert int(n_all) == 5_000_003 and int(n_bounded) <= 100_000
    assert top.strip() == "[100000, 100000, 100000]"   # frequent words survive pruning, counts exact
    assert int(growth_bounded) < 60, growth_bounded      # MB: independent of the 5M distinct words
    assert int(growth_all) > 4 * int(growth_bounded)


def test_single_200mb_line_is_read_whole(tmp_path):
    path = tmp_path / "one_line.txt"
    words = [f"word{i:02d}" for i in range(50)]
    chunk = (" ".join(words) + " ").encode()
    repeats = 200 * 2**20 // len(chunk)
    with open(path, "wb") as f:
        for _ in range(repeats // 1000):
            f.write(chunk * 1000)
    code = f"""
        import fastvec
        base = {_peak_rss_mb()}
        c = fastvec.Corpus.build({str(path)!r}, min_count=1)
        print(len(c), c.n_tokens, c.vocabulary.raw_tokens, {_peak_rss_mb()} - base - c.ids.nbytes // 2**20)
    """
    out = run_py(code)
    assert out.returncode == 0, out.stderr
    sentences, tokens, raw, extra_mb = map(int, out.stdout.split())
    expected = 50 * (repeats // 1000) * 1000
    assert (sentences, tokens, raw) == (1, expected, expected)
    assert extra_mb < 100, f"{extra_mb} MB beyond the encoded ids: the line was buffered whole?"


# -- hostile native files -------------------------------------------------------------------------

def _zip(path, members: dict[str, bytes], compress=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compress) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _npy(arr) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=True)
    return buf.getvalue()


META = json.dumps({"format": "fastvec", "kind": "keyedvectors", "version": 1, "keys": ["a", "b"]}).encode()


@pytest.mark.parametrize("members,match", [
    ({}, "no meta.json"),
    ({"meta.json": b"{not json"}, "unreadable meta.json"),
    ({"meta.json": b"[1, 2]"}, "bad or missing format tag"),
    ({"meta.json": json.dumps({"format": "fastvec", "kind": "word2vec", "version": 1}).encode()}, "holds a 'word2vec'"),
    ({"meta.json": json.dumps({"format": "fastvec", "kind": "keyedvectors", "version": 9}).encode()}, "version"),
    ({"meta.json": META}, "missing array member"),
    ({"meta.json": META, "vectors.npy": _npy(np.zeros((3, 4), np.float32))}, "2 keys but 3 vectors"),
    ({"meta.json": META, "vectors.npy": _npy(np.zeros((2, 4), np.int64))}, "float32/float64"),
    ({"meta.json": META, "vectors.npy": _npy(np.array([[None, 1], [2, 3]], dtype=object))}, "non-numeric dtype"),
    ({"meta.json": META, "vectors.npy": _npy(np.zeros((2, 4), np.float32))[:-8]}, "declares 32 bytes"),
    ({"meta.json": META, "vectors.npy": _npy(np.zeros((2, 4), np.float32)), "evil.pkl": b"x"}, "unexpected member"),
    ({"meta.json": json.dumps({"format": "fastvec", "kind": "keyedvectors", "version": 1, "keys": [1, 2]}).encode(),
      "vectors.npy": _npy(np.zeros((2, 4), np.float32))}, "list of strings"),
    ({"meta.json": json.dumps({"format": "fastvec", "kind": "keyedvectors", "version": 1, "keys": ["a", "a"]}).encode(),
      "vectors.npy": _npy(np.zeros((2, 4), np.float32))}, "duplicate key"),
])
def test_hostile_native_files_are_refused(tmp_path, members, match):
    path = tmp_path / "bad.fv"
    _zip(path, members)
    with pytest.raises(FormatError, match=match) as info:
        KeyedVectors.load(path)
    assert str(path) in str(info.value)


def test_native_loader_refuses_huge_declared_shapes_and_compression(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (10**12, 100)})
    path = tmp_path / "huge.fv"
    _zip(path, {"meta.json": META, "vectors.npy": header.getvalue() + b"\0" * 64})
    for mmap in (False, True):  # refused from the sizes alone, before any allocation
        with pytest.raises(FormatError, match="declares"):
            KeyedVectors.load(path, mmap=mmap)
    _zip(path, {"meta.json": META, "vectors.npy": _npy(np.zeros((2, 4), np.float32))}, compress=zipfile.ZIP_DEFLATED)
    with pytest.raises(FormatError, match="compressed"):
        KeyedVectors.load(path)
    path.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(FormatError):
        KeyedVectors.load(path)


def test_truncated_native_file(tmp_path):
    kv = KeyedVectors(["a", "b"], np.ones((2, 1000), dtype=np.float32))
    kv.save(tmp_path / "ok.fv")
    data = (tmp_path / "ok.fv").read_bytes()
    for cut in (len(data) // 2, len(data) - 30, 40):
        (tmp_path / "cut.fv").write_bytes(data[:cut])
        with pytest.raises(FormatError):
            KeyedVectors.load(tmp_path / "cut.fv")


def _saved_model_parts(tmp_path, small_text):
    """The metadata (without the container's own tags) and arrays of a freshly saved model, to
    build broken files from with save_container."""
    Word2Vec(epochs=1, progress=False, min_count=2).fit(small_text).save(tmp_path / "m.fv")
    with zipfile.ZipFile(tmp_path / "m.fv") as zf:
        meta = json.loads(zf.read("meta.json"))
        arrays = {n[:-4]: np.load(io.BytesIO(zf.read(n)), allow_pickle=False) for n in zf.namelist() if n.endswith(".npy")}
    return {k: v for k, v in meta.items() if k not in ("format", "kind", "version")}, arrays


def test_model_file_with_wrong_shapes_is_refused(tmp_path, small_text):
    meta, arrays = _saved_model_parts(tmp_path, small_text)
    broken = dict(arrays, syn1=arrays["syn1"][:-1])
    save_container(tmp_path / "bad.fv", "word2vec", meta, broken)
    with pytest.raises(FormatError, match="syn1 must be float32 of shape"):
        Word2Vec.load(tmp_path / "bad.fv")
    save_container(tmp_path / "bad2.fv", "word2vec", dict(meta, params={**meta["params"], "window": -3}), arrays)
    with pytest.raises(FormatError, match="invalid model parameters"):
        Word2Vec.load(tmp_path / "bad2.fv")


@pytest.mark.parametrize("change,match", [
    (dict(schedule={"alpha": float("nan"), "min_alpha": 0.0001, "epochs": 5, "done": 1}), "schedule"),
    (dict(schedule={"alpha": -0.025, "min_alpha": -0.025, "epochs": 5, "done": 1}), "schedule"),
    (dict(schedule={"alpha": 0.01, "min_alpha": 0.02, "epochs": 5, "done": 1}), "schedule"),
    (dict(schedule={"alpha": 0.025, "min_alpha": 0.0001, "epochs": 10**30, "done": 1}), "schedule"),
    (dict(epochs_trained=10**30), "epochs_trained"),
])
def test_model_file_with_a_bad_schedule_is_refused(tmp_path, small_text, change, match):
    meta, arrays = _saved_model_parts(tmp_path, small_text)
    save_container(tmp_path / "bad.fv", "word2vec", dict(meta, **change), arrays)
    with pytest.raises(FormatError, match=match):
        Word2Vec.load(tmp_path / "bad.fv")


def test_training_rechecks_what_the_kernels_will_index(small_text):
    corpus = fastvec.Corpus.build(small_text, min_count=2)
    corpus.ids[5] = len(corpus.vocabulary)                   # public arrays, changed after encoding
    with pytest.raises(ValueError, match="ids must lie in"):
        Word2Vec(epochs=1, progress=False, min_count=2).fit(corpus)
    model = Word2Vec(epochs=1, progress=False, min_count=2, vector_size=8, sample=0).fit([["a", "b", "c"]] * 20)
    model.vocabulary_ = fastvec.Vocabulary([f"w{i}" for i in range(50)], np.full(50, 3))
    with pytest.raises(ValueError, match="cannot be replaced"):
        model.train_more([["w1", "w2", "w3"]] * 20, epochs=1)
    model = Word2Vec(epochs=1, progress=False, min_count=2, vector_size=8, sample=0).fit([["a", "b", "c"]] * 20)
    with pytest.raises(ValueError, match="vector_size cannot change after fit"):
        model.set_params(vector_size=16).train_more([["a", "b", "c"]] * 20, epochs=1)


def test_omp_thread_limit_caps_workers(monkeypatch):
    from fastvec import _threads
    monkeypatch.setattr(_threads, "available_cores", lambda: 8)
    monkeypatch.setattr(_threads._runtime, "openmp_enabled", lambda: True)
    monkeypatch.setattr(_threads._runtime, "openmp_thread_limit", lambda: 3)
    with pytest.warns(UserWarning, match="OMP_THREAD_LIMIT=3"):
        assert _threads.resolve_workers(6) == 3
    assert _threads.default_threads() == 3
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # the default asks for nothing: no warning
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
        assert _threads.resolve_workers(None) == 3


def test_custom_tokenizer_is_not_saved_and_load_says_so(tmp_path, small_text):
    model = Word2Vec(epochs=1, progress=False, min_count=2,
                     tokenizer=lambda line: [w.upper() if len(w) > 2 else w for w in line.split()])
    model.fit(small_text).save(tmp_path / "m.fv")
    Word2Vec.load(tmp_path / "m.fv").save(tmp_path / "again.fv")      # the note survives a re-save
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                 # queries need no tokenizer: quiet
        loaded = Word2Vec.load(tmp_path / "again.fv")
    assert loaded.tokenizer is None
    with pytest.warns(UserWarning) as record:
        loaded.train_more(small_text, epochs=1)     # split as is: only words of 1-2 letters are known
    messages = " | ".join(str(w.message) for w in record)
    assert "custom tokenizer" in messages and "tokens are in the model's vocabulary" in messages


def test_a_failed_train_more_keeps_the_running_schedule(tmp_path, small_text):
    model = Word2Vec(epochs=3, progress=False, min_count=2, vector_size=8, seed=1)
    with pytest.raises(KeyboardInterrupt):
        model.set_params(callbacks=[_interrupt_after_first]).fit(small_text)
    model.set_params(callbacks=())
    schedule = dict(model._schedule)
    assert schedule["done"] == 1
    with pytest.raises(FileNotFoundError):
        model.train_more(tmp_path / "missing.txt", epochs=4)
    assert model._schedule == schedule
    model.train_more(small_text)                    # the rest of the first schedule, as before
    assert model.epochs_trained_ == 3


def _interrupt_after_first(model, metrics):
    raise KeyboardInterrupt


def test_nan_in_the_history_saves_and_loads(tmp_path, small_text):
    model = Word2Vec(epochs=1, progress=False, min_count=2, vector_size=8).fit(small_text)
    model.loss_history_.append(float("nan"))
    model.history_.append({"epoch": 2, "loss": float("nan"), "pairs_spearman": float("nan")})
    model.save(tmp_path / "m.fv")
    loaded = Word2Vec.load(tmp_path / "m.fv")
    assert np.isnan(loaded.loss_history_[-1]) and np.isnan(loaded.history_[-1]["pairs_spearman"])


def test_checkpoint_may_not_replace_the_saved_corpus_it_trains_on(tmp_path, small_text):
    fastvec.Corpus.build(small_text, min_count=2).save(tmp_path / "c.fvc")
    corpus = fastvec.Corpus.load(tmp_path / "c.fvc")
    with pytest.raises(ValueError, match="is the corpus being trained"):
        Word2Vec(epochs=1, progress=False, min_count=2, checkpoint_every=1,
                 checkpoint_path=tmp_path / "c.fvc").fit(corpus)
    assert len(fastvec.Corpus.load(tmp_path / "c.fvc")) == len(corpus)


# -- debug build ------------------------------------------------------------------------------------

@pytest.mark.skipif(not _runtime.debug_build(), reason="index checks exist only in FASTVEC_DEBUG=1 builds (CI runs one)")
def test_debug_build_catches_bad_indices_inside_kernels():
    out = run_py("""
        import numpy as np
        from fastvec import _dispatch
        from fastvec.sampling import noise_table
        k = _dispatch.kernels("word2vec")
        syn0 = np.zeros((4, 8), np.float32); syn1 = np.zeros((4, 8), np.float32)
        k.train_slice(cbow=False, batched=False, group=1, syn0=syn0, syn1=syn1,
                      ids=np.array([0, 1, 9], np.int32), items=np.array([[0, 3]], np.int64), first_item=0,
                      last_item=1, keep_threshold=np.full(4, 0xFFFFFFFF, np.uint32),
                      noise_table=noise_table(np.ones(4)), window=2, negative=2, alpha=0.1, alpha_slope=0.0,
                      min_alpha=0.0, position_base=0, seed=1, epoch=0, n_threads=1)
    """)
    assert out.returncode != 0 and "fastvec debug check failed: word id out of range" in out.stderr


def test_show_config_reports_the_build():
    assert fastvec.show_config(file=io.StringIO())["debug_build"] == _runtime.debug_build()


@pytest.mark.parametrize("estimator", ["Word2Vec", "GloVe"])
def test_an_epoch_interrupted_midway_leaves_wv_matching_the_weights(monkeypatch, tmp_path, bundled_text, estimator):
    """Ctrl-C after the first slice of epoch 2: the vectors and norms derived at the end of epoch
    1 (Word2Vec's cached unit vectors, GloVe's copy of W + W~) used to stay in place, so
    similarity() was not the cosine of wv.vectors and GloVe's wv differed from what save() wrote."""
    from fastvec import _base
    original = _base.EpochLoop._consume

    def consume(self, epoch, slices, bar):
        if epoch == 0:
            return original(self, epoch, slices, bar)
        next(slices)   # one slice of epoch 2 trains, then the user presses Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(_base.EpochLoop, "_consume", consume)
    model = getattr(fastvec, estimator)(vector_size=10, epochs=3, workers=1, seed=1, progress=False,
                                        callbacks=[lambda m, _: m.wv.similarity("king", "queen")])
    with pytest.raises(KeyboardInterrupt):
        model.fit(bundled_text)
    assert model.epochs_trained_ == 1
    wv = model.wv
    unit = wv.vectors / np.linalg.norm(wv.vectors, axis=1, keepdims=True)
    i, j = wv.get_index("king"), wv.get_index("queen")
    assert wv.similarity("king", "queen") == pytest.approx(float(unit[i] @ unit[j]), abs=1e-6)
    model.save(tmp_path / "m.fv")
    np.testing.assert_array_equal(type(model).load(tmp_path / "m.fv").wv.vectors, wv.vectors)


def test_overlapping_trainings_in_two_threads_restore_the_blas_threads(small_text):
    # each training limits BLAS to one thread; two overlapping ones used to leave the process
    # at one thread for good (the second saved the first one's limit and restored it last)
    import threading
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads():
        return sorted({i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"})

    before = blas_threads()
    a_in, b_in = threading.Event(), threading.Event()

    def meet(mine, other):   # after epoch 1 each waits until the other is training too
        def callback(model, metrics):
            if metrics["epoch"] == 1:
                mine.set()
                other.wait(30)
        return callback
    a = Word2Vec(vector_size=8, epochs=2, min_count=2, workers=1, seed=1, progress=False, callbacks=[meet(a_in, b_in)])
    b = Word2Vec(vector_size=8, epochs=3, min_count=2, workers=1, seed=2, progress=False, callbacks=[meet(b_in, a_in)])
    errors = []

    def fit(model):
        try:
            model.fit(small_text)
        except BaseException as e:   # reported below, not lost in the thread
            errors.append(repr(e))
            a_in.set()
            b_in.set()
    threads = [threading.Thread(target=fit, args=(m,)) for m in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert a.epochs_trained_ == 2 and b.epochs_trained_ == 3
    assert blas_threads() == before


def test_threads_asking_for_wv_at_once_get_one_object(monkeypatch, small_text):
    # wv was made lazily without a lock: threads got different objects, and only one of them
    # had its cached norms dropped by later training
    import threading
    from fastvec import word2vec as w2v_module
    model = Word2Vec(vector_size=8, epochs=1, min_count=2, workers=1, seed=1, progress=False).fit(small_text)
    model._wv = None

    class Slow(KeyedVectors):
        def __init__(self, *args, **kwargs):
            time.sleep(0.05)   # building the key index of a large vocabulary takes longer than a GIL switch
            super().__init__(*args, **kwargs)
    monkeypatch.setattr(w2v_module, "KeyedVectors", Slow)
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(model.wv)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 4 and len({id(wv) for wv in seen}) == 1


def test_glove_vectors_computed_while_training_are_not_cached(small_text):
    # a thread reading wv near the end of training stored its mid-training copy after the
    # training's last invalidation: wv kept vectors from the middle of training
    model = fastvec.GloVe(vector_size=8, epochs=1, min_count=2, workers=1, seed=1, progress=False).fit(small_text)
    model._weights_changed()

    def compute_while_training_ends():
        value = model.word_vectors_ + model.context_vectors_
        model._weights_changed()   # the training's last epoch ends meanwhile
        return KeyedVectors(model.vocabulary_.index_to_key, value)
    first = model._cache_derived("sum", compute_while_training_ends)
    assert model._wv is None and model.wv is not first


def test_normed_vectors_while_another_thread_adds_vectors(monkeypatch):
    # get_normed_vectors sized its result from one array and read rows from the next one that
    # add_vectors put in place: "could not broadcast input array from shape (n+3, d) into (n, d)"
    from fastvec import keyedvectors as kv_module
    kv = KeyedVectors([f"w{i}" for i in range(5)], np.eye(5, dtype=np.float32))
    original = kv_module._unit
    monkeypatch.setattr(kv_module, "_BATCH_ROWS", 2)   # several blocks, the last one short

    import threading
    adder = threading.Thread(target=kv.add_vectors, args=(["x", "y", "z"], np.ones((3, 5), dtype=np.float32)))

    def unit_while_adding(block):
        if not adder.is_alive() and len(kv) == 5:
            adder.start()   # it swaps in the longer array, then waits for the lock this thread holds
            deadline = time.monotonic() + 10
            while len(kv._vectors) == 5 and time.monotonic() < deadline:
                time.sleep(0.001)
        return original(block)
    monkeypatch.setattr(kv_module, "_unit", unit_while_adding)
    unit = kv.get_normed_vectors()
    adder.join(10)
    assert unit.shape == (5, 5) and len(kv) == 8
    assert kv.get_normed_vectors().shape == (8, 5)   # the addition dropped the cache


def test_a_second_training_of_one_estimator_at_once_is_refused(small_text):
    # two fits of one estimator at once (threads, or a callback fitting its own model) wiped
    # each other's attributes midway
    for estimator in (Word2Vec, fastvec.GloVe):
        def refit(model, metrics):
            model.fit(small_text)
        model = estimator(vector_size=8, epochs=1, min_count=2, workers=1, seed=1, progress=False, callbacks=[refit])
        with pytest.raises(RuntimeError, match="already training"):
            model.fit(small_text)
        model.set_params(callbacks=[lambda m, metrics: m.train_more(small_text, epochs=1)])
        with pytest.raises(RuntimeError, match="already training"):
            model.fit(small_text)
        model.set_params(callbacks=())
        assert model.fit(small_text).epochs_trained_ == 1   # free again


def test_blas_limits_of_overlapping_svd_and_training_are_counted_together():
    # SVDEmbedding set its own uncounted limit: an SVD ending inside a Word2Vec training restored
    # its saved limit and the training's exit then left BLAS on one thread for good
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from fastvec._threads import blas_limit, single_threaded_blas

    def blas_threads():
        return sorted({i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"})
    before = blas_threads()
    svd, training = blas_limit(2), single_threaded_blas()
    svd.__enter__()
    training.__enter__()
    assert blas_threads() == [1]                 # the smallest request holds while both run
    svd.__exit__(None, None, None)
    assert blas_threads() == [1]
    training.__exit__(None, None, None)
    assert blas_threads() == before
    with pytest.raises(KeyboardInterrupt):
        with single_threaded_blas():
            raise KeyboardInterrupt
    assert blas_threads() == before


def test_model_loaders_refuse_fifos_and_devices(tmp_path):
    # load_container opened them: a FIFO blocked until killed, /dev/zero was read until MemoryError
    import threading
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    opener = threading.Thread(target=lambda: open(fifo, "wb").close(), daemon=True)
    opener.start()   # so that a reader that opens it anyway gets EOF instead of blocking
    for load in (Word2Vec.load, fastvec.GloVe.load, KeyedVectors.load, fastvec.Corpus.load):
        for path in (fifo, "/dev/zero"):
            with pytest.raises(OSError, match="pipe, FIFO or device"):
                load(path)
    if opener.is_alive():
        with open(fifo, "rb"):
            pass
    opener.join(5)


def test_model_files_without_usable_words_are_format_errors(tmp_path, small_text):
    model = Word2Vec(vector_size=8, min_count=1, epochs=1, seed=1, workers=1, progress=False).fit(small_text)
    path = tmp_path / "m.fv"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        meta = json.loads(zf.read("meta.json"))
        arrays = {n[:-4]: np.load(io.BytesIO(zf.read(n))) for n in zf.namelist() if n.endswith(".npy")}
    meta_no_words = dict(meta, words=[])
    save_container(tmp_path / "empty.fv", meta_no_words.pop("kind"), meta_no_words,
                   dict(arrays, counts=arrays["counts"][:0], syn0=arrays["syn0"][:0], syn1=arrays["syn1"][:0]))
    with pytest.raises(FormatError, match="no words"):   # it was NumPy's "cannot reshape array of size 0"
        Word2Vec.load(tmp_path / "empty.fv")
    meta_zero = dict(meta)
    save_container(tmp_path / "zero.fv", meta_zero.pop("kind"), meta_zero,
                   dict(arrays, counts=np.zeros_like(arrays["counts"])))
    with pytest.raises(FormatError, match="every word count is 0"):   # train_more failed in alias_table
        Word2Vec.load(tmp_path / "zero.fv")
    with pytest.raises(ValueError, match="add up to less than 2\\*\\*63"):   # total_words wrapped to 0
        fastvec.Vocabulary(["a", "b"], [2**62, 2**62])


def test_an_invalid_seed_is_refused_by_save_as_load_refuses_it(tmp_path):
    model = Word2Vec(vector_size=8, min_count=1, epochs=1, seed=1, sample=0, workers=1, progress=False)
    model.fit([["a", "b", "c"], ["b", "c", "a"]] * 20)
    model.set_params(seed="x")
    with pytest.raises(TypeError, match="seed.*nothing was saved"):
        model.save(tmp_path / "m.fv")
    assert not (tmp_path / "m.fv").exists()


def test_vectors_too_long_for_float32_norms_keep_their_direction():
    rows = np.array([[3e38, 3e38, 1e38], [3e38, -1e38, 2e38], [1.0, 0.0, 0.0]], dtype=np.float32)
    kv = KeyedVectors(["a", "b", "c"], rows)
    exact = rows.astype(np.float64)
    cos = exact[0] @ exact[1] / np.linalg.norm(exact[0]) / np.linalg.norm(exact[1])
    assert kv.similarity("a", "b") == pytest.approx(cos, rel=1e-5)   # it was 0.0: the norm overflowed to inf
    np.testing.assert_allclose(np.linalg.norm(kv.get_normed_vectors(), axis=1), 1.0, rtol=1e-6)


def test_cli_reports_an_encrypted_or_unknown_method_member_in_one_line(tmp_path):
    import struct
    kv = KeyedVectors(["a", "b"], np.eye(2, dtype=np.float32))
    kv.save(tmp_path / "v.fv")
    data = bytearray((tmp_path / "v.fv").read_bytes())
    name = b"meta.json"
    for signature, name_len_at, name_at, flags_at, method_at in ((b"PK\x01\x02", 28, 46, 8, 10),
                                                                 (b"PK\x03\x04", 26, 30, 6, 8)):
        i = data.find(signature)
        while i >= 0:
            n = struct.unpack_from("<H", data, i + name_len_at)[0]
            if bytes(data[i + name_at:i + name_at + n]) == name:
                struct.pack_into("<H", data, i + flags_at, struct.unpack_from("<H", data, i + flags_at)[0] | 1)
            i = data.find(signature, i + 4)
    (tmp_path / "enc.fv").write_bytes(bytes(data))   # meta.json marked encrypted: zipfile raises RuntimeError
    proc = subprocess.run([sys.executable, "-m", "fastvec", "similar", str(tmp_path / "enc.fv"), "a"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and "corrupt fastvec file" in proc.stderr
