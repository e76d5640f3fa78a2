"""The fastvec command: the main job, each subcommand, and one-line errors."""
import json
import os
import subprocess
import sys

import pytest

import fastvec
import fastvec.formats
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
    (["train", "{copy}", "-o", "{copy}", "--epochs", "1"], "names the corpus itself"),
    (["train", "{copy}", "--checkpoint", "{copy}", "--checkpoint-every", "1"], "names the corpus itself"),
    (["train", "{small}", "-o", "{tmp}/a.bin", "--checkpoint", "{tmp}/a.bin"], "the same file"),
    (["train", "{small}", "-o", "{tmp}/fifo"], "not a regular file"),
    (["train", "{small}", "-o", "{tmp}/a2.bin", "--checkpoint", "{tmp}/link.bin", "--checkpoint-every", "1"],
     "the same file"),
    (["train", "{small}", "--model", "ppmi-svd", "--epochs", "3"], "--epochs has no effect with --model ppmi-svd"),
    (["train", "{small}", "--x-max", "10"], "--x-max has no effect with --model sg"),
    (["train", "{small}", "--checkpoint-every", "1"], "--checkpoint-every needs --checkpoint"),
    (["train", "{small}", "--checkpoint", "{tmp}/c.fv", "--checkpoint-every", "5", "--epochs", "2"],
     "no checkpoint would be written"),
    (["train", "{small}", "--model", "glove", "--negative", "3"], "--negative has no effect with --model glove"),
    (["eval", "{vectors}", "--analogies", "{latin1}"], "latin1.txt: line 1: not UTF-8"),
    (["plot", "{badzip}", "--kind", "training", "-o", "{tmp}/t.png"], "badzip.fv: corrupt fastvec file"),
    (["plot", "{nested}", "--kind", "training", "-o", "{tmp}/t.png"], "needs a saved model"),
    # outputs checked before any work: the input itself (also through a link), links that lead
    # nowhere or in a loop, names too long, '' and '-'
    (["plot", "{copy_png}", "--kind", "spectrum", "-o", "{copy_png}"], "names the input file itself"),
    (["plot", "{copy_png}", "--kind", "spectrum", "-o", "{tmp}/to_input.png"], "names the input file itself"),
    (["train", "{small}", "-o", "{tmp}/dangling.bin"], "output directory does not exist"),
    (["train", "{small}", "-o", "{tmp}/loop1"], "cannot resolve the symbolic link"),
    (["train", "{small}", "-o", "{tmp}/" + "x" * 300 + ".bin"], "cannot write there (File name too long)"),
    (["train", "{small}", "-o", ""], "-o '': an empty file name"),
    (["train", "{small}", "--checkpoint", ""], "--checkpoint '': an empty file name"),
    (["train", "{small}", "-o", "-"], "writing to standard output is not supported"),
    (["train", "{small}", "--format", "txt"], "--format has no effect without -o"),
    (["train", "{small}", "--dim", "1000000"], "--dim must be <= 100000"),
    (["plot", "{vectors}", "--kind", "spectrum", "--words", "the", "-o", "{tmp}/s.png"],
     "--words has no effect with --kind spectrum"),
    (["plot", "{vectors}", "--kind", "heatmap", "--method", "tsne", "-o", "{tmp}/s.png"],
     "--method has no effect with --kind heatmap"),
    (["plot", "{vectors}", "--kind", "projection", "--center", "-o", "{tmp}/s.png"],
     "--center has no effect with --kind projection"),
    (["similar", "-", "the"], "reading vectors from standard input is not supported"),
    (["train", "{tmp}/workers/min_count.txt"], "{tmp}/workers/min_count.txt: no such corpus file"),
    (["train", "{small}", "-o", "{tmp}/newdir/"], "names a directory; -o takes a file name"),
    (["train", "{small}", "-o", "{tmp}/."], "names a directory; -o takes a file name"),
    (["plot", "{vectors}", "--kind", "projection", "--seed", "3", "-o", "{tmp}/p.png"],
     "--seed has no effect with --kind projection --method pca"),
    (["train", "{small}", "-o", "{tmp}/loop1"], "loop1: cannot resolve the symbolic link"),
    (["similar", "{tmp}/fifo_in", "the"], "is a pipe, FIFO or device"),
])
def test_user_errors_are_one_line(capsys, vectors, small_text, tmp_path, argv, message):
    import shutil
    import zipfile
    copy = tmp_path / "corpus.txt"
    shutil.copyfile(small_text, copy)
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 th\xe9 the of\n".encode("latin-1"))
    badzip = tmp_path / "badzip.fv"
    with zipfile.ZipFile(badzip, "w") as zf:
        zf.writestr("meta.json", '{"kind": "word2vec", "history": []}')
    data = bytearray(badzip.read_bytes())
    data[data.index(b'"kind"')] ^= 0xFF                     # the member no longer matches its CRC
    badzip.write_bytes(bytes(data))
    (tmp_path / "nested.json").write_text("[" * 100_000 + "]" * 100_000)
    os.mkfifo(tmp_path / "fifo")
    os.symlink(tmp_path / "a2.bin", tmp_path / "link.bin")
    copy_png = tmp_path / "vectors.png"
    shutil.copyfile(vectors, copy_png)
    os.symlink(copy_png, tmp_path / "to_input.png")
    os.symlink(tmp_path / "nowhere" / "x.bin", tmp_path / "dangling.bin")
    os.symlink(tmp_path / "loop2", tmp_path / "loop1")
    os.symlink(tmp_path / "loop1", tmp_path / "loop2")
    os.mkfifo(tmp_path / "fifo_in")   # refused before it is opened: no writer needed, no wait
    argv = [a.format(small=small_text, vectors=vectors, copy=copy, tmp=tmp_path, latin1=tmp_path / "latin1.txt",
                     badzip=badzip, nested=tmp_path / "nested.json", copy_png=copy_png) for a in argv]
    png_before = copy_png.read_bytes()
    before = copy.read_bytes()
    code, out, err = run(capsys, *argv)
    assert code == 1
    message = message.format(tmp=tmp_path)
    assert message in err and err.count("\n") == 1 and "Traceback" not in err and "[Errno" not in err
    assert copy.read_bytes() == before and copy_png.read_bytes() == png_before
    assert not list(tmp_path.glob(".*.tmp"))   # the probes of the output directory are removed


