"""Chapter 6's run settings: the canary test, the three data sets it runs on, the λ rules and
the limits' simulations; the names and labels of the rewards and rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from dclm.config import ConfigError, ExperimentConfig, knob
from dclm.eval.canary import DEFAULT_MARKER
from dclm.experiments import deconfound
from dclm.models.embed import MINILM_ID
from dclm.profiles import Profile, apply_profile

SEED_DOC = (
    "seeds the generated Monday answers and chapter-5 headlines, every canary placement and permutation, "
    "the chapter-5 outcome draws (replicate r > 0 uses (seed, r)), the Upworthy split seeds "
    "seed..seed+split_seeds-1 and the limits' simulations"
)
DATASETS = ("monday", *(f"deconfound_{s}" for s in deconfound.SETTINGS), "upworthy")
REWARDS = {"monday": ("raw", "deconfounded"), "upworthy": ("observational", "experimental"),
           **{f"deconfound_{s}": deconfound.METHODS for s in deconfound.SETTINGS}}
REWARD_LABELS = {"raw": "raw scores", "deconfounded": "weekday removed",
                 "observational": "observational ridge", "experimental": "within-test-image ridge",
                 **deconfound.METHOD_LABELS}
REWARD_COLORS = {"raw": "naive", "deconfounded": "iv", "observational": "naive", "experimental": "experimental",
                 **{m: m for m in deconfound.METHODS}}
LAMBDA_RULES = ("validation_mse", "canary", "time_split")
# A chapter-5 reward is "confounded" when its held-out score (in SDs) rises by more than this
# per SD of the true popularity at fixed sentiment: a quarter of the naive reward's smallest
# loading in the tiny run, and several SEs above what the reference reward shows.
TRUTH_LOADING = 0.25
RULE_LABELS = {"validation_mse": "validation MSE", "canary": "smallest lambda the canary does not flag",
               "time_split": "validation MSE on the latest quarter of training"}


@dataclass(frozen=True)
class Config(ExperimentConfig):
    """Chapter 6's canary tests on three data sets, the λ-rule study and the limits."""

    # Enough seeds and rows for an interval.
    MINIMUMS: ClassVar[dict[str, int | float]] = {"canary_seeds": 2, "rule_canary_seeds": 2, "split_seeds": 2,
                                                  "limits_reps": 2, "pool_size": 10, "n_eval": 2}
    CHOICES: ClassVar[dict[str, tuple]] = {"settings": deconfound.SETTINGS}

    seed: int = knob(0, SEED_DOC)
    # The canary test.
    marker: str = knob(DEFAULT_MARKER, "the inert marker prepended to canary texts")
    canary_seeds: int = knob(4, "disjoint canary groups per test (the interval goes across them)")
    permutations: int = knob(8, "random placements of the permutation null per test")
    canary_share: float = knob(1.0, "share of the tied candidate rows that receive canaries")
    top_share: float = knob(0.25, "share of a numeric confounder's range the canaries are tied to")
    pool_size: int = knob(800, "candidate rows for canaries; their marked copies are new embeddings")
    n_eval: int = knob(200, "evaluation texts; their marked copies are new embeddings")
    alpha: float = knob(0.05, "significance level of the canary tests")
    embed_model_id: str = knob(MINILM_ID, "frozen embedding model of every reward")
    device: str = knob("cpu", "device of the embedding model and the sentiment classifier")
    # Chapter 3's answers.
    monday_data: str = knob("generated", "chapter 3's answers: the generator, or a Stack Exchange dump")
    monday_questions: int = knob(500, "questions the Monday generator writes")
    monday_lambda: float = knob(100.0, "ridge penalty of the pairwise reward on answer embeddings")
    monday_max_length: int = knob(32, "tokens embedded per answer: the canary is a prefix, so a short "
                                      "window keeps it and halves the cost of embedding answers no other "
                                      "chapter embeds")
    # Chapter 5's headlines.
    news_data: str = knob("generated", "chapter 5's headlines: the generator, or MIND")
    n_news: int = knob(2_000, "news items the headline generator writes")
    sentiment_model: str = knob("vader", "sentiment scorer s(T) of the headlines")
    replicates: int = knob(2, "independent outcome draws per setting (for hit and false-alarm rates)")
    settings: tuple[str, ...] = knob(deconfound.SETTINGS, "chapter 5's settings the canaries run in")
    # Chapter 4's archive.
    upworthy_data: str = knob("shipped", "chapter 4's archive: the shipped one or a packages CSV")
    split_seeds: int = knob(10, "split seeds of the lambda-rule study")
    rule_canary_seeds: int = knob(3, "canary seeds per split in the lambda-rule study; with "
                                     "rule_permutations = 6 the smallest permutation p is 1/84, below alpha")
    rule_permutations: int = knob(6, "permutations per split in the lambda-rule study")
    time_share: float = knob(0.25, "latest share of the training period held out by the time-split rule")
    # Simulations of chapter 2's graph.
    limits_n: int = knob(2_000, "rows per simulated data set of the limits")
    limits_reps: int = knob(100, "Monte Carlo draws per point of the limits")
    limits_beta: float = knob(1.0, "the confounder's true effect beta in the limits' simulations")
    deltas: tuple[float, ...] = knob((0.0, 0.05, 0.1, 0.2, 0.4), "direct effects of the instrument on y")
    strengths: tuple[float, ...] = knob((0.3, 1.0), "instrument strengths of the exclusion study")
    gammas: tuple[float, ...] = knob((0.0, 0.25, 0.5, 1.0), "text-by-confounder interactions of the "
                                                           "additivity study")
    weak_strengths: tuple[float, ...] = knob((0.03, 0.1, 0.3, 1.0), "instrument strengths of the weak-"
                                                                    "instrument study")
    # Without a valid instrument.
    conley_delta: float = knob(0.15, "the instrument's true direct effect on y in the plausibly exogenous study")
    conley_ranges: tuple[float, ...] = knob((0.0, 0.1, 0.2, 0.3), "upper ends γ_max of the direct effects the "
                                                                 "analyst allows, [0, γ_max]; 0 is plain 2SLS")

    def validate(self) -> None:
        """Shares in range."""
        for key in ("canary_share", "top_share", "alpha", "time_share"):
            value = getattr(self, key)
            if not 0 < value < 1 and not (key == "canary_share" and value == 1):
                raise ConfigError(f"{key}={value}: expected a share between 0 and 1")


def config_for(profile: Profile, seed: int) -> Config:
    """The profile's Monday data source, embedding model, sentiment scorer and device."""
    cfg = Config(seed=seed, monday_data=profile.qa_source, embed_model_id=profile.embed_model_ids[0],
                 sentiment_model=profile.sentiment_model, device=profile.device)
    return apply_profile(cfg, profile, "diagnose")
