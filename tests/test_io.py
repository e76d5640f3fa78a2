"""fastvec._io: atomic writes (what they replace, the mode they leave, the temporary files they
clean up) and the native container (large string lists, hostile members, malformed metadata)."""
from __future__ import annotations

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
from fastvec._io import FormatError, atomic_write
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
    _write(tmp_path / "new.fv")
    assert stat.S_IMODE(os.stat(tmp_path / "new.fv").st_mode) == 0o666 & ~_io._UMASK


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
