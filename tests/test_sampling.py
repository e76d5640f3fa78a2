"""The noise distribution and subsampling draw what their formulas say (statistical tests)."""
import numpy as np
import pytest
from scipy import stats

from fastvec import _reference
from fastvec.sampling import ALWAYS_KEEP, alias_table, draw_noise, keep_thresholds, noise_table, subsample_mask
from fastvec.vocab import Vocabulary


def zipf_vocab(n=200):
    counts = (100_000 / np.arange(1, n + 1) ** 1.1).astype(np.int64) + 1
    return Vocabulary([f"w{i}" for i in range(n)], counts)


@pytest.mark.parametrize("exponent", [0.75, 0.5, 1.0, 0.0])
def test_noise_draws_follow_count_power(exponent):
    vocab = zipf_vocab()
    p = vocab.noise_distribution(exponent)
    np.testing.assert_allclose(p, vocab.counts ** exponent / np.sum(vocab.counts ** exponent))
    n = 2_000_000
    draws = draw_noise(noise_table(p), n, seed=3)
    observed = np.bincount(draws, minlength=len(p))
    chi2, pvalue = stats.chisquare(observed, p * n)
    assert pvalue > 1e-4, (chi2, pvalue)


def test_alias_table_is_exact():
    """The table's implied probabilities equal the target up to 2**-32 resolution."""
    p = np.array([0.5, 0.25, 0.125, 0.0625, 0.0625, 0.0])
    thr, alias = alias_table(p)
    n = len(p)
    implied = np.zeros(n)
    for col in range(n):
        accept = (thr[col] / 2**32) if alias[col] != col else 1.0
        implied[col] += accept / n
        implied[alias[col]] += (1 - accept) / n
    np.testing.assert_allclose(implied, p, atol=1e-8)
    assert implied[-1] < 1e-9  # a zero-probability word is (almost) never drawn


def test_alias_table_rejects_bad_input():
    with pytest.raises(ValueError):
        alias_table(np.array([]))
    with pytest.raises(ValueError):
        alias_table(np.array([0.0, 0.0]))
    with pytest.raises(ValueError):
        alias_table(np.array([1.0, -0.5]))
    with pytest.raises(ValueError):
        alias_table(np.array([1.0, np.nan]))


def test_keep_probability_is_word2vec_formula():
    vocab = zipf_vocab()
    got = vocab.keep_probabilities(1e-3)
    want = _reference.word2vec_keep_probability(vocab.counts.astype(float), 1e-3, vocab.total_words)
    np.testing.assert_allclose(got, want)
    assert got[0] < 0.2 and got[-1] == 1.0
    np.testing.assert_array_equal(vocab.keep_probabilities(0), 1.0)


def test_keep_probability_falls_with_sample_down_to_subnormal_values():
    # count / (sample * total) overflowed for subnormal samples: 1e-310 kept every frequent
    # word with probability 1 and dropped the rare ones, 1e-318 kept everything
    vocab = zipf_vocab()
    samples = [1e-2, 1e-5, 1e-30, 1e-300, 1e-310, 1e-318, 5e-324]
    with np.errstate(all="raise"):
        rows = [vocab.keep_probabilities(s) for s in samples]
    for s, p in zip(samples, rows):
        assert np.all(np.isfinite(p)) and np.all((0 <= p) & (p <= 1)), s
        assert np.all(np.diff(p) >= 0), s  # ids sorted by frequency: rarer words are kept more often
        if s >= 1e-300:  # where the reference's own formula does not overflow
            want = _reference.word2vec_keep_probability(vocab.counts.astype(float), s, vocab.total_words)
            np.testing.assert_allclose(p, np.minimum(want, 1.0), rtol=1e-12)
    for higher, lower in zip(rows, rows[1:]):
        assert np.all(lower <= higher)
    assert rows[-1].max() < 1e-150


def test_subsampling_frequencies_match_keep_probabilities():
    vocab = zipf_vocab(50)
    keep_p = vocab.keep_probabilities(1e-2)
    thresholds = keep_thresholds(keep_p)
    assert thresholds[-1] == ALWAYS_KEEP
    ids = np.repeat(np.arange(50, dtype=np.int32), 20_000)
    kept = subsample_mask(ids, thresholds, seed=11).reshape(50, 20_000).sum(axis=1)
    for w in range(50):
        expected = keep_p[w] * 20_000
        sd = np.sqrt(20_000 * keep_p[w] * (1 - keep_p[w])) + 1e-9
        assert abs(kept[w] - expected) <= 5 * sd + 1, (w, kept[w], expected)


def test_different_seeds_give_different_streams():
    table = noise_table(np.ones(1000))
    a, b = draw_noise(table, 1000, seed=1), draw_noise(table, 1000, seed=2)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, draw_noise(table, 1000, seed=1))


def test_a_negative_ns_exponent_needs_every_count_above_zero():
    vocab = Vocabulary(["a", "b", "c"], [5, 2, 0])
    assert np.allclose(vocab.noise_distribution(0.75), np.array([5, 2, 0]) ** 0.75 / (5 ** 0.75 + 2 ** 0.75))
    with pytest.raises(ValueError, match="ns_exponent=-0.5 is negative, but 1 word.* count 0 .*'c'"):
        vocab.noise_distribution(-0.5)
    assert np.allclose(Vocabulary(["a", "b"], [4, 1]).noise_distribution(-1.0), [0.2, 0.8])
