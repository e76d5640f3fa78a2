"""Reading corpora and encoding them once into int32 ids plus int64 sentence offsets.

A corpus is one of:

* a path to a text file (optionally ``.gz``, ``.bz2`` or ``.xz``), one sentence or document
  per line, lines of any length;
* a re-iterable of token lists (``[["the", "cat"], ...]``), not a one-shot generator;
* an already encoded :class:`Corpus`.

Files are read in blocks cut at whitespace, so a 100 MB line costs no more memory than a
short one and is never truncated; invalid UTF-8 is replaced (and counted), not fatal.
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import os
import re
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence, Union

import numpy as np

from fastvec import _warnings
from fastvec._io import READ_ERRORS, FormatError, check_readable_file, load_container, save_container, saved_int
from fastvec._memory import release_free_heap
from fastvec._text import MAX_TOKEN_BYTES

if TYPE_CHECKING:
    from fastvec.vocab import Vocabulary

BLOCK_BYTES = 1 << 23
# what separates tokens: str.split()'s whitespace in UTF-8, and NUL (as fastvec._text has it)
_WHITESPACE = (b" ", b"\n", b"\t", b"\r", b"\x0b", b"\x0c", b"\x00", b"\x1c", b"\x1d", b"\x1e", b"\x1f") + tuple(
    chr(c).encode() for c in (0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000))
_WORD_RE: re.Pattern | None = None

Tokenizer = Callable[[str], Iterable[str]]
CorpusLike = Union[str, os.PathLike, Iterable[Sequence[str]], "Corpus"]


def _word_pattern() -> re.Pattern:
    """Runs of Unicode word characters as Unicode defines them (UTS #18): Python's ``\\w`` plus
    the combining marks (categories Mn, Mc, Me) and the joiners U+200C/U+200D, without which
    Devanagari, Tamil or decomposed Latin text (``nai\\u0308ve``) would be cut inside words.
    Built on first use (a pass over the code points, about 0.3 s)."""
    global _WORD_RE
    if _WORD_RE is None:
        import unicodedata
        marks = [c for c in range(0x300, sys.maxunicode + 1) if unicodedata.category(chr(c)).startswith("M")]
        ranges, start = [], marks[0]
        for prev, c in zip(marks, marks[1:] + [-1]):
            if c != prev + 1:
                ranges.append(f"\\U{start:08x}-\\U{prev:08x}" if prev > start else f"\\U{start:08x}")
                start = c
        # a mark or joiner continues a word, never starts one (an emoji's variation selector or
        # a lone joiner is not a word)
        _WORD_RE = re.compile(r"\w[\w\u200c\u200d" + "".join(ranges) + "]*")
    return _WORD_RE


_ASCII_WORD_RE = re.compile(r"\w+")   # the same runs for ASCII text, without the large class


def simple_tokenize(text: str) -> list[str]:
    """Lowercase and keep runs of Unicode word characters: letters, digits, ``_`` and the
    combining marks and joiners that are part of words (see :func:`_word_pattern`)."""
    text = text.lower()
    return _ASCII_WORD_RE.findall(text) if text.isascii() else _word_pattern().findall(text)


def _resolve_tokenizer(tokenizer: Tokenizer | str | None) -> Tokenizer | None:
    if tokenizer is None or callable(tokenizer):
        return tokenizer
    if tokenizer == "simple":
        return simple_tokenize
    raise ValueError(f"tokenizer must be None, 'simple' or a callable, not {tokenizer!r}")


@dataclass
class ReadStats:
    """What the reader saw: raw tokens, lines, and anything it had to repair or skip."""

    tokens: int = 0
    lines: int = 0
    bytes: int = 0
    replaced_sequences: int = 0
    nul_bytes: int = 0
    skipped_long_tokens: int = 0
    sources: list = field(default_factory=list)

    def warn_repairs(self) -> None:
        where = ", ".join(self.sources) or "corpus"
        if self.replaced_sequences:
            hint = ""
            if self.replaced_sequences > max(100, self.bytes // 1000):
                hint = ("; the text is probably in another encoding (Latin-1, cp1252, ...): convert it to "
                        "UTF-8 first, e.g. iconv -f latin1 -t utf-8")
            _warnings.warn(f"{where}: replaced {self.replaced_sequences} undecodable byte sequence(s) "
                          f"with U+FFFD (input is not valid UTF-8){hint}")
        if self.nul_bytes:
            _warnings.warn(f"{where}: treated {self.nul_bytes} NUL byte(s) as spaces")
        if self.skipped_long_tokens:
            _warnings.warn(f"{where}: skipped {self.skipped_long_tokens} token(s) longer than "
                          f"{MAX_TOKEN_BYTES} bytes")


def _open_binary(path: str):
    lower = path.lower()
    if lower.endswith(".gz"):
        return gzip.open(path, "rb")
    if lower.endswith(".bz2"):
        return bz2.open(path, "rb")
    if lower.endswith(".xz") or lower.endswith(".lzma"):
        return lzma.open(path, "rb")
    return open(path, "rb")


_MAX_SPACE_BYTES = max(len(ws) for ws in _WHITESPACE) - 1   # bytes of a whitespace character cut short
# the longest carry between blocks that may still hold a token of MAX_TOKEN_BYTES: the token
# plus the first bytes of a multi-byte whitespace character the block cut short (beyond it the
# run is skipped; shorter carries go to the next block, whose tokenizer applies the limit)
_CARRY_LIMIT = MAX_TOKEN_BYTES + _MAX_SPACE_BYTES


def _last_whitespace(data: bytes) -> int:
    """Index of the last byte of the last whitespace character in data (see _WHITESPACE), or -1."""
    best = max(data.rfind(b" "), data.rfind(b"\n"))
    tail = data[best + 1:] if best >= 0 else data
    for ws in _WHITESPACE[2:]:
        pos = tail.rfind(ws)
        if pos >= 0:
            best = max(best, pos + len(ws) - 1 + (len(data) - len(tail)))
    return best


def _first_whitespace(data: bytes) -> int:
    """Index of the first byte of the first whitespace character in data, or -1."""
    return min((p for p in (data.find(ws) for ws in _WHITESPACE) if p >= 0), default=-1)


_CONTROL_BYTES = bytes(c for c in range(28) if c not in (9, 10, 11, 12, 13, 27)) + b"\x7f"  # 28-31 separate tokens


def _check_not_binary(path: str, data: bytes) -> None:
    """Refuse input that is clearly not text, before it pollutes a vocabulary."""
    sample = data[:1 << 16]
    if not sample:
        return
    # control bytes that text does not contain (NUL included; not \t \n \v \f \r or ESC): about
    # one byte in ten of binary or compressed data, many in UTF-16. Bytes that are not UTF-8 do
    # not count: text in another encoding (Latin-1, cp1252) is read with them replaced and counted.
    bad = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if bad > max(8, len(sample) // 100):
        raise ValueError(f"{path}: does not look like a text file ({bad} NUL or control bytes in "
                         f"the first {len(sample)} bytes); fastvec reads UTF-8 text, one sentence per line")


def _decoded(data: bytes, stats: ReadStats) -> str:
    """``data`` as str, undecodable sequences replaced by U+FFFD and counted in ``stats``."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", "replace")
        stats.replaced_sequences += text.count("\ufffd") - data.count("\ufffd".encode())
        return text


