"""The ``fastvec`` command.

    fastvec train [CORPUS] [-o OUT] [--model sg|cbow|glove|ppmi-svd] [--dim N] ... [--format bin|txt|native]
    fastvec eval VECTORS [--analogies FILE] [--pairs FILE ...] [--json]
    fastvec similar VECTORS WORD [--topn N]
    fastvec analogy VECTORS A B C [--topn N]
    fastvec analyze VECTORS [--words W ...] [--json]
    fastvec plot VECTORS --kind projection|heatmap|analogy|spectrum|concentration|training -o FILE.png
    fastvec config

``fastvec train`` without a corpus trains on the small corpus bundled with the package and
prints neighbours and evaluation scores. User errors print one line on stderr and exit with
status 1 (2 for usage errors), never a traceback.
"""
from __future__ import annotations

import argparse
import json
import warnings
import os
import sys
import time
from typing import Callable, Sequence

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
SAMPLE_WORDS = ("king", "france", "computer", "water", "music")
FORMATS = {"bin": "word2vec binary", "txt": "word2vec text", "native": "fastvec native"}


class UserError(Exception):
    """An error caused by the command line or its inputs: reported as one line."""


def bundled_corpus() -> str:
    from importlib import resources
    return str(resources.files("fastvec").joinpath("data", "wiki1m.txt.xz"))


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = _non_negative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def save_vectors(kv, path: str, fmt: str) -> None:
    if fmt == "native":
        kv.save(path)
    else:
        kv.save_word2vec_format(path, binary=(fmt == "bin"))


def _print_report(kv, out=sys.stdout) -> None:
    from fastvec.evaluation import default_pairs, evaluate_word_analogies, evaluate_word_pairs
    print("\nnearest neighbours:", file=out)
    for word in SAMPLE_WORDS:
        if word in kv:
            neighbours = ", ".join(f"{w} ({s:.2f})" for w, s in kv.most_similar(word, topn=6))
            print(f"  {word:<10} {neighbours}", file=out)
    result = evaluate_word_analogies(kv)
    print(f"\nanalogies (Google, top 30k words): {100 * result.accuracy:.2f}% "
          f"(semantic {100 * result.semantic_accuracy:.2f}%, syntactic {100 * result.syntactic_accuracy:.2f}%; "
          f"{result.total} answered, {result.skipped} skipped)", file=out)
    for name, path in default_pairs().items():
        r = evaluate_word_pairs(kv, path)
        print(f"{name}: Spearman {r.spearman:.3f} (Pearson {r.pearson:.3f}, {100 * r.oov_fraction:.1f}% pairs OOV)",
              file=out)


#: per-model defaults of the options that differ (word2vec.c's and Stanford GloVe's)
MODEL_DEFAULTS = {
    "sg": dict(dim=100, window=5, epochs=5, negative=5, sample=1e-3),
    "cbow": dict(dim=100, window=5, epochs=5, negative=5, sample=1e-3),
    "glove": dict(dim=50, window=15, epochs=15, x_max=100.0, alpha=0.75, eta=0.05),
    "ppmi-svd": dict(dim=100, window=15),
}
#: options that only some models have (the others refuse them rather than ignore them)
MODEL_OPTIONS = {"negative": ("sg", "cbow"), "sample": ("sg", "cbow"), "alpha": ("sg", "cbow", "glove"),
                 "epochs": ("sg", "cbow", "glove"), "x_max": ("glove",), "eta": ("glove",),
                 "checkpoint": ("sg", "cbow", "glove"), "checkpoint_every": ("sg", "cbow", "glove")}


def _apply_model_defaults(args: argparse.Namespace) -> None:
    for name, models in MODEL_OPTIONS.items():
        if getattr(args, name) is not None and args.model not in models:
            raise UserError(f"--{name.replace('_', '-')} has no effect with --model {args.model} "
                            f"(it is for {', '.join(models)})")
    for name, value in MODEL_DEFAULTS[args.model].items():
        if getattr(args, name) is None:
            setattr(args, name, value)


