"""fastvec._io: atomic writes (what they replace, the mode they leave, the temporary files they
clean up) and the native container (large string lists, hostile members, malformed metadata)."""
from __future__ import annotations

import io
import json
import os
import socket
import stat
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from fastvec import Corpus, GloVe, KeyedVectors, Vocabulary, Word2Vec, _io
from fastvec._io import FormatError, atomic_write, save_container
from fastvec.cooccurrence import Cooccurrence


@pytest.fixture(params=["unnamed", "named"])
def temp_kind(request, monkeypatch):
    """Run a test on both temporary-file paths: O_TMPFILE (where available) and named files."""
    if request.param == "named":
        monkeypatch.setattr(_io, "_unnamed_file", lambda directory: None)
    return request.param


def _write(path, data: bytes = b"new") -> None:
    with atomic_write(path) as f:
        f.write(data)


# -- what atomic_write replaces ---------------------------------------------------------------

def test_fifo_is_refused_before_anything_is_written(tmp_path, temp_kind):
    fifo = tmp_path / "out.fv"
    os.mkfifo(fifo)
    entered = []
    with pytest.raises(OSError, match=f"{fifo}.*FIFO.*not a regular file"):
        with atomic_write(fifo) as f:
            entered.append(True)
            f.write(b"data")
    assert not entered
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.listdir(tmp_path) == ["out.fv"]  # no temporary file left either
    kv = KeyedVectors(["a"], np.ones((1, 2), np.float32))
    with pytest.raises(OSError, match="FIFO"):
        kv.save(fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_socket_and_directory_are_refused(tmp_path, temp_kind):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        _write(tmp_path)
    sock_path = tmp_path / "s"
    if len(str(sock_path)) > 100:
        pytest.skip("tmp_path too long for a unix socket name")
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(sock_path))
        with pytest.raises(OSError, match=f"{sock_path}.*socket"):
            _write(sock_path)
        assert stat.S_ISSOCK(os.lstat(sock_path).st_mode)


def test_symlink_is_followed_and_kept(tmp_path, temp_kind):
    real = tmp_path / "real.fv"
    real.write_bytes(b"old")
    (tmp_path / "sub").mkdir()
    link = tmp_path / "sub" / "link.fv"
    os.symlink(os.path.join("..", "real.fv"), link)
    _write(link, b"new")
    assert os.path.islink(link) and os.readlink(link) == os.path.join("..", "real.fv")
    assert real.read_bytes() == b"new"
    assert sorted(os.listdir(tmp_path / "sub")) == ["link.fv"]
    assert sorted(os.listdir(tmp_path)) == ["real.fv", "sub"]
    kv = KeyedVectors(["a", "b"], np.arange(4, dtype=np.float32).reshape(2, 2))
    kv.save(link)
    assert os.path.islink(link)
    assert KeyedVectors.load(real).index_to_key == ["a", "b"]


def test_dangling_symlink_creates_its_target(tmp_path, temp_kind):
    link = tmp_path / "link.fv"
    os.symlink("target.fv", link)
    _write(link, b"x")
    assert os.path.islink(link) and (tmp_path / "target.fv").read_bytes() == b"x"


def test_symlink_to_fifo_and_symlink_loop_are_refused(tmp_path, temp_kind):
    os.mkfifo(tmp_path / "fifo")
    os.symlink("fifo", tmp_path / "to_fifo")
    with pytest.raises(OSError, match="to_fifo.*FIFO"):
        _write(tmp_path / "to_fifo")
    assert stat.S_ISFIFO(os.lstat(tmp_path / "fifo").st_mode) and os.path.islink(tmp_path / "to_fifo")
    os.symlink("loop_b", tmp_path / "loop_a")
    os.symlink("loop_a", tmp_path / "loop_b")
    with pytest.raises(OSError, match="loop_a"):
        _write(tmp_path / "loop_a")
    assert os.path.islink(tmp_path / "loop_a") and os.path.islink(tmp_path / "loop_b")


