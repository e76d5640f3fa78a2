"""Callbacks for the estimators: called after each epoch as ``cb.on_epoch_end(model, metrics)``.

:class:`EvaluationLog` records how the vectors improve during training: per epoch the loss,
the analogy accuracy and the word-pair correlations, in its own ``history`` and in the
model's ``history_`` (so ``model.save`` keeps them).

    log = EvaluationLog(every=1)
    model = fastvec.Word2Vec(epochs=20, callbacks=[log]).fit("corpus.txt")
    log.history[-1]    # {'epoch': 20, 'loss': ..., 'analogy_accuracy': ..., 'wordsim353_spearman': ...}
"""
from __future__ import annotations

import os
import sys
import time
from typing import Any, Mapping, Sequence, Union

import numpy as np

from fastvec._base import check_int
from fastvec._io import check_readable_file
from fastvec.evaluation import default_analogies, default_pairs, evaluate_word_analogies, evaluate_word_pairs
from fastvec.keyedvectors import KeyedVectors

__all__ = ["EvaluationLog"]


PathLike = Union[str, os.PathLike]


def _pair_files(pairs: Any) -> dict[str, str]:
    if pairs is True:
        return dict(default_pairs())
    if pairs is False or pairs is None:
        return {}
    if isinstance(pairs, (str, os.PathLike)):
        pairs = [pairs]
    if isinstance(pairs, Mapping):
        files = {str(k): os.fspath(v) for k, v in pairs.items()}
    else:
        files = {}
        for p in pairs:
            name = os.path.splitext(os.path.basename(os.fspath(p)))[0]
            if name in files:
                raise ValueError(f"pairs: two files named {name!r}; pass a mapping name -> path")
            files[name] = os.fspath(p)
    for name, path in files.items():
        check_readable_file(path, f"word-pair file ({name})")
    return files


class EvaluationLog:
    """Evaluate the word vectors every ``every`` epochs and keep the numbers.

    ``analogies``: True for the bundled Google analogy set, a path to another analogy file, or
    False to skip. ``pairs``: True for the bundled WordSim-353 and SimLex-999, a list of files
    or a mapping name -> file, or False. ``restrict_vocab``: analogy answers come from this many
    most frequent words (30,000 as in the benchmark protocol). ``verbose`` prints one line per
    evaluation to stderr.

    Each evaluated epoch adds a dict to ``history`` and the same keys to ``model.history_[-1]``:
    ``epoch``, ``loss``, ``analogy_accuracy``, ``analogy_semantic``, ``analogy_syntactic``,
    ``<name>_spearman`` and ``<name>_pearson`` per pair file (e.g. ``wordsim353_spearman``) and
    ``eval_seconds`` (time spent evaluating, not counted as training time).
    """

    def __init__(self, every: int = 1, *, analogies: bool | PathLike = True,
                 pairs: bool | Sequence[PathLike] | Mapping[str, PathLike] = True, restrict_vocab: int = 30000,
                 verbose: bool = False):
        self.every = check_int("every", every, 1)
        self.restrict_vocab = check_int("restrict_vocab", restrict_vocab, 1)
        if analogies is True:
            self.analogies: str | None = default_analogies()
        elif analogies is False or analogies is None:
            self.analogies = None
        elif isinstance(analogies, (str, os.PathLike)):
            self.analogies = check_readable_file(analogies, "analogy file")
        else:
            raise TypeError(f"analogies must be True, False or a path, not {type(analogies).__name__}")
        self.pairs = _pair_files(pairs)
        self.verbose = bool(verbose)
        self.history: list[dict[str, Any]] = []
        # parse the files now (ValueError naming file and line), not after the first epochs
        probe = KeyedVectors(["\x00"], np.ones((1, 1), dtype=np.float32))
        if self.analogies is not None:
            evaluate_word_analogies(probe, self.analogies)
        for path in self.pairs.values():
            evaluate_word_pairs(probe, path)

    def __repr__(self) -> str:
        return (f"EvaluationLog(every={self.every}, analogies={self.analogies is not None}, "
                f"pairs={list(self.pairs)}, {len(self.history)} records)")

    def evaluate(self, kv) -> dict[str, float]:
        """The evaluation numbers for vectors ``kv`` (what is recorded at each evaluated epoch)."""
        started = time.perf_counter()
        scores: dict[str, float] = {}
        if self.analogies is not None:
            result = evaluate_word_analogies(kv, self.analogies, restrict_vocab=self.restrict_vocab)
            scores.update(analogy_accuracy=result.accuracy, analogy_semantic=result.semantic_accuracy,
                          analogy_syntactic=result.syntactic_accuracy)
        for name, path in self.pairs.items():
            result = evaluate_word_pairs(kv, path)
            scores[f"{name}_spearman"] = result.spearman
            scores[f"{name}_pearson"] = result.pearson
        scores["eval_seconds"] = time.perf_counter() - started
        return scores

    def on_epoch_end(self, model: Any, metrics: Mapping[str, Any]) -> None:
        """Evaluate ``model.wv`` when the epoch is a multiple of ``every`` and record the result
        in ``metrics`` (and so in the model's ``history_``)."""
        epoch = int(metrics["epoch"])
        if epoch % self.every:
            return
        record = {"epoch": epoch, "loss": float(metrics["loss"]), **self.evaluate(model.wv)}
        self.history.append(record)
        history = getattr(model, "history_", None)
        if history and history[-1].get("epoch") == epoch:
            history[-1].update({k: v for k, v in record.items() if k not in ("epoch", "loss")})
        if self.verbose:
            numbers = ", ".join(f"{k} {v:.4f}" for k, v in record.items()
                                if k not in ("epoch", "eval_seconds") and not k.endswith("_pearson"))
            print(f"epoch {epoch}: {numbers}", file=sys.stderr, flush=True)