def _valid_utf8(block: bytes, stats: ReadStats) -> bytes:
    """``block`` itself when it is valid UTF-8 (no copy), else its repaired encoding."""
    try:
        block.decode("utf-8")
        return block
    except UnicodeDecodeError:
        return _decoded(block, stats).encode("utf-8")


def iter_file_blocks(path: str | os.PathLike, stats: ReadStats, block_bytes: int | None = None, *,
                     skip_long: bool = True) -> Iterator[bytes]:
    """Yield valid UTF-8 blocks of a text file, each ending at whitespace (or at EOF).

    A run of more than MAX_TOKEN_BYTES non-whitespace bytes is skipped and counted; with
    ``skip_long=False`` it is kept whole (for a tokenizer that splits it further)."""
    path = check_readable_file(path, "corpus file")
    block_bytes = block_bytes or BLOCK_BYTES
    stats.sources.append(path)
    carry = b""
    skipping = False  # inside an over-long token that started in an earlier block
    run: list[bytes] = []  # skip_long=False: the pieces of a run without whitespace, joined once it ends
    first = True
    with _open_binary(path) as f:
        while True:
            try:
                chunk = f.read(block_bytes)
            except READ_ERRORS as e:
                raise OSError(f"{path}: read failed ({e})") from e
            if first:
                _check_not_binary(path, chunk)
                first = False
            stats.bytes += len(chunk)
            if not chunk:
                break
            if b"\x00" in chunk:
                stats.nul_bytes += chunk.count(b"\x00")
            if run:   # only the new bytes (and a whitespace character they may complete) are searched
                if _last_whitespace(run[-1][-_MAX_SPACE_BYTES:] + chunk) < 0:
                    run.append(chunk)
                    continue
                carry, run = b"".join(run), []
            data = carry + chunk if carry else chunk
            carry = b""
            # while skipping, carry keeps the last bytes of the skipped run: they may begin a
            # multi-byte whitespace character that the next chunk completes
            if skipping:
                first_ws = _first_whitespace(data)
                if first_ws < 0:
                    carry = data[-_MAX_SPACE_BYTES:]
                    continue
                data = data[first_ws:]
                skipping = False
            cut = _last_whitespace(data)
            if cut < 0:
                if skip_long and len(data) > _CARRY_LIMIT:
                    stats.skipped_long_tokens += 1
                    skipping = True
                    carry = data[-_MAX_SPACE_BYTES:]
                elif not skip_long and len(data) > _CARRY_LIMIT:
                    run = [data]   # a long run: gathered in pieces, not copied again with every block
                else:
                    carry = data
                continue
            carry = data[cut + 1:]
            if skip_long and len(carry) > _CARRY_LIMIT:
                stats.skipped_long_tokens += 1
                carry = carry[-_MAX_SPACE_BYTES:]
                skipping = True
            yield _valid_utf8(data[:cut + 1], stats)
    if run:
        carry = b"".join(run)
    if carry and not skipping:
        yield _valid_utf8(carry, stats)


