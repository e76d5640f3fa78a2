"""Analogy and word-pair evaluation: hand-made cases and a brute-force oracle."""
import numpy as np
import pytest

from fastvec import KeyedVectors
from fastvec.evaluation import default_analogies, default_pairs, evaluate_word_analogies, evaluate_word_pairs

from conftest import write_text


def parallelogram_kv():
    # countries/capitals on exact offsets, plus noise words
    rng = np.random.default_rng(0)
    base = {"france": rng.normal(size=8), "italy": rng.normal(size=8), "spain": rng.normal(size=8)}
    offset = rng.normal(size=8) * 2
    keys, vecs = [], []
    for country, v in base.items():
        keys += [country, {"france": "paris", "italy": "rome", "spain": "madrid"}[country]]
        vecs += [v, v + offset]
    keys += ["Big", "big", "bigger", "noise"]
    vecs += [rng.normal(size=8), rng.normal(size=8), rng.normal(size=8), rng.normal(size=8)]
    return KeyedVectors(keys, np.array(vecs, dtype=np.float32))


def test_analogies_on_a_known_geometry(tmp_path):
    kv = parallelogram_kv()
    path = write_text(tmp_path / "q.txt", ": capitals\nFrance Paris Italy Rome\nitaly rome spain madrid\n"
                                          "france paris germany berlin\n: gram-test\nbig bigger big bigger\n")
    r = evaluate_word_analogies(kv, path)
    assert r.skipped == 1                      # germany/berlin unknown
    assert r.sections[0].correct == 2 and r.sections[0].total == 2
    assert r.semantic_accuracy == 1.0
    assert r.total == 3 and r.correct == 2     # big:bigger::big:? cannot answer 'bigger' (excluded)
    assert r.syntactic_accuracy == 0.0
    assert r.accuracy == pytest.approx(2 / 3)
    d = r.to_dict()
    assert d["sections"][0]["accuracy"] == 1.0
    assert evaluate_word_analogies(kv, path, method="3cosmul").semantic_accuracy == 1.0


def test_case_sensitivity(tmp_path):
    kv = parallelogram_kv()
    path = write_text(tmp_path / "q.txt", ": s\nFRANCE PARIS ITALY ROME\n")
    assert evaluate_word_analogies(kv, path).correct == 1
    assert evaluate_word_analogies(kv, path, case_insensitive=False).skipped == 1


def test_restrict_vocab(tmp_path):
    kv = parallelogram_kv()
    path = write_text(tmp_path / "q.txt", ": s\nfrance paris spain madrid\n")
    assert evaluate_word_analogies(kv, path, restrict_vocab=4).skipped == 1  # spain is row 4


def test_batched_analogies_equal_most_similar_loop(sg_model):
    kv = sg_model.wv
    lines = open(default_analogies(), encoding="utf-8").read().splitlines()
    sample = [l for l in lines if not l.startswith(":")][::11]
    limit = 30000
    ok = {w.upper(): w for w in kv.index_to_key[:limit]}
    correct = answered = 0
    for line in sample:
        a, b, c, d = (w.upper() for w in line.split())
        if not all(w in ok for w in (a, b, c, d)):
            continue
        answered += 1
        pred = kv.most_similar(positive=[ok[b], ok[c]], negative=[ok[a]], topn=1, restrict_vocab=limit)[0][0]
        correct += pred.upper() == d
    import tempfile, os
    with tempfile.TemporaryDirectory() as tmp:
        path = write_text(os.path.join(tmp, "q.txt"), ": sample\n" + "\n".join(sample) + "\n")
        r = evaluate_word_analogies(kv, path)
    assert r.total == answered and r.correct == correct
    assert correct > 0


