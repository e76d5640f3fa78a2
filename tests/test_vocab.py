"""Counting, pruning, ordering and encoding of text files and token lists."""
import bz2
import collections
import gzip
import lzma

import numpy as np
import pytest

import fastvec
from fastvec import corpus as corpus_mod
from fastvec.corpus import Corpus, simple_tokenize
from fastvec.vocab import Vocabulary

from conftest import write_text

TEXT = "the cat sat on the mat\nthe dog sat\n\n  a cat and a dog   \nthe end"


def test_counts_and_order(tmp_path):
    vocab = Vocabulary.build(write_text(tmp_path / "c.txt", TEXT), min_count=1)
    counts = collections.Counter(TEXT.split())
    assert dict(zip(vocab.index_to_key, vocab.counts.tolist())) == dict(counts)
    assert vocab.index_to_key[0] == "the"
    assert vocab.index_to_key[1:5] == ["cat", "sat", "dog", "a"]  # ties: first appearance
    assert vocab.key_to_index["the"] == 0 and vocab.raw_tokens == len(TEXT.split())
    assert vocab.total_words == len(TEXT.split())


def test_min_count_filters(tmp_path):
    vocab = Vocabulary.build(write_text(tmp_path / "c.txt", TEXT), min_count=2)
    assert set(vocab) == {"the", "cat", "sat", "a", "dog"}
    assert vocab.raw_tokens == len(TEXT.split())


def test_file_and_iterable_agree(tmp_path, small_text):
    lines = [line.split() for line in open(small_text, encoding="utf-8")]
    v_file = Vocabulary.build(small_text, min_count=2)
    v_iter = Vocabulary.build(lines, min_count=2)
    assert v_file.index_to_key == v_iter.index_to_key
    np.testing.assert_array_equal(v_file.counts, v_iter.counts)
    c_file, c_iter = v_file.encode(small_text), v_file.encode(lines)
    np.testing.assert_array_equal(c_file.ids, c_iter.ids)
    np.testing.assert_array_equal(c_file.offsets, c_iter.offsets)


def test_matches_python_counter(small_text):
    counter = collections.Counter(open(small_text, encoding="utf-8").read().split())
    vocab = Vocabulary.build(small_text, min_count=1)
    assert len(vocab) == len(counter)
    assert all(vocab.get_count(w) == c for w, c in counter.items())


def test_encoding_round_trip(small_text):
    c = Corpus.build(small_text, min_count=3)
    vocab = c.vocabulary
    lines = [line.split() for line in open(small_text, encoding="utf-8")]
    expected = [[w for w in line if w in vocab] for line in lines]
    expected = [s for s in expected if s]
    assert len(c) == len(expected)
    for i in (0, 1, len(c) // 2, len(c) - 1):
        assert [vocab.index_to_key[j] for j in c.sentence(i)] == expected[i]
    assert c.raw_tokens == sum(len(x) for x in lines)
    assert c.ids.dtype == np.int32 and c.offsets.dtype == np.int64


def test_long_line_is_not_truncated(tmp_path, monkeypatch):
    """A line far longer than the read block is read whole, across block boundaries."""
    monkeypatch.setattr(corpus_mod, "BLOCK_BYTES", 1000)
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in rng.integers(0, 50, size=30_000)]
    path = write_text(tmp_path / "long.txt", "short line here\n" + " ".join(words) + "\nw1 w2\n")
    c = Corpus.build(path, min_count=1)
    assert len(c) == 3
    assert c.offsets[2] - c.offsets[1] == 30_000
    assert [c.vocabulary.index_to_key[j] for j in c.sentence(1)] == words
    assert c.vocabulary.raw_tokens == 30_000 + 5


