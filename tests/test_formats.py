"""Round trips in every file format, interoperability with gensim, and loader errors."""
import os
import warnings

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
    for name, binary in (("out.bin", True), ("out.txt", False)):   # gensim and word2vec.c split at spaces
        with pytest.raises(ValueError, match="cannot be written.*native format"):
            kv.save_word2vec_format(tmp_path / name, binary=binary)
        assert not (tmp_path / name).exists()


@pytest.mark.parametrize("word", ["a\xa0b", "\u3000", "tab\tbed", "x\u2028", "", "lone\udc80"])
def test_writers_refuse_words_readers_would_split_or_cannot_decode(tmp_path, word):
    kv = KeyedVectors(["ok", word], np.ones((2, 3), dtype=np.float32))
    for name, call in (("v.bin", lambda p: kv.save_word2vec_format(p, binary=True)),
                       ("v.txt", lambda p: kv.save_word2vec_format(p)),
                       ("g.txt", lambda p: kv.save_glove_format(p))):
        with pytest.raises(ValueError, match=str(tmp_path)):
            call(tmp_path / name)
        assert not (tmp_path / name).exists()


def test_byte_order_mark_is_not_part_of_the_first_word(tmp_path):
    bom = b"\xef\xbb\xbf"
    (tmp_path / "w.txt").write_bytes(bom + b"2 2\nthe 0.1 0.2\nof 0.3 0.2\n")
    (tmp_path / "g.txt").write_bytes(bom + b"the 0.1 0.2\nof 0.3 0.2\n")
    assert detect_format(tmp_path / "w.txt") == "txt" and detect_format(tmp_path / "g.txt") == "glove"
    for name in ("w.txt", "g.txt"):
        kv = load_vectors(tmp_path / name)
        assert kv.index_to_key == ["the", "of"] and kv.vector_size == 2


def test_detection_reads_the_first_entry(tmp_path):
    # a control byte inside a word does not make a text file binary
    (tmp_path / "t.txt").write_bytes(b"2 2\nfoo\x01 0.5 0.5\nbar 0.1 0.2\n")
    assert detect_format(tmp_path / "t.txt") == "txt"
    kv = KeyedVectors(["a", "b"], np.array([[0.25, 10.0, 3.0, 0.5], [1.0, 2.0, 3.0, 4.0]], dtype=np.float32))
    kv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    assert detect_format(tmp_path / "v.bin") == "bin"


def test_wrong_binary_flag_says_so(tmp_path, kv):
    kv.save_word2vec_format(tmp_path / "v.txt")
    kv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    with pytest.raises(FormatError, match="looks like a word2vec text file.*binary=False"):
        KeyedVectors.load_word2vec_format(tmp_path / "v.txt", binary=True)
    with pytest.raises(FormatError, match="binary=True"):
        KeyedVectors.load_word2vec_format(tmp_path / "v.bin")


