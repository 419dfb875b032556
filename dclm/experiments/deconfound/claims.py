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
          "naive_reward_negative_entangled", "top_team_naive_over_iv_orthogonal")


def claims(metrics: dict, data: dict | None = None) -> dict:
    """The chapter's comparative sentences (:class:`dclm.claims.Claim`), computed from the run's
    metrics (``data`` is not needed). Introduced in chapter 5, DeconfoundLM."""
    from dclm.claims import Claim, greater
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
    out["top_team_naive_over_iv_orthogonal"] = greater(
        per_seed("orthogonal", "naive", "top_team_rate"), per_seed("orthogonal", "iv", "top_team_rate"),
        "the naive policy", "the IV policy", "share of headlines naming the top team", paired=False,
        unit="RL seeds")
    amap = metrics.get("map")
    if amap:
        high, diff = np.asarray(amap["high"]), np.asarray(amap["difference"])
        favour = [f"lambda = {lam:g} with logging error {error:g}"
                  for i, error in enumerate(amap["measurement_error"]) for j, lam in enumerate(amap["lambda"])
                  if high[i, j] < 0]
        i, j = np.unravel_index(np.argmin(diff), diff.shape)
        smallest = (f"the gap is smallest ({diff[i, j]:+.2f}) at lambda = {amap['lambda'][j]:g} with logging "
                    f"error {amap['measurement_error'][i]:g}")
        out["map_reading"] = Claim(not favour, (
            f"no cell favours the confounder-as-feature reward; {smallest}" if not favour else
            f"the confounder-as-feature reward is significantly better at {'; '.join(favour)}; {smallest}"))
    naive = per_replicate("entangled", "naive")
    low, high = seed_interval(naive)
    verdict = "negative" if high < 0 else ("positive" if low > 0 else "not distinguishable from 0")
    out["naive_reward_negative_entangled"] = Claim(
        high < 0, f"the naive reward's held-out correlation with s(T) is {float(np.mean(naive)):.2f}, {verdict} "
                  f"(95% interval {low:+.2f} to {high:+.2f} over {len(naive)} data draws)")
    return out