def test_token_longer_than_limit_is_skipped_and_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_mod, "BLOCK_BYTES", 64)
    path = write_text(tmp_path / "c.txt", "a b " + "x" * 5000 + " c a\n" + "y" * 2000 + "\nb")
    with pytest.warns(UserWarning, match="skipped 2 token"):
        vocab = Vocabulary.build(path, min_count=1)
    assert sorted(vocab) == ["a", "b", "c"]


def test_invalid_utf8_is_replaced_and_counted(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes("caf\u00e9 ok\n".encode() * 50 + b"bad\xffword ok\n")
    with pytest.warns(UserWarning, match="replaced 1 undecodable"):
        vocab = Vocabulary.build(str(path), min_count=1)
    assert "bad\ufffdword" in vocab and "caf\u00e9" in vocab
    assert vocab.stats.replaced_sequences == 1


@pytest.mark.parametrize("opener,suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2"), (lzma.open, ".xz")])
def test_compressed_files(tmp_path, opener, suffix, small_text):
    path = tmp_path / ("c.txt" + suffix)
    with opener(path, "wb") as f:
        f.write(open(small_text, "rb").read())
    a, b = Corpus.build(str(path), min_count=2), Corpus.build(small_text, min_count=2)
    assert a.vocabulary.index_to_key == b.vocabulary.index_to_key
    np.testing.assert_array_equal(a.ids, b.ids)
    np.testing.assert_array_equal(a.offsets, b.offsets)


@pytest.mark.parametrize("opener,suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2"), (lzma.open, ".xz")])
def test_corrupt_compressed_files_are_os_errors_naming_the_file(tmp_path, opener, suffix, small_text):
    path = tmp_path / ("c.txt" + suffix)
    with opener(path, "wb") as f:
        f.write(open(small_text, "rb").read())
    data = bytearray(path.read_bytes())
    for i in range(30, 38):                                 # damage the start of the compressed stream
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    with pytest.raises(OSError, match=str(path)):
        Corpus.build(str(path), min_count=2)


def test_tokenizer_option(tmp_path):
    path = write_text(tmp_path / "c.txt", "Hello, World! hello-world\nÉcole école\n")
    vocab = Vocabulary.build(path, min_count=1, tokenizer="simple")
    assert vocab.get_count("hello") == 2 and vocab.get_count("world") == 2 and vocab.get_count("école") == 2
    assert simple_tokenize("Ünïcode wörds, 42!") == ["ünïcode", "wörds", "42"]
    c = Corpus.build(path, min_count=1, tokenizer=str.split)
    assert "Hello," in c.vocabulary


def test_max_vocab_size_prunes_while_counting():
    rng = np.random.default_rng(1)
    frequent = [f"f{i}" for i in range(20)]
    sentences = []
    for k in range(2000):
        s = list(rng.choice(frequent, size=10)) + [f"rare{k}"]  # 2000 distinct rare words
        sentences.append(s)
    vocab = Vocabulary.build(sentences, min_count=1, max_vocab_size=100)
    assert len(vocab) <= 100
    assert set(frequent) <= set(vocab)  # frequent words always survive pruning
    full = Vocabulary.build(sentences, min_count=1)
    assert len(full) == 2020


def test_one_shot_iterator_is_refused():
    gen = (s for s in [["a", "b"], ["b", "c"]])
    with pytest.raises(TypeError, match="one-shot iterator"):
        Vocabulary.build(gen, min_count=1)


def test_strings_instead_of_token_lists_are_refused():
    with pytest.raises(TypeError, match="expected a list of tokens"):
        Vocabulary.build(["the cat sat", "on the mat"], min_count=1)
    with pytest.raises(TypeError, match="tokens must be str"):
        Vocabulary.build([["a", 3]], min_count=1)