def iter_file_lines(path: str | os.PathLike, stats: ReadStats) -> Iterator[str]:
    """The lines of a text file, each whole whatever its length (without its newline), as
    str with invalid UTF-8 replaced and counted: what a tokenizer is given (a piece of a line
    could cut a word, or the id a tokenizer expects at the start of a line)."""
    path = check_readable_file(path, "corpus file")
    stats.sources.append(path)
    with _open_binary(path) as f:
        try:
            pending = f.read(1 << 16)
            _check_not_binary(path, pending)
            while True:
                newline = pending.find(b"\n")
                if newline < 0:
                    more = f.readline()   # up to the next newline, however far
                    if more:
                        pending += more
                        continue
                    if not pending:
                        break
                    line, pending = pending, b""
                else:
                    line, pending = pending[:newline + 1], pending[newline + 1:]
                stats.bytes += len(line)
                if b"\x00" in line:
                    stats.nul_bytes += line.count(b"\x00")
                text = _decoded(line, stats)
                yield text[:-1] if text.endswith("\n") else text
        except READ_ERRORS as e:
            raise OSError(f"{path}: read failed ({e})") from e


def _simple_tokenized_blocks(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """tokenizer="simple" over blocks cut at whitespace: its tokens never span whitespace, so
    pieces of a line give the same tokens as the whole line, at the memory of a block."""
    for block in blocks:
        lines = block.decode("utf-8").split("\n")
        yield "\n".join(" ".join(simple_tokenize(line)) for line in lines).encode("utf-8")


def _tokenized_lines(lines: Iterable[str], tokenizer: Tokenizer, path: str) -> Iterator[bytes]:
    """Blocks of about BLOCK_BYTES for the counter: each line's tokens joined by spaces, one
    line each. A token holding whitespace would be split there by the counter, and a newline
    would start a new sentence: ValueError naming the line and the token instead."""
    parts: list[str] = []
    size = 0
    for n, line in enumerate(lines, 1):
        tokens = tokenizer(line)
        if isinstance(tokens, str):
            raise TypeError(f"{path}: line {n}: the tokenizer returned a str, not a list of tokens")
        tokens = [t for t in tokens if t != ""]
        try:
            text = " ".join(tokens)
        except TypeError:
            bad = next(t for t in tokens if not isinstance(t, str))
            raise TypeError(f"{path}: line {n}: the tokenizer returned a {type(bad).__name__} token {bad!r}; "
                            "tokens must be str") from None
        # cheap test first: one space between tokens and no other separator or control character;
        # else every token must be its own split (whitespace at a token's end was stripped by the
        # counter, silently) and hold no NUL (the counter splits there)
        if not (text.count(" ") == len(tokens) - 1 and text.isprintable()) and (
                text.split() != tokens or "\x00" in text):
            bad = next(t for t in tokens if t.split() != [t] or "\x00" in t)
            raise ValueError(f"{path}: line {n}: the tokenizer returned the token {bad[:40]!r}, which holds "
                             "whitespace or NUL; tokens are words without them (strip them, or join the parts "
                             "of a token, e.g. with '_')")
        parts.append(text)
        size += len(text) + 1
        if size >= BLOCK_BYTES:   # surrogatepass: lone surrogates as token lists keep them
            yield ("\n".join(parts) + "\n").encode("utf-8", "surrogatepass")
            parts, size = [], 0
    if parts:
        yield ("\n".join(parts) + "\n").encode("utf-8", "surrogatepass")


def iter_token_lists(corpus: Iterable[Sequence[str]]) -> Iterator[Sequence[str]]:
    """Validate an iterable of token lists while iterating it."""
    for i, sentence in enumerate(corpus):
        if isinstance(sentence, (str, bytes)):
            raise TypeError(f"corpus item {i} is a {type(sentence).__name__}, expected a list of tokens; "
                            "split your sentences first (e.g. line.split()) or pass a file path")
        if not isinstance(sentence, (list, tuple)):
            try:
                once = iter(sentence) is sentence
            except TypeError:
                raise TypeError(f"corpus item {i} is a {type(sentence).__name__}, expected a list of tokens") from None
            if once:   # counting would use it up, and encoding find it empty
                raise TypeError(f"corpus item {i} is a one-shot iterator ({type(sentence).__name__}), but each sentence "
                                "is read twice (to count words, then to encode them): make the sentences lists")
            sentence = list(sentence)
        for token in sentence:
            if not isinstance(token, str):
                raise TypeError(f"corpus item {i} contains a {type(token).__name__} token {token!r}; tokens must be str")
        yield sentence


def check_reiterable(corpus: object) -> None:
    """Refuse what is not a corpus, and one-shot iterators: building a vocabulary and encoding
    take two passes."""
    if isinstance(corpus, (bytes, bytearray)):
        raise TypeError("the corpus is bytes: pass a file path as str (or pathlib.Path), or token lists")
    try:
        it = iter(corpus)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"corpus must be a file path, an iterable of token lists or a fastvec.Corpus, not "
                        f"{type(corpus).__name__}") from None
    if it is corpus:
        raise TypeError(
            "the corpus is a one-shot iterator (e.g. a generator), but fastvec reads it twice "
            "(to count words, then to encode them); pass a list, a re-iterable object, a file path, "
            "or an encoded fastvec.Corpus")


