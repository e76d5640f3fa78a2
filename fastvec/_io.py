"""File plumbing shared by every writer and reader: atomic writes and the native container.

The native container is an uncompressed ZIP archive (readable by ``numpy.load`` as an
``.npz``) holding ``meta.json`` and one ``.npy`` member per array. It never contains
pickles; the loader validates every member before allocating anything, and can memory-map
arrays because stored members lie contiguously in the file.
"""
from __future__ import annotations

import contextlib
import errno
import json
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

_UMASK = os.umask(0)
os.umask(_UMASK)


class FormatError(ValueError):
    """A file is malformed, truncated, or not what the caller asked for."""

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


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


def _resolve_target(path: str) -> str:
    """The file a write to ``path`` replaces: ``path`` itself or, for a symbolic link, the file
    it points to (created when the link dangles), so that the link keeps pointing at the
    new contents."""
    if not os.path.islink(path):
        return path
    try:
        return os.path.realpath(path, strict=True)
    except FileNotFoundError:
        return os.path.realpath(path)  # a dangling link: its target is created
    except OSError as e:  # a loop of links
        raise OSError(e.errno, f"{path}: cannot resolve the symbolic link ({e.strerror})") from None


def _set_mode(fd: int, tmp: str | None, old: os.stat_result | None) -> None:
    """Give the temporary file the mode the target will have: a new file's from the umask; a
    replaced file keeps its permission bits and, where allowed, its owner and group. When the
    group cannot be kept, the new group gets no more than the old file gave everyone (its
    members were "others" to that file), so no one gains access."""
    if old is None:
        mode = 0o666 & ~_UMASK
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


def check_readable_file(path: str | os.PathLike, what: str = "file") -> str:
    """Resolve ``path`` and raise a clear OSError if it is missing or a directory."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path}: is a directory, expected a {what}")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such {what}")
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


def save_container(path: str | os.PathLike, kind: str, meta: Mapping[str, Any],
                   arrays: Mapping[str, np.ndarray]) -> None:
    """Atomically write ``arrays`` and JSON ``meta`` as a native fastvec container."""
    header = {"format": FORMAT_NAME, "kind": kind, "version": 1, **meta}
    with atomic_write(path, "wb") as raw:
        with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            zf.writestr(META_MEMBER, json.dumps(header, ensure_ascii=False).encode("utf-8"))
            for name, arr in arrays.items():
                arr = np.asarray(arr)
                if arr.dtype.hasobject:
                    raise TypeError(f"array {name!r} has an object dtype; refusing to write it")
                with zf.open(name + ".npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.ascontiguousarray(arr), allow_pickle=False)


def _member_data_offset(path: str, fh: IO[bytes], info: zipfile.ZipInfo, file_size: int) -> int:
    fh.seek(info.header_offset)
    local = fh.read(30)
    if len(local) != 30 or local[:4] != b"PK\x03\x04":
        raise FormatError(path, f"member {info.filename!r} has a corrupt local header")
    name_len, extra_len = struct.unpack("<HH", local[26:30])
    start = info.header_offset + 30 + name_len + extra_len
    if start + info.file_size > file_size:
        raise FormatError(path, f"member {info.filename!r} extends past the end of the file (truncated?)")
    return start


def load_container(path: str | os.PathLike, kind: str, *, mmap: bool = False,
                   required: tuple[str, ...] = ()) -> tuple[dict, dict[str, np.ndarray]]:
    """Read a native container written by ``save_container`` and validate its structure.

    Checks: it is a ZIP of stored members, ``meta.json`` names ``kind``, every ``.npy`` member
    has a plain (non-object) dtype and exactly the bytes its header declares, and every name in
    ``required`` is present. Shapes and dtypes specific to ``kind`` are the caller's to check."""
    path = check_readable_file(path)
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


def _load_container(path: str, kind: str, mmap: bool, required: tuple[str, ...]) -> tuple[dict, dict]:
    file_size = os.path.getsize(path)
    try:
        zf = zipfile.ZipFile(path, "r")
    except zipfile.BadZipFile as e:
        raise FormatError(path, f"not a fastvec {kind} file ({e})") from None
    with zf, open(path, "rb") as fh:
        names = set(zf.namelist())
        if META_MEMBER not in names:
            raise FormatError(path, f"not a fastvec {kind} file (no {META_MEMBER})")
        info = zf.getinfo(META_MEMBER)
        if info.file_size > MAX_META_BYTES:
            raise FormatError(path, f"{META_MEMBER} is implausibly large ({info.file_size} bytes)")
        try:
            meta = parse_meta(zf.read(META_MEMBER))
        except (ValueError, UnicodeDecodeError, zipfile.BadZipFile, RecursionError) as e:
            raise FormatError(path, f"unreadable {META_MEMBER} ({e})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
            raise FormatError(path, "not a fastvec file (bad or missing format tag)")
        if meta.get("kind") != kind:
            raise FormatError(path, f"holds a {meta.get('kind')!r}, not a {kind!r}")
        if meta.get("version") != 1:
            raise FormatError(path, f"unsupported {kind} format version {meta.get('version')!r}")
        missing = [r for r in required if r + ".npy" not in names]
        if missing:
            raise FormatError(path, f"missing array member(s): {', '.join(missing)}")
        arrays = {}
        for name in sorted(names - {META_MEMBER}):
            if not name.endswith(".npy"):
                raise FormatError(path, f"unexpected member {name!r}")
            arrays[name[:-4]] = _read_array(path, zf, fh, zf.getinfo(name), file_size, mmap)
    return meta, arrays


def _read_array(path: str, zf: zipfile.ZipFile, fh: IO[bytes], info: zipfile.ZipInfo,
                file_size: int, mmap: bool) -> np.ndarray:
    name = info.filename
    if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
        raise FormatError(path, f"member {name!r} is compressed; fastvec files store arrays uncompressed")
    data_start = _member_data_offset(path, fh, info, file_size)
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
