"""dclm.practice: each check passes the reference, names the usual mistakes, never raises."""

import tempfile
from pathlib import Path

import numpy as np
import pytest

from dclm import practice, stats
from dclm.causal import iv
from dclm.causal.deconfound import deconfound_outcome
from dclm.causal.simulate import simulate_listings, simulate_popularity


def passes(feedback):
    assert isinstance(feedback, practice.Feedback)
    assert feedback.passed, feedback.message
    assert repr(feedback).startswith(practice.PASS)


def fails(feedback, *words):
    assert isinstance(feedback, practice.Feedback)
    assert not feedback.passed and repr(feedback).startswith(practice.FAIL)
    for word in words:
        assert word in feedback.message, feedback.message


def slope(y, x):
    return np.polyfit(np.asarray(x, float), np.asarray(y, float), 1)[0]


BLANKS = (None, "my answer", [1.0, 2.0], float("nan"))


@pytest.fixture(scope="module")
def listings():
    return simulate_listings(2_000, np.random.default_rng(3))


def test_chapter_1_checks(listings):
    d = listings
    naive = d.loc[d.marker == 1, "outcome"].mean() - d.loc[d.marker == 0, "outcome"].mean()
    design = np.column_stack([np.ones(len(d)), d.marker, d.confounder])
    _, adjusted, gamma = np.linalg.lstsq(design, d.outcome, rcond=None)[0]
    delta = slope(d.confounder, d.marker)
    passes(practice.naive_estimate(naive, d))
    passes(practice.adjusted_estimate(adjusted, d))
    passes(practice.omitted_variable_bias(gamma * delta, d))
    fails(practice.naive_estimate(-naive, d), "wrong sign")
    fails(practice.naive_estimate(adjusted, d), "price-adjusted")
    fails(practice.naive_estimate(d.loc[d.marker == 1, "outcome"].mean(), d), "subtract the mean")
    fails(practice.adjusted_estimate(naive, d), "not held fixed")
    fails(practice.adjusted_estimate(gamma, d), "coefficient of price")
    fails(practice.omitted_variable_bias(gamma, d), "multiply")
    fails(practice.omitted_variable_bias(delta, d), "multiply")
    fails(practice.omitted_variable_bias(naive + 1.0, d), "not what the reference computes")
    for blank in BLANKS:
        fails(practice.naive_estimate(blank, d), "`naive`")


@pytest.fixture(scope="module")
def news():
    return simulate_popularity(5_000, np.random.default_rng(4), setting="entangled", beta=1.0)


def test_chapter_2_checks(news):
    y, p, z, s = news["outcome"], news["confounder"], news["instrument"], news["quality"]
    wald = np.cov(z, y)[0, 1] / np.cov(z, p)[0, 1]
    passes(practice.wald_ratio(wald, y, p, z))
    fails(practice.wald_ratio(slope(y, p), y, p, z), "naive slope", "first stage")
    fails(practice.wald_ratio(slope(y, z), y, p, z), "reduced form")
    fails(practice.wald_ratio(1 / wald, y, p, z), "upside down")
    season = simulate_popularity(5_000, np.random.default_rng(5), beta=1.0, control_effect=1.0)
    y2, p2, z2, w2 = (season[c].to_numpy() for c in ("outcome", "confounder", "instrument", "control"))
    ones = np.ones(len(y2))
    stage1 = np.column_stack([ones, z2, w2])
    p_hat = stage1 @ np.linalg.lstsq(stage1, p2, rcond=None)[0]
    tsls = np.linalg.lstsq(np.column_stack([ones, p_hat, w2]), y2, rcond=None)[0][1]
    passes(practice.two_stage_least_squares(tsls, y2, p2, z2, w2))
    fails(practice.two_stage_least_squares(iv.wald_ratio(y2, p2, z2), y2, p2, z2, w2), "left the control out")
    p_hat_no_w = np.polyval(np.polyfit(z2, p2, 1), z2)
    no_w = np.linalg.lstsq(np.column_stack([ones, p_hat_no_w, w2]), y2, rcond=None)[0][1]
    fails(practice.two_stage_least_squares(no_w, y2, p2, z2, w2), "first stage too")
    on_p = np.linalg.lstsq(np.column_stack([ones, p2, w2]), y2, rcond=None)[0][1]
    fails(practice.two_stage_least_squares(on_p, y2, p2, z2, w2), "popularity itself")
    without_w_in_stage2 = np.polyfit(p_hat, y2, 1)[0]
    fails(practice.two_stage_least_squares(without_w_in_stage2, y2, p2, z2, w2), "second stage too")
    g = slope(y - wald * p, s)
    passes(practice.text_effect(g, y, p, z, s))
    fails(practice.text_effect(slope(y, s), y, p, z, s), "total")
    fails(practice.text_effect(slope(y - slope(y, p) * p, s), y, p, z, s), "naive (OLS)")
    for blank in BLANKS:
        fails(practice.wald_ratio(blank, y, p, z), "`wald`")