def non_decreasing(a: np.ndarray, block: int = 1 << 12) -> bool:
    """Whether a 1-D array never decreases, checked block by block (no temporary of its size)."""
    for s in range(0, len(a) - 1, block):
        part = a[s:s + block + 1]
        if not np.greater_equal(part[1:], part[:-1]).all():
            return False
    return True


def is_path(corpus: object) -> bool:
    return isinstance(corpus, (str, os.PathLike))


class Corpus:
    """A corpus encoded once: ``ids`` (int32 word ids of in-vocabulary tokens, in order) and
    ``offsets`` (int64, ``n_sentences + 1`` entries: sentence i is ``ids[offsets[i]:offsets[i+1]]``).

    Tokens that are not in the vocabulary are dropped; empty sentences are not stored.
    Build one with :meth:`Corpus.encode` (or let ``Word2Vec.fit`` do it), keep it on disk with
    :meth:`save` and reopen it memory-mapped with :meth:`load`."""

    def __init__(self, ids: np.ndarray, offsets: np.ndarray, vocabulary: "Vocabulary", *,
                 raw_tokens: int | None = None):
        self.ids = np.asanyarray(ids)
        self.offsets = np.asanyarray(offsets)
        self.vocabulary = vocabulary
        self.source_path: str | None = None
        self.check()
        self.raw_tokens = int(raw_tokens) if raw_tokens is not None else len(self.ids)

    def check(self) -> None:
        """Validate ``ids`` and ``offsets`` against the vocabulary (ValueError). Done when the
        corpus is made and again before training: the arrays are public, and the kernels
        index the weights with these ids."""
        ids, offsets = self.ids, self.offsets
        if ids.dtype != np.int32 or ids.ndim != 1:
            raise ValueError("ids must be a 1-D int32 array")
        if offsets.dtype != np.int64 or offsets.ndim != 1 or len(offsets) < 1:
            raise ValueError("offsets must be a non-empty 1-D int64 array")
        if offsets[0] != 0 or offsets[-1] != len(ids) or not non_decreasing(offsets):
            raise ValueError("offsets must start at 0, end at len(ids) and never decrease")
        if len(ids) and (int(ids.min()) < 0 or int(ids.max()) >= len(self.vocabulary)):
            raise ValueError(f"ids must lie in [0, {len(self.vocabulary)}) for this vocabulary")

    def __len__(self) -> int:
        """Number of sentences."""
        return len(self.offsets) - 1

    @property
    def n_tokens(self) -> int:
        """The number of encoded tokens (all sentences)."""
        return len(self.ids)

    def sentence(self, i: int) -> np.ndarray:
        """The ids of sentence ``i`` (a view of ``ids``)."""
        return self.ids[self.offsets[i]:self.offsets[i + 1]]

    def __iter__(self) -> Iterator[list[str]]:
        """Sentences as lists of words (slow; for inspection and interoperability)."""
        keys = self.vocabulary.index_to_key
        for i in range(len(self)):
            yield [keys[j] for j in self.sentence(i)]

    def __repr__(self) -> str:
        return f"Corpus({self.n_tokens} tokens, {len(self)} sentences, vocabulary of {len(self.vocabulary)})"

    @classmethod
    def encode(cls, corpus: CorpusLike, vocabulary: "Vocabulary", *,
               tokenizer: Tokenizer | str | None = None) -> "Corpus":
        """Encode a file or iterable of token lists with an existing vocabulary."""
        from fastvec.vocab import encode_source
        if isinstance(corpus, Corpus):
            if corpus.vocabulary is vocabulary or corpus.vocabulary.index_to_key == vocabulary.index_to_key:
                return corpus
            raise ValueError("this Corpus was encoded with a different vocabulary; encode the text again")
        return encode_source(corpus, vocabulary, tokenizer=_resolve_tokenizer(tokenizer))

    @classmethod
    def build(cls, corpus: CorpusLike, *, min_count: int = 5, max_vocab_size: int | None = None,
              tokenizer: Tokenizer | str | None = None) -> "Corpus":
        """Count a vocabulary and encode the corpus with it.

        A text file is read once (words get ids as they are counted, renumbered at the end);
        with ``max_vocab_size`` set, or for an iterable of token lists, the corpus is read
        twice (count, then encode), since pruning while counting forgets words."""
        from fastvec.vocab import Vocabulary, build_source, encode_source
        if isinstance(corpus, Corpus):
            warn_unapplied(corpus, min_count=min_count, max_vocab_size=max_vocab_size, tokenizer=tokenizer)
            return corpus
        if is_path(corpus) and max_vocab_size is None:
            encoded = build_source(corpus, min_count=min_count, tokenizer=_resolve_tokenizer(tokenizer))
        else:
            vocab = Vocabulary.build(corpus, min_count=min_count, max_vocab_size=max_vocab_size,
                                     tokenizer=tokenizer)
            # the first pass reported what the reader repaired
            encoded = encode_source(corpus, vocab, tokenizer=_resolve_tokenizer(tokenizer), report=False)
            vocab._drop_word_table()  # the encoding hash table (rebuilt on demand) is not needed for training
        release_free_heap()           # nor what counting freed
        return encoded

    def save(self, path: str | os.PathLike) -> None:
        """Write ids, offsets and the vocabulary to one file (atomic, no pickle)."""
        arrays, meta = self.vocabulary._to_arrays()
        arrays.update(ids=self.ids, offsets=self.offsets)
        meta["raw_tokens"] = self.raw_tokens
        save_container(path, "corpus", meta, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike, *, mmap: bool = True) -> "Corpus":
        """Open a saved corpus; with ``mmap=True`` the ids stay on disk until touched."""
        from fastvec.vocab import Vocabulary
        meta, arrays = load_container(path, "corpus", mmap=mmap, required=("ids", "offsets", "counts"))
        vocab = Vocabulary._from_arrays(path, meta, arrays)
        raw_tokens = saved_int(path, meta, "raw_tokens")
        try:
            corpus = cls(arrays["ids"], arrays["offsets"], vocab, raw_tokens=raw_tokens)
        except (ValueError, TypeError) as e:
            raise FormatError(path, str(e)) from None
        corpus.source_path = os.fspath(path)   # the file it came from (a checkpoint may not replace it)
        return corpus