@pytest.mark.parametrize("block_bytes", [1, 2, 3, 7, 64, 1 << 20])
def test_unicode_whitespace_separates_tokens_as_str_split(tmp_path, monkeypatch, block_bytes):
    # no-break and ideographic spaces are separators, as str.split() (and gensim) has them, also
    # when a block boundary cuts one in two or when it ends a token too long to keep
    text = ("東京\u3000大阪\xa0x y\u2003z\u2028w\x1cv\u200bu\n" * 3 + "a\u00a0" * 700 + "\n"
            + "q" * 2000 + "\u3000end\u3000" + "r" * 1500 + "\xa0tail\n")
    path = write_text(tmp_path / "u.txt", text)
    monkeypatch.setattr(corpus_mod, "BLOCK_BYTES", block_bytes)
    with pytest.warns(UserWarning, match="2 token"):
        vocab = Vocabulary.build(path, min_count=1)
    want = collections.Counter(t for t in text.split() if len(t.encode()) <= corpus_mod.MAX_TOKEN_BYTES)
    assert dict(zip(vocab.index_to_key, vocab.counts.tolist())) == want
    assert "\u200bu" not in want and "v\u200bu" in want            # U+200B is not whitespace
    with pytest.warns(UserWarning, match="2 token"):
        corpus = vocab.encode(path)
    assert corpus.n_tokens == sum(want.values()) and len(corpus) == 5


@pytest.mark.parametrize("sentences", [
    [["the", "cat"], ["the", "dog"], []],                   # [line.split() for line in text.split("\n")]
    [[], [], ["the", "cat"], [], ["zzz"], ["the", "dog"], [], []],
    [["zzz"], ["the", "cat", "zzz"], [], ["dog", "the"], ["zzz", "zzz"]],
])
def test_empty_sentences_anywhere_are_dropped(sentences):
    vocab = Vocabulary.build([["the", "cat", "dog", "the"]], min_count=1)
    corpus = vocab.encode(sentences)
    want = [[vocab.key_to_index[w] for w in s if w in vocab.key_to_index] for s in sentences]
    want = [s for s in want if s]
    got = [corpus.ids[a:b].tolist() for a, b in zip(corpus.offsets[:-1], corpus.offsets[1:])]
    assert got == want
    assert len(Corpus.build(sentences, min_count=1).offsets) == len([s for s in sentences if s]) + 1


