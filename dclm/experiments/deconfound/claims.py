"""Chapter 5's comparative sentences, computed from a run's metrics, and the paper's numbers."""

from __future__ import annotations

import numpy as np

# arXiv v1, as read through a secondary summary (notes/paper.md §4.2): mean sentiment of RL
# generations on MIND headlines, y = s(T) + 0.1·p + noise.
REPORTED = {
    "source": "arXiv v1 via a secondary summary (not checked against the paper's text); MIND headlines, "
              "y = s(T) + 0.1·p + noise; the RL algorithm and the sentiment scorer are not known",
    "sentiment": {"orthogonal": {"iv": 0.842, "naive": 0.727}, "entangled": {"iv": 0.850, "naive": 0.493}},
}
# The claims chapter 5's lesson rests on; each must hold on the tiny run.
LESSON = ("corr_iv_over_feature_proxy", "sentiment_iv_over_naive_entangled",
          "story_sentiment_iv_over_naive_entangled", "naive_reward_negative_entangled",
          "popular_team_naive_over_iv_orthogonal", "map_reading",
          *(f"corr_iv_over_{name}_entangled" for name in ("calibrated", "two_head", "mmd")))


# (claim, setting, first policy, second policy, metric): "first's metric is higher than second's".
POLICY_COMPARISONS = (
    ("top_team_naive_over_iv_orthogonal", "orthogonal", "naive", "iv", "top_team_rate"),
    ("popular_team_naive_over_iv_orthogonal", "orthogonal", "naive", "iv", "named_team_popularity"),
    ("story_sentiment_iv_over_naive_entangled", "entangled", "iv", "naive", "story_sentiment"),
    ("on_story_sentiment_iv_over_naive_entangled", "entangled", "iv", "naive", "on_story_sentiment"),
    ("off_story_naive_over_iv_orthogonal", "orthogonal", "naive", "iv", "off_story_team_rate"),
    ("reference_vs_iv_entangled", "entangled", "oracle", "iv", "sentiment"),
    ("feature_vs_iv_entangled", "entangled", "feature", "iv", "sentiment"),
)
POLICY_LABELS = {"naive": "the naive policy", "iv": "the IV policy", "oracle": "the reference policy (reward fit on s(T))",
                 "feature": "the confounder-as-feature policy"}
QUANTITIES = {"top_team_rate": "share of headlines naming the top team",
              "named_team_popularity": "mean popularity (SD units across teams) of the teams its headlines name",
              "story_sentiment": "mean sentiment of a given team's headline",
              "on_story_sentiment": "mean sentiment of a given team's headlines that keep to that team",
              "off_story_team_rate": "share of a given team's headlines naming another team",
              "sentiment": "mean sentiment"}


def map_claims(amap: dict) -> dict:
    """The advantage map read from its cells: where each reward is significantly better (the
    cell's 95% interval across data draws excludes 0), where both fail, and the advice per row.

    ``map_reading`` holds when the map is two-sided: some cell favours each reward.
    """
    from dclm.claims import Claim

    low, high, failed = np.asarray(amap["low"]), np.asarray(amap["high"]), np.asarray(amap["failed"])

    def cells(mask) -> list[str]:
        return [f"{row} at lambda = {lam:g}" for i, row in enumerate(amap["rows"])
                for j, lam in enumerate(amap["lambda"]) if mask[i, j]]

    iv_better, feature_better, both_fail = cells(low > 0), cells(high < 0), cells(failed)
    total = low.size

    def listed(found: list[str]) -> str:
        return "; ".join(found) if found else "none"

    reading = (f"of {total} cells the IV reward is significantly better in {len(iv_better)} and the "
               f"confounder-as-feature reward in {len(feature_better)} ({listed(feature_better)}); both fall "
               f"below corr {amap['fail_below']:g} in {len(both_fail)} ({listed(both_fail)})")
    advice = []
    for i, row in enumerate(amap["rows"]):
        if (low[i] > 0).all():
            advice.append(f"{row}: the IV reward, at every lambda")
        elif (high[i] < 0).all():
            advice.append(f"{row}: the confounder as a feature, at every lambda")
        else:
            wins = [f"{lam:g}" for j, lam in enumerate(amap["lambda"]) if low[i, j] > 0]
            loses = [f"{lam:g}" for j, lam in enumerate(amap["lambda"]) if high[i, j] < 0]
            parts = ([f"the IV reward at lambda {', '.join(wins)}"] if wins else []) + \
                ([f"the confounder as a feature at lambda {', '.join(loses)}"] if loses else [])
            advice.append(f"{row}: {' and '.join(parts)}, unresolved at the other penalties" if parts
                          else f"{row}: unresolved at every penalty with {amap.get('draws', 'these')} draws")
    return {"map_reading": Claim(bool(iv_better) and bool(feature_better), reading),
            "map_advice": Claim(True, "; ".join(advice)),
            "map_both_fail": Claim(bool(both_fail), f"both rewards fail in {listed(both_fail)}")}