def _check_outputs(targets: Sequence[tuple[str, str | None]], source: str, what: str) -> None:
    """The (flag, path) files we will create or replace: never the input ``source`` (the
    ``what``: corpus, vectors) or each other, each a regular file (or none yet) in a
    directory where a file of that name can be made (a temporary file is tried and removed,
    which also finds names that are too long and read-only file systems); checked before any
    work, so that an hour of training is not lost to a bad -o."""
    from fastvec._io import check_output_path
    seen: dict[str, str] = {}
    for flag, path in targets:
        if path is None:
            continue
        if path == "":
            raise UserError(f"{flag} '': an empty file name")
        if path == "-":
            raise UserError(f"{flag} -: writing to standard output is not supported; give a file name")
        if path.endswith(("/", os.sep)) or os.path.basename(path) in (".", ".."):
            raise UserError(f"{path}: names a directory; {flag} takes a file name")
        try:
            target = check_output_path(path)   # a symbolic link: the file it points to is replaced
        except OSError as e:
            raise UserError(e.strerror or str(e)) from None
        if os.path.exists(target) and os.path.exists(source) and os.path.samefile(target, source):
            raise UserError(f"{path}: {flag} names the {what} itself; writing there would destroy it")
        real = os.path.realpath(target)
        if real in seen:
            raise UserError(f"{path}: {seen[real]} and {flag} name the same file")
        seen[real] = flag


def _train_count_model(args: argparse.Namespace, corpus: str) -> int:
    """GloVe or PPMI-SVD: count co-occurrences, then fit."""
    from fastvec.glove import GloVe
    from fastvec.svd import SVDEmbedding

    if args.model == "glove":
        model = GloVe(vector_size=args.dim, window=args.window, min_count=args.min_count, epochs=args.epochs,
                      x_max=args.x_max, alpha=args.alpha, learning_rate=args.eta,
                      workers=args.threads, seed=args.seed, progress=not args.quiet,
                      checkpoint_every=args.checkpoint_every, checkpoint_path=args.checkpoint)
    else:
        model = SVDEmbedding(vector_size=args.dim, window=args.window, min_count=args.min_count, workers=args.threads,
                             seed=args.seed)
    return _fit_save_report(args, model, corpus, _glove_summary if args.model == "glove" else _svd_summary)


def _fit_save_report(args: argparse.Namespace, model, corpus: str, summary: Callable[[object, float], str]) -> int:
    """Fit ``model``, print ``summary(model, seconds)``, save the vectors (-o) and print the
    neighbours and scores (--report, or training on the bundled corpus)."""
    started = time.perf_counter()
    model.fit(corpus)
    seconds = time.perf_counter() - started
    if args.output:   # saved before anything is printed: a closed stdout must not lose the model
        save_vectors(model.wv, args.output, args.format)
    print(summary(model, seconds))
    if args.output:
        print(f"saved {FORMATS[args.format]} vectors to {args.output}")
    elif args.corpus is not None:
        print("the vectors were not saved (pass -o FILE to keep them)")
    if args.report or args.corpus is None:
        _print_report(model.wv)
    return 0


def _word2vec_summary(model, seconds: float) -> str:
    vocab = model.vocabulary_
    return (f"trained {'skip-gram' if model.sg else 'CBOW'} ({model.kernel_} kernel, "
            f"~{model.memory_estimate_['total'] / 2**20:.0f} MB): {len(vocab)} words, {vocab.total_words} tokens x "
            f"{model.epochs_trained_} epochs in {seconds:.1f} s (training {model.train_seconds_:.1f} s, "
            f"{model.words_per_second_:,.0f} words/s); final loss {model.loss_history_[-1]:.4f}")


def _glove_summary(model, seconds: float) -> str:
    vocab = model.vocabulary_
    return (f"trained GloVe (~{model.memory_estimate_['total'] / 2**20:.0f} MB): {len(vocab)} words, "
            f"{vocab.total_words} tokens; co-occurrences counted in "
            f"{model.count_seconds_:.1f} s, {model.epochs_trained_} epochs in {model.train_seconds_:.1f} s "
            f"({model.pairs_per_second_:,.0f} pairs/s); {seconds:.1f} s in all; final loss {model.loss_history_[-1]:.4f}")


def _svd_summary(model, seconds: float) -> str:
    vocab = model.vocabulary_
    return (f"trained PPMI-SVD: {len(vocab)} words, {vocab.total_words} tokens; co-occurrences counted in "
            f"{model.count_seconds_:.1f} s, PPMI ({model.ppmi_nnz_:,} non-zeros) and SVD in {model.svd_seconds_:.1f} s; "
            f"{seconds:.1f} s in all")


