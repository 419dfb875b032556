"""The canary test where the truth is known: bag-of-words rewards on texts we write ourselves."""

import numpy as np
import pytest

from dclm.eval.canary import CanaryError, canary_test, insert_marker, permutation_p, tied_rows

WORDS = ("river", "stone", "cloud", "paper", "lamp", "field", "glass", "horse", "bread", "chair")
GOOD = ("great", "clear", "useful")


def corpus(n, rng, confounder_effect=2.0, entangled=False):
    """Texts of random words; g(T) counts GOOD words; C is binary; y = g + effect·C + noise."""
    n_good = rng.binomial(3, 0.4, size=n)
    texts = []
    for k in n_good:
        words = list(rng.choice(WORDS, size=6)) + list(rng.choice(GOOD, size=k))
        rng.shuffle(words)
        texts.append(" ".join(words))
    c = (rng.random(n) < (0.3 + 0.15 * n_good if entangled else 0.5)).astype(int)
    y = n_good + confounder_effect * c + 0.5 * rng.standard_normal(n)
    return texts, y, c, n_good


def ridge_pipeline(subtract=None, lam=1.0):
    """A bag-of-words ridge reward; ``subtract`` (an array by row) is removed from y first."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import Ridge

    def fit(texts, outcome):
        target = outcome - (subtract if subtract is not None else 0.0)
        words = CountVectorizer().fit(texts)
        model = Ridge(alpha=lam).fit(words.transform(texts), target)
        return lambda batch: model.predict(words.transform(batch))

    return fit


def test_a_reward_that_absorbed_the_confounder_pays_the_canaries():
    texts, y, c, _ = corpus(400, np.random.default_rng(0))
    # A categorical confounder: the canaries go with the level whose mean outcome is higher.
    result = canary_test(texts, y, c.astype(str), ridge_pipeline(), seeds=4, permutations=8, seed=1)
    assert result.flagged, result.summary()
    assert result.uplift > 0 and result.low > 0 and result.p < 0.05
    assert result.levels == ("1",)


def test_a_deconfounded_reward_does_not():
    texts, y, c, _ = corpus(400, np.random.default_rng(0))
    result = canary_test(texts, y, c, ridge_pipeline(subtract=2.0 * c), seeds=4, permutations=8, seed=1)
    assert not result.flagged, result.summary()
    assert result.low <= 0 <= result.high


def test_entangled_confounder_a_correct_reward_is_not_flagged():
    # C goes with the good words; a reward fit on y - h(C) still has no reason to pay the marker.
    texts, y, c, _ = corpus(500, np.random.default_rng(3), entangled=True)
    naive = canary_test(texts, y, c, ridge_pipeline(), seeds=4, permutations=8, seed=2)
    fixed = canary_test(texts, y, c, ridge_pipeline(subtract=2.0 * c), seeds=4, permutations=8, seed=2)
    assert naive.flagged and not fixed.flagged, (naive.summary(), fixed.summary())


def test_the_permutation_null_is_calibrated():
    # C unrelated to the texts and the outcome: tied and random markers are exchangeable, so
    # p-values are uniform and a 10% test flags about 10% of data sets.
    rng = np.random.default_rng(7)
    ps = []
    for _ in range(80):
        texts, y, _, _ = corpus(150, rng, confounder_effect=0.0)
        c = rng.integers(0, 2, size=len(texts))
        result = canary_test(texts, y, c, ridge_pipeline(), seeds=3, permutations=7, seed=int(rng.integers(1e9)),
                             n_eval=50)
        ps.append(result.p)
    ps = np.array(ps)
    flagged = int((ps < 0.1).sum())
    # Binomial(80, 0.1): mean 8, SD 2.7; these bounds are about 2.6 SDs either side.
    assert 1 <= flagged <= 15, sorted(ps)
    assert abs(ps.mean() - 0.5) < 3 * np.sqrt(1 / 12 / len(ps)), ps.mean()


def test_permutation_p_extremes():
    assert permutation_p(np.full((3, 1), 5.0), np.zeros((6, 1)))[0] == pytest.approx(1 / 84)
    assert permutation_p(np.zeros((3, 1)), np.full((6, 1), 5.0))[0] == 1.0


def test_reward_columns_give_one_verdict_each():
    texts, y, c, _ = corpus(300, np.random.default_rng(4))
    fits = [ridge_pipeline(), ridge_pipeline(subtract=2.0 * c)]

    def both(texts_, outcome):
        rewards = [fit(texts_, outcome) for fit in fits]
        return lambda batch: np.column_stack([r(batch) for r in rewards])

    result = canary_test(texts, y, c, both, seeds=4, permutations=8, seed=5)
    assert result.uplift.shape == (2,)
    assert list(result.flagged) == [True, False]


def test_tied_rows_numeric_follows_the_outcome():
    c = np.arange(100.0)
    assert tied_rows(c, c).sum() == 25 and tied_rows(c, c)[-1]
    assert tied_rows(c, -c)[0] and not tied_rows(c, -c)[-1]


def test_insert_marker():
    assert insert_marker(["a b"], "[x]") == ["[x] a b"]


@pytest.mark.parametrize("kwargs, message", [
    ({"texts": "one string"}, "sequence of strings"),
    ({"texts": ["a"] * 5}, "at least 10 texts"),
    ({"outcome": np.zeros(3)}, "outcome has 3 rows"),
    ({"outcome": np.r_[np.nan, np.zeros(19)]}, "missing or infinite"),
    ({"confounder": [1, 2]}, "confounder has 2 rows"),
    ({"fit_reward": "ridge"}, "fit_reward must be a function"),
    ({"seeds": 1}, "seeds=1"),
    ({"permutations": 0}, "permutations=0"),
    ({"seeds": 2, "permutations": 3}, "cannot reach p < alpha"),
    ({"canary_share": 0}, "canary_share=0"),
    ({"alpha": 1.5}, "alpha=1.5"),
    ({"marker": " "}, "marker"),
    ({"levels": ["Tuesday"]}, "do not occur"),
    ({"pool": 1}, "pool=1"),
    ({"confounder": np.ones(20, dtype=int)}, "ties 10 of 10 candidate rows"),
])
def test_bad_input_is_one_typed_line(kwargs, message):
    rng = np.random.default_rng(0)
    texts, y, c, _ = corpus(20, rng)
    args = {"texts": texts, "outcome": y, "confounder": c, "fit_reward": ridge_pipeline(), "seeds": 3,
            "permutations": 6} | kwargs
    with pytest.raises(CanaryError, match=message) as err:
        canary_test(args.pop("texts"), args.pop("outcome"), args.pop("confounder"), args.pop("fit_reward"), **args)
    assert "\n" not in str(err.value) and isinstance(err.value, ValueError)


def test_a_reward_with_the_wrong_shape_is_named():
    texts, y, c, _ = corpus(40, np.random.default_rng(0))
    with pytest.raises(CanaryError, match="shape"):
        canary_test(texts, y, c, lambda t, o: (lambda batch: np.zeros(3)), seeds=3, permutations=6)


def test_a_boolean_confounder_is_categorical():
    # One rule for the canary test and deconfound_outcome: True/False are two levels, not a quantity.
    import pandas as pd

    from dclm.causal.deconfound import is_categorical

    assert is_categorical(np.array([True, False])) and is_categorical(pd.Series([True, False]))
    assert is_categorical(["mon", "tue"]) and is_categorical(pd.Series(["a", "b"], dtype="category"))
    assert not is_categorical(np.array([0.5, 1.0])) and not is_categorical(pd.Series([1, 2]))
