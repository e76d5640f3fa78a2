"""fastvec: fast word embeddings (word2vec SGNS/CBOW, GloVe) and tools to analyse them.

>>> import fastvec
>>> model = fastvec.Word2Vec(vector_size=100).fit("corpus.txt")    # doctest: +SKIP
>>> model.wv.most_similar("king", topn=3)                          # doctest: +SKIP
"""
import os as _os

# Our wheels carry their own OpenMP runtime (README "OpenMP runtimes in one process"), and two
# copies of LLVM/Intel OpenMP in one process abort at start-up ("OMP: Error #15") unless this is
# set, e.g. fastvec's libomp next to PyTorch's on macOS. As scikit-learn does; a user's value wins.
_os.environ.setdefault("KMP_DUPLICATE_LIB_OK", "True")

from fastvec._config import show_config
from fastvec._version import __version__
from fastvec.cooccurrence import Cooccurrence
from fastvec.corpus import Corpus, simple_tokenize
from fastvec.exceptions import DivergenceError, FormatError, NotFittedError
from fastvec.keyedvectors import KeyedVectors
from fastvec.formats import load_vectors
from fastvec.glove import GloVe
from fastvec.ppmi import ppmi
from fastvec.vocab import Vocabulary
from fastvec.word2vec import Word2Vec

# SVDEmbedding needs scipy.linalg (about 25 MB of resident memory on import; scipy.sparse,
# 18 MB, also loads on first use, see fastvec._lazy): it loads when first used (PEP 562).
_LAZY = {"SVDEmbedding": "fastvec.svd"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fastvec' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Cooccurrence",
    "Corpus",
    "DivergenceError",
    "FormatError",
    "GloVe",
    "KeyedVectors",
    "NotFittedError",
    "SVDEmbedding",
    "Vocabulary",
    "Word2Vec",
    "load_vectors",
    "ppmi",
    "__version__",
    "show_config",
    "simple_tokenize",
]
