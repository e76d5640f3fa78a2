"""Standard intrinsic evaluations: word analogies and word-pair similarity correlations.

Conventions match gensim's ``evaluate_word_analogies`` / ``evaluate_word_pairs`` (and the
benchmark protocol): analogies restricted to the ``restrict_vocab`` most frequent words
(default 30,000 as the protocol and word2vec.c's compute-accuracy use; gensim's is 300,000),
case-insensitive, questions with an unknown word skipped and counted; pairs scored by
Spearman (and Pearson) correlation over the pairs whose two words are known.

The default data sets are bundled in ``fastvec/data`` (see ``fastvec/data/README.md``).
"""
from __future__ import annotations

import math
import numbers
import re
import os
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any, Union

import numpy as np

from fastvec.keyedvectors import KeyedVectors

__all__ = ["AnalogyResult", "PairsResult", "SectionResult", "default_analogies", "default_pairs",
           "evaluate_word_analogies", "evaluate_word_pairs"]


PathLike = Union[str, os.PathLike]
_BATCH = 2048
_SCORE_BYTES = 16 << 20


def _data_file(name: str) -> str:
    return str(resources.files("fastvec").joinpath("data", name))


def default_analogies() -> str:
    """Path of the bundled Google analogy set (questions-words.txt)."""
    return _data_file("questions-words.txt")


def default_pairs() -> dict[str, str]:
    """Paths of the bundled word-pair sets, by name."""
    return {"wordsim353": _data_file("wordsim353.tsv"), "simlex999": _data_file("simlex999.txt")}


@dataclass
class SectionResult:
    """Questions answered correctly (``correct``) out of those answered (``total``) in one
    section of an analogy file."""
    section: str
    correct: int
    total: int

    @property
    def accuracy(self) -> float:
        """correct / total (0.0 for a section with no answered question)."""
        return self.correct / self.total if self.total else 0.0


