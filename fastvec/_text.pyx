"""Byte-level tokenising, counting and encoding: the fast path for text corpora.

A token is a maximal run of characters that are not whitespace, as ``str.split()`` has it
(ASCII space, \\t, \\n, \\v, \\f, \\r, \\x1c-\\x1f, and the Unicode spaces U+0085, U+00A0,
U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000 in their UTF-8 form), or NUL (a
NUL byte separates tokens, so that no word contains one); a newline ends a sentence. The
reader (fastvec.corpus) hands over blocks that are valid UTF-8 and end at whitespace, so a
block boundary is always a token boundary. Tokens longer than
``MAX_TOKEN_BYTES`` are skipped and counted, never truncated.

``WordTable`` is an open-addressing hash table from byte strings to dense int32 ids assigned
in order of first appearance. Counting mode (``count_block``) inserts and counts; encoding
mode (``encode_block``) only looks up, on a table built from a finished vocabulary.
"""
cimport cython
import numpy as np

from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcmp, memcpy, memmove

MAX_TOKEN_BYTES = 1024
cdef int64_t _MAX_TOKEN = 1024


cdef struct Slot:
    int32_t id      # -1: empty
    uint32_t tag    # high half of the hash: most mismatches never touch the arena


# byte classes: 1 = a whitespace (or NUL) byte, 2 = the lead byte of a multi-byte whitespace
# character (checked by multibyte_space), 0 = part of a token
cdef unsigned char SPACE_CLASS[256]       # zero-initialised (static storage)
for _b in (0, 9, 10, 11, 12, 13, 28, 29, 30, 31, 32):
    SPACE_CLASS[_b] = 1
for _b in (0xC2, 0xE1, 0xE2, 0xE3):
    SPACE_CLASS[_b] = 2


cdef int multibyte_space(const unsigned char* s, int64_t i, int64_t n) noexcept nogil:
    """Length in bytes of the UTF-8 whitespace character at s[i] (lead byte of class 2), else 0."""
    cdef unsigned char c = s[i], c1, c2
    if i + 1 >= n:
        return 0
    c1 = s[i + 1]
    if c == 0xC2:                                   # U+0085, U+00A0
        return 2 if c1 == 0x85 or c1 == 0xA0 else 0
    if i + 2 >= n:
        return 0
    c2 = s[i + 2]
    if c == 0xE1:                                   # U+1680
        return 3 if c1 == 0x9A and c2 == 0x80 else 0
    if c == 0xE2:                                   # U+2000-U+200A, U+2028, U+2029, U+202F; U+205F
        if c1 == 0x80:
            return 3 if 0x80 <= c2 <= 0x8A or c2 == 0xA8 or c2 == 0xA9 or c2 == 0xAF else 0
        return 3 if c1 == 0x81 and c2 == 0x9F else 0
    return 3 if c == 0xE3 and c1 == 0x80 and c2 == 0x80 else 0    # U+3000


cdef inline int space_len(const unsigned char* s, int64_t i, int64_t n) noexcept nogil:
    """Bytes taken by the whitespace character at s[i]; 0 when s[i] starts or continues a token."""
    cdef unsigned char k = SPACE_CLASS[s[i]]
    if k <= 1:
        return k
    return multibyte_space(s, i, n)


cdef inline uint64_t hash_bytes(const unsigned char* s, int64_t n) noexcept nogil:
    # FNV-1a, then a multiply-xorshift finaliser so that low bits (the slot index) mix well
    cdef uint64_t h = 14695981039346656037ULL
    cdef int64_t i
    for i in range(n):
        h = (h ^ s[i]) * 1099511628211ULL
    h ^= h >> 29
    h *= <uint64_t>0xBF58476D1CE4E5B9ULL
    return h ^ (h >> 32)


