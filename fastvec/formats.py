"""word2vec.c text/binary and GloVe text formats: careful readers and atomic writers.

Text: optional header ``"<count> <dim>"``, then one ``word v1 ... vdim`` line per word. The
vector is the last ``dim`` fields, so words that contain spaces (as in GloVe 840B) survive.
Binary: header line, then per word ``word<space>`` + dim little-endian float32, optionally
followed by a newline (word2vec.c writes one, gensim does not; both are read).

Readers never allocate more than the file can justify: the declared matrix must fit in the
file (at least 4 bytes per value in binary, 2 in text) and under ``max_memory``.
"""
from __future__ import annotations

import bz2
import contextlib
import errno
import gzip
import io
import lzma
import mmap
import numbers
import os
import re
import tempfile
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from fastvec import _warnings
from fastvec._io import READ_ERRORS, FormatError, atomic_write, check_readable_file

__all__ = ["detect_format", "format_from_name", "load_vectors", "read_word2vec", "write_word2vec"]


if TYPE_CHECKING:
    from fastvec.keyedvectors import KeyedVectors

_CHUNK_ROWS = 4096
_UNICODE_ERRORS = ("strict", "replace", "ignore")
_DUPLICATES = ("error", "first", "last")


_SPACE = re.compile(r"\s")
_ASCII_BLANKS = re.compile(r"[ \t]+")
#: how far the binary reader looks for the space that ends a word (a corrupt file is refused
#: there, not after a scan of the whole file); the binary writer refuses longer words
MAX_BINARY_WORD_BYTES = 1 << 16
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\Z")   # a number as writers print one


def _blank_split(text: str) -> list[str]:
    """The fields of a line between ASCII spaces and tabs (the only separators of the formats)."""
    return _ASCII_BLANKS.split(text.strip(" \t"))


def _fields(text: str, dim: int) -> list[str] | None:
    """A text line as [word, dim number fields], fields separated by ASCII spaces and tabs
    only, as gensim and word2vec.c read them: a word may hold other whitespace (U+00A0, U+2028,
    a lone CR) and, as in GloVe 840B, spaces; it is never stripped of anything but ASCII blanks.
    None when the line has fewer than dim + 1 fields."""
    fields = text.rstrip(" \t").split(" ")
    if len(fields) == dim + 1 and fields[0] and "\t" not in text:
        return fields                                   # the common case: single spaces
    fields = _blank_split(text)
    if len(fields) == dim + 1:
        return fields if fields[0] else None
    if len(fields) < dim + 1:
        return None
    # a word with blanks inside: the last dim fields are the numbers, the rest the word as written
    end = len(text.rstrip(" \t"))
    numbers = []
    for _ in range(dim):
        start = max(text.rfind(" ", 0, end), text.rfind("\t", 0, end)) + 1
        numbers.append(text[start:end])
        end = len(text[:start].rstrip(" \t"))
    word = text[:end].lstrip(" \t")
    return [word] + numbers[::-1] if word else None


def _encodable(key: str) -> bool:
    try:
        key.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _check_keys_writable(path, keys: Sequence[str], binary: bool) -> None:
    """Words gensim and word2vec.c read back as written: non-empty, no whitespace (these readers
    split at it), valid UTF-8 (no lone surrogates). Checked before anything is written."""
    joined = "\x00".join(keys)          # one scan for all words; NUL is not whitespace
    bad = None
    if any(not k for k in keys):
        bad = ""
    elif _SPACE.search(joined) is not None or joined.count("\x00") != max(len(keys) - 1, 0):
        # whitespace, or a NUL inside a word (word2vec.c reads words as C strings)
        bad = next(k for k in keys if "\x00" in k or _SPACE.search(k))
    if bad is None and binary:
        bad_long = next((k for k in keys if len(k) * 4 >= MAX_BINARY_WORD_BYTES and
                         len(k.encode("utf-8", "surrogatepass")) >= MAX_BINARY_WORD_BYTES), None)
        if bad_long is not None:
            raise ValueError(f"{os.fspath(path)}: word {bad_long[:40]!r}... is longer than the "
                             f"{MAX_BINARY_WORD_BYTES - 1} bytes binary readers look for its end in; "
                             "save in the text format or the native format (kv.save) instead")
    if bad is not None:
        raise ValueError(f"{os.fspath(path)}: word {bad!r} cannot be written to the "
                         f"{'binary' if binary else 'text'} word2vec format (empty, or contains whitespace, "
                         "at which readers split words, or NUL); save in the native format (kv.save) instead")
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError:
        bad = next(k for k in keys if not _encodable(k))
        raise ValueError(f"{os.fspath(path)}: word {bad!r} cannot be encoded as UTF-8 (it contains a lone "
                         "surrogate); save in the native format (kv.save) instead") from None