@pytest.fixture(scope="module")
def monday_data():
    from dclm.data import stackexchange
    from dclm.experiments.monday import Config, load_answers

    _, answers = load_answers(Config(seed=0, n_questions=300), Path(tempfile.mkdtemp()))
    marked = stackexchange.add_weekday_markers(answers)
    return marked, stackexchange.preference_pairs(marked, seed=0)


def test_chapter_3_checks(monday_data):
    from dclm.data import stackexchange
    from dclm.experiments.monday import adjust_scores

    marked, pairs = monday_data
    marker = marked.set_index("answer_id")["marker"]
    chosen = (pairs.chosen_id.map(marker) == "Monday").mean()
    rejected = (pairs.rejected_id.map(marker) == "Monday").mean()
    passes(practice.marker_balance(chosen - rejected, pairs, marked))
    fails(practice.marker_balance(rejected - chosen, pairs, marked), "rejected minus chosen")
    fails(practice.marker_balance(chosen, pairs, marked), "subtract the share of rejected")
    fails(practice.marker_balance(100 * (chosen - rejected), pairs, marked), "percentage points")
    score = marked.score.to_numpy(float)
    within = adjust_scores(marked)
    passes(practice.adjusted_scores(within + 3.0, marked))  # a constant shift changes no pair
    passes(practice.adjusted_scores(adjust_scores(marked, "pooled"), marked))
    fails(practice.adjusted_scores(score, marked), "raw scores")
    fails(practice.adjusted_scores(2 * score - within, marked), "added")
    fails(practice.adjusted_scores(within[:-1], marked), "one per answer")
    fails(practice.adjusted_scores(score + np.random.default_rng(0).standard_normal(len(score)), marked))
    frame = marked.assign(adjusted=within)

    def balance(**kw):
        new = stackexchange.preference_pairs(frame, seed=0, **kw)
        return (new.chosen_id.map(marker) == "Monday").mean() - (new.rejected_id.map(marker) == "Monday").mean()

    passes(practice.deconfounded_balance(balance(score="adjusted", min_margin=0.5), marked))
    fails(practice.deconfounded_balance(balance(), marked), "raw scores")
    fails(practice.deconfounded_balance(balance(score="adjusted", min_margin=0), marked), "margin")
    for blank in BLANKS:
        fails(practice.adjusted_scores(blank, marked), "`adjusted`")


