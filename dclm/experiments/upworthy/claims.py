"""Chapter 4's comparative sentences, computed from a run's metrics (:class:`dclm.claims.Claim`)."""

from __future__ import annotations

from dclm.claims import Claim
from dclm.experiments.upworthy.config import METHOD_LABELS, METHODS

# The claims chapter 4's lesson rests on; each must hold on the tiny run.
LESSON = ("experimental_pairs_teach", "experiment_prefers_stronger_penalty", "choosing_by_pairs_pays")


def ranking(metrics: dict) -> dict:
    """The five reward models ordered by test AUC, and whether the first is distinguishable from
    the second (paired bootstrap interval of their AUC difference). ``{"order", "claim"}``.
    Introduced in chapter 4."""
    order = sorted(METHODS, key=lambda name: -metrics["auc"][name])
    gap = metrics["auc_vs_best"][order[1]]
    apart = gap["high"] < 0
    text = (", ".join(f"{METHOD_LABELS[name]} ({metrics['auc'][name]:.3f})" for name in order)
            + f"; the first is {'ahead of' if apart else 'not distinguishable from'} the second "
              f"(paired difference {-gap['diff']:+.3f}, 95% interval {-gap['high']:+.3f} to {-gap['low']:+.3f})")
    return {"order": order, "claim": Claim(apart, text)}


def claims(metrics: dict, data: dict | None = None) -> dict[str, Claim]:
    """The chapter's comparative sentences (``data`` is not needed; the signature is every
    experiment's).

    ``ranking``: the best reward model is ahead of the runner-up; ``experimental_pairs_teach``:
    the logistic reward on experimental pairs ranks test pairs above chance by more than 3 SEs;
    ``experiment_prefers_stronger_penalty``: the test pairs' best λ is above the one validation
    MSE picks; ``choosing_by_pairs_pays``: choosing λ by the validation pairs instead of
    validation MSE raises test AUC (paired bootstrap interval above 0).
    """
    auc, se = metrics["auc"]["logistic_exp"], metrics["auc_se"]["logistic_exp"]
    teaches = auc - 0.5 > 3 * se
    val, test = metrics["lambda_val_opt"], metrics["lambda_test_opt"]
    stronger = test > val
    cost = metrics["selection_cost"]
    pays = cost["low"] > 0
    return {
        "ranking": ranking(metrics)["claim"],
        "experimental_pairs_teach": Claim(teaches, (
            f"the {METHOD_LABELS['logistic_exp']} reward ranks test pairs with AUC {auc:.3f}, "
            f"{(auc - 0.5) / se:.1f} SEs {'above' if auc > 0.5 else 'below'} chance")),
        "experiment_prefers_stronger_penalty": Claim(stronger, (
            f"validation MSE picks lambda = {val:,.0f}; the test pairs prefer {test:,.0f}, a "
            f"{'stronger' if stronger else 'weaker or equal'} penalty")),
        "choosing_by_pairs_pays": Claim(pays, (
            f"choosing lambda by the validation pairs instead of validation MSE changes test AUC by "
            f"{cost['diff']:+.3f} (95% interval {cost['low']:+.3f} to {cost['high']:+.3f})")),
    }