def test_headerless_loader_limits(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("a 1 2\nb 3 4\n")
    assert len(KeyedVectors.load_glove_format(path, limit=0)) == 0
    assert len(KeyedVectors.load_glove_format(path, limit=1)) == 1
    wide = tmp_path / "wide.txt"
    wide.write_text("a" + " 0" * 100_000 + "\n")
    with pytest.raises(FormatError, match="max_memory"):
        KeyedVectors.load_glove_format(wide, max_memory=1000)


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
    (b"2 2\na 1 2 3\nb 3 4\n", "line 2: expected a word and 2 numbers, got more"),   # not the word 'a 1'
    (b"0 99999999999999999999\n", "dimensions"),
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
        "empty word": b"1 9\n " + np.ones(9, dtype="<f4").tobytes() + b"\n",   # no 0x20 in the floats
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


def test_words_with_spaces_that_end_in_a_non_number_are_kept(tmp_path):
    path = tmp_path / "w.txt"
    path.write_text("3 2\nsan nan 0.1 0.2\n10\xa0000 0.3 0.4\nto infinity 0.5 0.6\n", encoding="utf-8")
    assert KeyedVectors.load_word2vec_format(path).index_to_key == ["san nan", "10\xa0000", "to infinity"]


def test_word_with_nul_is_refused_by_name(tmp_path):
    kv = KeyedVectors(["a\x00\x00", "b"], np.ones((2, 2), dtype=np.float32))
    with pytest.raises(ValueError, match=r"'a\\x00\\x00'.*NUL"):
        kv.save_word2vec_format(tmp_path / "v.bin", binary=True)


def test_glove_loader_on_a_file_with_a_header(tmp_path, kv):
    kv.save_word2vec_format(tmp_path / "v.txt")
    with pytest.raises(FormatError, match="looks like a word2vec header"):
        KeyedVectors.load_glove_format(tmp_path / "v.txt")


def test_duplicates_last_across_chunks(tmp_path):
    words = [f"w{i}" for i in range(10_000)]
    lines = [f"{w} {i}" for i, w in enumerate(words)] + [f"w{i} -{i}" for i in (0, 4095, 4096, 9999)]
    (tmp_path / "d.txt").write_text("\n".join(lines) + "\n")
    with pytest.warns(UserWarning, match="4 duplicate"):
        kv = KeyedVectors.load_glove_format(tmp_path / "d.txt", duplicates="last")
    want = np.arange(10_000, dtype=np.float32)
    want[[0, 4095, 4096, 9999]] *= -1
    np.testing.assert_array_equal(kv.vectors[:, 0], want)


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


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
@pytest.mark.parametrize("binary", [True, False])
def test_compressed_vector_files(tmp_path, kv, suffix, binary):
    import bz2
    import gzip
    import lzma
    path = tmp_path / (("v.bin" if binary else "v.txt") + suffix)
    kv.save_word2vec_format(path, binary=binary)
    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}[suffix]
    with opener(path, "rb") as f:                         # really compressed, readable by anyone
        assert f.read(10).startswith(f"{len(kv)} ".encode())
    assert detect_format(path) == ("bin" if binary else "txt")
    for loaded in (KeyedVectors.load_word2vec_format(path, binary=binary), load_vectors(path)):
        assert loaded.index_to_key == kv.index_to_key
        np.testing.assert_array_equal(loaded.vectors, kv.vectors)


def test_gensim_reads_our_gzip_and_we_read_its(tmp_path, kv):
    gensim_models = pytest.importorskip("gensim.models")
    kv.save_word2vec_format(tmp_path / "ours.bin.gz", binary=True)
    theirs = gensim_models.KeyedVectors.load_word2vec_format(str(tmp_path / "ours.bin.gz"), binary=True)
    np.testing.assert_array_equal(theirs.vectors, kv.vectors)
    theirs.save_word2vec_format(str(tmp_path / "theirs.bin.gz"), binary=True)
    np.testing.assert_array_equal(KeyedVectors.load_word2vec_format(tmp_path / "theirs.bin.gz", binary=True).vectors,
                                  kv.vectors)


def test_compressed_bombs_and_corruption_are_refused(tmp_path):
    import gzip
    bomb = tmp_path / "bomb.txt.gz"
    with gzip.open(bomb, "wb") as f:
        f.write(b"1 3\na 1 2 3\n" + b" " * (80 << 20))      # 80 MB of blanks from a few KB
    with pytest.raises(FormatError, match="decompresses to more than"):
        KeyedVectors.load_word2vec_format(bomb, max_memory=1 << 20)
    broken = tmp_path / "broken.bin.gz"
    data = bytearray(gzip.compress(b"1 3\na " + np.ones(3, "<f4").tobytes() + b"\n" * 100))
    data[12:20] = b"\xff" * 8
    broken.write_bytes(bytes(data))
    with pytest.raises(FormatError, match="corrupt compressed data"):
        KeyedVectors.load_word2vec_format(broken, binary=True)


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("value,dtype", [(np.nan, np.float32), (np.inf, np.float32), (1e39, np.float64),
                                         (-np.inf, np.float64)])
def test_writers_refuse_values_the_file_cannot_hold(tmp_path, binary, value, dtype):
    """NaN, infinities, and float64 beyond float32's range (which would become infinities)."""
    vectors = np.ones((3, 4), dtype=dtype)
    vectors[1, 2] = value
    kv = KeyedVectors(["a", "bad", "c"], vectors) if np.isfinite(value) else None
    path = tmp_path / "v.bin"
    path.write_bytes(b"previous")
    from fastvec.formats import write_word2vec
    with pytest.raises(ValueError, match="'bad' contains NaN, an infinity or a value beyond the float32 range"):
        if kv is not None:
            kv.save_word2vec_format(path, binary=binary)
        else:
            write_word2vec(path, ["a", "bad", "c"], vectors, binary=binary, write_header=True)
    assert path.read_bytes() == b"previous"
    vectors[1, 2] = 3.4e38   # the largest float32 range is fine
    write_word2vec(path, ["a", "bad", "c"], vectors, binary=binary, write_header=True)
    assert KeyedVectors.load_word2vec_format(path, binary=binary)["bad"][2] == np.float32(3.4e38)