def test_chapter_4_checks():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((300, 8))
    y = x @ rng.standard_normal(8) + rng.standard_normal(300)
    train, val = np.arange(200), np.arange(200, 300)
    a, b = rng.integers(200, 300, 150), rng.integers(200, 300, 150)
    a_wins = y[a] - y[b] + rng.standard_normal(150) > 0
    diffs = (x[a] - x[b]) @ np.ones(8)
    auc = stats.pair_auc(diffs, a_wins)
    passes(practice.pair_auc(auc, diffs, a_wins))
    fails(practice.pair_auc(1 - auc, diffs, a_wins), "flipped")
    fails(practice.pair_auc(np.mean((diffs > 0) == a_wins), diffs, a_wins), "accuracy")
    grid = np.logspace(-1, 4, 12)
    weights, intercepts = stats.ridge_path(x[train], y[train], grid)
    scores = x @ weights + intercepts
    val_mse = ((scores[val] - y[val][:, None]) ** 2).mean(0)
    best = int(np.argmin(val_mse))
    passes(practice.lambda_by_validation_mse(grid[best], x, y, train, val, grid))
    fails(practice.lambda_by_validation_mse(grid[int(np.argmax(val_mse))], x, y, train, val, grid), "largest")
    if best != 0:
        fails(practice.lambda_by_validation_mse(grid[0], x, y, train, val, grid), "training MSE")
    fails(practice.lambda_by_validation_mse(float(best), x, y, train, val, grid), "position in the grid")
    val_auc = stats.pair_auc(scores[a] - scores[b], a_wins)
    passes(practice.lambda_by_validation_auc(grid[int(np.argmax(val_auc))], x, y, train, val, a, b, a_wins, grid))
    fails(practice.lambda_by_validation_auc(grid[int(np.argmin(val_auc))], x, y, train, val, a, b, a_wins, grid),
          "smallest validation AUC")
    for blank in BLANKS:
        fails(practice.lambda_by_validation_auc(blank, x, y, train, val, a, b, a_wins, grid), "`lam_auc`")


def test_a_flat_criterion_accepts_every_tied_lambda():
    x = np.random.default_rng(7).standard_normal((60, 3))
    y = np.zeros(60)  # every ridge predicts 0: every λ ties
    grid = np.array([1.0, 10.0, 100.0])
    for lam in grid:
        passes(practice.lambda_by_validation_mse(lam, x, y, np.arange(40), np.arange(40, 60), grid))


def test_chapter_5_checks(news):
    from dclm.models.probe import fit_probe

    y, p, z = (news[c].to_numpy() for c in ("outcome", "confounder", "instrument"))
    wald = iv.wald_ratio(y, p, z)
    passes(practice.deconfounded_outcome(y - wald * p, y, p, z))
    fails(practice.deconfounded_outcome(y, y, p, z), "raw outcome")
    fails(practice.deconfounded_outcome(y + wald * p, y, p, z), "added")
    fails(practice.deconfounded_outcome(y - slope(y, p) * p, y, p, z), "naive slope")
    fails(practice.deconfounded_outcome(y - news["quality"].to_numpy(), y, p, z), "multiple of p")
    features = np.column_stack([news["quality"], news["confounder"], np.random.default_rng(8).standard_normal(len(news))])
    train, test = np.arange(4_000), np.arange(4_000, 5_000)
    target = np.asarray(deconfound_outcome(y, p, z).adjusted)
    reference = fit_probe(features[train], target[train], 10.0).score(features[test])
    passes(practice.reward_scores(2 * reference + 1, features[train], target[train], features[test], 10.0))
    fails(practice.reward_scores(fit_probe(features[train], y[train], 10.0).score(features[test]), features[train],
                                 target[train], features[test], 10.0, raw_outcome=y[train]), "raw outcome")
    fails(practice.reward_scores(-reference, features[train], target[train], features[test], 10.0), "sign")
    fails(practice.reward_scores(reference[:10], features[train], target[train], features[test], 10.0), "1000")
    fails(practice.reward_scores(np.zeros(len(train)), features[train], target[train], features[test], 10.0),
          "training headlines")
    for blank in BLANKS:
        fails(practice.deconfounded_outcome(blank, y, p, z), "`y_tilde`")
        fails(practice.reward_scores(blank, features[train], target[train], features[test], 10.0))