# -- the mode of what atomic_write leaves -----------------------------------------------------

@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444, 0o664])
def test_replaced_file_keeps_its_mode(tmp_path, temp_kind, mode):
    path = tmp_path / "out.fv"
    path.write_bytes(b"old")
    os.chmod(path, mode)
    with atomic_write(path) as f:
        # never wider than the file it replaces, also while it is written
        assert stat.S_IMODE(os.fstat(f.fileno()).st_mode) & ~mode == 0
        f.write(b"new")
    assert stat.S_IMODE(os.stat(path).st_mode) == mode
    assert path.read_bytes() == b"new"


def test_new_file_mode_follows_the_umask(tmp_path, temp_kind):
    # the umask of the moment of the write: it was read once at import, so a umask set later
    # (077) still gave new files 0644
    for mask in (0o022, 0o077, 0o002):
        before = os.umask(mask)
        try:
            assert _io.current_umask() == mask
            _write(tmp_path / f"new{mask}.fv")
        finally:
            os.umask(before)
        assert stat.S_IMODE(os.stat(tmp_path / f"new{mask}.fv").st_mode) == 0o666 & ~mask


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to chown")
def test_replaced_file_keeps_owner_and_group_when_allowed(tmp_path, temp_kind, monkeypatch):
    path = tmp_path / "out.fv"
    path.write_bytes(b"old")
    os.chown(path, 12345, 23456)
    os.chmod(path, 0o640)
    _write(path)
    st = os.stat(path)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (12345, 23456, 0o640)
    # when the group cannot be kept, the new group gets no more than "others" had
    os.chown(path, 0, 23456)

    def refuse(*args):
        raise PermissionError("not allowed")

    monkeypatch.setattr(os, "fchown", refuse)
    _write(path)
    st = os.stat(path)
    assert st.st_gid != 23456 and stat.S_IMODE(st.st_mode) == 0o600


# -- temporary files of killed writers ----------------------------------------------------------

def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_orphan_cleanup_matches_only_this_target(tmp_path, monkeypatch):
    monkeypatch.setattr(_io, "_unnamed_file", lambda directory: None)
    live = os.getppid()
    with pytest.raises(ProcessLookupError):
        os.kill(3999999, 0)
    dead = _dead_pid()
    others = [f".vec.3999999.{live}.abcdefgh.tmp",       # a live writer of vec.3999999 (mkstemp name)
              f".vec.3999999.{live}.0123456789ab.tmp",   # the same, current name
              f".vec.{dead}.tmp",                        # not a name fastvec writes
              f".vec.{dead}.abcdefgh.tmp.part",
              f".vec.x.{dead}.abcdefgh.tmp",             # a dead writer of vec.x: not ours to clean
              f".ve.{dead}.abcdefgh.tmp"]
    orphans = [f".vec.{dead}.abcdefgh.tmp", f".vec.{dead}.0123456789ab.tmp"]
    for name in others + orphans:
        (tmp_path / name).write_bytes(b"")
    _write(tmp_path / "vec")
    assert sorted(os.listdir(tmp_path)) == sorted(others + ["vec"])


def test_named_temp_file_matches_the_orphan_pattern(tmp_path):
    fd, tmp = _io._named_temp(str(tmp_path), "vec.1")
    os.close(fd)
    match = _io._orphan_pattern("vec.1").match(os.path.basename(tmp))
    assert match and int(match.group(1)) == os.getpid()
    assert not _io._orphan_pattern("vec").match(os.path.basename(tmp))


def test_a_temporary_file_that_cannot_be_made_is_reported_under_the_target_name(tmp_path):
    missing = tmp_path / "gone"
    with pytest.raises(FileNotFoundError) as info:
        _io._named_temp(str(missing), "x.png")
    assert str(info.value) == f"[Errno 2] cannot write {missing / 'x.png'}: No such file or directory"
    assert ".tmp" not in str(info.value)


# -- malformed metadata -------------------------------------------------------------------------

SENTENCES = [["a", "b", "c", "d"], ["b", "c", "a"], ["d", "a"]] * 30


