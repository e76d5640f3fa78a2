"""File plumbing shared by every writer and reader: atomic writes and the native container.

The native container is an uncompressed ZIP archive (readable by ``numpy.load`` as an
``.npz``) holding ``meta.json`` and one ``.npy`` member per array; lists of strings too large
for ``meta.json`` (millions of words) are stored as members too (format version 2). It never
contains pickles; the loader validates every member before allocating anything, and can
memory-map arrays because stored members lie contiguously in the file.
"""
from __future__ import annotations

import contextlib
import errno
import json
import lzma
import math
import os
import re
import stat
import struct
import zipfile
import zlib
from typing import IO, Any, Iterator, Mapping

import numpy as np

FORMAT_NAME = "fastvec"
META_MEMBER = "meta.json"
MAX_META_BYTES = 64 << 20
#: what reading a file, compressed or not, may raise (zlib: corrupt .gz data)
READ_ERRORS = (OSError, EOFError, lzma.LZMAError, zlib.error)

def current_umask() -> int:
    """The process's umask now. Linux reports it in /proc/self/status (no change to it);
    elsewhere it is read by setting it and back, to 077 for that instant, so that a file
    another thread creates meanwhile gets fewer permissions, never more. (Read once at import,
    with 0 for the instant, it served a stale umask and could make another thread's file 0666.)"""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o077)   # the most restrictive value for the instant it is in place
    os.umask(mask)
    return mask


class FormatError(ValueError):
    """A file is malformed, truncated, or not what the caller asked for."""

    __module__ = "fastvec.exceptions"   # where users import it from (defined here, below fastvec.exceptions)

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self):
        # pickle and copy call the class with self.args, the one message: (path, problem) instead,
        # so the error crosses process boundaries (multiprocessing, joblib)
        return type(self), (self.path, self.problem), self.__dict__



def checked_counts(counts: Any, n: int, what: str = "words") -> np.ndarray:
    """Word counts as int64, one per word: integers, or floats holding whole numbers, in
    [0, 2**63) (a uint64 beyond would wrap negative, a fraction be truncated, silently).
    TypeError for other types, ValueError for other values or another length."""
    given = np.asarray(counts)
    if given.size == 0:
        given = given.astype(np.int64)   # [] is float64 to NumPy
    if given.dtype.kind not in "iuf":
        raise TypeError(f"counts must be integers, not {given.dtype}")
    if given.size and given.dtype.kind in "uf" and not float(np.max(given)) < 2.0**63:
        raise ValueError("counts must be whole numbers below 2**63")
    if given.dtype.kind == "f" and not np.array_equal(given, np.floor(given)):
        raise ValueError("counts must be whole numbers")   # never truncated silently (NaN, inf included)
    if given.ndim != 1 or len(given) != n:
        raise ValueError(f"{n} {what} but {given.size} counts")
    result = given.astype(np.int64)
    if len(result) and result.min() < 0:
        raise ValueError("counts must be non-negative")
    # exact (Python ints) only when the float64 total comes near: a vocabulary's int64 total
    # (total_words, the noise distribution) would wrap around
    if len(result) and float(result.sum(dtype=np.float64)) >= 2.0**62 and sum(result.tolist()) >= 2**63:
        raise ValueError("counts must add up to less than 2**63 (their total would wrap around)")
    return result

_UNNAMED_OK: dict[int, bool] = {}


def _unnamed_file(directory: str) -> int | None:
    """A file with no name in ``directory`` (Linux O_TMPFILE), or None where unsupported. If the
    process dies while writing it, nothing at all is left on disk. Whether a filesystem can
    both create and later link such files (overlayfs, for one, cannot link them) is probed once
    per device. The file is created 0600; :func:`atomic_write` sets its final mode."""
    if not hasattr(os, "O_TMPFILE") or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        device = os.stat(directory).st_dev
        if device not in _UNNAMED_OK:
            probe = os.open(directory, os.O_TMPFILE | os.O_WRONLY, 0o600)
            try:
                name = _link_unnamed(probe, directory, "fastvec-probe")
                os.unlink(name)
                _UNNAMED_OK[device] = True
            except OSError:
                _UNNAMED_OK[device] = False
            finally:
                os.close(probe)
        if not _UNNAMED_OK[device]:
            return None
        return os.open(directory, os.O_TMPFILE | os.O_WRONLY, 0o600)
    except OSError:  # e.g. a filesystem without O_TMPFILE support
        return None