def test_word_pairs(tmp_path):
    kv = KeyedVectors(["a", "b", "c", "d"], np.array([[1, 0], [1, 0.1], [1, 1], [0, 1]], dtype=np.float32))
    path = write_text(tmp_path / "p.tsv", "# comment\na\tb\t9\na\tc\t5\na\td\t1\nb\td\t2\na\tzzz\t3\n")
    r = evaluate_word_pairs(kv, path)
    assert r.spearman == pytest.approx(1.0)
    assert r.pairs_used == 4 and r.pairs_total == 5 and r.oov_fraction == pytest.approx(0.2)
    assert -1 <= r.pearson <= 1


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_pair_lines_end_where_gensim_ends_them(tmp_path, end):
    # a lone \r ends a line of a pair file for gensim (text mode): the four pairs below were
    # read as one line and three of them silently dropped
    kv = KeyedVectors(["a", "b", "c", "d", "e", "f"], np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32))
    path = tmp_path / "p.txt"
    path.write_bytes(end.join(["a b 9", "c d 5", "e f 1", "a c 3", ""]).encode())
    r = evaluate_word_pairs(kv, path)
    assert r.pairs_total == r.pairs_used == 4
    path.write_bytes(end.join(["a b 9", "c d 5", "e f\xff 1", ""]).encode("latin-1"))
    with pytest.raises(ValueError, match="line 3: not UTF-8"):
        evaluate_word_pairs(kv, path)


def test_columns_after_the_score_are_ignored(tmp_path):
    kv = KeyedVectors(["a", "b", "c", "d"], np.array([[1, 0], [1, 0.1], [1, 1], [0, 1]], dtype=np.float32))
    plain = evaluate_word_pairs(kv, write_text(tmp_path / "p.tsv", "a\tb\t9\na\tc\t5\na\td\t1\n"))
    extra = evaluate_word_pairs(kv, write_text(tmp_path / "x.tsv", "a\tb\t9\t8\t7\na\tc\t5\t1\na\td\t1\n"))
    assert (extra.pairs_used, extra.spearman, extra.pearson) == (plain.pairs_used, plain.spearman, plain.pearson)


def test_bundled_sets_on_trained_model(sg_model):
    r = evaluate_word_analogies(sg_model.wv)
    assert r.total + r.skipped == 19544 and 0.0 < r.accuracy < 1.0
    for name, path in default_pairs().items():
        p = evaluate_word_pairs(sg_model.wv, path)
        assert p.spearman > 0.1, name


def test_bad_evaluation_inputs(tmp_path):
    kv = parallelogram_kv()
    with pytest.raises(ValueError, match="expected 4 words"):
        evaluate_word_analogies(kv, write_text(tmp_path / "q.txt", "a b c\n"))
    with pytest.raises(ValueError, match="method"):
        evaluate_word_analogies(kv, method="cos")
    with pytest.raises(FileNotFoundError):
        evaluate_word_pairs(kv, tmp_path / "missing")
    with pytest.raises(ValueError, match="not a number"):
        evaluate_word_pairs(kv, write_text(tmp_path / "p.txt", "a b x\n"))


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
def test_results_do_not_depend_on_the_batch_size(sg_model, monkeypatch, method):
    from fastvec import evaluation
    full = evaluate_word_analogies(sg_model.wv, method=method, restrict_vocab=np.int64(5000))
    monkeypatch.setattr(evaluation, "_SCORE_BYTES", 1)        # one question per matrix product
    one = evaluate_word_analogies(sg_model.wv, method=method, restrict_vocab=5000)
    assert one.sections == full.sections and full.correct > 0


def test_evaluation_files_are_checked(tmp_path):
    kv = parallelogram_kv()
    with pytest.raises(ValueError, match="not a finite number"):
        evaluate_word_pairs(kv, write_text(tmp_path / "p.txt", "a b nan\n"))
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9 a b c\n".encode("latin-1"))
    with pytest.raises(ValueError, match=f"{bad}: line 1: not UTF-8"):
        evaluate_word_analogies(kv, bad)
    bad.write_bytes(b"\xef\xbb\xbf# pairs\na\tb\t1\ncaf\xe9\tb\t2\n")   # after a BOM, on line 3
    with pytest.raises(ValueError, match=f"{bad}: line 3: not UTF-8 text \\(byte 20"):
        evaluate_word_pairs(kv, bad)