@pytest.fixture(scope="module")
def saved_files(tmp_path_factory):
    """One small saved file of every kind, with the loaders to try on it (mapped and not)."""
    d = tmp_path_factory.mktemp("saved")
    corpus = Corpus.build(SENTENCES, min_count=1)
    corpus.save(d / "corpus.fv")
    corpus.vocabulary.save(d / "vocab.fv")
    KeyedVectors(["a", "b"], np.ones((2, 3), np.float32), counts=np.array([3, 1])).save(d / "kv.fv")
    Word2Vec(vector_size=4, epochs=1, min_count=1, sample=0, progress=False, workers=1, seed=1).fit(
        SENTENCES).save(d / "w2v.fv")
    cooc = Cooccurrence.from_corpus(corpus, window=2, workers=1)
    cooc.save(d / "cooc.fv")
    GloVe(vector_size=4, epochs=1, min_count=1, progress=False, workers=1, seed=1).fit(cooc).save(d / "glove.fv")
    return {
        "corpus": (d / "corpus.fv", [Corpus.load, lambda p: Corpus.load(p, mmap=False)]),
        "vocabulary": (d / "vocab.fv", [Vocabulary.load]),
        "keyedvectors": (d / "kv.fv", [KeyedVectors.load, lambda p: KeyedVectors.load(p, mmap=True)]),
        "word2vec": (d / "w2v.fv", [Word2Vec.load]),
        "cooccurrence": (d / "cooc.fv", [Cooccurrence.load, lambda p: Cooccurrence.load(p, mmap=True)]),
        "glove": (d / "glove.fv", [GloVe.load]),
    }


def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _write_zip(path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)


def _with_meta(src, dst, meta_text: str) -> None:
    _write_zip(dst, {**_members(src), "meta.json": meta_text.encode()})


def _assert_refused(path, loaders, match: str) -> None:
    for load in loaders:
        with pytest.raises(FormatError, match=match) as info:
            load(path)
        assert str(path) in str(info.value)


@pytest.mark.parametrize("number", ["Infinity", "-Infinity", "NaN", "1e999", "-1e400"])
@pytest.mark.parametrize("kind", ["corpus", "vocabulary", "word2vec", "cooccurrence", "glove"])
def test_min_count_infinity_is_a_format_error(tmp_path, saved_files, kind, number):
    path, loaders = saved_files[kind]
    meta = json.loads(_members(path)["meta.json"])
    text = json.dumps({**meta, "min_count": "@"}).replace('"@"', number)
    _with_meta(path, tmp_path / "bad.fv", text)
    _assert_refused(tmp_path / "bad.fv", loaders, f"meta.json.*min_count is {number}, not a finite number")


@pytest.mark.parametrize("number", ["NaN", "Infinity", "1e999"])
def test_non_finite_numbers_anywhere_in_meta_are_refused(tmp_path, saved_files, number):
    path, loaders = saved_files["keyedvectors"]
    meta = json.loads(_members(path)["meta.json"])
    _with_meta(path, tmp_path / "bad.fv", json.dumps({**meta, "note": [1, {"x": "@"}]}).replace('"@"', number))
    _assert_refused(tmp_path / "bad.fv", loaders, rf"unreadable meta.json \(note\[1\]\.x is {number}, not a finite")


BAD_INTS = [{}, [], "5", 1.5, -1, True, None, 2**70, [{}]]
INT_FIELDS = [("corpus", "raw_tokens"), ("corpus", "vocab_raw_tokens"), ("corpus", "min_count"),
              ("vocabulary", "vocab_raw_tokens"), ("vocabulary", "min_count"), ("cooccurrence", "min_count"),
              ("word2vec", "vocab_raw_tokens"), ("glove", "min_count")]
# raw token counts may be null (the loaders then compute them); any integer min_count is kept
BAD_INT_CASES = [(kind, field, value) for kind, field in INT_FIELDS for value in BAD_INTS
                 if not (value is None and field != "min_count" or value == -1 and field == "min_count")]


