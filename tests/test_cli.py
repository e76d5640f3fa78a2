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


BAD_CORPORA = {
    "empty": b"",
    "whitespace": b"   \n\t\n  \r\n",
    "rare words": b"each word here occurs once only\n",
    "binary": bytes(range(256)) * 64,
    "nul bytes": b"\x00" * 5000,
}


@pytest.mark.parametrize("name", sorted(BAD_CORPORA))
def test_bad_corpora_give_one_line(capsys, tmp_path, name):
    path = tmp_path / "corpus.txt"
    path.write_bytes(BAD_CORPORA[name])
    code, out, err = run(capsys, "train", str(path), "-q")
    assert code == 1 and err.startswith("fastvec: error: ") and err.count("\n") == 1, err


@pytest.mark.parametrize("argv", [
    ["train", "--dim", "0"], ["train", "--window", "x"], ["train", "--sample", "-1"], ["train", "--epochs", "0"],
    ["train", "--model", "bert"], ["similar"], ["nosuchcommand"],
])
def test_bad_arguments_give_one_line(capsys, argv):
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1 and "error:" in err and "Traceback" not in err


def test_divergence_and_thread_warnings(capsys, small_text, tmp_path):
    code, out, err = run(capsys, "train", small_text, "--alpha", "1e30", "--epochs", "1", "--min-count", "2", "-q")
    assert code == 1 and "diverged" in err and err.count("\n") == 1
    code, out, err = run(capsys, "train", small_text, "--threads", "999", "--epochs", "1", "--min-count", "2", "-q")
    assert code == 0 and err.count("\n") == 1 and err.startswith("fastvec: warning: workers=999")


@pytest.mark.parametrize("content", [b"", b"3 2\na 1 2\n", b"2 2\na 1 2\nb x y\n", b"PK\x03\x04garbage"])
def test_bad_vector_files_give_one_line(capsys, tmp_path, content):
    path = tmp_path / "v.bin"
    path.write_bytes(content)
    for argv in (["eval", str(path)], ["similar", str(path), "a"], ["analogy", str(path), "a", "b", "c"]):
        code, out, err = run(capsys, *argv)
        assert code == 1 and err.startswith("fastvec: error: ") and err.count("\n") == 1, (argv, err)


@pytest.mark.skipif(sys.platform == "win32", reason="Windows cannot send SIGINT to a child process")
def test_ctrl_c_in_the_command(tmp_path, small_text):
    import signal
    import time
    # SIGINT back to default in the child (a script's `pytest &` runs with SIGINT ignored, inherited)
    proc = subprocess.Popen([sys.executable, "-m", "fastvec", "train", small_text, "--epochs", "100000",
                             "--min-count", "2", "-q"], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            cwd=tmp_path, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err == "fastvec: interrupted\n", err
