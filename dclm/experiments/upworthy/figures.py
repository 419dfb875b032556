"""Chapter 4's figures, drawn from a run's result."""

from __future__ import annotations

from dclm.experiments.upworthy.config import METHOD_LABELS, METHODS, REPORTED


def figures(result) -> dict:
    """``lesson`` (validation MSE and test AUC against lambda), ``splits``, ``methods``,
    ``reward_scale``, and ``scale`` when several embedding models ran."""
    from dclm import viz

    m = result.metrics
    out = {
        "lesson": viz.lambda_curves(
            m["lambda_grid"], m["val_mse"], m["test_auc"], m["lambda_val_opt"], m["lambda_test_opt"],
            reported=(REPORTED["v1"]["lambda_val_opt"], REPORTED["v1"]["lambda_test_opt"]),
            title=f"Validation picks lambda = {m['lambda_val_opt']:,.0f}; the experiment prefers "
                  f"{m['lambda_test_opt']:,.0f}",
        ),
        "splits": viz.lambda_choices(
            m["split_study"]["lambda_val_opt"], m["split_study"]["lambda_test_opt"],
            title=f"Over {len(m['split_study']['seeds'])} splits: the lambda each criterion picks",
        ),
        "methods": viz.dot_whisker(
            [METHOD_LABELS[name] for name in METHODS],
            [m["auc"][name] for name in METHODS],
            [[m["auc"][name] - 1.96 * m["auc_se"][name], m["auc"][name] + 1.96 * m["auc_se"][name]]
             for name in METHODS],
            truth=0.5, color_name=["adjusted", "adjusted", "naive", "iv", "iv"],
            xlabel="test ROC-AUC on significant within-test pairs (95% bootstrap interval)",
            title="Which headline wins: five reward models",
        ),
        "reward_scale": viz.reward_scale(m["lambda_grid"], m["reward_sd"], m["lambda_val_opt"],
                                         m["lambda_test_opt"]),
    }
    if "scale" in m:
        out["scale"] = viz.scale_curves(m["lambda_grid"], result.data["per_model_test_auc"])
    return out


def explore_lambda(result, lam: float | None = None):
    """Chapter 4's slider: the validation MSE and test AUC read at one penalty of the grid
    (default: the one validation picks)."""
    from dclm import viz

    m = result.metrics
    at = m["lambda_val_opt"] if lam is None else lam
    return viz.lambda_curves(m["lambda_grid"], m["val_mse"], m["test_auc"], m["lambda_val_opt"], m["lambda_test_opt"],
                             reported=None, title=f"Validation MSE and test AUC by ridge penalty (marked: {at:,.0f})",
                             at=at)