@pytest.mark.parametrize("kind, field, value", BAD_INT_CASES, ids=str)
def test_integer_fields_of_the_wrong_type_are_format_errors(tmp_path, saved_files, kind, field, value):
    path, loaders = saved_files[kind]
    meta = json.loads(_members(path)["meta.json"])
    _with_meta(path, tmp_path / "bad.fv", json.dumps({**meta, field: value}))
    _assert_refused(tmp_path / "bad.fv", loaders, f"bad {field}")


def test_deeply_nested_meta_is_a_format_error(tmp_path, saved_files):
    path, loaders = saved_files["vocabulary"]
    _with_meta(path, tmp_path / "bad.fv", "[" * 100_000 + "]" * 100_000)
    _assert_refused(tmp_path / "bad.fv", loaders, "unreadable meta.json")


# -- large vocabularies: strings stored outside meta.json ------------------------------------------

ODD_KEYS = ["a", "", "naïve", "日本語", "emoji 😀", "tab\there", "new\nline", "nul\0", "\ud800lone", "\udfff",
            "\ud83d\ude00 pair as two code units", "x" * 300]


@pytest.fixture
def strings_outside(monkeypatch):
    """Every container saved from here on stores its lists of strings as members."""
    monkeypatch.setattr(_io, "INLINE_META_BYTES", 0)


def _meta(path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("meta.json"))


def test_keys_stored_as_members_round_trip(tmp_path, strings_outside):
    vectors = np.arange(len(ODD_KEYS) * 3, dtype=np.float32).reshape(-1, 3)
    kv = KeyedVectors(ODD_KEYS, vectors, counts=np.arange(len(ODD_KEYS)))
    kv.save(tmp_path / "kv.fv")
    meta = _meta(tmp_path / "kv.fv")
    assert meta["version"] == 2 and meta["strings"] == ["keys"] and "keys" not in meta
    assert {"strings/keys.utf8.npy", "strings/keys.offsets.npy"} <= set(_members(tmp_path / "kv.fv"))
    for mmap in (False, True):
        back = KeyedVectors.load(tmp_path / "kv.fv", mmap=mmap)
        assert back.index_to_key == ODD_KEYS
        np.testing.assert_array_equal(back.vectors, vectors)
    with np.load(tmp_path / "kv.fv") as npz:  # still an .npz
        assert npz["strings/keys.utf8"].dtype == np.uint8 and npz["vectors"].shape == vectors.shape


def test_every_container_round_trips_with_words_as_members(tmp_path, strings_outside):
    words = [w for w in ODD_KEYS if w and not any(c.isspace() for c in w)]
    sentences = [words, words[::-1], words[:3]] * 5
    corpus = Corpus.build(sentences, min_count=1)
    assert sorted(corpus.vocabulary.index_to_key) == sorted(words)
    corpus.save(tmp_path / "c.fv")
    corpus.vocabulary.save(tmp_path / "v.fv")
    model = Word2Vec(vector_size=4, epochs=1, min_count=1, sample=0, progress=False, workers=1, seed=1)
    model.fit(corpus).save(tmp_path / "w.fv")
    cooc = Cooccurrence.from_corpus(corpus, window=2, workers=1)
    cooc.save(tmp_path / "co.fv")
    glove = GloVe(vector_size=4, epochs=1, min_count=1, progress=False, workers=1, seed=1).fit(cooc)
    glove.save(tmp_path / "g.fv")
    for name in ("c.fv", "v.fv", "w.fv", "co.fv", "g.fv"):
        meta = _meta(tmp_path / name)
        assert meta["version"] == 2 and meta["strings"] == ["words"] and "words" not in meta, name
    expected = corpus.vocabulary.index_to_key
    assert Corpus.load(tmp_path / "c.fv").vocabulary.index_to_key == expected
    np.testing.assert_array_equal(Corpus.load(tmp_path / "c.fv").ids, corpus.ids)
    assert Vocabulary.load(tmp_path / "v.fv").index_to_key == expected
    assert Word2Vec.load(tmp_path / "w.fv").wv.index_to_key == expected
    assert Cooccurrence.load(tmp_path / "co.fv", mmap=True).vocabulary.index_to_key == expected
    assert GloVe.load(tmp_path / "g.fv").wv.index_to_key == expected


