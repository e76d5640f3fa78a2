"""The vocabulary: word counts, ids sorted by frequency, and the encoding pass."""
from __future__ import annotations

import os
from typing import Iterable, Iterator, Mapping, Sequence

import numpy as np

from fastvec import _warnings
from fastvec._io import FormatError, checked_counts, load_container, save_container, saved_int
from fastvec._text import WordTable, compact_ids
from fastvec.corpus import (
    Corpus,
    CorpusLike,
    ReadStats,
    Tokenizer,
    warn_unapplied,
    _resolve_tokenizer,
    _simple_tokenized_blocks,
    _tokenized_lines,
    check_reiterable,
    is_path,
    iter_file_blocks,
    iter_file_lines,
    iter_token_lists,
    simple_tokenize,
)

_TOKEN_BATCH = 1 << 17
#: the warning for a tokenizer given with token lists (counting and encoding both read them)
TOKENIZER_UNUSED = "tokenizer applies to text files: the token lists of this corpus are used as they are"


def _encode_word(word: str) -> bytes:
    return word.encode("utf-8", "surrogatepass")


def _file_blocks(path, stats: ReadStats, tokenizer: Tokenizer | None) -> Iterator[bytes]:
    """Blocks of text for the counter: the file as it is; for tokenizer="simple" its blocks
    tokenized (long runs kept: the tokenizer splits them); for another tokenizer its lines,
    each given whole (a line is then held in memory with its tokens: a 100 MB line costs
    about a gigabyte)."""
    if tokenizer is None:
        return iter_file_blocks(path, stats)
    if tokenizer is simple_tokenize:
        return _simple_tokenized_blocks(iter_file_blocks(path, stats, skip_long=False))
    return _tokenized_lines(iter_file_lines(path, stats), tokenizer, os.fspath(path))