@cython.final
cdef class WordTable:
    """Hash table of distinct byte strings with counts (see module docstring)."""
    cdef Slot* slots
    cdef uint64_t mask
    cdef int64_t n_slots
    cdef int64_t* c_offsets      # per id: start in arena
    cdef int32_t* c_lengths      # per id
    cdef int64_t* c_counts       # per id
    cdef int64_t size, id_capacity
    cdef unsigned char* arena
    cdef int64_t arena_used, arena_capacity
    cdef public int64_t min_reduce
    cdef public int64_t prunes

    def __cinit__(self, int64_t expected=1 << 16):
        cdef int64_t n = 1024
        while n < 2 * expected:
            n <<= 1
        self.n_slots = n
        self.mask = <uint64_t>(n - 1)
        self.slots = <Slot*>malloc(n * sizeof(Slot))
        self.id_capacity = n // 2 + 1
        self.c_offsets = <int64_t*>malloc(self.id_capacity * sizeof(int64_t))
        self.c_lengths = <int32_t*>malloc(self.id_capacity * sizeof(int32_t))
        self.c_counts = <int64_t*>malloc(self.id_capacity * sizeof(int64_t))
        self.arena_capacity = 16 * self.id_capacity
        self.arena = <unsigned char*>malloc(self.arena_capacity)
        if not (self.slots and self.c_offsets and self.c_lengths and self.c_counts and self.arena):
            raise MemoryError("cannot allocate the word table")
        self._clear_slots()
        self.size = 0
        self.arena_used = 0
        self.min_reduce = 1
        self.prunes = 0

    def __dealloc__(self):
        free(self.slots)
        free(self.c_offsets)
        free(self.c_lengths)
        free(self.c_counts)
        free(self.arena)

    cdef void _clear_slots(self) noexcept nogil:
        cdef int64_t i
        for i in range(self.n_slots):
            self.slots[i].id = -1
            self.slots[i].tag = 0

    def __len__(self):
        return self.size

    @classmethod
    def from_words(cls, words):
        """A table whose id i is ``words[i]`` (bytes, distinct), for encoding."""
        cdef WordTable table = cls(len(words))
        cdef bytes w
        cdef int32_t wid
        cdef int64_t before
        for w in words:
            before = table.size
            wid = table._find_or_add(<const unsigned char*>w, len(w), hash_bytes(<const unsigned char*>w, len(w)))
            if wid < 0:
                raise MemoryError("cannot grow the word table")
            if table.size == before:
                raise ValueError(f"duplicate word {w!r} in vocabulary")
        return table

    cdef int _grow_ids(self) noexcept nogil:
        cdef int64_t cap = self.id_capacity * 2
        cdef int64_t* o = <int64_t*>realloc(self.c_offsets, cap * sizeof(int64_t))
        if o == NULL:
            return -1
        self.c_offsets = o
        cdef int32_t* l = <int32_t*>realloc(self.c_lengths, cap * sizeof(int32_t))
        if l == NULL:
            return -1
        self.c_lengths = l
        cdef int64_t* c = <int64_t*>realloc(self.c_counts, cap * sizeof(int64_t))
        if c == NULL:
            return -1
        self.c_counts = c
        self.id_capacity = cap
        return 0

    cdef int _rehash(self, int64_t n_slots) noexcept nogil:
        cdef Slot* fresh = <Slot*>malloc(n_slots * sizeof(Slot))
        cdef int64_t i, wid
        cdef uint64_t h, j
        if fresh == NULL:
            return -1
        free(self.slots)
        self.slots = fresh
        self.n_slots = n_slots
        self.mask = <uint64_t>(n_slots - 1)
        self._clear_slots()
        for wid in range(self.size):
            h = hash_bytes(self.arena + self.c_offsets[wid], self.c_lengths[wid])
            j = h & self.mask
            while self.slots[j].id != -1:
                j = (j + 1) & self.mask
            self.slots[j].id = <int32_t>wid
            self.slots[j].tag = <uint32_t>(h >> 32)
        return 0

    cdef inline int32_t _find(self, const unsigned char* s, int64_t n, uint64_t h) noexcept nogil:
        cdef uint64_t j = h & self.mask
        cdef uint32_t tag = <uint32_t>(h >> 32)
        cdef int32_t wid
        while True:
            wid = self.slots[j].id
            if wid == -1:
                return -1
            if (self.slots[j].tag == tag and self.c_lengths[wid] == n
                    and memcmp(self.arena + self.c_offsets[wid], s, n) == 0):
                return wid
            j = (j + 1) & self.mask

    cdef int32_t _find_or_add(self, const unsigned char* s, int64_t n, uint64_t h) noexcept nogil:
        """Id of s, adding it with count 0 if new; -1 when out of memory."""
        cdef uint64_t j = h & self.mask
        cdef uint32_t tag = <uint32_t>(h >> 32)
        cdef int32_t wid
        cdef int64_t cap
        cdef unsigned char* a
        while True:
            wid = self.slots[j].id
            if wid == -1:
                break
            if (self.slots[j].tag == tag and self.c_lengths[wid] == n
                    and memcmp(self.arena + self.c_offsets[wid], s, n) == 0):
                return wid
            j = (j + 1) & self.mask
        # new word
        if self.size + 1 >= self.id_capacity and self._grow_ids() != 0:
            return -1
        if self.arena_used + n > self.arena_capacity:
            cap = self.arena_capacity * 2
            while self.arena_used + n > cap:
                cap *= 2
            a = <unsigned char*>realloc(self.arena, cap)
            if a == NULL:
                return -1
            self.arena = a
            self.arena_capacity = cap
        memcpy(self.arena + self.arena_used, s, n)
        wid = <int32_t>self.size
        self.c_offsets[wid] = self.arena_used
        self.c_lengths[wid] = <int32_t>n
        self.c_counts[wid] = 0
        self.arena_used += n
        self.size += 1
        self.slots[j].id = wid
        self.slots[j].tag = tag
        if 2 * self.size > self.n_slots:  # keep the load factor under 1/2
            if self._rehash(2 * self.n_slots) != 0:
                return -1
        return wid

    cdef int _prune(self, int64_t limit) noexcept nogil:
        """Drop words with count <= min_reduce, raising min_reduce until at most
        3/4 of `limit` words remain (word2vec.c's ReduceVocab, repeated as needed).
        Ids of survivors are renumbered in their original order."""
        cdef int64_t target = (limit * 3) // 4
        cdef int64_t wid, kept, used
        cdef unsigned char* fresh
        if target < 1:
            target = 1
        while self.size > target:
            kept = 0
            used = 0
            for wid in range(self.size):
                if self.c_counts[wid] > self.min_reduce:
                    # arena moves only forward: copy in place
                    if used != self.c_offsets[wid]:
                        memmove(self.arena + used, self.arena + self.c_offsets[wid], self.c_lengths[wid])
                    self.c_offsets[kept] = used
                    self.c_lengths[kept] = self.c_lengths[wid]
                    self.c_counts[kept] = self.c_counts[wid]
                    used += self.c_lengths[wid]
                    kept += 1
            self.size = kept
            self.arena_used = used
            self.min_reduce += 1
            self.prunes += 1
        return self._rehash(self.n_slots)

    def count_block(self, const unsigned char[::1] data, int64_t max_size=0):
        """Tokenise ``data`` and count every token.

        ``max_size`` > 0 bounds the number of distinct words held (pruning rare ones).
        Returns (tokens, newlines, long tokens skipped)."""
        cdef int64_t n = data.shape[0], i = 0, start, tokens = 0, newlines = 0, skipped = 0
        cdef int k
        cdef int32_t wid
        cdef int err = 0
        if n == 0:
            return 0, 0, 0
        cdef const unsigned char* s = &data[0]
        with nogil:
            while i < n:
                k = space_len(s, i, n)
                if k:
                    if s[i] == 10:
                        newlines += 1
                    i += k
                    continue
                start = i
                i += 1
                while i < n and space_len(s, i, n) == 0:
                    i += 1
                if i - start > _MAX_TOKEN:
                    skipped += 1
                    continue
                wid = self._find_or_add(s + start, i - start, hash_bytes(s + start, i - start))
                if wid < 0:
                    err = 1
                    break
                self.c_counts[wid] += 1
                tokens += 1
                if max_size > 0 and self.size > max_size:
                    if self._prune(max_size) != 0:
                        err = 1
                        break
        if err:
            raise MemoryError("out of memory while counting words")
        return tokens, newlines, skipped

    def encode_block(self, const unsigned char[::1] data, int32_t[::1] out, int64_t out_pos,
                     int64_t[::1] sentence_ends, int64_t n_sentences, int64_t sentence_start,
                     bint count=False):
        """Append the ids of known tokens of ``data`` to ``out`` from ``out_pos``; at each
        newline that closes a non-empty sentence append its end position to ``sentence_ends``.

        With ``count=True`` every token is known: new words are added to the table (ids in
        order of first appearance) and counted, as :meth:`count_block` does, so that one pass
        both counts and encodes (the ids are provisional; see :func:`compact_ids`).

        The caller sizes ``out`` and ``sentence_ends`` with upper bounds (a token and its
        separator take at least two bytes). Returns (out_pos, n_sentences, sentence_start,
        unknown tokens, newlines, long tokens skipped)."""
        cdef int64_t n = data.shape[0], i = 0, start, unknown = 0, newlines = 0, skipped = 0
        cdef int64_t cap = out.shape[0], scap = sentence_ends.shape[0]
        cdef int k
        cdef int32_t wid
        cdef int overflow = 0, err = 0
        if n == 0:
            return out_pos, n_sentences, sentence_start, 0, 0, 0
        cdef const unsigned char* s = &data[0]
        with nogil:
            while i < n:
                k = space_len(s, i, n)
                if k:
                    if s[i] == 10:
                        newlines += 1
                        if out_pos > sentence_start:
                            if n_sentences >= scap:
                                overflow = 1
                                break
                            sentence_ends[n_sentences] = out_pos
                            n_sentences += 1
                            sentence_start = out_pos
                    i += k
                    continue
                start = i
                i += 1
                while i < n and space_len(s, i, n) == 0:
                    i += 1
                if i - start > _MAX_TOKEN:
                    skipped += 1
                    continue
                if count:
                    wid = self._find_or_add(s + start, i - start, hash_bytes(s + start, i - start))
                    if wid < 0:
                        err = 1
                        break
                    self.c_counts[wid] += 1
                else:
                    wid = self._find(s + start, i - start, hash_bytes(s + start, i - start))
                    if wid < 0:
                        unknown += 1
                        continue
                if out_pos >= cap:
                    overflow = 1
                    break
                out[out_pos] = wid
                out_pos += 1
        if err:
            raise MemoryError("out of memory while counting words")
        if overflow:
            raise RuntimeError("encoding buffer too small: the corpus changed between passes")
        return out_pos, n_sentences, sentence_start, unknown, newlines, skipped

    def add_tokens(self, tokens, int64_t max_size=0):
        """Count an iterable of tokens given as ``bytes`` (the path for token lists)."""
        cdef bytes w
        cdef int32_t wid
        cdef int64_t n = 0
        for w in tokens:
            wid = self._find_or_add(<const unsigned char*>w, len(w), hash_bytes(<const unsigned char*>w, len(w)))
            if wid < 0:
                raise MemoryError("out of memory while counting words")
            self.c_counts[wid] += 1
            n += 1
            if max_size > 0 and self.size > max_size:
                if self._prune(max_size) != 0:
                    raise MemoryError("out of memory while counting words")
        return n

    def lookup(self, tokens):
        """int32 ids of the ``bytes`` tokens, -1 for unknown ones."""
        out_arr = np.empty(len(tokens), dtype=np.int32)
        cdef int32_t[::1] out = out_arr
        cdef bytes w
        cdef Py_ssize_t i = 0
        for w in tokens:
            out[i] = self._find(<const unsigned char*>w, len(w), hash_bytes(<const unsigned char*>w, len(w)))
            i += 1
        return out_arr

    def words(self, const int64_t[::1] ids=None):
        """The distinct words as a list of bytes, in id order (or for the given ids)."""
        cdef int64_t wid
        if ids is None:
            return [(self.arena + self.c_offsets[wid])[:self.c_lengths[wid]] for wid in range(self.size)]
        for wid in ids:
            if wid < 0 or wid >= self.size:
                raise IndexError(f"word id {wid} out of range")
        return [(self.arena + self.c_offsets[wid])[:self.c_lengths[wid]] for wid in ids]

    def counts(self):
        """Counts as an int64 array, in id order."""
        out_arr = np.empty(self.size, dtype=np.int64)
        cdef int64_t[::1] out = out_arr
        cdef int64_t wid
        for wid in range(self.size):
            out[wid] = self.c_counts[wid]
        return out_arr