def test_small_files_keep_the_version_1_layout(tmp_path):
    keys = [k for k in ODD_KEYS if not any(0xD800 <= ord(c) < 0xE000 for c in k)]
    KeyedVectors(keys, np.ones((len(keys), 2), np.float32)).save(tmp_path / "kv.fv")
    meta = _meta(tmp_path / "kv.fv")
    assert meta["version"] == 1 and meta["keys"] == keys and "strings" not in meta
    assert KeyedVectors.load(tmp_path / "kv.fv").index_to_key == keys


def test_keys_with_lone_surrogates_are_saved_exactly(tmp_path):
    """UTF-8 JSON cannot hold them (saving raised UnicodeEncodeError); escaped JSON would turn
    the two code units of a pair into one character. As members they come back as they were."""
    keys = ["\ud800", "\udfff", "\ud83d\ude00", "\U0001f600", "a\udcff"]  # surrogateescape leaves \udcXX
    KeyedVectors(keys, np.ones((len(keys), 2), np.float32)).save(tmp_path / "kv.fv")
    assert _meta(tmp_path / "kv.fv")["strings"] == ["keys"]
    assert KeyedVectors.load(tmp_path / "kv.fv").index_to_key == keys
    vocab = Vocabulary.build([keys, keys[:2]], min_count=1)
    vocab.save(tmp_path / "v.fv")
    assert Vocabulary.load(tmp_path / "v.fv").index_to_key == vocab.index_to_key


def test_meta_limit_is_kept_for_hostile_files_and_large_vocabularies_still_load(tmp_path, monkeypatch):
    """The mechanism of the 5.5M-key case at a small scale: meta.json may hold 4 KiB."""
    monkeypatch.setattr(_io, "MAX_META_BYTES", 4096)
    monkeypatch.setattr(_io, "INLINE_META_BYTES", 4096)
    keys = [f"w{i:08d}" for i in range(1000)]
    vectors = np.ones((1000, 2), np.float32)
    KeyedVectors(keys, vectors).save(tmp_path / "kv.fv")
    assert len(_members(tmp_path / "kv.fv")["meta.json"]) < 4096
    assert KeyedVectors.load(tmp_path / "kv.fv").index_to_key == keys
    # the same keys in meta.json, as the version 1 layout has them: refused before parsing
    members = {"meta.json": json.dumps({"format": "fastvec", "kind": "keyedvectors", "version": 1,
                                         "keys": keys}).encode(), "vectors.npy": _npy(vectors)}
    _write_zip(tmp_path / "v1.fv", members)
    with pytest.raises(FormatError, match="meta.json is implausibly large"):
        KeyedVectors.load(tmp_path / "v1.fv")
    # metadata that stays too large once its strings are out is refused before writing
    with pytest.raises(ValueError, match="more than a fastvec file may hold"):
        save_container(tmp_path / "big.fv", "keyedvectors", {"keys": keys[:2], "note": list(range(2000))},
                       {"vectors": vectors[:2]})
    assert not (tmp_path / "big.fv").exists()


def test_version_1_files_with_keys_in_meta_still_load(tmp_path):
    vectors = np.arange(6, dtype=np.float32).reshape(3, 2)
    meta = {"format": "fastvec", "kind": "keyedvectors", "version": 1, "keys": ["x", "ÿ", "z"]}
    _write_zip(tmp_path / "old.fv", {"meta.json": json.dumps(meta).encode(), "vectors.npy": _npy(vectors)})
    kv = KeyedVectors.load(tmp_path / "old.fv")
    assert kv.index_to_key == ["x", "ÿ", "z"]
    np.testing.assert_array_equal(kv.vectors, vectors)