class Vocabulary:
    """Words with their corpus counts; id 0 is the most frequent word.

    Ids follow decreasing counts; words with equal counts keep the order in which counting
    first met them (``build``; a word pruned by ``max_vocab_size`` and met again counts from
    where it reappeared) or the order of the mapping (``from_counts``): the same input always
    gives the same ids.

    Attributes: ``index_to_key`` (list of str), ``key_to_index`` (dict), ``counts`` (int64
    array aligned with ``index_to_key``), ``min_count`` used to build it, ``raw_tokens``
    (tokens read, including words below min_count) and ``stats`` of the reading pass."""

    def __init__(self, words: Sequence[str], counts: Sequence[int] | np.ndarray, *, min_count: int = 1,
                 raw_tokens: int | None = None, stats: ReadStats | None = None):
        words = list(words)
        for w in words:
            if not isinstance(w, str):
                raise TypeError(f"words must be str, got {type(w).__name__} {w!r}")
        counts = checked_counts(counts, len(words))
        self.index_to_key: list[str] = words
        self.key_to_index: dict[str, int] = {w: i for i, w in enumerate(self.index_to_key)}
        if len(self.key_to_index) != len(self.index_to_key):
            raise ValueError("words must be distinct")
        self.counts = counts
        self.min_count = _check_int("min_count", min_count, 0)
        self.raw_tokens = int(raw_tokens) if raw_tokens is not None else int(counts.sum())
        self.stats = stats
        self._table: WordTable | None = None

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_counts(cls, counts: Mapping[str, int], *, min_count: int = 1) -> "Vocabulary":
        """From a word -> count mapping; words below ``min_count`` dropped (``min_count=0`` keeps
        words counted 0 times), sorted by count."""
        min_count = _check_int("min_count", min_count, 0)
        words = list(counts)
        values = cls(words, [counts[w] for w in words]).counts   # the constructor's checks (no truncation)
        order = np.argsort(-values, kind="stable")  # ties keep insertion order
        order = order[values[order] >= min_count]
        return cls([words[i] for i in order], values[order], min_count=min_count, raw_tokens=int(values.sum()))


    @classmethod
    def build(cls, corpus: CorpusLike, *, min_count: int = 5, max_vocab_size: int | None = None,
              tokenizer: Tokenizer | str | None = None) -> "Vocabulary":
        """Count the words of a text file or iterable of token lists.

        ``max_vocab_size`` bounds memory while counting: whenever more distinct words are
        held, those seen at most ``min_reduce`` times are dropped and ``min_reduce`` grows
        (word2vec.c's ReduceVocab), until 3/4 of the limit remain. Counts of words that were
        dropped and reappear restart from zero, so they are underestimates."""
        if isinstance(corpus, Corpus):
            warn_unapplied(corpus, min_count=min_count, max_vocab_size=max_vocab_size, tokenizer=tokenizer)
            return corpus.vocabulary
        min_count = _check_int("min_count", min_count, 1)
        if max_vocab_size is not None:
            max_vocab_size = _check_int("max_vocab_size", max_vocab_size, 1)
        limit = max_vocab_size or 0
        tokenizer = _resolve_tokenizer(tokenizer)
        table = WordTable()
        stats = ReadStats()
        if is_path(corpus):
            for block in _file_blocks(corpus, stats, tokenizer):
                tokens, newlines, skipped = table.count_block(block, limit)
                stats.tokens += tokens
                stats.lines += newlines
                stats.skipped_long_tokens += skipped
            where = os.fspath(corpus)
        else:
            check_reiterable(corpus)
            if tokenizer is not None:
                _warnings.warn(TOKENIZER_UNUSED)
            for batch in _token_batches(corpus, stats):
                stats.tokens += table.add_tokens(batch[0], limit)
            where = "corpus iterable"
        stats.warn_repairs()
        return cls._from_table(table, stats, min_count, where)[0]

    @classmethod
    def _from_table(cls, table: WordTable, stats: ReadStats, min_count: int,
                    where: str) -> tuple["Vocabulary", np.ndarray]:
        """The vocabulary of a counted table, and the table ids of its words in vocabulary order."""
        if stats.tokens == 0:
            raise ValueError(f"{where}: the corpus is empty (no tokens)")
        counts = table.counts()
        if not len(counts):   # max_vocab_size pruning dropped every word
            raise ValueError(f"{where}: no word occurs at least min_count={min_count} times (pruning to "
                             "max_vocab_size dropped every word); raise max_vocab_size")
        if counts.max() < min_count:
            raise ValueError(f"{where}: no word occurs at least min_count={min_count} times "
                             f"({len(counts)} distinct words, the most frequent occurs {int(counts.max())} "
                             f"times); lower min_count or use a larger corpus")
        order = np.argsort(-counts, kind="stable")  # ties keep first-appearance order
        order = order[counts[order] >= min_count]
        words = [w.decode("utf-8", "surrogatepass") for w in table.words(order)]
        return cls(words, counts[order], min_count=min_count, raw_tokens=stats.tokens, stats=stats), order

    # -- queries --------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, word: object) -> bool:
        return word in self.key_to_index

    def __iter__(self) -> Iterator[str]:
        return iter(self.index_to_key)

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} words, min_count={self.min_count}, {self.total_words} tokens)"

    @property
    def total_words(self) -> int:
        """Corpus tokens covered by the vocabulary (sum of counts)."""
        return int(self.counts.sum())

    def get_index(self, word: str, default: int | None = None) -> int | None:
        """The id of ``word``, or ``default`` when it is not in the vocabulary (as ``dict.get``;
        ``KeyedVectors.get_index`` raises KeyError instead, as gensim's does)."""
        return self.key_to_index.get(word, default)

    def get_count(self, word: str) -> int:
        """How often ``word`` occurred in the counted corpus (KeyError when it is not in the vocabulary)."""
        try:
            return int(self.counts[self.key_to_index[word]])
        except KeyError:
            raise KeyError(f"word {word!r} not in vocabulary") from None

    # -- sampling distributions -----------------------------------------------------------
    def keep_probabilities(self, sample: float) -> np.ndarray:
        """word2vec.c's subsampling: keep a word of frequency f = count/total with probability
        (sqrt(f / sample) + 1) * sample / f, capped at 1; ``sample=0`` keeps everything."""
        if sample <= 0:
            return np.ones(len(self), dtype=np.float64)
        # written as sqrt(r) + r with r = sample * total / count: the same value, without the
        # overflow of count / (sample * total) for tiny samples (1e-310 kept every frequent word)
        c = self.counts.astype(np.float64)
        with np.errstate(divide="ignore", over="ignore", under="ignore"):
            r = sample * float(self.total_words) / c
            p = np.sqrt(r) + r
        return np.minimum(p, 1.0)

    def noise_distribution(self, exponent: float = 0.75) -> np.ndarray:
        """Negative-sampling distribution, proportional to count**exponent. A negative exponent
        needs every count > 0 (0**exponent has no finite value): ValueError otherwise."""
        counts = self.counts.astype(np.float64)
        if exponent < 0 and len(counts) and counts.min() <= 0:
            zero = self.index_to_key[int(np.argmin(counts))]
            raise ValueError(f"ns_exponent={exponent} is negative, but {int((counts <= 0).sum())} word(s) of the "
                             f"vocabulary have count 0 (e.g. {zero!r}): count**ns_exponent is infinite for them; "
                             "use ns_exponent >= 0 or a vocabulary without them")
        weights = counts ** exponent
        return weights / weights.sum()

    # -- encoding -------------------------------------------------------------------------
    def _word_table(self) -> WordTable:
        if self._table is None:
            self._table = WordTable.from_words([_encode_word(w) for w in self.index_to_key])
        return self._table

    def __getstate__(self) -> dict:
        """For copy.deepcopy: everything but the encoding hash table (a cache of C memory,
        rebuilt on the next encode)."""
        state = dict(self.__dict__)
        state["_table"] = None
        return state

    def _drop_word_table(self) -> None:
        """Free the encoding hash table (a cache: :meth:`_word_table` rebuilds it)."""
        self._table = None

    def encode(self, corpus: CorpusLike, *, tokenizer: Tokenizer | str | None = None) -> Corpus:
        """Encode a corpus with this vocabulary (see :meth:`Corpus.encode`)."""
        return Corpus.encode(corpus, self, tokenizer=tokenizer)

    # -- persistence ----------------------------------------------------------------------
    def _to_arrays(self) -> tuple[dict, dict]:
        meta = {"words": self.index_to_key, "min_count": self.min_count, "vocab_raw_tokens": self.raw_tokens}
        return {"counts": self.counts}, meta

    @classmethod
    def _from_arrays(cls, path, meta: dict, arrays: dict) -> "Vocabulary":
        words = meta.get("words")
        counts = arrays.get("counts")
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise FormatError(path, "vocabulary words must be a list of strings")
        if counts is None or counts.dtype != np.int64 or counts.ndim != 1 or len(counts) != len(words):
            raise FormatError(path, "vocabulary counts must be an int64 array with one count per word")
        min_count = saved_int(path, meta, "min_count", 1, minimum=-2**63)
        raw_tokens = saved_int(path, meta, "vocab_raw_tokens")
        try:
            return cls(words, np.asarray(counts), min_count=min_count, raw_tokens=raw_tokens)
        except (ValueError, TypeError) as e:
            raise FormatError(path, str(e)) from None

    def save(self, path: str | os.PathLike) -> None:
        """Save the words and counts to one file (atomic; no pickle)."""
        arrays, meta = self._to_arrays()
        save_container(path, "vocabulary", meta, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Vocabulary":
        """Load a vocabulary saved with :meth:`save` (validated; no pickle)."""
        meta, arrays = load_container(path, "vocabulary", required=("counts",))
        return cls._from_arrays(path, meta, arrays)


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _token_batches(corpus: Iterable[Sequence[str]], stats: ReadStats) -> Iterator[tuple[list[bytes], list[int]]]:
    """Token lists as batches of (utf-8 tokens, sentence lengths) of about _TOKEN_BATCH tokens."""
    tokens: list[bytes] = []
    lengths: list[int] = []
    for sentence in iter_token_lists(corpus):
        tokens.extend(_encode_word(t) for t in sentence)
        lengths.append(len(sentence))
        stats.lines += 1
        if len(tokens) >= _TOKEN_BATCH:
            yield tokens, lengths
            tokens, lengths = [], []
    if lengths:
        yield tokens, lengths


class _GrowableIds:
    """int32 output buffer. With a known upper bound it is one allocation whose untouched
    tail is never paged in and is released by the final shrink; otherwise it grows in chunks."""

    def __init__(self, capacity: int):
        self.chunks: list[np.ndarray] = []
        self.current = np.empty(max(capacity, 1), dtype=np.int32)
        self.pos = 0

    def reserve(self, n: int) -> None:
        if self.pos + n > len(self.current):
            self.chunks.append(self.current[:self.pos].copy())
            self.current = np.empty(max(n, 2 * len(self.current)), dtype=np.int32)
            self.pos = 0

    @property
    def total(self) -> int:
        return sum(len(c) for c in self.chunks) + self.pos

    def finish(self) -> np.ndarray:
        if not self.chunks:
            out = self.current
            out.resize(self.pos, refcheck=False)
            return out
        return np.concatenate(self.chunks + [self.current[:self.pos]])


def _first_capacity(size: int) -> int:
    """ids reserved up front for a plain file of ``size`` bytes: its upper bound (a token
    takes at least 2 bytes, with its separator), but at most an eighth of the machine's memory
    in bytes: a reservation larger than RAM is refused outright under Linux's default
    overcommit, even though typical text needs about a fifth of the bound; past the
    reservation the buffer grows in chunks."""
    try:
        ram = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):   # not on every platform
        ram = 0
    bound = size // 2 + 1
    return min(bound, max(1 << 20, ram // 8 // 4)) if ram > 0 else bound   # int32 ids: 4 bytes each


def _encode_file(path, table: WordTable, stats: ReadStats, tokenizer: Tokenizer | None,
                 count: bool, report: bool = True) -> tuple[np.ndarray, np.ndarray, int]:
    """Encode a text file with ``table`` (adding and counting new words when ``count``);
    returns (ids, sentence offsets, unknown tokens). ``report=False``: the repairs of the
    reader are not warned about (a first pass over the same file did)."""
    path = os.fspath(path)
    plain = not path.lower().endswith((".gz", ".bz2", ".xz", ".lzma"))
    size = os.path.getsize(path) if plain and os.path.isfile(path) else 0
    buf = _GrowableIds(_first_capacity(size) if plain else 1 << 20)
    ends: list[np.ndarray] = []
    unknown = 0
    sentence_start = 0
    for block in _file_blocks(path, stats, tokenizer):
        bound = len(block) // 2 + 1
        buf.reserve(bound)
        sent_ends = np.empty(bound, dtype=np.int64)
        base = buf.total - buf.pos  # tokens in earlier chunks
        # positions inside the current chunk; a sentence that began in an earlier chunk
        # has a negative start there, which correctly marks it as non-empty
        pos, n_sent, start, unk, newlines, skipped = table.encode_block(
            block, buf.current, buf.pos, sent_ends, 0, sentence_start - base, count)
        stats.skipped_long_tokens += skipped
        if count:
            stats.tokens += pos - buf.pos
            stats.lines += newlines
        sentence_start = start + base
        buf.pos = pos
        unknown += unk
        if n_sent:
            ends.append(sent_ends[:n_sent] + base)
    ids = buf.finish()
    if len(ids) > sentence_start:
        ends.append(np.array([len(ids)], dtype=np.int64))
    if report:
        stats.warn_repairs()
    return ids, np.concatenate([np.zeros(1, dtype=np.int64)] + ends), unknown


def build_source(path, *, min_count: int, tokenizer: Tokenizer | None) -> Corpus:
    """Count and encode a text file in one pass: tokens get provisional ids in order of first
    appearance while they are counted, then are renumbered by frequency in place, dropping
    words below ``min_count``. The result equals counting, then encoding with the vocabulary
    (:func:`encode_source`), and the file is read once."""
    min_count = _check_int("min_count", min_count, 1)
    table = WordTable()
    stats = ReadStats()
    ids, offsets, _ = _encode_file(path, table, stats, tokenizer, count=True)
    vocab, order = Vocabulary._from_table(table, stats, min_count, os.fspath(path))
    remap = np.full(len(table), -1, dtype=np.int32)
    remap[order] = np.arange(len(order), dtype=np.int32)
    del table
    n_ids, n_sentences = compact_ids(ids, remap, offsets)
    ids.resize(n_ids, refcheck=False)  # in place: the tail was freed, nothing is copied
    offsets.resize(n_sentences + 1, refcheck=False)
    return Corpus(ids, offsets, vocab, raw_tokens=stats.tokens)


def encode_source(corpus, vocabulary: Vocabulary, *, tokenizer: Tokenizer | None, report: bool = True) -> Corpus:
    """Second pass: map every known token to its id; see :class:`Corpus` (``report``: see
    :func:`_encode_file`)."""
    table = vocabulary._word_table()
    stats = ReadStats()
    if is_path(corpus):
        ids, offsets, unknown = _encode_file(corpus, table, stats, tokenizer, count=False, report=report)
        return Corpus(ids, offsets, vocabulary, raw_tokens=len(ids) + unknown)
    if isinstance(corpus, Iterable):
        check_reiterable(corpus)
        if tokenizer is not None and report:
            _warnings.warn(TOKENIZER_UNUSED)
    else:
        raise TypeError(f"corpus must be a path, an iterable of token lists or a fastvec.Corpus, "
                        f"not {type(corpus).__name__}")
    unknown = 0
    ends: list[np.ndarray] = []
    buf = _GrowableIds(1 << 20)
    for tokens, lengths in _token_batches(corpus, stats):
        found = table.lookup(tokens)
        keep = found >= 0
        unknown += int(len(found) - keep.sum())
        lengths_arr = np.asarray(lengths, dtype=np.int64)
        # kept tokens per sentence as differences of a running count (empty sentences anywhere,
        # the last ones included, give 0)
        kept_before = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
        kept_per_sentence = np.diff(kept_before[np.concatenate(([0], np.cumsum(lengths_arr)))])
        kept = found[keep]
        buf.reserve(len(kept))
        base = buf.total
        buf.current[buf.pos:buf.pos + len(kept)] = kept
        buf.pos += len(kept)
        nonempty = kept_per_sentence[kept_per_sentence > 0]
        if len(nonempty):
            ends.append(base + np.cumsum(nonempty))
    ids = buf.finish()
    offsets = np.concatenate([np.zeros(1, dtype=np.int64)] + ends) if ends else np.zeros(1, dtype=np.int64)
    return Corpus(ids, offsets, vocabulary, raw_tokens=len(ids) + unknown)