@dataclass
class AnalogyResult:
    """Accuracy over answered questions, overall and by semantic/syntactic ('gram*') sections."""

    accuracy: float
    semantic_accuracy: float
    syntactic_accuracy: float
    correct: int
    total: int
    skipped: int
    sections: list[SectionResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-serialisable values, each section with its accuracy."""
        d = asdict(self)
        d["sections"] = [{**asdict(s), "accuracy": s.accuracy} for s in self.sections]
        return d


@dataclass
class PairsResult:
    """Correlation of cosine similarities with human scores over the pairs with known words.

    ``oov_fraction`` is the fraction (0 to 1) of the file's pairs left out for an unknown word
    (gensim's ``oov_ratio`` is the same figure as a percentage). ``spearman`` and ``pearson``
    are NaN when fewer than 3 pairs are usable (``pairs_used``)."""

    spearman: float
    pearson: float
    oov_fraction: float
    pairs_used: int
    pairs_total: int

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-serialisable values."""
        return asdict(self)


def _shifted_cos(unit: np.ndarray, rows: np.ndarray) -> np.ndarray:
    out = unit[rows] @ unit.T
    out += 1.0
    out *= 0.5
    return out


def _read_lines(path: PathLike, *, universal: bool = False) -> list[str]:
    """The lines of a UTF-8 evaluation file. Lines end at \n and \r\n (gensim reads analogy
    files in binary mode); with ``universal`` also at a lone \r, as gensim's text-mode read of
    pair files does."""
    from fastvec._io import check_readable_file
    path = check_readable_file(path, "evaluation file")
    with open(path, "rb") as f:
        raw = f.read()
    try:
        # utf-8-sig: a BOM (Windows editors) is not part of the first line; lines end at \n (and
        # \r\n) only, as gensim reads them: str.splitlines() would also break at U+2028, \x0c, ...
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        offset = e.start + (3 if raw.startswith(b"\xef\xbb\xbf") else 0)   # positions count after a BOM
        head = raw[:offset]
        line = (len(re.findall(rb"\r\n|\r|\n", head)) if universal else head.count(b"\n")) + 1
        raise ValueError(f"{path}: line {line}: not UTF-8 text (byte {offset}: {e.reason})") from None
    if universal:
        return re.split(r"\r\n|\r|\n", text)
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def _vocab_map(kv: KeyedVectors, limit: int, case_insensitive: bool) -> tuple[dict[str, int], np.ndarray]:
    """Word (uppercased if case-insensitive) -> row among the first ``limit`` rows, preferring the
    most frequent spelling; and for every such row the canonical row of its spelling class."""
    keys = kv.index_to_key[:limit]
    mapping: dict[str, int] = {}
    canonical = np.arange(limit)
    for i, k in enumerate(keys):
        kk = k.upper() if case_insensitive else k
        if kk in mapping:
            canonical[i] = mapping[kk]
        else:
            mapping[kk] = i
    return mapping, canonical


def evaluate_word_analogies(kv: KeyedVectors, path: PathLike | None = None, *, restrict_vocab: int = 30000,
                            case_insensitive: bool = True, method: str = "3cosadd") -> AnalogyResult:
    """Accuracy on an analogy file (``: section`` headers, then ``a b c d`` lines: a:b :: c:d).

    The answer is the best-scoring word among the first ``restrict_vocab`` words other than
    a, b and c (3CosAdd or 3CosMul). Default (``path=None``): the Google analogy set. Every
    section of the file is listed in ``sections``, one whose questions all have an unknown
    word with 0 of 0 (as gensim lists it)."""
    if method not in ("3cosadd", "3cosmul"):
        raise ValueError(f"method must be '3cosadd' or '3cosmul', not {method!r}")
    if isinstance(restrict_vocab, bool) or not isinstance(restrict_vocab, numbers.Integral) or restrict_vocab < 1:
        raise ValueError(f"restrict_vocab must be a positive int, got {restrict_vocab!r}")
    restrict_vocab = int(restrict_vocab)
    path = default_analogies() if path is None else path
    limit = min(restrict_vocab, len(kv))
    mapping, canonical = _vocab_map(kv, limit, case_insensitive)
    unit = kv.get_normed_vectors()[:limit]
    sections: list[tuple[str, list[tuple[int, int, int, int]]]] = []
    skipped = 0
    for n, line in enumerate(_read_lines(path), 1):
        line = line.strip()
        if not line:
            continue
        if line.startswith(":"):
            sections.append((line[1:].strip(), []))
            continue
        words = line.split()
        if len(words) != 4:
            raise ValueError(f"{path}: line {n}: expected 4 words, got {len(words)}")
        if not sections:
            sections.append(("default", []))
        rows = [mapping.get(w.upper() if case_insensitive else w) for w in words]
        if any(r is None for r in rows):
            skipped += 1
            continue
        sections[-1][1].append(tuple(rows))
    if skipped == 0 and not any(questions for _, questions in sections):
        raise ValueError(f"{path}: no analogy questions found (lines 'a b c d', sections ': name')")
    # questions per matrix product: score matrices of about _SCORE_BYTES each, so that memory
    # does not grow with the vocabulary (3CosMul keeps three at once)
    batch = max(1, min(_BATCH, _SCORE_BYTES // (4 * max(limit, 1))))
    results = []
    for name, questions in sections:
        if not questions:   # every question has an unknown word: listed with 0 of 0, as gensim does
            results.append(SectionResult(name, 0, 0))
            continue
        q = np.asarray(questions, dtype=np.int64)
        correct = 0
        for b in range(0, len(q), batch):
            a_, b_, c_, d_ = q[b:b + batch].T
            if method == "3cosadd":
                scores = (unit[b_] - unit[a_] + unit[c_]) @ unit.T
            else:  # cos shifted to [0, 1]: (1 + cos) / 2, computed in place
                scores = _shifted_cos(unit, b_)
                scores *= _shifted_cos(unit, c_)
                scores /= _shifted_cos(unit, a_) + 1e-3
            classes = canonical[None, :]
            banned = classes == a_[:, None]
            banned |= classes == b_[:, None]
            banned |= classes == c_[:, None]
            scores[banned] = -np.inf
            best = np.argmax(scores, axis=1)
            answered = np.isfinite(scores[np.arange(len(best)), best])   # all candidates banned: no answer
            predicted = canonical[best]
            correct += int(np.sum((predicted == canonical[d_]) & answered))
        results.append(SectionResult(name, correct, len(q)))

    def acc(rs):
        t = sum(r.total for r in rs)
        return sum(r.correct for r in rs) / t if t else 0.0

    semantic = [r for r in results if not r.section.startswith("gram")]
    syntactic = [r for r in results if r.section.startswith("gram")]
    return AnalogyResult(accuracy=acc(results), semantic_accuracy=acc(semantic), syntactic_accuracy=acc(syntactic),
                         correct=sum(r.correct for r in results), total=sum(r.total for r in results),
                         skipped=skipped, sections=results)


def evaluate_word_pairs(kv: KeyedVectors, path: PathLike | None = None, *, restrict_vocab: int = 300000,
                        case_insensitive: bool = True) -> PairsResult:
    """Spearman and Pearson correlation between cosine similarity and human scores.

    The file has ``word1 word2 score`` per line (tab- or space-separated); lines starting
    with '#' are comments; lines end at \n, \r\n or \r (as gensim reads them). Columns after
    the score are ignored (files such as Stanford's Rare Words list each rater's score there;
    gensim skips such lines as invalid); spaces around tab-separated fields are ignored.
    Default (``path=None``): WordSim-353. Correlations are NaN when fewer than 3 pairs have
    known words (see ``PairsResult``)."""
    from scipy import stats

    if isinstance(restrict_vocab, bool) or not isinstance(restrict_vocab, numbers.Integral) or restrict_vocab < 1:
        raise ValueError(f"restrict_vocab must be a positive int, got {restrict_vocab!r}")
    path = default_pairs()["wordsim353"] if path is None else path
    limit = min(int(restrict_vocab), len(kv))
    mapping, _ = _vocab_map(kv, limit, case_insensitive)
    unit = kv.get_normed_vectors()
    human, model = [], []
    total = 0
    for n, line in enumerate(_read_lines(path, universal=True), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.split("\t")] if "\t" in line else line.split()
        if len(parts) < 3:
            raise ValueError(f"{path}: line {n}: expected 'word1 word2 score'")
        try:
            score = float(parts[2])
        except ValueError:
            raise ValueError(f"{path}: line {n}: score {parts[2]!r} is not a number") from None
        if not math.isfinite(score):
            raise ValueError(f"{path}: line {n}: score {parts[2]!r} is not a finite number")
        total += 1
        r1 = mapping.get(parts[0].upper() if case_insensitive else parts[0])
        r2 = mapping.get(parts[1].upper() if case_insensitive else parts[1])
        if r1 is None or r2 is None:
            continue
        human.append(score)
        model.append(float(unit[r1].astype(np.float64) @ unit[r2]))
    if total == 0:
        raise ValueError(f"{path}: no word pairs found")
    if len(human) < 3:
        spearman = pearson = float("nan")
    else:
        spearman = float(stats.spearmanr(human, model)[0])
        pearson = float(stats.pearsonr(human, model)[0])
    return PairsResult(spearman=spearman, pearson=pearson, oov_fraction=1.0 - len(human) / total,
                       pairs_used=len(human), pairs_total=total)