def write_word2vec(path, keys: Sequence[str], vectors: np.ndarray, *, binary: bool, write_header: bool) -> None:
    """Write ``keys`` and ``vectors`` in word2vec text or binary format (GloVe text without
    the header), atomically; words or values the format cannot hold are refused first."""
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or len(keys) != vectors.shape[0]:
        raise ValueError("need one vector row per key")
    if binary and not write_header:
        raise ValueError("the binary word2vec format always has a header")
    if vectors.shape[1] == 0:
        raise ValueError(f"{os.fspath(path)}: vectors of 0 dimensions cannot be written (readers expect "
                         "at least one number per word)")
    if not write_header and len(keys) == 0:
        raise ValueError(f"{os.fspath(path)}: a GloVe file of 0 words would be empty, which readers refuse")
    if not write_header and keys[0].startswith("\ufeff"):
        raise ValueError(f"{os.fspath(path)}: the first word {keys[0]!r} starts with U+FEFF, which readers of a "
                         "headerless GloVe file take for a byte-order mark and drop; save another word first, "
                         "or use the word2vec text format")
    _check_keys_writable(path, keys, binary)
    _check_values_writable(path, keys, vectors)
    n, dim = vectors.shape
    with atomic_write(path, "wb") as raw, _compressing(path, raw) as f:
        if write_header:
            f.write(f"{n} {dim}\n".encode())
        fmt = " ".join(["%.9g"] * dim)
        for start in range(0, n, _CHUNK_ROWS):   # converted a chunk at a time: no copy of the matrix
            chunk_keys = keys[start:start + _CHUNK_ROWS]
            values = vectors[start:start + _CHUNK_ROWS].astype("<f4", copy=False)
            if binary:
                f.write(b"".join(key.encode("utf-8") + b" " + row.tobytes() + b"\n"
                                 for key, row in zip(chunk_keys, values)))
            else:
                lines = [f"{key} {fmt % tuple(row)}\n" for key, row in
                         zip(chunk_keys, values.astype(np.float64).tolist())]
                f.write("".join(lines).encode("utf-8"))


def _check_values_writable(path, keys: Sequence[str], vectors: np.ndarray) -> None:
    """Both formats hold float32: NaN, infinities and values beyond the float32 range (which
    would be written as infinities) are refused before anything is written, since the readers
    (ours among them) refuse such files."""
    if vectors.dtype.kind not in "fiu":
        raise TypeError(f"vectors must hold real numbers, not {vectors.dtype}")
    for start in range(0, vectors.shape[0], _CHUNK_ROWS):
        with np.errstate(over="ignore", invalid="ignore"):
            block = vectors[start:start + _CHUNK_ROWS].astype(np.float32, copy=False)
        bad = ~np.isfinite(block).all(axis=1)
        if bad.any():
            row = start + int(np.flatnonzero(bad)[0])
            raise ValueError(f"{os.fspath(path)}: the vector of {keys[row]!r} contains NaN, an infinity or a value "
                             "beyond the float32 range, which the file cannot hold; nothing was written")