def test_strict_json_and_model_files_as_vectors(capsys, vectors, tmp_path, small_text):
    (tmp_path / "few.txt").write_text("the of 5.0\nof the 4.0\n")           # 2 pairs: no correlation
    code, out, _ = run(capsys, "eval", vectors, "--json", "--pairs", str(tmp_path / "few.txt"))
    assert code == 0
    report = json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in JSON output"))
    assert report["pairs"]["few.txt"]["spearman"] is None
    from fastvec import Word2Vec
    Word2Vec(epochs=1, min_count=2, progress=False, vector_size=16).fit(small_text).save(tmp_path / "m.fv")
    code, out, _ = run(capsys, "similar", str(tmp_path / "m.fv"), "the", "--topn", "2")
    assert code == 0 and len(out.strip().splitlines()) == 2


def test_glove_alpha_is_the_weighting_exponent_and_eta_the_learning_rate(monkeypatch, capsys, small_text):
    from fastvec import glove
    seen = {}

    def fake_fit(self, corpus):
        seen.update(alpha=self.alpha, learning_rate=self.learning_rate, x_max=self.x_max)
        raise KeyboardInterrupt     # stop there: the command reports the interruption
    monkeypatch.setattr(glove.GloVe, "fit", fake_fit)
    assert main(["train", small_text, "--model", "glove", "--alpha", "0.5", "--eta", "0.01", "-q"]) != 0
    assert seen == {"alpha": 0.5, "learning_rate": 0.01, "x_max": 100.0}


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
    assert code == 0 and err.count("\n") == 1 and err.startswith("fastvec: warning: --threads=999")


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