@pytest.mark.slow
def test_five_and_a_half_million_keys_save_and_load(tmp_path):
    """The audited case (its meta.json would take 71.5 MB): about 10 s and 1 GB."""
    n = 5_500_000
    KeyedVectors([f"w{i:08d}" for i in range(n)], np.zeros((n, 1), np.float32)).save(tmp_path / "kv.fv")
    assert _meta(tmp_path / "kv.fv")["strings"] == ["keys"]
    back = KeyedVectors.load(tmp_path / "kv.fv", mmap=True)
    assert len(back) == n and all(k == f"w{i:08d}" for i, k in enumerate(back.index_to_key))
    assert back.get_index("w05499999") == n - 1


def _npy(arr) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=False)
    return buf.getvalue()


def _v2(keys_utf8, offsets, *, n_vectors: int, meta: dict | None = None, extra: dict | None = None) -> dict:
    header = {"format": "fastvec", "kind": "keyedvectors", "version": 2, "strings": ["keys"], **(meta or {})}
    return {"meta.json": json.dumps(header).encode(), "vectors.npy": _npy(np.ones((n_vectors, 2), np.float32)),
            "strings/keys.utf8.npy": _npy(keys_utf8), "strings/keys.offsets.npy": _npy(offsets), **(extra or {})}


def _u8(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.uint8)


HOSTILE_V2 = {
    "valid": (_v2(_u8("abñc".encode()), np.array([0, 2, 4, 5]), n_vectors=3), None),
    "offsets decrease": (_v2(_u8(b"abcd"), np.array([0, 3, 2, 4]), n_vectors=3), "never decrease"),
    "offsets end early": (_v2(_u8(b"abcd"), np.array([0, 1, 3]), n_vectors=2), "end at 4"),
    "offsets start late": (_v2(_u8(b"abcd"), np.array([1, 4]), n_vectors=1), "start at 0"),
    "offsets wrap around": (_v2(_u8(b"abcde"), np.array([0, 2**63 - 1, -2**63 + 10, 5]), n_vectors=3),
                            "never decrease"),
    "no offsets": (_v2(_u8(b""), np.zeros(0, np.int64), n_vectors=0), "offsets"),
    "offsets int32": (_v2(_u8(b"ab"), np.array([0, 1, 2], np.int32), n_vectors=2), "int64 offsets"),
    "bytes as int8": (_v2(np.frombuffer(b"ab", np.int8), np.array([0, 1, 2]), n_vectors=2), "uint8 bytes"),
    "bytes 2-D": (_v2(_u8(b"abcd").reshape(2, 2), np.array([0, 2, 4]), n_vectors=2), "uint8 bytes"),
    "not UTF-8": (_v2(_u8(b"a\xffb"), np.array([0, 1, 3]), n_vectors=2), "not UTF-8"),
    "offset inside a character": (_v2(_u8("ñ".encode()), np.array([0, 1, 2]), n_vectors=2), "splits a UTF-8"),
    "duplicate keys": (_v2(_u8(b"aa"), np.array([0, 1, 2]), n_vectors=2), "duplicate key"),
    "fewer keys than vectors": (_v2(_u8(b"ab"), np.array([0, 1, 2]), n_vectors=3), "2 keys but 3 vectors"),
    "strings not a list": (_v2(_u8(b"a"), np.array([0, 1]), n_vectors=1, meta={"strings": "keys"}), "'strings'"),
    "strings names a tag": (_v2(_u8(b"a"), np.array([0, 1]), n_vectors=1, meta={"strings": ["keys", "kind"]}),
                            "'strings'"),
    "strings names a path": (_v2(_u8(b"a"), np.array([0, 1]), n_vectors=1, meta={"strings": ["../keys"]}),
                             "'strings'"),
    "field also in meta": (_v2(_u8(b"a"), np.array([0, 1]), n_vectors=1, meta={"keys": ["a"]}),
                           "both in meta.json and stored as a member"),
    "undeclared string member": (_v2(_u8(b"a"), np.array([0, 1]), n_vectors=1,
                                     extra={"strings/other.utf8.npy": _npy(_u8(b"x"))}),
                                 "unexpected member 'strings/other.utf8.npy'"),
    "version true": (_v2(_u8(b"a"), np.array([0, 1]), n_vectors=1, meta={"version": True}), "version True"),
    "version 3": (_v2(_u8(b"a"), np.array([0, 1]), n_vectors=1, meta={"version": 3}), "version 3"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_V2))