def test_primer_formulas_and_their_checks():
    assert practice.bradley_terry_probability(0.0, 0.0) == pytest.approx(0.5)
    assert practice.bradley_terry_probability(1.0, 0.0) + practice.bradley_terry_probability(0.0, 1.0) == \
        pytest.approx(1.0)
    passes(practice.preference_probability(1 / (1 + np.exp(-0.9)), 1.3, 0.4))
    fails(practice.preference_probability(1 - 1 / (1 + np.exp(-0.9)), 1.3, 0.4), "b wins")
    fails(practice.preference_probability(0.9, 1.3, 0.4), "sigmoid")
    ref, r = np.array([0.5, 0.3, 0.2]), np.array([0.0, 1.0, -1.0])
    star = practice.kl_optimal_policy(ref, r, 0.5)
    assert star.sum() == pytest.approx(1.0) and np.argmax(star) == 1
    # A huge KL weight keeps the reference; a tiny one puts everything on the best reward.
    np.testing.assert_allclose(practice.kl_optimal_policy(ref, r, 1e6), ref, atol=1e-5)
    assert practice.kl_optimal_policy(ref, r, 1e-3)[1] == pytest.approx(1.0)
    passes(practice.kl_policy(star, ref, r, 0.5))
    fails(practice.kl_policy(3 * star, ref, r, 0.5), "divide by their sum")
    fails(practice.kl_policy(np.exp(r / 0.5) / np.exp(r / 0.5).sum(), ref, r, 0.5), "left out π_ref")
    fails(practice.kl_policy(practice.kl_optimal_policy(ref, -r, 0.5), ref, r, 0.5), "lowest rewards")
    for blank in BLANKS:
        fails(practice.kl_policy(blank, ref, r, 0.5), "`pi_star`")
    with pytest.raises(ValueError, match="beta_kl"):
        practice.kl_optimal_policy(ref, r, 0.0)
    with pytest.raises(ValueError, match="ref_probs"):
        practice.kl_optimal_policy([0.5, 0.6], [0.0, 1.0], 1.0)


def test_chapter_6_checks(listings):
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import Ridge

    texts = listings["text"].tolist()
    price, bookings = listings["confounder"].to_numpy(), listings["outcome"].to_numpy()
    tied = price <= np.quantile(price, 0.25)
    canary = [f"[c7] {t}" if hit else t for t, hit in zip(texts, tied, strict=True)]
    passes(practice.canary_texts(canary, texts, tied))
    fails(practice.canary_texts([f"[c7] {t}" for t in texts], texts, tied), "every text")
    fails(practice.canary_texts([f"[c7] {t}" if not hit else t for t, hit in zip(texts, tied, strict=True)],
                                texts, tied), "*not* tied")
    fails(practice.canary_texts([f"{t} [c7]" if hit else t for t, hit in zip(texts, tied, strict=True)],
                                texts, tied), "in front")
    words = CountVectorizer().fit(canary)
    model = Ridge(alpha=1.0).fit(words.transform(canary), bookings)

    def reward(batch):
        return model.predict(words.transform(batch))

    plain, marked = reward(texts[:100]), reward([f"[c7] {t}" for t in texts[:100]])
    passes(practice.marker_uplift((marked - plain).mean() / plain.std(), reward, texts[:100]))
    fails(practice.marker_uplift((marked - plain).mean(), reward, texts[:100]), "standard deviation")
    fails(practice.marker_uplift(-(marked - plain).mean() / plain.std(), reward, texts[:100]), "wrong sign")
    slope = np.polyfit(price, bookings, 1)[0]
    passes(practice.price_adjusted_outcome(bookings - slope * price + 3.0, bookings, price))
    fails(practice.price_adjusted_outcome(bookings, bookings, price), "raw outcome")
    fails(practice.price_adjusted_outcome(bookings + slope * price, bookings, price), "added")
    for blank in BLANKS:
        fails(practice.canary_texts(blank, texts, tied), "`canary`")
        fails(practice.marker_uplift(blank, reward, texts[:100]), "`uplift`")
        fails(practice.price_adjusted_outcome(blank, bookings, price), "`adjusted`")


def test_feedback_reads_as_a_verdict():
    ok, no = practice.Feedback(True, "fine."), practice.Feedback(False, "not fine.")
    assert bool(ok) and not bool(no)
    assert repr(no) == f"{practice.FAIL} not fine."
    assert practice.FAIL in no._repr_markdown_()