def _link_unnamed(fd: int, directory: str, base: str) -> str:
    """Give the unnamed file a temporary name (to be renamed over the target)."""
    for _ in range(100):
        tmp = os.path.join(directory, f".{base}.{os.urandom(6).hex()}.tmp")
        try:
            os.link(f"/proc/self/fd/{fd}", tmp, follow_symlinks=True)
            return tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temporary name beside {os.path.join(directory, base)}")


def _named_temp(directory: str, base: str) -> tuple[int, str]:
    """A new file .<base>.<pid>.<12 hex digits>.tmp in ``directory``, created 0600 (the
    pattern :func:`_remove_orphans` matches exactly)."""
    for _ in range(100):
        tmp = os.path.join(directory, f".{base}.{os.getpid()}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600), tmp
        except FileExistsError:
            continue
        except OSError as e:  # name the file the caller asked for, not our temporary one
            raise type(e)(e.errno, f"cannot write {os.path.join(directory, base)}: {e.strerror}") from None
    raise FileExistsError(f"cannot create a temporary file beside {os.path.join(directory, base)}")


def _orphan_pattern(base: str) -> re.Pattern:
    """Temporary names of writes to exactly ``base``: .<base>.<pid>.<random>.tmp, the random
    part 12 hex digits (:func:`_named_temp`) or 8 characters of [a-z0-9_] (tempfile.mkstemp,
    used by earlier versions). No other target's temporary file matches: the random part
    holds no dot, so the pid and ``base`` are fixed from the right."""
    return re.compile(rf"\.{re.escape(base)}\.([0-9]{{1,10}})\.(?:[0-9a-f]{{12}}|[a-z0-9_]{{8}})\.tmp\Z")


def _remove_orphans(directory: str, base: str) -> None:
    """Delete temporary files of earlier writes to ``base`` whose writer process is gone (killed
    before it could clean up); see :func:`_orphan_pattern`."""
    pattern = _orphan_pattern(base)
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        match = pattern.match(name)
        if match is None or int(match.group(1)) in (0, os.getpid()):
            continue
        try:
            os.kill(int(match.group(1)), 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(directory, name))
        except (PermissionError, OverflowError):
            continue


_FILE_TYPES = ((stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"), (stat.S_ISFIFO, "FIFO"),
               (stat.S_ISSOCK, "socket"), (stat.S_ISLNK, "symbolic link that cannot be resolved"))


def _check_replaceable(path: str, target: str) -> os.stat_result | None:
    """The status of the regular file at ``target`` (None when there is none); raise an OSError
    naming ``path`` when something else is there (a directory, device, FIFO, socket)."""
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return None
    if stat.S_ISREG(st.st_mode):
        return st
    shown = path if target == path else f"{path} (-> {target})"
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(f"{shown}: is a directory")
    what = next((name for test, name in _FILE_TYPES if test(st.st_mode)), "special file")
    raise OSError(errno.EINVAL, f"{shown}: is a {what}, not a regular file; refusing to replace it")


def check_output_path(path: str | os.PathLike) -> str:
    """Before long work whose result will be written to ``path``: the file that write will
    replace (symbolic links followed), checked as :func:`atomic_write` will find it: a regular
    file or none, in a directory that exists and where a file of that name can be made (a
    temporary file is created and removed, which also finds names that are too long and
    read-only file systems). An OSError naming ``path`` otherwise."""
    path = os.fspath(path)
    target = _resolve_target(path)
    try:
        _check_replaceable(path, target)
    except OSError as e:
        if e.filename is None:   # ours: a directory, device or FIFO, named
            raise
        raise type(e)(e.errno, f"{path}: cannot write there ({e.strerror})") from None   # e.g. a name too long
    directory = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(directory):
        raise FileNotFoundError(errno.ENOENT, f"{path}: the output directory does not exist ({directory})")
    try:
        fd, probe = _named_temp(directory, os.path.basename(target))
    except OSError as e:
        raise type(e)(e.errno, f"{path}: cannot write there ({os.strerror(e.errno) if e.errno else e})") from None
    os.close(fd)
    os.unlink(probe)
    return target


def _resolve_target(path: str) -> str:
    """The file a write to ``path`` replaces: ``path`` itself or, for a symbolic link, the file
    it points to (created when the link dangles), so that the link keeps pointing at the
    new contents."""
    if not os.path.islink(path):
        return path
    try:
        os.stat(path)   # follows the links (realpath's strict= needs Python 3.10)
    except FileNotFoundError:
        return os.path.realpath(path)  # a dangling link: its target is created
    except OSError as e:  # a loop of links
        raise OSError(e.errno, f"{path}: cannot resolve the symbolic link ({e.strerror})") from None
    return os.path.realpath(path)


def _set_mode(fd: int, tmp: str | None, old: os.stat_result | None) -> None:
    """Give the temporary file the mode the target will have: a new file's from the umask; a
    replaced file keeps its permission bits and, where allowed, its owner and group. When the
    group cannot be kept, the new group gets no more than the old file gave everyone (its
    members were "others" to that file), so no one gains access."""
    if old is None:
        mode = 0o666 & ~current_umask()
    else:
        mode = stat.S_IMODE(old.st_mode) & 0o777
        if hasattr(os, "fchown"):
            mine = os.fstat(fd)
            if (mine.st_uid, mine.st_gid) != (old.st_uid, old.st_gid):
                with contextlib.suppress(OSError):
                    os.fchown(fd, old.st_uid, old.st_gid)
                with contextlib.suppress(OSError):
                    os.fchown(fd, -1, old.st_gid)
                if os.fstat(fd).st_gid != old.st_gid:
                    mode &= ~0o070 | (mode & 0o007) << 3
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    elif tmp is not None:
        os.chmod(tmp, mode)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", **open_kwargs: Any) -> Iterator[IO]:
    """Write to a temporary file beside ``path`` and rename it into place on success.

    An interrupted or failed write leaves any previous file at ``path`` untouched and no
    partial file under that name. On Linux the data first goes to an unnamed file (O_TMPFILE),
    so even a killed process leaves no temporary file behind; elsewhere a named temporary
    file is removed on any Python-level failure.

    Only regular files are replaced: a directory, device, FIFO or socket at ``path`` is an
    OSError before anything is written. A symbolic link is followed: the file it points to is
    replaced, and the link kept. A replaced file keeps its permission bits (and owner and group
    where the process may set them); a new file gets 0666 less the umask."""
    path = os.fspath(path)
    target = _resolve_target(path)
    old = _check_replaceable(path, target)
    directory = os.path.dirname(os.path.abspath(target))
    base = os.path.basename(target)
    fd = _unnamed_file(directory)
    tmp = None
    try:
        if fd is None:
            _remove_orphans(directory, base)
            fd, tmp = _named_temp(directory, base)
        _set_mode(fd, tmp, old)
        with os.fdopen(fd, mode, closefd=False, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if tmp is None:
            tmp = _link_unnamed(fd, directory, base)
        _check_replaceable(path, target)  # nothing else appeared there while writing
        os.replace(tmp, target)
        tmp = None
    finally:
        if fd is not None:
            os.close(fd)
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def saved_int(path: str | os.PathLike, meta: Mapping[str, Any], name: str, default: int | None = None, *,
              minimum: int = 0) -> int | None:
    """An integer field of a loaded file's metadata (``default`` when absent, and None stays
    None when that is the default): anything but an int in [minimum, 2**63) is a FormatError
    naming the file and the field, never an OverflowError or TypeError from int()."""
    value = meta.get(name, default)
    if value is None and default is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value < 2**63:
        raise FormatError(path, f"bad {name} {value!r} (expected an integer >= {minimum})")
    return value


def first_non_finite_row(a: np.ndarray, block_bytes: int = 1 << 24) -> int | None:
    """The first row of a 2-D float array holding NaN or an infinity, or None. Checked a block
    of rows at a time: no temporary the size of ``a``, and a memory-mapped array is read once."""
    rows = max(1, block_bytes // max(1, a.shape[1] * a.itemsize))
    for start in range(0, a.shape[0], rows):
        bad = ~np.isfinite(a[start:start + rows]).all(axis=1)
        if bad.any():
            return start + int(np.flatnonzero(bad)[0])
    return None


def check_readable_file(path: str | os.PathLike, what: str = "file", *, regular: bool = False) -> str:
    """Resolve ``path`` and raise a clear OSError if it is missing or a directory; with
    ``regular``, also if it is a pipe, FIFO or device (readers that map a file or read it more
    than once: opening a FIFO twice would wait for a second writer forever)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path}: is a directory, expected a {what}")
    if not os.path.exists(path):
        if os.path.islink(path):   # a dangling link or a loop of links: say which
            try:
                os.stat(path)
            except OSError as e:
                raise type(e)(e.errno, f"{path}: {e.strerror} (a symbolic link)") from None
        raise FileNotFoundError(f"{path}: no such {what}")
    if regular and not os.path.isfile(path):
        raise OSError(errno.ESPIPE, f"{path}: is a pipe, FIFO or device; a {what} is read from a regular file "
                                    "(save the stream to a file first)")
    return path


class _NonFinite:
    """Where meta.json holds NaN, Infinity or a number that overflows to infinity."""
    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


def _non_finite_at(meta: Any) -> tuple[str, str]:
    """The place of the first _NonFinite in parsed JSON (e.g. ``schedule.alpha``) and its text."""
    stack: list[tuple[Any, str]] = [(meta, "")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, _NonFinite):
            return where or "the document", value.text
        if isinstance(value, dict):
            stack.extend((v, f"{where}.{k}" if where else str(k)) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((v, f"{where}[{i}]") for i, v in reversed(list(enumerate(value))))
    return "a value", "not finite"


def finite_or_null(value: Any) -> Any:
    """``value`` as strict JSON can hold it: NaN and infinities (the loss of an epoch that
    trained nothing, a correlation over too few pairs) as None, NumPy scalars as Python ones,
    in nested lists and dicts. :func:`parse_meta` refuses what this replaces."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite_or_null(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_null(v) for v in value]
    return value


def parse_meta(data: bytes) -> Any:
    """Decode ``meta.json``: strict UTF-8 JSON without NaN, Infinity or numbers that overflow
    to them (Python's json accepts all three; loaders would fail on them with OverflowError).
    A ValueError names the field holding one."""
    found = []

    def non_finite(text: str) -> _NonFinite:
        found.append(text)
        return _NonFinite(text)

    def number(text: str) -> float | _NonFinite:
        value = float(text)
        return value if math.isfinite(value) else non_finite(text)

    meta = json.loads(data.decode("utf-8"), parse_constant=non_finite, parse_float=number)
    if found:
        where, text = _non_finite_at(meta)
        raise ValueError(f"{where} is {text}, not a finite number")
    return meta


#: meta.json fields moved to members (version 2 files): ``strings`` names them; field ``f`` is
#: stored as the UTF-8 bytes of its strings, concatenated (uint8 member strings/f.utf8.npy), and
#: where each begins and ends (int64 member strings/f.offsets.npy, one entry more than strings)
_STRINGS = "strings"
_STRINGS_DIR = "strings/"
_STRING_PARTS = ("utf8", "offsets")
_TAGS = frozenset({"format", "kind", "version", _STRINGS})
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}\Z")
#: metadata up to this size is written as before (all in meta.json, version 1, which older
#: fastvec releases read); beyond it its lists of strings (vocabulary words, keys) move to members
INLINE_META_BYTES = MAX_META_BYTES
#: deflate expands at most 1032-fold: a member declaring more is a zip bomb
_DEFLATE_MAX_RATIO = 1032


def _string_member(field: str, part: str) -> str:
    return f"{_STRINGS_DIR}{field}.{part}"


def _meta_json(header: Mapping[str, Any]) -> bytes | None:
    """``header`` as UTF-8 JSON, or None when it holds lone surrogates (UTF-8 has none)."""
    try:
        return json.dumps(header, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return None


def _encode_strings(strings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes of ``strings``, concatenated, and the offsets of their boundaries."""
    text = "".join(strings)
    blob = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    bounds = np.zeros(len(strings) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, strings), dtype=np.int64, count=len(strings)), out=bounds[1:])
    if len(blob) != len(text):  # not ASCII: character offsets -> byte offsets (a lead byte per character)
        lead = np.flatnonzero((blob & 0xC0) != 0x80)
        bounds = np.append(lead, len(blob))[bounds]
    return blob, bounds


def _decode_strings(path: str, field: str, blob: np.ndarray, bounds: np.ndarray) -> list[str]:
    """The strings :func:`_encode_strings` stored, every structural promise checked."""
    what = f"{_string_member(field, '*')} members"
    if blob.dtype != np.uint8 or blob.ndim != 1 or bounds.dtype != np.int64 or bounds.ndim != 1 or len(bounds) < 1:
        raise FormatError(path, f"{what}: expected uint8 bytes and 1-D int64 offsets")
    size = len(blob)
    if (bounds[0] != 0 or bounds[-1] != size or int(bounds.min()) < 0 or int(bounds.max()) > size
            or (len(bounds) > 1 and np.any(np.diff(bounds) < 0))):
        raise FormatError(path, f"{what}: offsets must start at 0, end at {size} and never decrease")
    try:
        text = str(memoryview(blob), "utf-8", "surrogatepass")
    except UnicodeDecodeError as e:
        raise FormatError(path, f"{what}: not UTF-8 ({e})") from None
    if len(text) != size:  # not ASCII: byte offsets -> character offsets
        lead = (blob & 0xC0) != 0x80
        if not lead[bounds[bounds < size]].all():
            raise FormatError(path, f"{what}: an offset splits a UTF-8 sequence")
        bounds = bounds - np.searchsorted(np.flatnonzero(~lead), bounds)
    b = bounds.tolist()
    return [text[i:j] for i, j in zip(b[:-1], b[1:])]


def save_container(path: str | os.PathLike, kind: str, meta: Mapping[str, Any],
                   arrays: Mapping[str, np.ndarray]) -> None:
    """Atomically write ``arrays`` and JSON ``meta`` as a native fastvec container.

    Metadata too large for meta.json (a vocabulary of millions of words), or holding strings
    UTF-8 cannot encode (lone surrogates, as in words decoded with surrogateescape), has its
    top-level lists of strings stored as members instead (format version 2); loading restores
    them exactly."""
    header = {"format": FORMAT_NAME, "kind": kind, "version": 1, **meta}
    arrays = dict(arrays)
    reserved = [name for name in arrays if name.startswith(_STRINGS_DIR)]
    if reserved:
        raise ValueError(f"array name {reserved[0]!r} is reserved (names starting with {_STRINGS_DIR!r})")
    meta_json = _meta_json(header)
    if meta_json is None or len(meta_json) > INLINE_META_BYTES:
        fields = [k for k, v in header.items() if isinstance(k, str) and _FIELD.match(k) and k not in _TAGS
                  and isinstance(v, list) and all(isinstance(s, str) for s in v)]
        if fields and _STRINGS in header:
            raise ValueError(f"metadata field {_STRINGS!r} is reserved")
        if fields:
            header.update(version=2, **{_STRINGS: fields})
            for field in fields:
                blob, bounds = _encode_strings(header.pop(field))
                arrays[_string_member(field, "utf8")] = blob
                arrays[_string_member(field, "offsets")] = bounds
            meta_json = _meta_json(header)
    if meta_json is None:  # lone surrogates elsewhere: escaped (json reads an escaped pair back as one character)
        meta_json = json.dumps(header, ensure_ascii=True).encode("ascii")
    if len(meta_json) > MAX_META_BYTES:
        raise ValueError(f"{os.fspath(path)}: the metadata takes {len(meta_json)} bytes, more than a fastvec "
                         f"file may hold ({MAX_META_BYTES}); not saved")
    with atomic_write(path, "wb") as raw:
        with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            zf.writestr(META_MEMBER, meta_json)
            for name, arr in arrays.items():
                arr = np.asarray(arr)
                if arr.dtype.hasobject:
                    raise TypeError(f"array {name!r} has an object dtype; refusing to write it")
                with zf.open(name + ".npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.ascontiguousarray(arr), allow_pickle=False)


def _member_data_offset(path: str, fh: IO[bytes], info: zipfile.ZipInfo, file_size: int) -> int:
    """Where the member's data begins; it must lie inside the file, and its declared size must
    be one its stored bytes can hold (no more than deflate can expand them to): both checked
    before anything is read or allocated."""
    name = info.filename
    if info.compress_type == zipfile.ZIP_STORED:
        if info.compress_size != info.file_size:
            raise FormatError(path, f"member {name!r} declares {info.file_size} bytes but stores {info.compress_size}")
    elif name != META_MEMBER:
        raise FormatError(path, f"member {name!r} is compressed; fastvec files store arrays uncompressed")
    elif info.compress_type != zipfile.ZIP_DEFLATED:
        raise FormatError(path, f"{name} is compressed with an unsupported method ({info.compress_type})")
    elif info.file_size > _DEFLATE_MAX_RATIO * info.compress_size + 1024:
        raise FormatError(path, f"member {name!r} declares {info.file_size} bytes, more than its "
                                f"{info.compress_size} compressed bytes can hold (a zip bomb?)")
    fh.seek(info.header_offset)
    local = fh.read(30)
    if len(local) != 30 or local[:4] != b"PK\x03\x04":
        raise FormatError(path, f"member {name!r} has a corrupt local header")
    name_len, extra_len = struct.unpack("<HH", local[26:30])
    start = info.header_offset + 30 + name_len + extra_len
    if start + info.compress_size > file_size:
        raise FormatError(path, f"member {name!r} extends past the end of the file (truncated?)")
    return start


def load_container(path: str | os.PathLike, kind: str, *, mmap: bool = False,
                   required: tuple[str, ...] = ()) -> tuple[dict, dict[str, np.ndarray]]:
    """Read a native container written by ``save_container`` and validate its structure.

    Checks: it is a ZIP of stored members whose sizes the file can hold, ``meta.json`` names
    ``kind``, every ``.npy`` member has a plain (non-object) dtype and exactly the bytes its
    header declares, every name in ``required`` is present, and strings stored as members
    (version 2) decode. Shapes and dtypes specific to ``kind`` are the caller's to check."""
    path = check_readable_file(path, regular=True)   # a FIFO would block, /dev/zero never end
    try:
        return _load_container(path, kind, mmap, required)
    except FormatError:
        raise
    except _CORRUPT as e:  # what zipfile / numpy raise on corrupt structures
        raise FormatError(path, f"not a valid fastvec {kind} file ({type(e).__name__}: {e})") from None
    except OSError as e:
        if e.errno in (errno.EINVAL, errno.EOVERFLOW):  # seek to an offset read from corrupt data
            raise FormatError(path, f"not a valid fastvec {kind} file ({e})") from None
        raise


_CORRUPT = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, struct.error, NotImplementedError,
            zlib.error, UnicodeDecodeError, KeyError, RuntimeError, OverflowError, IndexError)


def _string_fields(path: str, meta: dict) -> list[str]:
    """The fields a version 2 file stores as members, checked."""
    fields = meta.pop(_STRINGS, None)
    if (not isinstance(fields, list) or not all(isinstance(f, str) and _FIELD.match(f) for f in fields)
            or len(set(fields)) != len(fields) or _TAGS.intersection(fields)):
        raise FormatError(path, f"bad {_STRINGS!r} field list {fields!r}"[:200])
    clash = [f for f in fields if f in meta]
    if clash:
        raise FormatError(path, f"field {clash[0]!r} is both in {META_MEMBER} and stored as a member")
    return fields


def _member_starts(path: str, fh: IO[bytes], infos: list[zipfile.ZipInfo], file_size: int) -> dict[str, int]:
    """Where each member's data begins, after checking every member's sizes (see
    :func:`_member_data_offset`) and that no two overlap: members nested in one another
    would let a small file expand into any number of copies of itself."""
    spans = []
    for info in infos:
        start = _member_data_offset(path, fh, info, file_size)
        spans.append((info.header_offset, start, start + info.compress_size, info.filename))
    spans.sort()
    for (_, _, end, name), (next_offset, _, _, next_name) in zip(spans, spans[1:]):
        if end > next_offset:
            raise FormatError(path, f"members {name!r} and {next_name!r} overlap")
    return {name: start for _, start, _, name in spans}


def _load_container(path: str, kind: str, mmap: bool, required: tuple[str, ...]) -> tuple[dict, dict]:
    file_size = os.path.getsize(path)
    try:
        zf = zipfile.ZipFile(path, "r")
    except zipfile.BadZipFile as e:
        raise FormatError(path, f"not a fastvec {kind} file ({e})") from None
    with zf, open(path, "rb") as fh:
        infos = zf.infolist()
        names = {info.filename for info in infos}
        if len(names) != len(infos):
            raise FormatError(path, "duplicate member names")
        if META_MEMBER not in names:
            raise FormatError(path, f"not a fastvec {kind} file (no {META_MEMBER})")
        info = zf.getinfo(META_MEMBER)
        if info.file_size > MAX_META_BYTES:
            raise FormatError(path, f"{META_MEMBER} is implausibly large ({info.file_size} bytes)")
        starts = _member_starts(path, fh, infos, file_size)
        try:
            meta = parse_meta(zf.read(META_MEMBER))
        except (ValueError, UnicodeDecodeError, zipfile.BadZipFile, RecursionError) as e:
            raise FormatError(path, f"unreadable {META_MEMBER} ({e})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
            raise FormatError(path, "not a fastvec file (bad or missing format tag)")
        if meta.get("kind") != kind:
            raise FormatError(path, f"holds a {meta.get('kind')!r}, not a {kind!r}")
        version = meta.get("version")
        if type(version) is not int or version not in (1, 2):
            raise FormatError(path, f"unsupported {kind} format version {version!r}")
        fields = _string_fields(path, meta) if version == 2 else []
        strings = {_string_member(f, part) + ".npy" for f in fields for part in _STRING_PARTS}
        missing = [r for r in required if r + ".npy" not in names] + sorted(s[:-4] for s in strings - names)
        if missing:
            raise FormatError(path, f"missing array member(s): {', '.join(missing)}")
        arrays = {}
        for name in sorted(names - {META_MEMBER}):
            if not name.endswith(".npy") or name.startswith(_STRINGS_DIR) and name not in strings:
                raise FormatError(path, f"unexpected member {name!r}")
            arrays[name[:-4]] = _read_array(path, zf, zf.getinfo(name), starts[name], mmap and name not in strings)
        for field in fields:
            meta[field] = _decode_strings(path, field, arrays.pop(_string_member(field, "utf8")),
                                          arrays.pop(_string_member(field, "offsets")))
    return meta, arrays


def _read_array(path: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo, data_start: int, mmap: bool) -> np.ndarray:
    name = info.filename
    try:
        with zf.open(info) as member:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
            else:
                raise FormatError(path, f"member {name!r} has unsupported .npy version {version}")
            header_len = member.tell()
            if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
                raise FormatError(path, f"member {name!r} has a non-numeric dtype {dtype}")
            count = 1
            for s in shape:
                count *= int(s)
            nbytes = count * dtype.itemsize
            if header_len + nbytes != info.file_size:
                raise FormatError(path, f"member {name!r}: header declares {nbytes} bytes of data "
                                        f"but the member holds {info.file_size - header_len}")
            order = "F" if fortran else "C"
            if mmap and nbytes > 0:
                return np.memmap(path, dtype=dtype, mode="r", offset=data_start + header_len,
                                 shape=tuple(shape), order=order)
            arr = np.empty(tuple(shape), dtype=dtype, order=order)
            view = memoryview(arr.reshape(-1, order="A")).cast("B") if nbytes else memoryview(b"")
            got = member.readinto(view) if nbytes else 0
            if got != nbytes:
                raise FormatError(path, f"member {name!r} is truncated")
            return arr
    except (ValueError, zipfile.BadZipFile, EOFError) as e:
        if isinstance(e, FormatError):
            raise
        raise FormatError(path, f"member {name!r} is unreadable ({e})") from None