def warn_unapplied(corpus: Corpus, *, min_count: int | None, max_vocab_size: int | None,
                   tokenizer: Tokenizer | str | None) -> None:
    """An encoded Corpus is used as it is: one warning naming the settings given that it does
    not meet (its rarest words below min_count, more words than max_vocab_size, a tokenizer).
    The settings are checked as for a text corpus; None is a setting the caller does not have."""
    from fastvec.vocab import _check_int
    if min_count is not None:
        min_count = _check_int("min_count", min_count, 1)
    if max_vocab_size is not None:
        max_vocab_size = _check_int("max_vocab_size", max_vocab_size, 1)
    counts = corpus.vocabulary.counts
    unapplied = []
    if min_count is not None and len(counts) and int(counts.min()) < min_count:
        unapplied.append(f"min_count={min_count} (its words occur down to {int(counts.min())} times)")
    if max_vocab_size is not None and len(counts) > max_vocab_size:
        unapplied.append(f"max_vocab_size={max_vocab_size} (it has {len(counts)} words)")
    if tokenizer is not None:
        unapplied.append(f"tokenizer={tokenizer!r}")
    if unapplied:
        _warnings.warn("the Corpus given is already encoded and is used as it is: " + ", ".join(unapplied)
                       + " not applied to an encoded corpus")