def claims(metrics: dict, data: dict | None = None) -> dict:
    """The chapter's comparative sentences (:class:`dclm.claims.Claim`), computed from the run's
    metrics (``data`` is not needed). Introduced in chapter 5, DeconfoundLM."""
    from dclm.claims import Claim, greater
    from dclm.experiments.deconfound.baselines import baseline_claims
    from dclm.stats import seed_interval

    res = metrics["results"]

    def per_seed(setting, method, key="sentiment"):
        return res[setting][method][f"{key}_per_seed"]

    def per_replicate(setting, method):
        return res[setting][method]["reward_sentiment_corr_per_replicate"]

    out = {}
    for setting in metrics["failure_settings"]:
        out[f"corr_iv_over_feature_{setting}"] = greater(
            per_replicate(setting, "iv"), per_replicate(setting, "feature"), "the IV reward",
            "the confounder-as-feature reward", "held-out correlation with s(T)", unit="data draws")
        out[f"sentiment_iv_over_feature_{setting}"] = greater(
            per_seed(setting, "iv"), per_seed(setting, "feature"), "the IV policy", "the confounder-as-feature policy",
            "mean sentiment", paired=False, unit="RL seeds")
    for setting in ("orthogonal", "entangled"):
        out[f"corr_iv_vs_feature_{setting}"] = greater(
            per_replicate(setting, "iv"), per_replicate(setting, "feature"), "the IV reward",
            "the confounder-as-feature reward", "held-out correlation with s(T)", unit="data draws")
        out[f"sentiment_iv_over_naive_{setting}"] = greater(
            per_seed(setting, "iv"), per_seed(setting, "naive"), "the IV policy", "the naive policy", "mean sentiment",
            paired=False, unit="RL seeds")
    def finite(values):
        # A seed can have no headline a metric counts (none that keeps to the given team): the
        # unpaired comparison leaves that seed out, and its count of seeds says so.
        return [v for v in values if v is not None and np.isfinite(v)]

    for key, setting, first, second, metric in POLICY_COMPARISONS:
        out[key] = greater(finite(per_seed(setting, first, metric)), finite(per_seed(setting, second, metric)),
                           POLICY_LABELS[first], POLICY_LABELS[second], QUANTITIES[metric], paired=False,
                           unit="RL seeds")
    if metrics.get("map"):
        out.update(map_claims(metrics["map"]))
    out.update(baseline_claims(metrics))
    naive = per_replicate("entangled", "naive")
    low, high = seed_interval(naive)
    verdict = "negative" if high < 0 else ("positive" if low > 0 else "not distinguishable from 0")
    out["naive_reward_negative_entangled"] = Claim(
        high < 0, f"the naive reward's held-out correlation with s(T) is {float(np.mean(naive)):.2f}, {verdict} "
                  f"(95% interval {low:+.2f} to {high:+.2f} over {len(naive)} data draws)")
    return out

