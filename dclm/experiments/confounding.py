"""Chapter 1: why observational outcomes mislead.

Simulated rental listings (``dclm.causal.simulate.simulate_listings``): cheap listings say
"affordable" more often and get more bookings because they are cheap. The naive regression of
bookings on the marker credits the word with the price's effect; adjusting for price recovers
the marker's true effect (zero by default); dowhy's backdoor estimator agrees.

Metrics: ``true_effect``, ``naive_estimate``, ``naive_se``, ``adjusted_estimate``,
``adjusted_se``, ``dowhy_estimate``, ``n``. Data: the confounding-strength sweep and a sample
of listings for the figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from dclm.causal.crosscheck import dowhy_backdoor
from dclm.causal.linear import ols
from dclm.causal.simulate import MIN_N, simulate_listings
from dclm.claims import Claim
from dclm.config import ExperimentConfig, knob
from dclm.profiles import Profile
from dclm.train.options import DEFAULT_OPTIONS, JobOptions

SEED_DOC = (
    "seeds the simulated listings (prices, marker choices, amenities, noise); each point of "
    "the confounding-strength sweep uses an independent child stream of the same seed"
)

# Listings kept in the result for the scatter plot: enough to see the pattern, small on disk.
SCATTER_SAMPLE = 600


@dataclass(frozen=True)
class Config(ExperimentConfig):
    """Chapter 1's simulated listings and the confounding-strength sweep."""

    # Sample sizes the simulator can draw.
    MINIMUMS: ClassVar[dict[str, int]] = {"n": MIN_N, "sweep_n": MIN_N}

    seed: int = knob(0, "seeds the listings and, through child streams, each sweep point")
    n: int = knob(5_000, "listings in the main data set")
    sweep_n: int = knob(2_000, "listings per sweep point")
    sweep_strengths: tuple[float, ...] = knob((0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0),
                                              "confounding strengths of the lesson figure's sweep")
    confounding: float = knob(1.0, "how strongly a low price raises the chance of saying 'affordable'")
    marker_effect: float = knob(0.0, "the word's true effect on bookings a month (0: it does nothing)")
    price_effect: float = knob(2.0, "bookings a month per SD of cheapness: the confounder's effect")
    noise_sd: float = knob(2.0, "SD of the bookings noise")


def config_for(profile: Profile, seed: int) -> Config:
    """The profile's sample sizes, everything else at its default."""
    return Config(seed=seed, n=profile.simulation_n, sweep_n=profile.sweep_n)


def estimate_marker_effect(data) -> dict[str, float]:
    """Naive (bookings on marker) and price-adjusted estimates of the marker's effect."""
    naive = ols(data["outcome"], data[["marker"]]).estimate("marker")
    adjusted = ols(data["outcome"], data[["marker", "confounder"]]).estimate("marker")
    return {
        "naive_estimate": naive.value,
        "naive_se": naive.se,
        "adjusted_estimate": adjusted.value,
        "adjusted_se": adjusted.se,
    }


def _simulate(cfg: Config, n: int, confounding: float, rng: np.random.Generator):
    return simulate_listings(
        n, rng, confounding=confounding, marker_effect=cfg.marker_effect,
        price_effect=cfg.price_effect, noise_sd=cfg.noise_sd,
    )


def run(cfg: Config, work_dir=None, options: JobOptions = DEFAULT_OPTIONS) -> dict:
    """Simulate, estimate three ways, and sweep the confounding strength."""
    main_seq, *sweep_seqs = np.random.SeedSequence(cfg.seed).spawn(1 + len(cfg.sweep_strengths))
    data = _simulate(cfg, cfg.n, cfg.confounding, np.random.default_rng(main_seq))
    metrics = {"true_effect": cfg.marker_effect, "n": cfg.n, **estimate_marker_effect(data)}
    metrics["dowhy_estimate"] = dowhy_backdoor(data, "marker", "outcome", ["confounder"])

    sweep = {"strength": [], "naive": [], "naive_se": [], "adjusted": [], "adjusted_se": []}
    for strength, seq in zip(cfg.sweep_strengths, sweep_seqs, strict=True):
        est = estimate_marker_effect(_simulate(cfg, cfg.sweep_n, strength, np.random.default_rng(seq)))
        sweep["strength"].append(strength)
        for key in ("naive", "naive_se", "adjusted", "adjusted_se"):
            sweep[key].append(est[key if key.endswith("_se") else key + "_estimate"])

    sample = data.iloc[: min(SCATTER_SAMPLE, len(data))]
    examples = data.groupby("marker").head(3).sort_values("marker", ascending=False)
    return {
        "metrics": metrics,
        "data": {
            "sweep": sweep,
            "sample": {c: sample[c].tolist() for c in ("confounder", "outcome", "marker")},
            "examples": examples[["text", "marker", "confounder", "outcome"]].to_dict("list"),
            "marker_rate_by_price_half": [
                float(data.loc[data["confounder"] < 0, "marker"].mean()),
                float(data.loc[data["confounder"] >= 0, "marker"].mean()),
            ],
        },
    }


