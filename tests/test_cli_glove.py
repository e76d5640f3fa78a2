"""`fastvec train --model glove|ppmi-svd`: the count-based models on the command line."""
import pytest

from fastvec import load_vectors
from fastvec.cli import main


@pytest.mark.parametrize("model,extra", [
    ("glove", ["--epochs", "2", "--x-max", "10", "--dim", "16", "--window", "5"]),
    ("ppmi-svd", ["--dim", "16", "--window", "3"]),
])
def test_train_count_models(capsys, tmp_path, small_text, model, extra):
    out = tmp_path / f"{model}.txt"
    code = main(["train", small_text, "--model", model, "-o", str(out), "--format", "txt", "--min-count", "2",
                 "--threads", "1", "--seed", "3", "-q", *extra])
    printed = capsys.readouterr().out
    assert code == 0 and "co-occurrences counted" in printed and "saved" in printed
    kv = load_vectors(str(out))
    assert kv.vector_size == 16 and "the" in kv


def test_defaults_per_model():
    from fastvec.cli import MODEL_DEFAULTS, build_parser, _apply_model_defaults
    args = build_parser().parse_args(["train", "x.txt", "--model", "glove"])
    _apply_model_defaults(args)
    assert (args.dim, args.window, args.epochs) == (50, 15, 15)
    args = build_parser().parse_args(["train", "x.txt", "--dim", "7"])
    _apply_model_defaults(args)
    assert (args.dim, args.window, args.epochs) == (7, 5, 5) and MODEL_DEFAULTS["sg"]["dim"] == 100


def test_bad_x_max_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", "--model", "glove", "--x-max", "0"])
    assert e.value.code == 2 and "must be > 0" in capsys.readouterr().err