class _Collector:
    """Rows accumulated with duplicate handling and a final finiteness check."""

    def __init__(self, path: str, dim: int, capacity: int | None, duplicates: str):
        self.path, self.dim, self.duplicates = path, dim, duplicates
        self.keys: list[str] = []
        self.index: dict[str, int] = {}
        self.fixed = np.empty((capacity, dim), dtype=np.float32) if capacity is not None else None
        self.chunks: list[np.ndarray] = []
        self.pending: list[np.ndarray] = []
        self.n = 0
        self.seen = 0
        self.dropped = 0

    def add(self, word: str, vec: np.ndarray, where: str) -> None:
        self.seen += 1
        if word in self.index:
            if self.duplicates == "error":
                raise FormatError(self.path, f"{where}: duplicate word {word!r} "
                                             "(pass duplicates='first' or 'last' to accept the file)")
            self.dropped += 1
            if self.duplicates == "last":
                self._row_set(self.index[word], vec)
            return
        self.index[word] = self.n
        self.keys.append(word)
        if self.fixed is not None:
            self.fixed[self.n] = vec
        else:
            self.pending.append(vec)
            if len(self.pending) >= _CHUNK_ROWS:
                self.chunks.append(np.array(self.pending, dtype=np.float32))
                self.pending = []
        self.n += 1

    def _row_set(self, i: int, vec: np.ndarray) -> None:
        if self.fixed is not None:
            self.fixed[i] = vec
            return
        chunk, row = divmod(i, _CHUNK_ROWS)   # every finished chunk holds _CHUNK_ROWS rows
        if chunk < len(self.chunks):
            self.chunks[chunk][row] = vec
        else:
            self.pending[row] = vec

    def finish(self) -> tuple[list[str], np.ndarray]:
        if self.fixed is not None:
            vectors = self.fixed[:self.n]
        else:
            parts = self.chunks + ([np.array(self.pending, dtype=np.float32)] if self.pending else [])
            vectors = np.concatenate(parts) if parts else np.zeros((0, self.dim), dtype=np.float32)
        bad = ~np.isfinite(vectors).all(axis=1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise FormatError(self.path, f"vector of word {self.keys[i]!r} contains NaN or infinite values")
        if self.dropped:
            _warnings.warn(f"{self.path}: {self.dropped} duplicate word(s) resolved with duplicates="
                          f"{self.duplicates!r}")
        return self.keys, np.ascontiguousarray(vectors)


def _parse_header(path: str, line: bytes) -> tuple[int, int]:
    parts = line.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise FormatError(path, f"bad header {line[:80]!r}: expected '<count> <dimensions>' "
                                "(for headerless GloVe files use no_header=True / load_glove_format)")
    n, dim = int(parts[0]), int(parts[1])
    if not 1 <= dim <= MAX_DIM:
        raise FormatError(path, f"header declares {dim} dimensions (expected 1 to {MAX_DIM})")
    return n, dim


def _check_size(path: str, n: int, dim: int, file_size: int, min_bytes_per_value: int, max_memory: int | None) -> None:
    need = n * dim * 4
    if n * dim * min_bytes_per_value > file_size:
        raise FormatError(path, f"header declares {n} vectors of {dim} dimensions, which cannot fit in a "
                                f"{file_size}-byte file (truncated or corrupt)")
    if max_memory is not None and need > max_memory:
        raise FormatError(path, f"the vectors would need {need} bytes, more than max_memory={max_memory}")


def read_word2vec(path, *, binary: bool, no_header: bool = False, limit: int | None = None,
                  unicode_errors: str = "strict", duplicates: str = "error",
                  max_memory: int | None = None, binary_hint: bool = True) -> tuple[list[str], np.ndarray]:
    """Words and vectors of a word2vec text or binary file (GloVe text with ``no_header``).
    ``binary_hint``: a first line that is not UTF-8 suggests ``binary=True`` (not when the
    format was detected from the content)."""
    path = check_readable_file(path, "vectors file", regular=True)
    if unicode_errors not in _UNICODE_ERRORS:
        raise ValueError(f"unicode_errors must be one of {_UNICODE_ERRORS}")
    if duplicates not in _DUPLICATES:
        raise ValueError(f"duplicates must be one of {_DUPLICATES}")
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, numbers.Integral) or limit < 0:
            raise ValueError(f"limit must be a non-negative int or None, got {limit!r}")
        limit = int(limit)   # NumPy integers too
    if binary and no_header:
        raise ValueError("binary word2vec files always have a header")
    size = os.path.getsize(path)
    if size == 0:
        raise FormatError(path, "the file is empty")
    with _decompressed(path, max_memory) as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            raise FormatError(path, "the file is empty")
        if binary:
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                return _read_binary(path, mm, size, limit, unicode_errors, duplicates, max_memory)
        return _read_text(path, f, size, no_header, limit, unicode_errors, duplicates, max_memory,
                          binary_hint=binary_hint and not no_header)


def _gzip(fileobj, mode: str):
    # no file name (that of the temporary file) and no time stamp in the header: same bytes
    # for the same vectors
    return gzip.GzipFile(filename="", fileobj=fileobj, mode=mode, mtime=0)