def cmd_train(args: argparse.Namespace) -> int:
    from fastvec.word2vec import Word2Vec

    _apply_model_defaults(args)
    corpus = args.corpus
    if corpus is None:
        corpus = bundled_corpus()
        print(f"no corpus given: training on the bundled sample ({os.path.basename(corpus)}, about 1M tokens "
              "of Wikipedia/Wikinews text, CC BY-SA / CC BY 2.5)", file=sys.stderr)
    if args.format is not None and not args.output:
        raise UserError("--format has no effect without -o FILE (the vectors are not saved)")
    if args.format is None:
        from fastvec.formats import format_from_name
        args.format = format_from_name(args.output) if args.output else "bin"
    _check_outputs([("-o", args.output), ("--checkpoint", args.checkpoint)], corpus, "corpus")
    if args.checkpoint is not None and args.checkpoint_every is None:
        args.checkpoint_every = 1           # a checkpoint file was asked for: one after every epoch
    if args.checkpoint_every is not None and args.checkpoint is None:
        raise UserError("--checkpoint-every needs --checkpoint PATH (where to save the model)")
    if args.checkpoint_every is not None and args.checkpoint_every > args.epochs:
        raise UserError(f"--checkpoint-every {args.checkpoint_every} is more than --epochs {args.epochs}: "
                        "no checkpoint would be written")
    if args.model in ("glove", "ppmi-svd"):
        return _train_count_model(args, corpus)
    model = Word2Vec(sg=(args.model == "sg"), vector_size=args.dim, window=args.window, negative=args.negative,
                     sample=args.sample, min_count=args.min_count, epochs=args.epochs, workers=args.threads,
                     seed=args.seed, alpha=args.alpha, progress=not args.quiet,
                     checkpoint_every=args.checkpoint_every, checkpoint_path=args.checkpoint)
    return _fit_save_report(args, model, corpus, _word2vec_summary)


def _read_meta(path: str, what: str, *, regular: bool = True):
    """meta.json of a native container (None for other files), with every failure a UserError
    naming the file: not a traceback from zipfile or json. ``regular``: refuse pipes and FIFOs
    (vectors are read more than once); without it a pipe is not a container (None)."""
    import zipfile
    from fastvec._io import MAX_META_BYTES, META_MEMBER, check_readable_file, parse_meta
    check_readable_file(path, what, regular=regular)
    if not os.path.isfile(path) or not zipfile.is_zipfile(path):
        return None
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo(META_MEMBER)
            if info.file_size > MAX_META_BYTES:
                raise UserError(f"{path}: meta.json is implausibly large ({info.file_size} bytes)")
            return parse_meta(zf.read(info))
    except KeyError:
        raise UserError(f"{path}: not a fastvec file (no meta.json)") from None
    except (zipfile.BadZipFile, UnicodeDecodeError, ValueError, EOFError, NotImplementedError,
            RuntimeError) as e:   # the last two: an unknown compression method; encrypted (or RecursionError)
        raise UserError(f"{path}: corrupt fastvec file ({type(e).__name__}: {str(e)[:100]})") from None


def load_vectors(path: str, args: argparse.Namespace | None = None):
    """Vectors from any vectors file, or the word vectors of a saved Word2Vec or GloVe model;
    text and binary files read with ``args.duplicates`` and ``args.unicode_errors``."""
    from fastvec.formats import detect_format, load_vectors as _load
    if path == "-":
        raise UserError("-: reading vectors from standard input is not supported; give a file name")
    meta = _read_meta(path, "vectors file")
    kind = meta.get("kind") if isinstance(meta, dict) else None
    if kind in ("word2vec", "glove"):
        from fastvec.glove import GloVe
        from fastvec.word2vec import Word2Vec
        return (Word2Vec if kind == "word2vec" else GloVe).load(path).wv
    if args is None or detect_format(path) == "native":   # a native file has neither duplicates nor bad bytes
        return _load(path)
    return _load(path, duplicates=args.duplicates, unicode_errors=args.unicode_errors)


def _add_reading_options(parser: argparse.ArgumentParser) -> None:
    """Options of the commands that read a vectors file."""
    parser.add_argument("--duplicates", choices=("error", "first", "last"), default="error",
                        help="a word listed twice in a text or binary vectors file: an error (default), or keep "
                             "its first or last vector")
    parser.add_argument("--unicode-errors", choices=("strict", "replace", "ignore"), default="strict",
                        help="words that are not valid UTF-8: an error (default), or replace or drop the bad bytes")