def test_empty_and_missing_inputs(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        Vocabulary.build(write_text(tmp_path / "e.txt", ""), min_count=1)
    with pytest.raises(ValueError, match="empty"):
        Vocabulary.build(write_text(tmp_path / "w.txt", "  \n\n \t \n"), min_count=1)
    with pytest.raises(ValueError, match="min_count=5"):
        Vocabulary.build(write_text(tmp_path / "r.txt", "a b c d e\n"), min_count=5)
    with pytest.raises(FileNotFoundError, match="no such"):
        Vocabulary.build(str(tmp_path / "missing.txt"))
    with pytest.raises(IsADirectoryError, match="is a directory"):
        Vocabulary.build(str(tmp_path))
    garbage = tmp_path / "g.bin"
    garbage.write_bytes(np.random.default_rng(0).integers(0, 256, 100_000, dtype=np.uint8).tobytes())
    with pytest.raises(ValueError, match="does not look like a text file"):
        Vocabulary.build(str(garbage))
    with pytest.raises(ValueError, match="min_count"):
        Vocabulary.build([["a"]], min_count=0)


def test_corpus_save_load_mmap(tmp_path, small_text):
    c = Corpus.build(small_text, min_count=2)
    path = tmp_path / "corpus.fvc"
    c.save(path)
    for mmap in (True, False):
        d = Corpus.load(path, mmap=mmap)
        np.testing.assert_array_equal(d.ids, c.ids)
        np.testing.assert_array_equal(d.offsets, c.offsets)
        assert d.vocabulary.index_to_key == c.vocabulary.index_to_key
        np.testing.assert_array_equal(d.vocabulary.counts, c.vocabulary.counts)
    assert isinstance(Corpus.load(path, mmap=True).ids, np.memmap)


def test_vocabulary_save_load_and_from_counts(tmp_path):
    v = Vocabulary.from_counts({"b": 3, "a": 5, "c": 1, "d": 3}, min_count=2)
    assert v.index_to_key == ["a", "b", "d"]
    v.save(tmp_path / "v.fvv")
    w = Vocabulary.load(tmp_path / "v.fvv")
    assert w.index_to_key == v.index_to_key and w.counts.tolist() == [5, 3, 3]
    with pytest.raises(fastvec.FormatError):
        Corpus.load(tmp_path / "v.fvv")  # wrong kind of file


def test_unicode_words_in_iterables():
    v = Vocabulary.build([["日本", "語", "\U0001f600"], ["日本"]], min_count=1)
    assert v.index_to_key[0] == "日本"
    c = v.encode([["\U0001f600", "x", "日本"]])
    assert [v.index_to_key[i] for i in c.ids] == ["\U0001f600", "日本"]


def test_build_frees_the_encoding_table_and_encoding_still_works(small_text):
    """Corpus.build drops the vocabulary's encoding hash table (training does not need it) and
    returns freed heap memory; encoding again rebuilds the table and gives the same ids."""
    from fastvec._memory import release_free_heap
    corpus = Corpus.build(small_text, min_count=2)
    assert corpus.vocabulary._table is None
    again = corpus.vocabulary.encode(small_text)
    np.testing.assert_array_equal(again.ids, corpus.ids)
    np.testing.assert_array_equal(again.offsets, corpus.offsets)
    release_free_heap()  # safe to call at any time


def _two_passes(path, min_count, tokenizer=None):
    from fastvec.vocab import encode_source
    vocab = Vocabulary.build(path, min_count=min_count, tokenizer=tokenizer)
    return encode_source(path, vocab, tokenizer=corpus_mod._resolve_tokenizer(tokenizer))


def _assert_same_corpus(a, b):
    assert a.vocabulary.index_to_key == b.vocabulary.index_to_key
    np.testing.assert_array_equal(a.vocabulary.counts, b.vocabulary.counts)
    np.testing.assert_array_equal(a.ids, b.ids)
    np.testing.assert_array_equal(a.offsets, b.offsets)
    assert a.raw_tokens == b.raw_tokens == b.vocabulary.raw_tokens == a.vocabulary.raw_tokens
    assert a.ids.dtype == np.int32 and a.offsets.dtype == np.int64


def test_one_pass_build_equals_count_then_encode(small_text):
    """Corpus.build reads a file once; the result is exactly the two-pass one."""
    for min_count in (1, 3, 50):
        _assert_same_corpus(Corpus.build(small_text, min_count=min_count), _two_passes(small_text, min_count))


@pytest.mark.parametrize("block_bytes", [7, 64, 1 << 20])
def test_one_pass_build_equals_two_passes_on_generated_text(tmp_path, monkeypatch, block_bytes):
    """Rare-only lines become empty sentences that must vanish, lines span read blocks,
    blank lines and trailing text without a newline; the tokenizer path too."""
    from hypothesis import given, settings, strategies as st
    monkeypatch.setattr(corpus_mod, "BLOCK_BYTES", block_bytes)
    word = st.sampled_from(["a", "b", "the", "Cat,", "x" * 9, "é", "rare1", "rare2", "日本"])
    line = st.lists(word, max_size=12).map(" ".join)
    counter = iter(range(10**9))

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(st.lists(line, min_size=1, max_size=30), st.booleans(), st.integers(1, 4),
           st.sampled_from([None, "simple"]))
    def check(lines, final_newline, min_count, tokenizer):
        text = "\n".join(lines) + ("\n" if final_newline else "")
        path = write_text(tmp_path / f"g{next(counter)}.txt", text + " a a a a")  # never empty
        _assert_same_corpus(Corpus.build(path, min_count=min_count, tokenizer=tokenizer),
                            _two_passes(path, min_count, tokenizer))
    check()


def test_compact_ids_matches_numpy_reference():
    from fastvec._text import compact_ids
    rng = np.random.default_rng(3)
    for _ in range(50):
        n_words, n = int(rng.integers(1, 20)), int(rng.integers(0, 200))
        ids = rng.integers(0, n_words, n).astype(np.int32)
        cuts = np.sort(rng.integers(0, n + 1, int(rng.integers(0, 10))))
        offsets = np.concatenate([[0], cuts, [n]]).astype(np.int64)
        remap = np.where(rng.random(n_words) < 0.5, -1, rng.permutation(n_words)).astype(np.int32)
        sentences = [remap[ids[s:e]] for s, e in zip(offsets[:-1], offsets[1:])]
        sentences = [s[s >= 0] for s in sentences]
        sentences = [s for s in sentences if len(s)]
        want_ids = np.concatenate(sentences) if sentences else np.zeros(0, np.int32)
        want_offsets = np.cumsum([0] + [len(s) for s in sentences])
        got_ids, got_offsets = ids.copy(), offsets.copy()
        n_ids, n_sent = compact_ids(got_ids, remap, got_offsets)
        np.testing.assert_array_equal(got_ids[:n_ids], want_ids)
        np.testing.assert_array_equal(got_offsets[:n_sent + 1], want_offsets)


def test_compact_ids_rejects_bad_input():
    from fastvec._text import compact_ids
    remap = np.array([0, -1], dtype=np.int32)
    with pytest.raises(ValueError, match="outside the remapping"):
        compact_ids(np.array([0, 2], np.int32), remap, np.array([0, 2], np.int64))
    with pytest.raises(ValueError, match="never decrease"):
        compact_ids(np.array([0, 1, 0], np.int32), remap, np.array([0, 2, 1, 3], np.int64))
    with pytest.raises(ValueError, match="start at 0"):
        compact_ids(np.array([0], np.int32), remap, np.array([0, 5], np.int64))


def test_max_vocab_size_still_counts_then_encodes(tmp_path):
    """Pruning forgets words while counting, so a bounded build reads the file twice and
    still encodes every occurrence of the words that made it into the vocabulary."""
    text = " ".join(f"u{i}" for i in range(300)) + "\n" + "late " * 10 + "\n" + "a b " * 50
    path = write_text(tmp_path / "c.txt", text)
    c = Corpus.build(path, min_count=2, max_vocab_size=50)
    assert "late" in c.vocabulary and "a" in c.vocabulary
    assert int(np.sum(c.ids == c.vocabulary.key_to_index["late"])) == 10


def test_a_tokenizer_sees_every_line_whole(tmp_path, monkeypatch):
    """Lines longer than the read block, long runs without spaces: the tokenizer gets each line
    once and as it is (it used to get pieces of long lines, and long runs were dropped first)."""
    monkeypatch.setattr(corpus_mod, "BLOCK_BYTES", 64)
    seen = []

    def by_field(line):   # "id<TAB>text": a tokenizer that needs the whole line
        seen.append(line)
        doc_id, text = line.split("\t")
        return text.split(",")
    long_line = "doc1\t" + ",".join(["alpha", "beta"] * 200)   # 2,400 bytes, no space at all
    path = write_text(tmp_path / "c.txt", long_line + "\ndoc2\talpha,gamma\n")
    vocab = Vocabulary.build(path, min_count=1, tokenizer=by_field)
    assert seen == [long_line, "doc2\talpha,gamma"]
    assert dict(zip(vocab.index_to_key, vocab.counts.tolist())) == {"alpha": 201, "beta": 200, "gamma": 1}
    corpus = Corpus.build(path, min_count=1, tokenizer=by_field)
    assert corpus.n_tokens == 402 and len(corpus) == 2
    chars = Vocabulary.build(write_text(tmp_path / "cjk.txt", "東京" * 1000 + "\n"), min_count=1, tokenizer=list)
    assert dict(zip(chars.index_to_key, chars.counts.tolist())) == {"東": 1000, "京": 1000}


@pytest.mark.parametrize("token", ["new york", "a\nb", "tab\there", " b", "york\t", "a\x00b", "\u3000x"])
def test_tokens_holding_whitespace_are_refused(tmp_path, token):
    path = write_text(tmp_path / "c.txt", "x y\n")
    with pytest.raises(ValueError, match=r"line 1: the tokenizer returned the token .* which holds whitespace"):
        Vocabulary.build(path, min_count=1, tokenizer=lambda line: [token, "ok"])
    with pytest.raises(TypeError, match="line 1: the tokenizer returned a int token"):
        Vocabulary.build(path, min_count=1, tokenizer=lambda line: ["ok", 3])


def test_a_token_just_under_the_limit_before_a_cut_whitespace_character_is_kept(tmp_path, monkeypatch):
    """1,023 bytes, then U+3000 (3 bytes) cut by the end of a read block: kept, as str.split keeps it."""
    token = "x" * 1023
    text = "a " + token + "\u3000b\n"
    for block in range(1020, 1030):
        monkeypatch.setattr(corpus_mod, "BLOCK_BYTES", block)
        vocab = Vocabulary.build(write_text(tmp_path / "c.txt", text), min_count=1)
        assert token in vocab and vocab.stats.skipped_long_tokens == 0, block
    with pytest.warns(UserWarning, match="skipped 1 token"):
        vocab = Vocabulary.build(write_text(tmp_path / "c.txt", "a " + "x" * 1025 + "\u3000b\n"), min_count=1)
    assert "x" * 1025 not in vocab and vocab.stats.skipped_long_tokens == 1


def test_pruning_every_word_and_bad_vocabulary_arguments():
    with pytest.raises(ValueError, match="pruning to max_vocab_size dropped every word"):
        Vocabulary.build([["a", "b"]], min_count=1, max_vocab_size=1)
    for words, counts, error in [([1, "b"], [1, 1], TypeError), ([None], [1], TypeError), ([b"a"], [1], TypeError),
                                 (["a", "b"], [2.9, 0.5], ValueError), (["a"], ["x"], TypeError),
                                 (["a", "a"], [1, 1], ValueError), (["a"], [-1], ValueError)]:
        with pytest.raises(error):
            Vocabulary(words, counts)
    assert Vocabulary(["a", "b"], [3.0, 1.0]).counts.tolist() == [3, 1]


def test_a_tokenizer_with_token_lists_says_it_is_not_applied():
    lists = [["The", "Cat"], ["the", "cat"]] * 3
    with pytest.warns(UserWarning, match="tokenizer applies to text files"):
        corpus = Corpus.build(lists, min_count=1, tokenizer="simple")
    assert corpus.vocabulary.index_to_key == ["The", "Cat", "the", "cat"]


def test_the_first_reservation_for_ids_is_bounded_by_the_machine():
    from fastvec.vocab import _first_capacity
    assert _first_capacity(1000) == 501
    ram = __import__("os").sysconf("SC_PHYS_PAGES") * __import__("os").sysconf("SC_PAGE_SIZE")
    assert _first_capacity(100 * ram) == max(1 << 20, ram // 32)   # an eighth of the RAM in int32 ids


def test_simple_tokenizer_keeps_combining_marks_inside_words():
    """Unicode's word characters (UTS #18) include the combining marks: Devanagari and Tamil
    vowel signs, decomposed accents, the dot that lowercasing adds to İ."""
    assert simple_tokenize("हिन्दी भाषा सुंदर है") == ["हिन्दी", "भाषा", "सुंदर", "है"]
    assert simple_tokenize("தமிழ் மொழி") == ["தமிழ்", "மொழி"]
    assert simple_tokenize("Nai\u0308ve, CAFÉ! don't x_y 42") == ["nai\u0308ve", "café", "don", "t", "x_y", "42"]
    assert simple_tokenize("İstanbul") == ["i\u0307stanbul"]
    # a mark or joiner continues a word but starts none: emoji selectors and joiners are not words
    assert simple_tokenize("\u0301 alone I \u2764\ufe0f you \u200d\u200dx") == ["alone", "i", "you", "x"]


def test_simple_tokenizer_reads_a_long_run_in_pieces(tmp_path, monkeypatch):
    """A run without whitespace longer than many read blocks: gathered once (not copied again
    with each block), tokenized whole, none of it dropped."""
    monkeypatch.setattr(corpus_mod, "BLOCK_BYTES", 64)
    path = write_text(tmp_path / "c.txt", "ab,cd," * 2000 + "\u3000x y\n" + "cd\n")
    vocab = Vocabulary.build(path, min_count=1, tokenizer="simple")
    assert dict(zip(vocab.index_to_key, vocab.counts.tolist())) == {"ab": 2000, "cd": 2001, "x": 1, "y": 1}
    assert len(Corpus.build(path, min_count=1, tokenizer="simple")) == 2


def test_a_tokenizer_token_with_a_lone_surrogate_is_kept_as_token_lists_keep_it(tmp_path):
    # the file path raised a bare UnicodeEncodeError naming no file, line or token
    path = write_text(tmp_path / "s.txt", "abc def\n")
    from_file = Vocabulary.build(path, min_count=1, tokenizer=lambda line: [t + "\udc80" for t in line.split()])
    from_lists = Vocabulary.build([["abc\udc80", "def\udc80"]], min_count=1)
    assert from_file.index_to_key == from_lists.index_to_key == ["abc\udc80", "def\udc80"]


def test_settings_an_encoded_corpus_does_not_meet_are_named(small_text):
    # Vocabulary.build ignored min_count silently, and both ignored max_vocab_size and tokenizer
    encoded = Corpus.build(small_text, min_count=1)
    for build in (Vocabulary.build, Corpus.build):
        with pytest.warns(UserWarning, match=r"min_count=3 \(its words occur down to 1 times\)"):
            build(encoded, min_count=3)
        with pytest.warns(UserWarning, match=r"max_vocab_size=10 \(it has \d+ words\).* tokenizer='simple'"):
            build(encoded, min_count=1, max_vocab_size=10, tokenizer="simple")
        with pytest.raises(ValueError, match="min_count"):
            build(encoded, min_count=0)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Vocabulary.build(encoded, min_count=1) is encoded.vocabulary


@pytest.mark.parametrize("min_count, error", [(2.5, TypeError), ("3", TypeError), (None, TypeError), (-1, ValueError)])
def test_from_counts_checks_min_count_as_build_does(min_count, error):
    # 2.5 dropped the word counted 2 and stored min_count=2; "3" raised NumPy's UFuncTypeError
    with pytest.raises(error, match="min_count"):
        Vocabulary.from_counts({"a": 3, "b": 2}, min_count=min_count)
    with pytest.raises(error, match="min_count"):
        Vocabulary(["a", "b"], [3, 2], min_count=min_count)
    kept = Vocabulary.from_counts({"a": 3, "b": 0}, min_count=0)
    assert kept.index_to_key == ["a", "b"] and kept.min_count == 0


def test_counting_an_encoded_corpus_warns_about_nothing_it_was_not_asked(recwarn):
    # from_corpus has no min_count: a corpus whose vocabulary holds words counted 0 times
    # (a fixed word list) drew a warning that "min_count=1" was not applied
    vocab = Vocabulary(["a", "b", "c"], [2, 1, 0])
    corpus = Corpus.encode([["a", "b", "a"]], vocab)
    fastvec.Cooccurrence.from_corpus(corpus, window=2)
    assert not [w for w in recwarn if "not applied" in str(w.message)]
