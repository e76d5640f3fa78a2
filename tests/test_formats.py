"""Round trips in every file format, interoperability with gensim, and loader errors."""
import os

import numpy as np
import pytest

from fastvec import FormatError, KeyedVectors, load_vectors
from fastvec.formats import detect_format


@pytest.fixture
def kv(rng):
    keys = ["the", "naïve", "日本語", "emoji\U0001f600", "a-b", "x"] + [f"w{i}" for i in range(50)]
    return KeyedVectors(keys, rng.standard_normal((len(keys), 9)).astype(np.float32),
                        counts=np.arange(len(keys), 0, -1))


def assert_same(a, b):
    assert a.index_to_key == b.index_to_key
    np.testing.assert_array_equal(a.vectors, b.vectors)


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_word2vec_round_trip(tmp_path, kv, binary):
    path = tmp_path / "v"
    kv.save_word2vec_format(path, binary=binary)
    assert_same(kv, KeyedVectors.load_word2vec_format(path, binary=binary))
    assert detect_format(path) == ("bin" if binary else "txt")
    assert_same(kv, load_vectors(path))
    head = KeyedVectors.load_word2vec_format(path, binary=binary, limit=3)
    assert head.index_to_key == kv.index_to_key[:3]


def test_glove_round_trip(tmp_path, kv):
    path = tmp_path / "glove.txt"
    kv.save_glove_format(path)
    assert not open(path, encoding="utf-8").readline().startswith(f"{len(kv)} ")
    assert_same(kv, KeyedVectors.load_glove_format(path))
    assert detect_format(path) == "glove"


@pytest.mark.parametrize("mmap", [False, True])
def test_native_round_trip(tmp_path, kv, mmap):
    path = tmp_path / "v.fv"
    kv.save(path)
    loaded = KeyedVectors.load(path, mmap=mmap)
    assert_same(kv, loaded)
    np.testing.assert_array_equal(loaded.counts, kv.counts)
    assert detect_format(path) == "native"
    assert loaded.most_similar("the", topn=3) == kv.most_similar("the", topn=3)
    with np.load(path, allow_pickle=False) as npz:  # plain NumPy can read it, without pickle
        np.testing.assert_array_equal(npz["vectors"], kv.vectors)


def test_words_with_spaces_in_text_format(tmp_path):
    path = tmp_path / "spaces.txt"
    path.write_text("2 3\nnew york 0.1 0.2 0.3\nparis 1 2 3\n", encoding="utf-8")
    kv = KeyedVectors.load_word2vec_format(path)
    assert kv.index_to_key == ["new york", "paris"]
    with pytest.raises(ValueError, match="cannot be written"):
        kv.save_word2vec_format(tmp_path / "out.bin", binary=True)


def test_windows_line_endings_and_trailing_spaces(tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"2 2\r\na 1 2 \r\nb 3 4\r\n\r\n")
    kv = KeyedVectors.load_word2vec_format(path)
    np.testing.assert_array_equal(kv.vectors, [[1, 2], [3, 4]])


def test_binary_without_trailing_newlines(tmp_path):
    """gensim writes binary entries back to back (no newline); word2vec.c adds one."""
    path = tmp_path / "g.bin"
    vecs = np.arange(6, dtype="<f4").reshape(3, 2)
    path.write_bytes(b"3 2\n" + b"".join(w + b" " + v.tobytes() for w, v in zip([b"a", b"b", b"c"], vecs)))
    kv = KeyedVectors.load_word2vec_format(path, binary=True)
    assert kv.index_to_key == ["a", "b", "c"]
    np.testing.assert_array_equal(kv.vectors, vecs)


@pytest.mark.parametrize("content,match", [
    (b"", "empty"),
    (b"3 2\na 1 2\nb 3 4\n", "truncated"),
    (b"1 2\na 1 2\nb 3 4\n", "more lines follow"),
    (b"2 2\na 1 2\nb 3 x\n", "not a number"),
    (b"2 2\na 1 2\nb 3\n", "expected a word and 2 numbers"),
    (b"2 2\na 1 2\na 3 4\n", "duplicate word 'a'"),
    (b"2 2\na 1 2\nb nan 4\n", "NaN or infinite"),
    (b"2 2\na 1 2\nb inf 4\n", "NaN or infinite"),
    (b"2 2\na 1 2\nb 1e39 4\n", "line 3: a value is outside the float32 range"),
    (b"two 2\na 1 2\n", "bad header"),
    (b"99999999999 300\na 1 2\n", "cannot fit"),
    (b"2 2\n\xff\xfe 1 2\nb 3 4\n", "not valid UTF-8"),
])
def test_text_loader_rejects_malformed_files(tmp_path, content, match):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(FormatError, match=match) as info:
        KeyedVectors.load_word2vec_format(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_binary_loader_rejects_malformed_files(tmp_path, kv):
    good = tmp_path / "good.bin"
    kv.save_word2vec_format(good, binary=True)
    data = good.read_bytes()
    cases = {
        "truncated": data[:-20],
        "cannot fit": b"100000000 9\n" + data[data.index(b"\n") + 1:],
        "more data follows": data.replace(f"{len(kv)} 9".encode(), f"{len(kv) - 1} 9".encode(), 1),
    }
    for match, content in cases.items():
        path = tmp_path / "bad.bin"
        path.write_bytes(content)
        with pytest.raises(FormatError, match=match):
            KeyedVectors.load_word2vec_format(path, binary=True)


def test_max_memory_refuses_before_allocating(tmp_path, kv):
    path = tmp_path / "v.bin"
    kv.save_word2vec_format(path, binary=True)
    with pytest.raises(FormatError, match="max_memory"):
        KeyedVectors.load_word2vec_format(path, binary=True, max_memory=100)


def test_duplicates_policy(tmp_path):
    path = tmp_path / "dup.txt"
    path.write_text("3 1\na 1\nb 2\na 3\n")
    with pytest.warns(UserWarning, match="1 duplicate"):
        first = KeyedVectors.load_word2vec_format(path, duplicates="first")
    assert first.index_to_key == ["a", "b"] and first["a"][0] == 1
    with pytest.warns(UserWarning):
        last = KeyedVectors.load_word2vec_format(path, duplicates="last")
    assert last["a"][0] == 3


def test_native_loader_rejects_other_files(tmp_path, kv):
    path = tmp_path / "v.txt"
    kv.save_word2vec_format(path)
    with pytest.raises(FormatError, match="not a fastvec"):
        KeyedVectors.load(path)
    with pytest.raises(FileNotFoundError):
        KeyedVectors.load(tmp_path / "missing")
    with pytest.raises(IsADirectoryError):
        KeyedVectors.load(tmp_path)


def test_failed_save_leaves_previous_file_intact(tmp_path, kv):
    path = tmp_path / "v.txt"
    kv.save_word2vec_format(path)
    before = path.read_bytes()
    bad = KeyedVectors(["ok", "has\nnewline"], np.zeros((2, 9), dtype=np.float32))
    with pytest.raises(ValueError):
        bad.save_word2vec_format(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["v.txt"]  # no temporary file left behind