# The claims chapter 1's lesson rests on (the experiment test asserts they hold).
LESSON = ("naive_biased", "adjusted_recovers_truth", "dowhy_agrees")


def claims(metrics: dict, data: dict | None = None) -> dict[str, Claim]:
    """Chapter 1's sentences: the naive slope is off the truth by many SEs, the price-adjusted
    one within 3 of its SEs, and dowhy's backdoor estimate is the same regression."""
    truth, adjusted, se = metrics["true_effect"], metrics["adjusted_estimate"], metrics["adjusted_se"]
    naive_off = abs(metrics["naive_estimate"] - truth) / se
    adjusted_off = abs(adjusted - truth) / se
    same = abs(metrics["dowhy_estimate"] - adjusted) <= 1e-8 * max(1.0, abs(adjusted))
    return {
        "naive_biased": Claim(naive_off > 5, f"the naive estimate ({metrics['naive_estimate']:+.2f}) is "
                                             f"{naive_off:.0f} adjusted SEs from the truth ({truth:g})"),
        "adjusted_recovers_truth": Claim(adjusted_off < 3, f"the price-adjusted estimate ({adjusted:+.3f}) is "
                                                           f"{adjusted_off:.1f} SEs from the truth ({truth:g})"),
        "dowhy_agrees": Claim(same, f"dowhy's backdoor estimate ({metrics['dowhy_estimate']:+.3f}) "
                                    f"{'equals' if same else 'differs from'} the adjusted regression's"),
    }


def figures(result) -> dict:
    """``lesson`` (estimates vs confounding strength), ``scatter`` and ``dag``."""
    from dclm import viz

    sweep = result.data["sweep"]
    return {
        "lesson": viz.estimate_sweep(
            sweep["strength"],
            {"naive": (sweep["naive"], sweep["naive_se"]),
             "adjusted": (sweep["adjusted"], sweep["adjusted_se"])},
            truth=result.metrics["true_effect"],
            xlabel="confounding strength (log-odds of the marker per SD of price)",
            ylabel="estimated effect of 'affordable'\n(bookings per month)",
            title="Naive regression credits the word with the price's effect; adjusting does not",
        ),
        "scatter": viz.scatter_by_group(
            result.data["sample"]["confounder"], result.data["sample"]["outcome"],
            result.data["sample"]["marker"], labels={1: "title says 'affordable'", 0: "no marker"},
            xlabel="nightly price C (standardised)", ylabel="bookings per month y",
            title="Cheap listings say 'affordable' more often, and get booked more",
        ),
        "dag": viz.listings_dag(),
    }


def explore_figure(strength: float = 1.0, n: int = 2_000, seed: int = 0):
    """One simulated data set at ``strength``: the scatter, titled with both estimates.

    What the chapter's slider draws; the lesson itself is in ``figures(result)["lesson"]``.
    """
    from dclm import viz

    cfg = Config(seed=seed, n=n, confounding=strength)
    data = _simulate(cfg, n, strength, np.random.default_rng(seed))
    est = estimate_marker_effect(data)
    return viz.scatter_by_group(
        data["confounder"], data["outcome"], data["marker"],
        labels={1: "title says 'affordable'", 0: "no marker"},
        xlabel="nightly price C (standardised)", ylabel="bookings per month y",
        title=(f"strength {strength:g}: naive {est['naive_estimate']:+.2f}, "
               f"adjusted {est['adjusted_estimate']:+.2f} (truth {cfg.marker_effect:g})"),
    )
