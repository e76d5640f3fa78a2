"""The fastvec command: the main job, each subcommand, and one-line errors."""
import json
import subprocess
import sys

import pytest

from fastvec.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def vectors(tmp_path_factory, small_text):
    path = tmp_path_factory.mktemp("cli") / "v.bin"
    assert main(["train", small_text, "-o", str(path), "--epochs", "2", "--min-count", "2", "-q", "--seed", "1"]) == 0
    return str(path)


def test_train_eval_similar_analogy(capsys, vectors, tmp_path, small_text):
    code, out, err = run(capsys, "eval", vectors, "--json")
    assert code == 0
    report = json.loads(out)
    assert "accuracy" in report["analogies"] and "wordsim353.tsv" in report["pairs"]
    code, out, _ = run(capsys, "similar", vectors, "the", "--topn", "3")
    assert code == 0 and len(out.strip().splitlines()) == 3
    code, out, _ = run(capsys, "analogy", vectors, "he", "his", "she")
    assert code == 0 and out.strip()
    for fmt in ("txt", "native"):
        path = tmp_path / f"v.{fmt}"
        code, out, _ = run(capsys, "train", small_text, "-o", str(path), "--format", fmt, "--epochs", "1",
                           "--min-count", "2", "-q", "--model", "cbow", "--dim", "16")
        assert code == 0 and "saved" in out
        assert run(capsys, "similar", str(path), "the")[0] == 0


@pytest.mark.parametrize("argv,message", [
    (["train", "/definitely/missing.txt"], "no such corpus file"),
    (["similar", "/definitely/missing.bin", "x"], "no such vectors file"),
    (["train", "{small}", "-o", "/definitely/missing/dir/v.bin"], "output directory does not exist"),
    (["similar", "{vectors}", "notaword"], "not in the vocabulary"),
    (["analogy", "{vectors}", "the", "notaword", "of"], "not in the vocabulary"),
    (["eval", "{small}"], "is not a number"),
])
def test_user_errors_are_one_line(capsys, vectors, small_text, argv, message):
    argv = [a.format(small=small_text, vectors=vectors) for a in argv]
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", "--dim", "0"])
    assert e.value.code == 2
    assert "must be >= 1" in capsys.readouterr().err


def test_main_job_without_corpus_runs_as_a_command(tmp_path):
    """`fastvec train` with no corpus: the README's main job (one short epoch here)."""
    proc = subprocess.run([sys.executable, "-m", "fastvec", "train", "--epochs", "1", "-q"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "bundled sample" in proc.stderr
    assert "nearest neighbours" in proc.stdout and "analogies" in proc.stdout and "wordsim353" in proc.stdout
