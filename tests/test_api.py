"""The public API's conventions: keyword-only options where a positional call would be read as
something else by gensim users, validated constructors, picklable errors, scikit-learn's repr
and clone, and module namespaces that export what they document."""
import copy
import importlib
import pickle

import numpy as np
import pytest

import fastvec
from fastvec import Cooccurrence, FormatError, GloVe, KeyedVectors, SVDEmbedding, Vocabulary, Word2Vec


def small_kv():
    return KeyedVectors(["a", "b", "c", "d"], np.eye(4, dtype=np.float32) + 0.1)


def test_gensim_style_positional_calls_are_refused(tmp_path):
    # gensim's second positional argument of save/load_word2vec_format is fvocab and its fourth
    # of most_similar clip_start: read as binary / restrict_vocab they silently did something else
    kv = small_kv()
    with pytest.raises(TypeError):
        kv.save_word2vec_format(tmp_path / "v.txt", None, True)
    with pytest.raises(TypeError):
        KeyedVectors.load_word2vec_format(tmp_path / "v.txt", True)
    with pytest.raises(TypeError):
        kv.most_similar("a", [], 2, 3)
    with pytest.raises(TypeError, match="binary must be True or False"):
        kv.save_word2vec_format(tmp_path / "v.txt", binary="vocab.txt")
    with pytest.raises(TypeError, match="binary must be True or False"):
        KeyedVectors.load_word2vec_format(tmp_path / "v.txt", binary=None)
    assert not (tmp_path / "v.txt").exists()
    kv.save_word2vec_format(tmp_path / "v.bin", binary=np.bool_(True))
    assert KeyedVectors.load_word2vec_format(tmp_path / "v.bin", binary=True).index_to_key == kv.index_to_key


@pytest.mark.parametrize("kwargs,match", [
    (dict(key_to_index={"a": 2, "b": 1, "c": 0, "d": 3}), "key_to_index"),
    (dict(key_to_index={"a": 0, "b": 1, "c": 2}), "key_to_index"),
    (dict(key_to_index={"a": 0, "b": 1, "c": 2, "d": 3, "zz": 0}), "key_to_index"),
    (dict(key_to_index={"a": 0.0, "b": 1.0, "c": 2.0, "d": 3.0}), "key_to_index"),
    (dict(counts=[1, 2, 3]), "4 keys but 3 counts"),
    (dict(counts=[1.5, 2, 3, 4]), "whole numbers"),
    (dict(counts=[1, -2, 3, 4]), "non-negative"),
    (dict(counts=np.array([2**63, 1, 1, 1], dtype=np.uint64)), r"below 2\*\*63"),   # wrapped negative
])
def test_keyed_vectors_check_what_they_are_given(kwargs, match):
    # a wrong key_to_index answered kv["a"] with another word's row; wrong counts were saved
    # into a file that load() then refused
    with pytest.raises(ValueError, match=match):
        KeyedVectors(["a", "b", "c", "d"], np.eye(4, dtype=np.float32), **kwargs)
    good = KeyedVectors(["a", "b", "c", "d"], np.eye(4, dtype=np.float32), counts=np.array([4, 3, 2, 1], np.int32),
                        key_to_index={"a": 0, "b": 1, "c": 2, "d": 3})
    assert good.counts.dtype == np.int64 and good.get_index("c") == 2
    assert KeyedVectors([], np.zeros((0, 3), np.float32), counts=[]).counts.dtype == np.int64
    assert KeyedVectors(["a"], np.ones((1, 2), np.float32), counts=np.array([3.0])).counts.tolist() == [3]


def test_format_errors_survive_pickle_and_copy():
    # multiprocessing and joblib pickle exceptions: FormatError needed two arguments and got one
    error = FormatError("/data/v.txt", "line 3: bad")
    for clone in (pickle.loads(pickle.dumps(error)), copy.copy(error), copy.deepcopy(error)):
        assert type(clone) is FormatError and (clone.path, clone.problem) == (error.path, error.problem)
        assert str(clone) == str(error)
    assert FormatError.__module__ == "fastvec.exceptions"


def test_estimate_memory_takes_sizes_by_name_and_checks_them():
    plan = Word2Vec(vector_size=10).estimate_memory(n_words=1000, n_tokens=10**6)
    assert all(type(v) is int for v in plan.values()) and plan["corpus_ids"] == 4 * 10**6
    assert GloVe(vector_size=10).estimate_memory(n_words=np.int64(1000), nnz=np.int64(5))["total"] > 0
    for model, size in ((Word2Vec(), "n_tokens"), (GloVe(), "nnz")):
        with pytest.raises(TypeError):
            model.estimate_memory(1000, 10)   # keyword-only: the second size means different things
        with pytest.raises(ValueError, match="n_words must be >= 0"):
            model.estimate_memory(n_words=-5)
        with pytest.raises(ValueError, match=f"{size} must be >= 0"):
            model.estimate_memory(n_words=5, **{size: -1})
        with pytest.raises(TypeError, match=size):
            model.estimate_memory(n_words=5, **{size: 2.5})


def test_cooccurrences_of_a_file_split_by_the_vocabularys_tokenizer(tmp_path):
    path = tmp_path / "caps.txt"
    path.write_text("The Cat, the cat.\nA CAT and the dog!\n", encoding="utf-8")
    vocab = Vocabulary.build(path, min_count=1, tokenizer="simple")
    counted = Cooccurrence.from_corpus(path, vocab, window=2, tokenizer="simple")
    encoded = fastvec.Corpus.encode(path, vocab, tokenizer="simple")
    assert (counted.matrix != Cooccurrence.from_corpus(encoded, window=2).matrix).nnz == 0
    with pytest.warns(UserWarning, match="tokenizer='simple' not applied"):
        Cooccurrence.from_corpus(encoded, window=2, tokenizer="simple")


def test_repr_shows_the_parameters_that_differ_from_the_defaults():
    assert repr(Word2Vec()) == "Word2Vec()"
    assert repr(Word2Vec(sg=1, tokenizer="simple", vector_size=50)) == "Word2Vec(sg=1, vector_size=50, tokenizer='simple')"
    assert repr(GloVe(x_max=10.0)) == "GloVe(x_max=10.0)"
    assert repr(SVDEmbedding(vectors="sum", seed=3)) == "SVDEmbedding(vectors='sum', seed=3)"


def test_clone_gives_an_unfitted_estimator_with_the_same_parameters():
    base = pytest.importorskip("sklearn.base")
    for model in (Word2Vec(vector_size=12, seed=4), GloVe(x_max=10.0), SVDEmbedding(vector_size=7)):
        clone = base.clone(model)
        assert type(clone) is type(model) and clone.get_params() == model.get_params() and clone is not model


@pytest.mark.parametrize("module", ["fastvec", "fastvec.analysis", "fastvec.plot", "fastvec.evaluation",
                                    "fastvec.callbacks", "fastvec.formats", "fastvec.exceptions"])
def test_modules_export_their_public_names_only(module):
    if module == "fastvec.plot":
        pytest.importorskip("matplotlib")
    mod = importlib.import_module(module)
    names = mod.__all__
    assert len(set(names)) == len(names)
    for name in names:
        value = getattr(mod, name)
        assert (not name.startswith("_") or name == "__version__") and (value.__doc__ or not callable(value)), name
    namespace: dict = {}
    exec(f"from {module} import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(names)