_MAGIC = {b"\x1f\x8b": _gzip, b"BZh": bz2.BZ2File, b"\xfd7zXZ\x00": lzma.LZMAFile}
_OPENERS = {".gz": _gzip, ".bz2": bz2.BZ2File, ".xz": lzma.LZMAFile}
#: decompressed bytes allowed per compressed byte (float vectors compress about 1.1x, text
#: about 3x): more is a decompression bomb
MAX_EXPANSION = 64


@contextlib.contextmanager
def _opened(path: str):
    """(the file, the decompressor its first bytes call for, or None), the file at offset 0."""
    with open(path, "rb") as f:
        if not f.seekable():   # the readers map the file or read it more than once
            raise OSError(errno.ESPIPE, f"{path}: is a pipe or stream; vectors are read from a regular file "
                                        "(save the stream to a file first)")
        head = f.read(6)
        f.seek(0)
        yield f, next((opener for magic, opener in _MAGIC.items() if head.startswith(magic)), None)


@contextlib.contextmanager
def _decompressed(path: str, max_memory: int | None):
    """The file opened for reading, or, for gzip/bzip2/xz data (GoogleNews-vectors-negative300.bin.gz),
    its decompressed content in an unnamed temporary file (so that the readers can map it),
    refused past MAX_EXPANSION times its size or 4 x max_memory."""
    with _opened(path) as (f, opener):
        if opener is None:
            yield f
            return
        limit = MAX_EXPANSION * max(os.fstat(f.fileno()).st_size, 1 << 20)
        if max_memory is not None:
            limit = min(limit, 4 * max_memory + (1 << 20))
        with tempfile.TemporaryFile() as out:
            try:
                with opener(f, "rb") as z:
                    written = 0
                    while chunk := z.read(1 << 20):
                        written += len(chunk)
                        if written > limit:
                            raise FormatError(path, f"decompresses to more than {limit} bytes (a decompression bomb, "
                                                    "or raise max_memory)")
                        out.write(chunk)
            except READ_ERRORS as e:
                raise FormatError(path, f"corrupt compressed data ({e})") from None
            out.flush()
            out.seek(0)
            yield out


def format_from_name(path: str | os.PathLike) -> str:
    """The output format a file name asks for: ``'txt'`` for .txt or .vec (word2vec text),
    ``'native'`` for .fv, ``'bin'`` (word2vec binary) for anything else; a compression suffix
    (.gz, .bz2, .xz: see :data:`_OPENERS`) after them is skipped."""
    base, ext = os.path.splitext(os.fspath(path).lower())
    if ext in _OPENERS:
        base, ext = os.path.splitext(base)
    return {".txt": "txt", ".vec": "txt", ".fv": "native"}.get(ext, "bin")


@contextlib.contextmanager
def _compressing(path, raw):
    """``raw`` itself, or a gzip/bzip2/xz writer around it when ``path`` ends in .gz/.bz2/.xz."""
    opener = _OPENERS.get(os.path.splitext(os.fspath(path))[1].lower())
    if opener is None:
        yield raw
        return
    with opener(raw, "wb") as z:
        yield z


def _decode(path: str, raw: bytes, unicode_errors: str, where: str) -> str:
    try:
        return raw.decode("utf-8", unicode_errors)
    except UnicodeDecodeError as e:
        raise FormatError(path, f"{where}: {raw[:60]!r} is not valid UTF-8 ({e.reason}); "
                                "pass unicode_errors='replace' or 'ignore' to accept it") from None


_TEXT_NUMBER_BYTES = b"0123456789.-+eE \t\r\n"
_BOM = b"\xef\xbb\xbf"
MAX_DIM = 1 << 24     # more dimensions than any embedding has: a header declaring them is corrupt


