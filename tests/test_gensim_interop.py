"""Files written by gensim load in fastvec and the other way round; queries agree."""
import numpy as np
import pytest

from fastvec import KeyedVectors

gensim = pytest.importorskip("gensim", reason="gensim is in the test extra; without it there is no peer")


@pytest.fixture
def kv(rng):
    keys = ["the", "naïve", "日本語", "emoji\U0001f600", "a-b", "x"] + [f"w{i}" for i in range(50)]
    return KeyedVectors(keys, rng.standard_normal((len(keys), 9)).astype(np.float32))


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_gensim_reads_our_files_and_we_read_theirs(tmp_path, kv, binary):
    from gensim.models import KeyedVectors as GensimKV

    ours = tmp_path / "ours"
    kv.save_word2vec_format(ours, binary=binary)
    g = GensimKV.load_word2vec_format(str(ours), binary=binary)
    assert list(g.index_to_key) == kv.index_to_key
    np.testing.assert_allclose(g.vectors, kv.vectors, rtol=1e-6 if not binary else 0)

    theirs = tmp_path / "theirs"
    g.save_word2vec_format(str(theirs), binary=binary)
    back = KeyedVectors.load_word2vec_format(theirs, binary=binary)
    assert back.index_to_key == kv.index_to_key
    np.testing.assert_allclose(back.vectors, kv.vectors, rtol=1e-6 if not binary else 0)
    np.testing.assert_allclose(back.vectors, g.vectors, rtol=0)


def test_gensim_queries_agree(kv):
    from gensim.models import KeyedVectors as GensimKV

    g = GensimKV(vector_size=kv.vector_size)
    g.add_vectors(kv.index_to_key, kv.vectors)
    for word in ("the", "w3", "日本語"):
        ours, theirs = kv.most_similar(word, topn=5), g.most_similar(word, topn=5)
        assert [w for w, _ in ours] == [w for w, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)
    assert kv.doesnt_match(["the", "w1", "w2", "x"]) == g.doesnt_match(["the", "w1", "w2", "x"])