def test_hostile_string_members_are_format_errors(tmp_path, case):
    members, match = HOSTILE_V2[case]
    path = tmp_path / "bad.fv"
    _write_zip(path, members)
    for mmap in (False, True):
        if match is None:
            assert KeyedVectors.load(path, mmap=mmap).index_to_key == ["ab", "ñ", "c"]
        else:
            with pytest.raises(FormatError, match=match) as info:
                KeyedVectors.load(path, mmap=mmap)
            assert str(path) in str(info.value)


@pytest.mark.parametrize("part", ["utf8", "offsets"])
def test_missing_string_member_is_named(tmp_path, part):
    members = HOSTILE_V2["valid"][0]
    _write_zip(tmp_path / "bad.fv", {k: v for k, v in members.items() if k != f"strings/keys.{part}.npy"})
    with pytest.raises(FormatError, match=f"missing array member.*strings/keys.{part}"):
        KeyedVectors.load(tmp_path / "bad.fv")


def test_reserved_names_are_refused_when_saving(tmp_path, strings_outside):
    with pytest.raises(ValueError, match="reserved"):
        save_container(tmp_path / "x.fv", "keyedvectors", {"keys": []}, {"strings/keys.utf8": np.zeros(1)})
    with pytest.raises(ValueError, match="reserved"):
        save_container(tmp_path / "x.fv", "keyedvectors", {"keys": ["a"], "strings": ["b"]}, {})
    assert not (tmp_path / "x.fv").exists()


# -- member sizes checked against the file before anything is read -------------------------------

def _set_central_file_size(data: bytearray, name: bytes, file_size: int) -> None:
    """Rewrite the uncompressed size the central directory declares for member ``name``."""
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        name_len = int.from_bytes(data[pos + 28:pos + 30], "little")
        if data[pos + 46:pos + 46 + name_len] == name:
            data[pos + 24:pos + 28] = file_size.to_bytes(4, "little")
        pos = data.find(b"PK\x01\x02", pos + 1)


def test_deflated_meta_declaring_more_than_deflate_can_hold_is_refused(tmp_path):
    meta = json.dumps({"format": "fastvec", "kind": "keyedvectors", "version": 1, "keys": ["a"]}).encode()
    path = tmp_path / "bomb.fv"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("meta.json", meta)
        zf.writestr(zipfile.ZipInfo("vectors.npy"), _npy(np.ones((1, 2), np.float32)))
    data = bytearray(path.read_bytes())
    _set_central_file_size(data, b"meta.json", 60 << 20)  # below the meta.json limit, but not from ~100 bytes
    path.write_bytes(data)
    with pytest.raises(FormatError, match="more than its .* compressed bytes can hold"):
        KeyedVectors.load(path)