def test_a_text_file_cut_inside_a_number_warns(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(b"2 2\na 0.5 0.25\nb 0.125 0.0040518\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        KeyedVectors.load_word2vec_format(path)
    path.write_bytes(b"2 2\na 0.5 0.25\nb 0.125 0.00")   # the last value lost its digits
    with pytest.warns(UserWarning, match="line 3 \\(the last\\) does not end with a newline.*'b' may have lost"):
        kv = KeyedVectors.load_word2vec_format(path)
    assert kv["b"][1] == 0.0
    path.write_bytes(b"a 0.5 0.25\nb 0.125 0.00")
    with pytest.warns(UserWarning, match="does not end with a newline"):
        KeyedVectors.load_glove_format(path)


def test_text_readers_keep_words_as_gensim_writes_them(tmp_path):
    # fields are separated by ASCII blanks only: the words' other whitespace (no-break space,
    # U+2028, a CR inside the line) was stripped, so 'x\xa0' came back as 'x' (and collided with it)
    body = "x\xa0 1 2\n\u2028y 3 4\nz\r 5 6\nx 7 8\n"
    text = tmp_path / "v.txt"
    text.write_bytes(("4 2\n" + body).encode("utf-8"))
    kv = KeyedVectors.load_word2vec_format(text)
    assert kv.index_to_key == ["x\xa0", "\u2028y", "z\r", "x"]
    np.testing.assert_array_equal(kv.vectors[2], [5, 6])
    glove = tmp_path / "g.txt"
    glove.write_bytes(("a\xa0b 1 2\n" + body).encode("utf-8"))
    assert KeyedVectors.load_glove_format(glove).index_to_key == ["a\xa0b", "x\xa0", "\u2028y", "z\r", "x"]
    # tabs, runs of blanks, trailing blanks and GloVe 840B's words with spaces still read
    mixed = tmp_path / "m.txt"
    mixed.write_bytes(b"3 2\n  a\t1  2 \nb c  3\t4\nd 5 6\t\n")
    kv = KeyedVectors.load_word2vec_format(mixed)
    assert kv.index_to_key == ["a", "b c", "d"]
    np.testing.assert_array_equal(kv.vectors, [[1, 2], [3, 4], [5, 6]])


def test_writers_refuse_what_the_readers_refuse(tmp_path):
    flat = KeyedVectors(["a", "b"], np.zeros((2, 0), dtype=np.float32))
    for binary in (False, True):
        with pytest.raises(ValueError, match="0 dimensions"):
            flat.save_word2vec_format(tmp_path / "flat", binary=binary)
    with pytest.raises(ValueError, match="0 words would be empty"):
        KeyedVectors([], np.zeros((0, 3), dtype=np.float32)).save_glove_format(tmp_path / "none.txt")
    long = KeyedVectors(["y" * 65536, "z" * 65535], np.ones((2, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="longer than the 65535 bytes"):
        long.save_word2vec_format(tmp_path / "long.bin", binary=True)
    long.save_word2vec_format(tmp_path / "long.txt")   # text has no such limit
    assert KeyedVectors.load_word2vec_format(tmp_path / "long.txt").index_to_key == long.index_to_key
    one = KeyedVectors(["z" * 65535], np.ones((1, 2), dtype=np.float32))
    one.save_word2vec_format(tmp_path / "ok.bin", binary=True)
    assert KeyedVectors.load_word2vec_format(tmp_path / "ok.bin", binary=True).index_to_key == one.index_to_key
    assert not [p.name for p in tmp_path.iterdir() if p.name not in ("long.txt", "ok.bin")]


def test_a_glove_file_cannot_start_with_a_byte_order_mark_word(tmp_path):
    # written as is, '\ufeffx' was read back as 'x' (the reader drops a BOM at the start)
    kv = KeyedVectors(["\ufeffx", "x"], np.eye(2, dtype=np.float32))
    with pytest.raises(ValueError, match="U\\+FEFF"):
        kv.save_glove_format(tmp_path / "g.txt")
    assert not list(tmp_path.iterdir())
    swapped = KeyedVectors(["x", "\ufeffx"], np.eye(2, dtype=np.float32))
    swapped.save_glove_format(tmp_path / "g.txt")
    assert KeyedVectors.load_glove_format(tmp_path / "g.txt").index_to_key == ["x", "\ufeffx"]