def _read_binary(path, mm, size, limit, unicode_errors, duplicates, max_memory):
    nl = mm.find(b"\n", 0, 1024)
    if nl < 0:
        raise FormatError(path, "no header line (expected '<count> <dimensions>')")
    n, dim = _parse_header(path, mm[:nl])
    if limit is not None:
        n = min(n, limit)
    _check_size(path, n, dim, size, 4, max_memory)
    out = _Collector(path, dim, n, duplicates)
    pos = nl + 1
    row_bytes = 4 * dim
    for i in range(n):
        while pos < size and mm[pos:pos + 1] in (b"\n", b" ", b"\r", b"\t"):
            pos += 1
        space = mm.find(b" ", pos, min(size, pos + MAX_BINARY_WORD_BYTES))
        if space < 0:
            raise FormatError(path, f"truncated or corrupt: header declares {n} vectors, entry {i + 1} "
                                    f"(byte {pos}) has no space ending its word within "
                                    f"{MAX_BINARY_WORD_BYTES} bytes (the file ends early, or holds an "
                                    "empty word, or a word longer than that)")
        word = _decode(path, mm[pos:space], unicode_errors, f"entry {i + 1}")
        if not word:
            raise FormatError(path, f"entry {i + 1} has an empty word")
        start = space + 1
        if start + row_bytes > size:
            raise FormatError(path, f"truncated: header declares {n} vectors but the file ends inside "
                                    f"entry {i + 1} ({word!r})")
        raw_vec = mm[start:start + row_bytes]
        if i == 0 and dim >= 4 and not raw_vec.translate(None, _TEXT_NUMBER_BYTES):
            raise FormatError(path, "entry 1: the vector bytes are decimal text, not float32: this looks like "
                                    "a word2vec text file (pass binary=False)")
        vec = np.frombuffer(raw_vec, dtype="<f4")  # a copy: mm keeps no exports
        out.add(word, vec, f"entry {i + 1}")
        pos = start + row_bytes
    if limit is None:
        while pos < size and mm[pos:pos + 1] in (b"\n", b" ", b"\r", b"\t"):
            pos += 1
        if pos < size:
            raise FormatError(path, f"header declares {n} vectors but more data follows (byte {pos} of {size})")
    return out.finish()


def _read_text(path, f, size, no_header, limit, unicode_errors, duplicates, max_memory, *, binary_hint=True):
    declared = None
    line_no = 0
    last = (b"\n", "", 0)   # the last vector's line, its word and line number
    if f.read(3) != _BOM:  # a UTF-8 byte order mark (Windows editors) is not part of the first word
        f.seek(0)
    if no_header:
        dim = None
        if limit == 0:
            return [], np.zeros((0, 0), dtype=np.float32)
    else:
        header = f.readline(1024)
        line_no = 1
        declared, dim = _parse_header(path, header)
        if limit is not None:
            declared = min(declared, limit)
        _check_size(path, declared, dim, size, 2, max_memory)
    out = None if dim is None else _Collector(path, dim, declared, duplicates)
    for raw in f:
        line_no += 1
        if not raw.strip():
            continue
        if out is not None and (declared is not None and out.seen >= declared or limit is not None and out.seen >= limit):
            if limit is not None:
                break
            raise FormatError(path, f"line {line_no}: header declares {declared} vectors but more lines follow")
        if out is None or out.seen == 0:
            try:
                text = _decode(path, raw, unicode_errors, f"line {line_no}").rstrip("\r\n")
            except FormatError as e:
                if not binary_hint:   # GloVe text has no binary variant; a detected format is text
                    raise
                raise FormatError(path, f"{e.problem} (or is this a binary file? pass binary=True)") from None
        else:
            text = _decode(path, raw, unicode_errors, f"line {line_no}").rstrip("\r\n")
        if dim is None:  # headerless: the first line fixes the dimension
            if max_memory is not None and (text.count(" ") + text.count("\t")) * 4 > max_memory:
                raise FormatError(path, f"line {line_no}: the vectors would need more than max_memory="
                                        f"{max_memory} bytes")
            dim = len(_blank_split(text)) - 1
            if dim < 1:
                raise FormatError(path, f"line {line_no}: expected a word followed by numbers")
            if max_memory is not None:
                _check_size(path, 0, dim, size, 2, max_memory)
            out = _Collector(path, dim, None, duplicates)
        parts = _fields(text, dim)
        if parts is None:
            got = len(_blank_split(text)) - 1
            raise FormatError(path, f"line {line_no}: expected a word and {dim} numbers, got {got} field(s)")
        word_parts = _ASCII_BLANKS.split(parts[0])
        if len(word_parts) > 1 and _DECIMAL.match(word_parts[-1]):
            # a word may contain spaces (GloVe 840B), but one ending in a number means more
            # numbers than the header (or the first line) declares
            hint = ""
            if no_header and line_no == 2 and out.seen == 1 and dim == 1:
                hint = "; the first line looks like a word2vec header: use load_word2vec_format"
            raise FormatError(path, f"line {line_no}: expected a word and {dim} numbers, got more numbers "
                                    f"({parts[0][:40]!r} ...){hint}")
        try:
            with np.errstate(over="raise"):
                vec = np.array(parts[1:], dtype=np.float32)
        except ValueError:
            bad = next((p for p in parts[1:] if not _is_float(p)), parts[1])
            raise FormatError(path, f"line {line_no}: {bad[:40]!r} is not a number") from None
        except FloatingPointError:
            raise FormatError(path, f"line {line_no}: a value is outside the float32 range") from None
        out.add(parts[0], vec, f"line {line_no}")
        last = (raw, parts[0], line_no)
        if max_memory is not None and declared is None and out.n * dim * 4 > max_memory:
            raise FormatError(path, f"the vectors need more than max_memory={max_memory} bytes")
    if out is None:
        raise FormatError(path, "no vectors found")
    if declared is not None and out.seen < declared:
        raise FormatError(path, f"truncated: header declares {declared} vectors but the file has {out.seen}")
    if out.seen and not last[0].endswith(b"\n") and (limit is None or out.seen < limit):
        # every writer ends its lines; a file cut inside a number still parses
        _warnings.warn(f"{path}: line {last[2]} (the last) does not end with a newline: if the file was cut short, "
                       f"the vector of {last[1]!r} may have lost digits")
    return out.finish()


