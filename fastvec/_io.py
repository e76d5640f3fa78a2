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
import os
import struct
import tempfile
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
    per device."""
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
        return os.open(directory, os.O_TMPFILE | os.O_WRONLY, 0o666 & ~_UMASK)
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


def _remove_orphans(directory: str, base: str) -> None:
    """Delete temporary files of earlier writes to ``base`` whose writer process is gone (killed
    before it could clean up). Names are .<base>.<pid>.<random>.tmp."""
    prefix = f".{base}."
    try:
        names = [n for n in os.listdir(directory) if n.startswith(prefix) and n.endswith(".tmp")]
    except OSError:
        return
    for name in names:
        pid = name[len(prefix):].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(directory, name))
        except (PermissionError, OverflowError):
            continue


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", **open_kwargs: Any) -> Iterator[IO]:
    """Write to a temporary file beside ``path`` and rename it into place on success.

    An interrupted or failed write leaves any previous file at ``path`` untouched and no
    partial file under that name. On Linux the data first goes to an unnamed file (O_TMPFILE),
    so even a killed process leaves no temporary file behind; elsewhere a named temporary
    file is removed on any Python-level failure."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path}: is a directory")
    fd = _unnamed_file(directory)
    tmp = None
    try:
        if fd is None:
            _remove_orphans(directory, base)
            fd, tmp = tempfile.mkstemp(prefix=f".{base}.{os.getpid()}.", suffix=".tmp", dir=directory)
            os.chmod(tmp, 0o666 & ~_UMASK)
        with os.fdopen(fd, mode, closefd=False, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if tmp is None:
            tmp = _link_unnamed(fd, directory, base)
        os.replace(tmp, path)
        tmp = None
    finally:
        if fd is not None:
            os.close(fd)
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def check_readable_file(path: str | os.PathLike, what: str = "file") -> str:
    """Resolve ``path`` and raise a clear OSError if it is missing or a directory."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path}: is a directory, expected a {what}")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such {what}")
    return path


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
            meta = json.loads(zf.read(META_MEMBER).decode("utf-8"))
        except (ValueError, UnicodeDecodeError, zipfile.BadZipFile) as e:
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