def test_checkpoint_alone_saves_every_epoch_and_pairs_with_one_name_both_report(capsys, tmp_path, small_text, vectors):
    code, out, err = run(capsys, "train", small_text, "--checkpoint", str(tmp_path / "c.fv"), "--epochs", "1",
                         "--min-count", "2", "--dim", "8", "-q")
    assert code == 0 and (tmp_path / "c.fv").exists()
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "ws.tsv").write_text("the of 5.0\nof and 4.0\nand the 3.0\nin the 1.0\n")
    code, out, _ = run(capsys, "eval", vectors, "--json", "--pairs", str(tmp_path / "a" / "ws.tsv"),
                       str(tmp_path / "b" / "ws.tsv"))
    assert code == 0 and len(json.loads(out)["pairs"]) == 2


def _shell(command: str, tmp_path, **env) -> subprocess.CompletedProcess:
    """Run a shell command line with `fastvec` meaning this interpreter's module, outside the source tree."""
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    environ.update(env)
    fastvec = f"'{sys.executable}' -m fastvec"
    return subprocess.run(["bash", "-c", command.replace("fastvec ", fastvec + " ")], cwd=tmp_path,
                          capture_output=True, text=True, env=environ, timeout=300)


def test_broken_pipe_full_disk_and_closed_streams(vectors, tmp_path):
    run = _shell(f"fastvec similar {vectors} the --topn 5 | true; echo rc=${{PIPESTATUS[0]}}", tmp_path)
    assert run.stdout == "rc=0\n" and run.stderr == ""   # no "Exception ignored ... BrokenPipeError"
    run = _shell("fastvec --version | true; echo rc=${PIPESTATUS[0]}", tmp_path)
    assert run.stdout == "rc=0\n" and run.stderr == ""
    if os.path.exists("/dev/full"):
        run = _shell(f"fastvec similar {vectors} the > /dev/full", tmp_path)
        assert run.returncode == 1 and run.stderr.count("\n") == 1 and "No space left" in run.stderr, run.stderr
    run = _shell(f"fastvec similar {vectors} the >&-", tmp_path)
    assert run.returncode == 1 and run.stderr == "fastvec: error: standard output is closed\n"
    run = _shell(f"fastvec similar {vectors} notaword 2>&-", tmp_path)   # the error never lands among the data
    assert run.returncode == 1 and run.stdout == ""


def test_train_saves_the_vectors_before_printing(small_text, tmp_path):
    """A closed pipe on stdout (PYTHONUNBUFFERED: the first print fails) must not lose the model."""
    run = _shell(f"fastvec train {small_text} -o out.bin --epochs 1 --min-count 2 -q | true; "
                 "echo rc=${PIPESTATUS[0]}", tmp_path, PYTHONUNBUFFERED="1")
    assert run.stdout == "rc=0\n" and (tmp_path / "out.bin").stat().st_size > 0, run.stderr


def test_words_are_utf8_whatever_the_locale(tmp_path):
    (tmp_path / "uni.txt").write_text("3 2\ncafé 1 0\nnaïve 0.9 0.1\nabc 0 1\n", encoding="utf-8")
    ascii_locale = dict(LC_ALL="C", LANG="C", PYTHONCOERCECLOCALE="0", PYTHONUTF8="0", PYTHONIOENCODING="ascii")
    run = _shell("fastvec similar uni.txt café --topn 1", tmp_path, **ascii_locale)
    assert run.returncode == 0 and run.stdout.startswith("na\\xef") and run.stderr == "", run.stderr


def test_main_leaves_a_replaced_stdout_alone(vectors):
    """In-process use with stdout redirected to a StringIO (no reconfigure, encoding None)."""
    import contextlib
    import io
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["similar", vectors, "the", "--topn", "2"]) == 0
    assert len(buffer.getvalue().splitlines()) == 2


