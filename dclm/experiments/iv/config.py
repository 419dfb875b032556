"""Chapter 2's settings: the simulation's knobs, the Monte Carlo sizes and the studies' worlds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from dclm.causal.simulate import MIN_N, simulate_popularity
from dclm.config import ExperimentConfig, knob
from dclm.profiles import Profile

SEED_DOC = (
    "seeds every simulated data set: the two main draws, then each Monte Carlo study "
    "(settings, weak instruments, assumption violations, beta sweep, dowhy check) from "
    "independent child streams of the same seed"
)

# Where "adjust for the text and popularity" fails and the instrument does not (chapter 2).
MECHANISMS = {
    "entangled": {},
    "proxy": {"measurement_error": 1.0},
    "hidden": {"hidden_confounding": 1.0},
}
MECHANISM_LABELS = {"entangled": "entangled, p observed", "proxy": "p observed with error",
                    "hidden": "unobserved cause of p and y"}
ESTIMATORS = ("naive", "adjusted", "iv")

# The three IV assumptions, each broken on its own (chapter 2's "what goes wrong" figure).
VIOLATIONS = {
    "all assumptions hold": {},
    "relevance: weak Z": {"instrument_strength": 0.04},
    "exclusion: fans click beside exposure (Z -> y)": {"direct_effect": 0.3},
    "independence: Z -> s(T)": {"instrument_confounding": 0.3},
}


# The log's other threat: keeping only shown headlines selects on exposure p, a collider of Z and
# (entangled) s(T), which breaks independence among the kept rows. It biases 2SLS when the text
# moves p (entangled), and not when it does not.
THREATS = {
    "selection on exposure (text moves p)": {"selected_share": 0.5},
    "selection on exposure (p not moved by the text)": {"selected_share": 0.5, "entanglement": 0.0},
}


@dataclass(frozen=True)
class Config(ExperimentConfig):
    """Chapter 2's simulated news outcomes and its Monte Carlo studies."""

    # Sample sizes the simulator can draw.
    MINIMUMS: ClassVar[dict[str, int]] = {"n": MIN_N, "mc_n": MIN_N}

    seed: int = knob(0, "seeds the main draws and, through child streams, every Monte Carlo study")
    n: int = knob(5_000, "rows of each main data set")
    # Our default, not the paper's: at beta = 0.1 (the paper's, per SD of popularity) the
    # confound barely moves the outcome; the chapter sweeps beta and shows 0.1 too.
    beta: float = knob(1.0, "clicks per SD of popularity: the confounder's effect h(p) = beta p")
    instrument_strength: float = knob(1.0, "how strongly the region Z moves popularity")
    entanglement: float = knob(-0.5, "how strongly popularity moves the text's quality (the entangled setting)")
    noise_sd: float = knob(1.0, "SD of the outcome noise")
    mc_reps: int = knob(200, "draws per Monte Carlo study")
    # The weak end needs more draws: its median's Monte Carlo SE is large (tested claim).
    weak_mc_reps: int = knob(1_000, "draws per instrument strength of the weak-instrument study")
    mc_n: int = knob(2_000, "rows per Monte Carlo draw")
    weak_strengths: tuple[float, ...] = knob((0.02, 0.04, 0.07, 0.1, 0.15, 0.25, 0.5, 1.0),
                                             "instrument strengths of the weak-instrument study")
    beta_grid: tuple[float, ...] = knob((0.0, 0.1, 0.3, 1.0, 3.0), "confounder effects of the beta sweep")
    dowhy_control_effect: float = knob(1.0, "effect of the observed control in the dowhy cross-check")
    measurement_error: float = knob(1.0, "SD of popularity's logging error in the proxy mechanism")
    hidden_confounding: float = knob(1.0, "strength of the unobserved cause of p and y in the hidden mechanism")
    coverage_strengths: tuple[float, ...] = knob((0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0),
                                                 "first-stage slopes of the t-versus-AR coverage study")
    coverage_n: int = knob(200, "rows per draw of the coverage study (a small sample: weak F at moderate slopes)")
    coverage_reps: int = knob(2_000, "draws per slope of the coverage study (closed forms: fast)")
    weak_inference_strength: float = knob(0.02, "instrument strength of the one weak draw the AR set is shown on")


def config_for(profile: Profile, seed: int) -> Config:
    """The profile's sample sizes and Monte Carlo repetitions."""
    return Config(seed=seed, n=profile.simulation_n, mc_n=profile.sweep_n,
                  mc_reps=profile.monte_carlo_reps)


def draw(cfg: Config, rng: np.random.Generator, n: int, setting: str, **changes):
    params = {"beta": cfg.beta, "instrument_strength": cfg.instrument_strength,
              "entanglement": cfg.entanglement, "noise_sd": cfg.noise_sd, **changes}
    return simulate_popularity(n, rng, setting=setting, **params)