def compact_ids(int32_t[::1] ids, const int32_t[::1] remap, int64_t[::1] offsets):
    """Renumber provisional ids in place: ``ids[p]`` becomes ``remap[ids[p]]``, and tokens
    whose new id is -1 (below min_count) are removed; sentences left empty are removed too.

    ``offsets`` (``n + 1`` sentence bounds over ``ids``) is rewritten in place. Returns
    (tokens kept, sentences kept): the new arrays are ``ids[:tokens]`` and
    ``offsets[:sentences + 1]``."""
    cdef int64_t n_sent = offsets.shape[0] - 1, n_ids = ids.shape[0], n_map = remap.shape[0]
    cdef int64_t i, p, start, end, write = 0, first, kept = 0
    cdef int32_t wid
    cdef int bad = 0
    if n_sent < 0 or offsets[0] != 0 or offsets[n_sent] > n_ids:
        raise ValueError("offsets must start at 0 and end inside ids")
    with nogil:
        start = 0
        for i in range(n_sent):
            end = offsets[i + 1]
            if end < start or end > n_ids:
                bad = 1
                break
            first = write
            for p in range(start, end):
                wid = ids[p]
                if wid < 0 or wid >= n_map:
                    bad = 2
                    break
                wid = remap[wid]
                if wid >= 0:
                    ids[write] = wid
                    write += 1
            if bad:
                break
            if write > first:
                kept += 1
                offsets[kept] = write   # index kept <= i + 1: offsets[i + 1] was read above
            start = end
    if bad == 1:
        raise ValueError("offsets must never decrease")
    if bad == 2:
        raise ValueError("provisional id outside the remapping table")
    return write, kept