def test_overlapping_members_are_refused(tmp_path):
    """Two members whose data overlap (one inside the other): each fits in the file, but nested
    further, a small file would expand into any number of copies of itself."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("counts.npy", _npy(np.arange(2, dtype=np.int64)))
    inner_local = inner.getvalue()[:inner.getvalue().find(b"PK\x01\x02")]
    meta = json.dumps({"format": "fastvec", "kind": "keyedvectors", "version": 1, "keys": ["a", "b"]}).encode()
    outer_data = _npy(np.frombuffer(inner_local, np.uint8))  # a uint8 array whose bytes are the counts member
    path = tmp_path / "overlap.fv"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("meta.json", meta)
        zf.writestr("vectors.npy", _npy(np.ones((2, 2), np.float32)))
        zf.writestr("blob.npy", outer_data)
    data = bytearray(path.read_bytes())
    # a second central directory entry for counts.npy, pointing inside blob.npy's data
    cd_start = data.find(b"PK\x01\x02")
    eocd = data.rfind(b"PK\x05\x06")
    blob_local = data.find(b"PK\x03\x04", data.find(b"blob.npy") - 40)
    counts_local = data.find(b"PK\x03\x04", blob_local + 4)
    entry = bytearray(data[data.find(b"PK\x01\x02", cd_start):][:46 + len("meta.json")])
    local = data[counts_local:counts_local + 30]
    entry[10:28] = local[8:26]  # method, time, crc and sizes of the inner member
    entry[28:30] = len(b"counts.npy").to_bytes(2, "little")
    entry[42:46] = counts_local.to_bytes(4, "little")
    entry = bytes(entry[:46]) + b"counts.npy"
    n = int.from_bytes(data[eocd + 10:eocd + 12], "little")
    cd_size = int.from_bytes(data[eocd + 12:eocd + 16], "little")
    new_eocd = bytearray(data[eocd:])
    new_eocd[8:10] = (n + 1).to_bytes(2, "little")
    new_eocd[10:12] = (n + 1).to_bytes(2, "little")
    new_eocd[12:16] = (cd_size + len(entry)).to_bytes(4, "little")
    path.write_bytes(bytes(data[:eocd]) + entry + bytes(new_eocd))
    with zipfile.ZipFile(path) as zf:  # a valid archive: zipfile reads every member
        assert zf.read("counts.npy") == _npy(np.arange(2, dtype=np.int64))
        assert zf.testzip() is None
    with pytest.raises(FormatError, match="members 'blob.npy' and 'counts.npy' overlap"):
        KeyedVectors.load(path)


def test_duplicate_member_names_are_refused(tmp_path):
    meta = json.dumps({"format": "fastvec", "kind": "keyedvectors", "version": 1, "keys": ["a"]}).encode()
    path = tmp_path / "dup.fv"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("meta.json", meta)
        with pytest.warns(UserWarning, match="Duplicate name"):
            for _ in range(2):
                zf.writestr("vectors.npy", _npy(np.ones((1, 2), np.float32)))
    with pytest.raises(FormatError, match="duplicate member names"):
        KeyedVectors.load(path)


# -- vectors that are not finite ----------------------------------------------------------------

@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_keyedvectors_with_non_finite_vectors_are_refused(tmp_path, value, dtype):
    vectors = np.ones((5, 3), dtype)
    vectors[3, 1] = value
    with pytest.raises(ValueError, match="'bad' contains NaN or infinite"):   # fastvec never writes one
        KeyedVectors(["a", "b", "c", "bad", "e"], vectors).save(tmp_path / "kv.fv")
    _io.save_container(tmp_path / "kv.fv", "keyedvectors", {"keys": ["a", "b", "c", "bad", "e"]}, {"vectors": vectors})
    for mmap in (False, True):
        with pytest.raises(FormatError, match="vector of 'bad' contains NaN or infinite") as info:
            KeyedVectors.load(tmp_path / "kv.fv", mmap=mmap)
        assert str(tmp_path / "kv.fv") in str(info.value)


def test_finiteness_is_checked_in_blocks():
    a = np.ones((100, 3), np.float32)
    assert _io.first_non_finite_row(a, block_bytes=24) is None
    a[77, 2] = np.nan
    a[90, 0] = np.inf
    for block in (1, 24, 36, 1 << 20):
        assert _io.first_non_finite_row(a, block_bytes=block) == 77
    assert _io.first_non_finite_row(np.ones((4, 0), np.float32)) is None


def test_a_loop_of_symbolic_links_is_named(tmp_path):
    from fastvec._io import check_readable_file
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(OSError, match="symbolic link") as info:   # it said "no such file"
        check_readable_file(tmp_path / "a")
    assert info.value.errno == __import__("errno").ELOOP
    (tmp_path / "dangling").symlink_to(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="symbolic link"):
        check_readable_file(tmp_path / "dangling")