def _is_float(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


@contextlib.contextmanager
def _decompressed_head(path: str):
    """The file, or a decompressing reader of it (format detection needs the first bytes only)."""
    with _opened(path) as (f, opener):
        if opener is None:
            yield f
            return
        try:
            with opener(f, "rb") as z:
                head = z.read(1 << 16)
        except READ_ERRORS as e:
            raise FormatError(path, f"corrupt compressed data ({e})") from None
        yield io.BytesIO(head)


def detect_format(path) -> str:
    """'native', 'bin' (word2vec binary), 'txt' (word2vec text) or 'glove' (headerless text)."""
    path = check_readable_file(path, "vectors file", regular=True)
    with _decompressed_head(path) as f:
        head = f.read(1 << 16)
    if head.startswith(_BOM):
        head = head[len(_BOM):]
    if not head:
        raise FormatError(path, "the file is empty")
    if head.startswith(b"PK\x03\x04"):
        return "native"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise FormatError(path, "this is a Python pickle (gensim's KeyedVectors.save and Word2Vec.save write "
                                "them), which fastvec does not read: it can run code; write the vectors with "
                                "gensim's save_word2vec_format instead")
    if head.startswith(b"\x93NUMPY"):
        raise FormatError(path, "this is a NumPy array file (.npy) without words; save the vectors in a "
                                "vectors format (word2vec text or binary, GloVe text or fastvec native)")
    first, _, rest = head.partition(b"\n")
    parts = first.split()
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        # text if the first entry reads as a word and dim numbers; binary float32 data almost
        # never does. When the sample holds no whole line: binary data is full of control bytes,
        # text has none besides \t \n \r
        dim = int(parts[1])
        line, newline, _ = rest.partition(b"\n")
        if newline:
            fields = line.rsplit(None, dim)
            return "txt" if len(fields) == dim + 1 and all(_is_float(x) for x in fields[1:]) else "bin"
        return "bin" if any(b < 32 and b not in (9, 10, 13) for b in rest[:2048]) else "txt"
    return "glove"


def load_vectors(path: str | os.PathLike, *, format: str = "auto", **kwargs: Any) -> "KeyedVectors":
    """Load vectors in any supported format (detected from the content with ``format='auto'``):
    ``'native'`` (:meth:`KeyedVectors.load`, whose ``mmap`` it passes on), ``'bin'`` and ``'txt'``
    (word2vec binary and text) or ``'glove'`` (headerless text), which take the options of
    :meth:`KeyedVectors.load_word2vec_format` (``limit``, ``unicode_errors``, ``duplicates``,
    ``max_memory``). An option the detected format does not have is a TypeError."""
    from fastvec.keyedvectors import KeyedVectors

    fmt = detect_format(path) if format == "auto" else format
    if fmt == "native":
        return KeyedVectors.load(path, **kwargs)
    if fmt in ("bin", "txt", "glove"):
        return KeyedVectors(*read_word2vec(path, binary=(fmt == "bin"), no_header=(fmt == "glove"),
                                           binary_hint=(format != "auto"), **kwargs))
    raise ValueError(f"format must be 'auto', 'native', 'bin', 'txt' or 'glove', not {format!r}")
