"""Property-based fuzzing (hypothesis) of the tokenizer/counter and of every file reader.

Readers get arbitrary bytes and mutated valid files: they must return sensible vectors or raise
FormatError (a ValueError) naming the file; never another exception type, a crash or a hang.
The tokenizer is checked against an independent Python implementation, with tiny read blocks
so that tokens and multi-byte characters straddle block boundaries."""
from __future__ import annotations

import collections
import os
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastvec import FormatError, KeyedVectors, Vocabulary
from fastvec import corpus as corpus_mod
from fastvec.formats import detect_format, load_vectors

FUZZ = settings(max_examples=int(os.environ.get("FASTVEC_FUZZ_EXAMPLES", "400")), deadline=2000, suppress_health_check=[HealthCheck.too_slow])
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # repairs are reported by design
# byte soups biased towards what matters: separators (Unicode ones too), ASCII words, multi-byte
# UTF-8, invalid bytes
pieces = st.one_of(
    st.sampled_from([b" ", b"\n", b"\t", b"\r\n", b"\x00", b"\x0b", b"  ", b"\x1c"]),
    st.sampled_from([s.encode() for s in ("\u00a0", "\u3000", "\u2028", "\u0085", "\u2009", "\u205f", "\u1680")]),
    st.sampled_from([b"\xe3\x80", b"\xc2", b"\xe2\x80\x8b"]),          # cut short, and U+200B (not a space)
    st.sampled_from([b"the", b"cat", b"a", b"x" * 40, "é".encode(), "日本".encode(), "\U0001f600".encode()]),
    st.binary(min_size=1, max_size=6),
    st.sampled_from([b"\xff", b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98", b"\x80\x80"]),
)
soups = st.lists(pieces, max_size=200).map(b"".join)


def reference_counts(data: bytes) -> collections.Counter:
    """Independent tokenizer: repair UTF-8, split as str.split() does and at NUL, drop long tokens."""
    tokens = data.decode("utf-8", "replace").replace("\x00", " ").split()
    return collections.Counter(t for t in tokens if len(t.encode("utf-8")) <= corpus_mod.MAX_TOKEN_BYTES)


def _write(data: bytes, suffix: str = ".txt") -> str:
    fd, path = tempfile.mkstemp(suffix=suffix)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path


@FUZZ
@given(data=soups, block=st.integers(min_value=1, max_value=64))
def test_counting_matches_reference_tokenizer(data, block):
    path = _write(data)
    old = corpus_mod.BLOCK_BYTES
    corpus_mod.BLOCK_BYTES = block
    try:
        try:
            vocab = Vocabulary.build(path, min_count=1)
        except ValueError as e:
            message = str(e)
            assert path in message
            assert ("empty" in message and not reference_counts(data)) or "does not look like a text file" in message
            return
        got = dict(zip(vocab.index_to_key, vocab.counts.tolist()))
        assert got == dict(reference_counts(data))
        encoded = vocab.encode(path)
        assert encoded.n_tokens == sum(got.values())
        lines = [line for line in data.decode("utf-8", "replace").split("\n")]
        assert len(encoded) == sum(1 for line in lines if reference_counts(line.encode()))
    finally:
        corpus_mod.BLOCK_BYTES = old
        os.unlink(path)


def _check_loaded(kv: KeyedVectors) -> None:
    assert len(kv.index_to_key) == kv.vectors.shape[0] == len(set(kv.index_to_key))
    assert np.isfinite(kv.vectors).all()
    assert all(isinstance(k, str) and k for k in kv.index_to_key)


def _load_or_format_error(loader, path) -> None:
    try:
        kv = loader(path)
    except FormatError as e:
        assert path in str(e)
        return
    _check_loaded(kv)


@FUZZ
@given(data=st.binary(max_size=400))
def test_readers_on_arbitrary_bytes(data):
    path = _write(data)
    try:
        _load_or_format_error(lambda p: KeyedVectors.load_word2vec_format(p, binary=False), path)
        _load_or_format_error(lambda p: KeyedVectors.load_word2vec_format(p, binary=True), path)
        _load_or_format_error(KeyedVectors.load_glove_format, path)
        _load_or_format_error(KeyedVectors.load, path)
        try:
            detect_format(path)
            _load_or_format_error(load_vectors, path)
        except FormatError:
            pass
    finally:
        os.unlink(path)


def _valid_files() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    kv = KeyedVectors(["the", "naïve", "日本", "x"], rng.standard_normal((4, 3)).astype(np.float32),
                      counts=np.array([4, 3, 2, 1]))
    return _saved_bytes({"txt": lambda p: kv.save_word2vec_format(p),
                         "bin": lambda p: kv.save_word2vec_format(p, binary=True),
                         "glove": kv.save_glove_format, "native": kv.save})


def _saved_bytes(savers: dict) -> dict[str, bytes]:
    """name -> the bytes that ``savers[name](path)`` writes."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, save in savers.items():
            path = os.path.join(tmp, name)
            save(path)
            with open(path, "rb") as f:
                out[name] = f.read()
    return out


VALID = _valid_files()
LOADERS = {
    "txt": lambda p: KeyedVectors.load_word2vec_format(p, binary=False),
    "bin": lambda p: KeyedVectors.load_word2vec_format(p, binary=True),
    "glove": KeyedVectors.load_glove_format,
    "native": KeyedVectors.load,
}


@st.composite
def mutations(draw, files=None):
    """(kind, bytes): a valid file of ``files`` (default: the vector files) with 1 to 4 random
    flips, truncations, insertions, deletions or duplications."""
    files = VALID if files is None else files
    kind = draw(st.sampled_from(sorted(files)))
    data = bytearray(files[kind])
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "duplicate"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[i:]
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[i:i + draw(st.integers(1, 8))]
        else:
            data[i:i] = data[i:i + draw(st.integers(1, 16))]
    return kind, bytes(data)


@FUZZ
@given(case=mutations())
def test_readers_on_mutated_valid_files(case):
    kind, data = case
    path = _write(data)
    try:
        _load_or_format_error(LOADERS[kind], path)
        if kind == "native":
            _load_or_format_error(lambda p: KeyedVectors.load(p, mmap=True), path)
    finally:
        os.unlink(path)


@pytest.mark.parametrize("kind", sorted(VALID))
def test_unmutated_files_load(kind):
    path = _write(VALID[kind])
    try:
        kv = LOADERS[kind](path)
        assert kv.index_to_key == ["the", "naïve", "日本", "x"]
    finally:
        os.unlink(path)


@FUZZ
@given(text=st.text(max_size=200))
def test_simple_tokenizer_never_fails(text):
    from fastvec.corpus import simple_tokenize
    tokens = simple_tokenize(text)
    assert all(t and t == t.lower() and not any(c.isspace() for c in t) for t in tokens)


# -- the other containers: models, co-occurrences, encoded corpora ------------------------------

def _valid_containers() -> dict[str, bytes]:
    """Small valid files of every zip container kind that is not KeyedVectors."""
    from fastvec import Cooccurrence, Corpus, GloVe, Word2Vec
    text = "the cat sat on the mat\nthe dog sat on the log\na cat and a dog\n" * 20
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "c.txt")
        with open(src, "w", encoding="utf-8") as f:
            f.write(text)
        corpus = Corpus.build(src, min_count=1)
        cooc = Cooccurrence.from_corpus(corpus, window=2, workers=1)
        return _saved_bytes({
            "corpus": corpus.save,
            "cooccurrence": cooc.save,
            "word2vec": Word2Vec(vector_size=4, epochs=1, min_count=1, workers=1, seed=1, progress=False).fit(src).save,
            "glove": GloVe(vector_size=4, window=2, epochs=1, min_count=1, workers=1, seed=1, progress=False).fit(cooc).save,
        })


CONTAINERS = _valid_containers()


def _container_loader(kind: str):
    from fastvec import Cooccurrence, Corpus, GloVe, Word2Vec
    return {"corpus": Corpus.load, "cooccurrence": Cooccurrence.load, "word2vec": Word2Vec.load,
            "glove": GloVe.load}[kind]


@FUZZ
@given(case=mutations(CONTAINERS))
def test_container_readers_on_mutated_valid_files(case):
    """Models, co-occurrence matrices and encoded corpora: a damaged file loads into something
    usable (the damage missed what is read) or raises FormatError naming the file."""
    kind, data = case
    path = _write(data, suffix=".fv")
    try:
        try:
            loaded = _container_loader(kind)(path)
        except FormatError as e:
            assert path in str(e)
            return
        if kind in ("word2vec", "glove"):
            _check_loaded(loaded.wv)
        elif kind == "cooccurrence":
            assert loaded.matrix.shape[0] == loaded.matrix.shape[1] == len(loaded.vocabulary)
        else:
            assert loaded.ids.max() < len(loaded.vocabulary)
    finally:
        os.unlink(path)


@pytest.mark.parametrize("kind", sorted(CONTAINERS))
def test_unmutated_containers_load(kind):
    path = _write(CONTAINERS[kind], suffix=".fv")
    try:
        assert _container_loader(kind)(path) is not None
    finally:
        os.unlink(path)