def test_paths_in_messages_are_never_taken_for_parameters(tmp_path, capsys, monkeypatch):
    """A corpus named like a parameter keeps its name in the error (only parameters become options)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "workers").write_text("a b c\n")   # no word reaches min_count=5
    code, out, err = run(capsys, "train", "workers", "-q")
    assert code == 1 and err.startswith("fastvec: error: workers: no word occurs at least --min-count=5 times"), err


def test_a_training_history_may_come_from_a_pipe(tmp_path):
    pytest.importorskip("matplotlib")
    (tmp_path / "h.json").write_text('[{"epoch": 1, "loss": 2.5}, {"epoch": 2, "loss": 2.1}]')
    run = _shell("cat h.json | fastvec plot /dev/stdin --kind training -o p.png", tmp_path)
    assert run.returncode == 0 and (tmp_path / "p.png").stat().st_size > 0, run.stderr


def test_vectors_files_with_duplicates_or_bad_bytes_can_be_read_from_the_command_line(capsys, tmp_path):
    # the loaders' advice named Python arguments (duplicates='first', unicode_errors=...) that
    # no command had: such files could not be read from the command line at all
    dup = tmp_path / "dup.txt"
    dup.write_bytes(b"3 2\na 1 0\nb 0 1\na 0.9 0.1\n")
    code, out, err = run(capsys, "similar", str(dup), "b")
    assert code == 1 and "use --duplicates first or last" in err and "duplicates='first'" not in err
    for keep, score in (("first", "0.0000"), ("last", "0.1104")):
        code, out, err = run(capsys, "similar", str(dup), "b", "--duplicates", keep)
        assert code == 0 and out.splitlines() == [f"a\t{score}"], (keep, out, err)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"2 2\ncaf\xe9 1 0\nb 0 1\n")
    code, out, err = run(capsys, "similar", str(bad), "b")
    assert code == 1 and "use --unicode-errors replace or ignore" in err and "binary=True" not in err
    code, out, err = run(capsys, "similar", str(bad), "b", "--unicode-errors", "replace")
    assert code == 0 and out.startswith("caf\ufffd\t"), out
    for command in (["eval", str(dup)], ["analogy", str(dup), "a", "b", "a"], ["analyze", str(dup)],
                    ["plot", str(dup), "--kind", "spectrum", "-o", str(tmp_path / "s.png")]):
        code, out, err = run(capsys, *command, "--duplicates", "first")
        assert "duplicate" not in err, (command, err)
    code, out, err = run(capsys, "plot", str(dup), "--kind", "training", "-o", str(tmp_path / "t.png"),
                         "--duplicates", "last")
    assert code == 1 and "--duplicates has no effect with --kind training" in err


@pytest.mark.parametrize("head,message", [
    (b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x08gensim", "Python pickle"),   # gensim's wv.save()
    (b"\x93NUMPY\x01\x00v\x00{'descr': '<f4'", "NumPy array file"),
])
def test_pickles_and_npy_files_are_named_for_what_they_are(capsys, tmp_path, head, message):
    path = tmp_path / "model.kv"
    path.write_bytes(head + b"\x00" * 64)
    code, out, err = run(capsys, "similar", str(path), "a")
    assert code == 1 and message in err and err.count("\n") == 1 and "unicode_errors" not in err
    with pytest.raises(fastvec.FormatError, match=message):
        fastvec.formats.load_vectors(path)


@pytest.mark.parametrize("name, fmt", [("v.txt", "txt"), ("v.vec.gz", "txt"), ("v.bin", "bin"), ("v.fv", "native"),
                                       ("v.out", "bin")])
def test_train_output_format_follows_the_file_name(capsys, tmp_path, small_text, name, fmt):
    # -o vectors.txt wrote word2vec binary, which gensim's text reader then failed on
    from fastvec.formats import detect_format
    path = tmp_path / name
    code, out, err = run(capsys, "train", small_text, "-o", str(path), "--epochs", "1", "--min-count", "3", "-q")
    assert code == 0 and detect_format(path) == fmt