#: The advice of the vectors loaders in the words of the command line.
LOADER_ADVICE = (("pass duplicates='first' or 'last' to accept the file", "use --duplicates first or last to "
                  "accept the file"),
                 ("pass unicode_errors='replace' or 'ignore' to accept it", "use --unicode-errors replace or "
                  "ignore to accept it"))


def cmd_eval(args: argparse.Namespace) -> int:
    from fastvec._io import finite_or_null
    from fastvec.evaluation import default_pairs, evaluate_word_analogies, evaluate_word_pairs
    kv = load_vectors(args.vectors, args)
    analogy = evaluate_word_analogies(kv, args.analogies, restrict_vocab=args.restrict_vocab)
    pair_files = args.pairs or list(default_pairs().values())
    names = [os.path.basename(p) for p in pair_files]
    # the file names as keys, or the paths where two files share a name
    pairs = {(os.path.basename(p) if names.count(os.path.basename(p)) == 1 else p): evaluate_word_pairs(kv, p)
             for p in pair_files}
    if args.json:
        result = {"analogies": analogy.to_dict(), "pairs": {k: v.to_dict() for k, v in pairs.items()}}
        print(json.dumps(finite_or_null(result), indent=2, allow_nan=False))  # NaN (too few pairs) -> null
        return 0
    print(f"analogies: {100 * analogy.accuracy:.2f}% (semantic {100 * analogy.semantic_accuracy:.2f}%, "
          f"syntactic {100 * analogy.syntactic_accuracy:.2f}%; {analogy.total} answered, {analogy.skipped} skipped)")
    for s in analogy.sections:
        score = f"{100 * s.accuracy:6.2f}%" if s.total else "      -"   # every question had an unknown word
        print(f"  {s.section:<32} {score}  ({s.correct}/{s.total})")
    for name, r in pairs.items():
        print(f"{name}: Spearman {r.spearman:.4f}, Pearson {r.pearson:.4f}, OOV {100 * r.oov_fraction:.1f}% "
              f"({r.pairs_used}/{r.pairs_total} pairs)")
    return 0


def _known(kv, words: Sequence[str]) -> None:
    for w in words:
        if w not in kv:
            raise UserError(f"word {w!r} is not in the vocabulary of {len(kv)} words")


def cmd_similar(args: argparse.Namespace) -> int:
    kv = load_vectors(args.vectors, args)
    _known(kv, [args.word])
    for word, score in kv.most_similar(args.word, topn=args.topn):
        print(f"{word}\t{score:.4f}")
    return 0


def cmd_analogy(args: argparse.Namespace) -> int:
    kv = load_vectors(args.vectors, args)
    _known(kv, [args.a, args.b, args.c])
    for word, score in kv.analogy(args.a, args.b, args.c, topn=args.topn, method=args.method):
        print(f"{word}\t{score:.4f}")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    from fastvec._config import show_config
    show_config()
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    from fastvec.analysis import embedding_report, format_report
    kv = load_vectors(args.vectors, args)
    if len(kv) < 2:
        raise UserError(f"{args.vectors}: needs at least 2 vectors to analyse, got {len(kv)}")
    if args.words:
        _known(kv, args.words)
    report = embedding_report(kv, words=args.words, topn=args.topn, sample=args.sample, seed=args.seed)
    from fastvec._io import finite_or_null
    print(json.dumps(finite_or_null(report), indent=2, allow_nan=False) if args.json else format_report(report))
    return 0


def _load_history(path: str) -> list:
    """Per-epoch history from a saved model (its meta.json) or a JSON file holding the list."""
    from fastvec._io import parse_meta
    meta = _read_meta(path, "model or history file", regular=False)   # a JSON history may come from a pipe
    if meta is not None:
        history = meta.get("history") if isinstance(meta, dict) else None
    else:
        try:
            with open(path, "rb") as f:
                data = f.read((1 << 28) + 1)   # bounded: the path may be a pipe
            if len(data) > 1 << 28:
                raise UserError(f"{path}: too large for a training history")
            history = parse_meta(data)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise UserError(f"{path}: --kind training needs a saved model (model.save) or a JSON list of "
                            "per-epoch dicts") from None
        if isinstance(history, dict):
            history = history.get("history")
    if not isinstance(history, list) or not history or not all(isinstance(h, dict) for h in history):
        raise UserError(f"{path}: holds no per-epoch training history")
    return history


