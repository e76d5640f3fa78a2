"""fastvec.callbacks.EvaluationLog: per-epoch evaluation recorded in the log and in model.history_."""
from __future__ import annotations

import math

import pytest

import fastvec
from fastvec.callbacks import EvaluationLog
from fastvec.evaluation import default_pairs, evaluate_word_analogies, evaluate_word_pairs


def train(text, callbacks, epochs=3):
    return fastvec.Word2Vec(epochs=epochs, vector_size=32, min_count=3, seed=3, workers=1, progress=False,
                            callbacks=callbacks).fit(text)


@pytest.fixture(scope="module")
def logged(small_text):
    log = EvaluationLog(every=1)
    return log, train(small_text, [log])


def test_records_every_epoch_in_the_log_and_in_history(logged):
    log, model = logged
    assert [r["epoch"] for r in log.history] == [1, 2, 3]
    keys = {"epoch", "loss", "analogy_accuracy", "analogy_semantic", "analogy_syntactic", "wordsim353_spearman",
            "wordsim353_pearson", "simlex999_spearman", "simlex999_pearson", "eval_seconds"}
    for record, epoch in zip(log.history, model.history_):
        assert set(record) == keys
        assert record["loss"] == epoch["loss"]
        assert all(epoch[k] == record[k] for k in keys)
        assert 0.0 <= record["analogy_accuracy"] <= 1.0 and record["eval_seconds"] >= 0
    assert [r["loss"] for r in log.history] == model.loss_history_


def test_last_record_matches_a_direct_evaluation(logged):
    log, model = logged
    last = log.history[-1]
    analogy = evaluate_word_analogies(model.wv)
    assert last["analogy_accuracy"] == analogy.accuracy
    assert last["analogy_semantic"] == analogy.semantic_accuracy
    assert last["analogy_syntactic"] == analogy.syntactic_accuracy
    for name, path in default_pairs().items():
        assert last[f"{name}_spearman"] == evaluate_word_pairs(model.wv, path).spearman
    # each epoch was evaluated on that epoch's weights, not on the final ones
    assert log.history[0]["wordsim353_spearman"] != last["wordsim353_spearman"]


def test_history_survives_save_and_load(logged, tmp_path):
    _, model = logged
    model.save(tmp_path / "m.fv")
    loaded = fastvec.Word2Vec.load(tmp_path / "m.fv")
    assert loaded.history_[-1]["simlex999_spearman"] == pytest.approx(model.history_[-1]["simlex999_spearman"])


def test_every_and_custom_sets(small_text, tmp_path):
    pairs_file = tmp_path / "mine.txt"
    pairs_file.write_text("city town 9\ncity the 1\nfilm movie 9\nfilm of 1\nhe she 8\nhe river 1\n")
    log = EvaluationLog(every=2, analogies=False, pairs=[str(pairs_file)])
    model = train(small_text, [log], epochs=4)
    assert [r["epoch"] for r in log.history] == [2, 4]
    assert set(log.history[0]) == {"epoch", "loss", "mine_spearman", "mine_pearson", "eval_seconds"}
    assert "mine_spearman" not in model.history_[0] and "mine_spearman" in model.history_[1]
    assert math.isfinite(log.history[-1]["mine_spearman"])
    named = EvaluationLog(analogies=False, pairs={"ws": default_pairs()["wordsim353"]})
    assert list(named.pairs) == ["ws"]
    assert EvaluationLog(pairs=False).pairs == {}


def test_verbose_prints_one_line_per_evaluation(small_text, capsys):
    train(small_text, [EvaluationLog(pairs=False, verbose=True)], epochs=2)
    lines = [x for x in capsys.readouterr().err.splitlines() if x.startswith("epoch")]
    assert len(lines) == 2 and "analogy_accuracy" in lines[0]


@pytest.mark.parametrize("kwargs,error,message", [
    ({"every": 0}, ValueError, "every must be >= 1"),
    ({"every": 1.5}, TypeError, "every must be an int"),
    ({"restrict_vocab": 0}, ValueError, "restrict_vocab must be >= 1"),
    ({"analogies": "/definitely/missing.txt"}, FileNotFoundError, "no such analogy file"),
    ({"analogies": 3}, TypeError, "analogies must be"),
    ({"pairs": ["/definitely/missing.txt"]}, FileNotFoundError, "no such word-pair file"),
])
def test_bad_arguments_fail_at_construction(kwargs, error, message):
    with pytest.raises(error, match=message):
        EvaluationLog(**kwargs)


def test_works_with_glove_too(small_text):
    log = EvaluationLog(analogies=False)
    model = fastvec.GloVe(epochs=2, vector_size=16, min_count=3, seed=1, workers=1, progress=False,
                          callbacks=[log]).fit(small_text)
    assert [r["epoch"] for r in log.history] == [1, 2]
    assert model.history_[-1]["wordsim353_spearman"] == log.history[-1]["wordsim353_spearman"]
    assert log.history[-1]["simlex999_spearman"] == evaluate_word_pairs(model.wv, default_pairs()["simlex999"]).spearman


def test_bad_evaluation_files_fail_before_training(tmp_path):
    bad = tmp_path / "SimLex-999.txt"
    bad.write_text("word1\tword2\tPOS\tSimLex999\nold\tnew\tA\t1.58\n")
    with pytest.raises(ValueError, match="SimLex-999.txt: line 1"):
        EvaluationLog(pairs=[bad])