def test_pairs_restrict_vocab_is_checked(tmp_path):
    kv = parallelogram_kv()
    path = write_text(tmp_path / "p.txt", "a b 1\n")
    for bad in (0, -1, None, 2.5, True):
        with pytest.raises(ValueError, match="restrict_vocab"):
            evaluate_word_pairs(kv, path, restrict_vocab=bad)


def test_a_bom_and_unicode_line_separators_are_read_as_gensim_reads_them(tmp_path):
    kv = KeyedVectors(["a", "b", "c", "d", "e\u2028f"], np.array([[1, 0], [1, 0.1], [1, 1], [0, 1], [0.5, 1]],
                                                                  dtype=np.float32))
    path = tmp_path / "p.tsv"
    # a BOM before the comment line, \r\n line ends, and a word holding U+2028 (a line break for
    # str.splitlines, not for gensim or for us)
    path.write_bytes("\ufeff# WordSimilarity-353\r\na\tb\t9\r\na\tc\t5\na\td\t1\nb\te\u2028f\t2\n".encode("utf-8"))
    r = evaluate_word_pairs(kv, path)
    assert r.pairs_total == 4 and r.pairs_used == 4
    questions = tmp_path / "q.txt"
    questions.write_bytes("\ufeff: s\r\na b c d\r\n".encode("utf-8"))
    assert evaluate_word_analogies(kv, questions, case_insensitive=False).total == 1


def test_a_file_without_questions_is_an_error(tmp_path):
    kv = parallelogram_kv()
    for text in ("", "\n\n", ": capitals\n: gram\n"):
        with pytest.raises(ValueError, match="no analogy questions found"):
            evaluate_word_analogies(kv, write_text(tmp_path / "q.txt", text))
    assert evaluate_word_analogies(kv, write_text(tmp_path / "q.txt", ": s\nx y z w\n")).skipped == 1


def test_a_question_whose_candidates_are_all_excluded_is_not_counted_correct(tmp_path):
    # with restrict_vocab=3 every candidate is a query word: no answer, whatever row argmax lands on
    kv = KeyedVectors(["a", "b", "c"], np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32))
    path = write_text(tmp_path / "q.txt", ": s\na b c a\n")
    for method in ("3cosadd", "3cosmul"):
        r = evaluate_word_analogies(kv, path, restrict_vocab=3, case_insensitive=False, method=method)
        assert r.total == 1 and r.correct == 0


def test_sections_without_an_answerable_question_are_listed(tmp_path):
    kv = parallelogram_kv()
    path = write_text(tmp_path / "q.txt", ": unknown\nfrance paris germany berlin\n: capitals\n"
                                          "france paris italy rome\n: empty\n")
    r = evaluate_word_analogies(kv, path)
    assert [(s.section, s.correct, s.total) for s in r.sections] == [("unknown", 0, 0), ("capitals", 1, 1),
                                                                     ("empty", 0, 0)]
    assert r.sections[0].accuracy == 0.0 and r.accuracy == 1.0 and r.skipped == 1


def test_an_empty_path_is_not_the_default_data_set():
    kv = parallelogram_kv()
    with pytest.raises(FileNotFoundError):
        evaluate_word_analogies(kv, "")
    with pytest.raises(FileNotFoundError):
        evaluate_word_pairs(kv, "")


def test_pair_fields_are_stripped_and_oov_is_a_fraction(tmp_path):
    kv = parallelogram_kv()
    path = write_text(tmp_path / "p.tsv", "france \tparis\t9\n italy\trome \t8\nspain\tbig\t1\n"
                                          "noise\tbigger\t2\nfrance\tgermany\t5\n")
    r = evaluate_word_pairs(kv, path)
    assert r.pairs_used == 4 and r.pairs_total == 5 and r.oov_fraction == pytest.approx(0.2)
    few = write_text(tmp_path / "few.tsv", "france\tparis\t9\nfrance\tgermany\t5\n")
    r = evaluate_word_pairs(kv, few)
    assert r.pairs_used == 1 and np.isnan(r.spearman) and np.isnan(r.pearson)