def cmd_plot(args: argparse.Namespace) -> int:
    from fastvec import plot
    if not args.output.lower().endswith(".png"):
        raise UserError(f"{args.output}: the figure is written as PNG; give a file name ending in .png")
    for option, value, kinds in (("--words", args.words, ("projection", "heatmap", "analogy")),
                                 ("--method", args.method, ("projection",)),
                                 ("--center", args.center or None, ("spectrum",)),
                                 ("--seed", args.seed, ("projection", "concentration"))):
        if value is not None and args.kind not in kinds:
            raise UserError(f"{option} has no effect with --kind {args.kind} (it is for {', '.join(kinds)})")
    if args.kind == "training":
        for option, value, default in (("--duplicates", args.duplicates, "error"),
                                       ("--unicode-errors", args.unicode_errors, "strict")):
            if value != default:
                raise UserError(f"{option} has no effect with --kind training (it is for vectors files)")
    if args.seed is not None and args.kind == "projection" and args.method != "tsne":
        raise UserError("--seed has no effect with --kind projection --method pca (it is for tsne)")
    args.method = args.method or "pca"
    args.seed = 0 if args.seed is None else args.seed
    _check_outputs([("-o", args.output)], args.vectors, "input file")
    if args.kind == "training":
        plot.plot_training_curves(_load_history(args.vectors), path=args.output)
        print(f"wrote {args.output}")
        return 0
    kv = load_vectors(args.vectors, args)
    if args.words:
        _known(kv, args.words)
    if args.kind == "projection":
        plot.plot_projection(kv, args.words, method=args.method, seed=args.seed, path=args.output)
    elif args.kind == "heatmap":
        plot.plot_similarity_heatmap(kv, args.words, path=args.output)
    elif args.kind == "analogy":
        words = args.words or ["man", "woman", "king", "queen"]
        if len(words) < 4 or len(words) % 2:
            raise UserError("--kind analogy takes pairs of words: A1 B1 A2 B2 [...], e.g. man woman king queen")
        _known(kv, words)
        plot.plot_analogy(kv, list(zip(words[::2], words[1::2])), path=args.output)
    elif args.kind == "spectrum":
        plot.plot_spectrum(kv, center=args.center, path=args.output)
    elif args.kind == "concentration":
        plot.plot_distance_concentration(points={os.path.basename(args.vectors): kv}, seed=args.seed,
                                         path=args.output)
    print(f"wrote {args.output}")
    return 0


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line (plus a pointer to --help), exit status 2."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from fastvec._version import __version__

    parser = _Parser(prog="fastvec", description="Train, query and evaluate word embeddings.")
    parser.add_argument("--version", action="version", version=f"fastvec {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    t = sub.add_parser("train", help="train word2vec (skip-gram or CBOW), GloVe or PPMI-SVD on a text file")
    t.add_argument("corpus", nargs="?", help="text file, one sentence per line (.gz/.bz2/.xz ok); "
                                             "default: the bundled 1M-token sample")
    t.add_argument("-o", "--output", help="where to write the vectors (default: not saved)")
    t.add_argument("--model", choices=("sg", "cbow", "glove", "ppmi-svd"), default="sg")
    t.add_argument("--dim", type=_positive_int, default=None, help="vector size (default 100; glove 50)")
    t.add_argument("--window", type=_positive_int, default=None, help="default 5; glove and ppmi-svd 15")
    t.add_argument("--negative", type=_positive_int, default=None, help="sg, cbow: noise words per word (default 5)")
    t.add_argument("--sample", type=_non_negative_float, default=None,
                   help="sg, cbow: subsampling threshold (default 1e-3; 0 disables)")
    t.add_argument("--min-count", type=_positive_int, default=5)
    t.add_argument("--epochs", type=_positive_int, default=None, help="default 5; glove 15")
    t.add_argument("--threads", type=_positive_int, default=None,
                   help="default: OMP_NUM_THREADS if set, else all cores")
    t.add_argument("--seed", type=int, default=None)
    t.add_argument("--alpha", type=_non_negative_float, default=None,
                   help="sg, cbow: initial learning rate (default 0.025 for sg, 0.05 for cbow); glove: exponent "
                        "of the weighting function (default 0.75), as in word2vec.c and Stanford GloVe")
    t.add_argument("--eta", type=_non_negative_float, default=None, help="glove: learning rate (default 0.05)")
    t.add_argument("--x-max", type=_positive_float, default=None,
                   help="glove: co-occurrence count where the weight reaches 1 (default 100)")
    t.add_argument("--format", choices=tuple(FORMATS), default=None, help="output format of -o (default: from its name: .txt or .vec text, .fv native, "
                        "anything else bin)")
    t.add_argument("--report", action="store_true", help="print neighbours and evaluation scores")
    t.add_argument("--checkpoint-every", type=_positive_int, default=None, metavar="N",
                   help="save the model to --checkpoint every N epochs (sg, cbow, glove)")
    t.add_argument("--checkpoint", default=None, metavar="PATH",
                   help="checkpoint file (every epoch unless --checkpoint-every says otherwise); continue with "
                        "Word2Vec.load(PATH).train_more(corpus) (GloVe.load: glove)")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("eval", help="evaluate vectors on analogies and word-pair similarity")
    e.add_argument("vectors", help="vectors file (word2vec bin/txt, GloVe txt or fastvec native)")
    e.add_argument("--analogies", help="analogy file (default: bundled Google analogies)")
    e.add_argument("--pairs", nargs="+", help="word-pair files (default: bundled WordSim-353 and SimLex-999)")
    e.add_argument("--restrict-vocab", type=_positive_int, default=30000)
    e.add_argument("--json", action="store_true", help="print JSON")
    _add_reading_options(e)
    e.set_defaults(func=cmd_eval)

    s = sub.add_parser("similar", help="nearest neighbours of a word")
    s.add_argument("vectors")
    s.add_argument("word")
    s.add_argument("--topn", type=_positive_int, default=10)
    _add_reading_options(s)
    s.set_defaults(func=cmd_similar)

    a = sub.add_parser("analogy", help="solve A : B :: C : ?")
    a.add_argument("vectors")
    a.add_argument("a")
    a.add_argument("b")
    a.add_argument("c")
    a.add_argument("--topn", type=_positive_int, default=5)
    a.add_argument("--method", choices=("3cosadd", "3cosmul"), default="3cosadd")
    _add_reading_options(a)
    a.set_defaults(func=cmd_analogy)

    c = sub.add_parser("config", help="show build and runtime configuration")
    c.set_defaults(func=cmd_config)

    z = sub.add_parser("analyze", help="isotropy, spectrum and neighbours of a set of vectors")
    z.add_argument("vectors", help="vectors file (word2vec bin/txt, GloVe txt or fastvec native)")
    z.add_argument("--words", nargs="+", help="words whose neighbours to show (default: a few common words)")
    z.add_argument("--topn", type=_positive_int, default=5)
    z.add_argument("--sample", type=_positive_int, default=None,
                   help="estimate the average cosine from this many random pairs (default: exact)")
    z.add_argument("--seed", type=int, default=0)
    z.add_argument("--json", action="store_true", help="print JSON")
    _add_reading_options(z)
    z.set_defaults(func=cmd_analyze)

    p = sub.add_parser("plot", help="write a figure of the vectors (needs matplotlib: pip install matplotlib)")
    p.add_argument("vectors", help="vectors file; for --kind training a saved model or a JSON history")
    p.add_argument("--kind", required=True,
                   choices=("projection", "heatmap", "analogy", "spectrum", "concentration", "training"))
    p.add_argument("-o", "--output", required=True, help="PNG file to write")
    p.add_argument("--words", nargs="+", help="words to show (analogy: pairs A1 B1 A2 B2, default man woman king "
                                              "queen; projection/heatmap: default the most frequent words)")
    p.add_argument("--method", choices=("pca", "tsne"), default=None, help="projection method: pca (default) or "
                                                                           "tsne (needs scikit-learn)")
    p.add_argument("--center", action="store_true", help="spectrum of the centred vectors")
    p.add_argument("--seed", type=int, default=None, help="projection (t-SNE), concentration: random seed "
                                                          "(default 0)")
    _add_reading_options(p)
    p.set_defaults(func=cmd_plot)

    for register in EXTRA_COMMANDS:
        register(sub)
    return parser


#: Functions adding further subcommands (e.g. from fastvec.analysis); each gets the subparsers.
EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []


def _stderr_line(text: str) -> None:
    """One line on stderr; nothing when stderr is closed (never onto stdout, among the data)."""
    if sys.stderr is not None:
        print(text, file=sys.stderr)


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    _stderr_line(f"fastvec: warning: {message}")


#: estimator parameters named in error messages -> the `fastvec train` options that set them
PARAMETER_FLAGS = {"vector_size": "--dim", "learning_rate": "--eta", "min_count": "--min-count",
                   "workers": "--threads", "x_max": "--x-max", "checkpoint_every": "--checkpoint-every",
                   "checkpoint_path": "--checkpoint"}


def _as_flags(message: str, paths: Sequence[str | None] = ()) -> str:
    """An estimator's message in the words of the command line (vector_size -> --dim, ...).
    The ``paths`` given on the command line are left as they are, whatever their names."""
    import re
    kept = sorted({p for p in paths if p}, key=len, reverse=True)
    for k, path in enumerate(kept):   # out of the way of the substitution, put back below
        message = message.replace(path, f"\x00{k}\x00")
    # a name with a path or file-name character beside it is not a parameter (workers/x.txt, min_count.txt)
    message = re.sub(r"(?<![\w/\\.-])(" + "|".join(PARAMETER_FLAGS) + r")(?![\w/\\-]|\.\w)",
                     lambda m: PARAMETER_FLAGS[m.group(1)], message)
    for k, path in enumerate(kept):
        message = message.replace(f"\x00{k}\x00", path)
    return message


def _utf8_words(args: argparse.Namespace) -> None:
    """Words given on the command line as the UTF-8 the vectors files hold, whatever the locale
    (under an ASCII locale Python decodes 'café' into surrogates that match no word)."""
    def utf8(word: str) -> str:
        try:
            return os.fsencode(word).decode("utf-8")
        except (UnicodeError, ValueError):
            return word
    for name in ("word", "a", "b", "c"):
        if isinstance(getattr(args, name, None), str):
            setattr(args, name, utf8(getattr(args, name)))
    if getattr(args, "words", None):
        args.words = [utf8(w) for w in args.words]


def _escape_unencodable_output() -> None:
    """Words the terminal's encoding cannot show are printed escaped, not an error: for the
    process's own stdout when it is not UTF-8 (a stream a caller put in its place is left
    alone)."""
    import codecs
    stream = sys.stdout
    if stream is not sys.__stdout__ or not hasattr(stream, "reconfigure"):
        return
    try:
        if codecs.lookup(stream.encoding or "utf-8").name != "utf-8":
            stream.reconfigure(errors="backslashreplace")
    except (LookupError, ValueError, OSError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    if sys.stdout is None:   # started with stdout closed (`fastvec ... >&-`): the output would be lost
        _stderr_line("fastvec: error: standard output is closed")
        return EXIT_ERROR
    _escape_unencodable_output()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit:   # --help, --version or a usage error: their output meets the same pipe
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _drop_stdout()
        raise
    _utf8_words(args)
    if args.command == "train":   # the estimators' warnings in the words of the options (workers -> --threads)
        paths = [args.corpus, args.output, args.checkpoint]
        warnings.showwarning = lambda message, *rest, **kw: _one_line_warning(_as_flags(str(message), paths), *rest)
    else:
        warnings.showwarning = _one_line_warning
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()   # here, not at exit: a full disk or closed pipe is reported like any error
        return code
    except KeyboardInterrupt:
        _stderr_line("fastvec: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `fastvec similar ... | head`: the reader has what it wanted
        _drop_stdout()
        return 0
    except (UserError, ValueError, OSError, KeyError, TypeError, FloatingPointError, MemoryError,
            ImportError) as e:
        if os.environ.get("FASTVEC_TRACEBACK"):
            raise
        message = str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)
        if isinstance(e, OSError) and e.strerror and e.filename is None and str(e).startswith("[Errno"):
            message = e.strerror   # our own messages, raised as OSError(errno, text): no "[Errno N]" prefix
        if args.command == "train" and type(e) in (ValueError, TypeError):   # an estimator's parameter check
            message = _as_flags(message, [args.corpus, args.output, args.checkpoint])
        for python, flags in LOADER_ADVICE if hasattr(args, "duplicates") else ():
            message = message.replace(python, flags)
        _stderr_line(f"fastvec: error: {message or type(e).__name__}")
        if isinstance(e, OSError) and sys.stdout is not None:
            try:
                sys.stdout.flush()
            except OSError:   # stdout itself failed (a full disk): drop what is left, no second report
                _drop_stdout()
        return EXIT_ERROR


def _drop_stdout() -> None:
    """Point stdout at /dev/null: the interpreter flushes it again at exit and would report
    the broken pipe or full disk a second time, with a message of its own."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())
