"""Chapter 3's run settings: the data, the policy, its SFT and DPO stages and its evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from dclm.config import ConfigError, ExperimentConfig, check_choice, knob
from dclm.profiles import Profile, apply_profile

SEED_DOC = (
    "seeds the generated data, the question split, the pair construction and the tiny base "
    "model; training seed k uses 1000*seed + k for its trainers, its draw of DPO pairs and its "
    "generations (generation seed g > 0 adds 1,000,000*g)"
)
MODELS = ("base", "sft", "dpo", "dpo_deconfounded")
# How ĥ(weekday) can be estimated (see dclm.experiments.monday.data.adjust_scores).
H_ESTIMATORS = ("within_question", "pooled")
DATA_SOURCES = ("generated", "beer", "academia")
DPO_LOSSES = ("anchored", "plain")
# Chapter 3's side run on the shipped beer.stackexchange.com dump (the instructor guide times it
# too): a few hundred questions need 6 SFT epochs before the tiny model writes the markers at all;
# the main comparison only, with no ablation arms and one dose strength.
BEER_RUN = {"data": "beer", "sft_epochs": "6", "ablations": "false", "dose_strengths": "0.5"}
# The arms that separate what DPO does: its contrast (plain), the anchor (anchored) and imitation
# of the chosen answers (sft_chosen), on raw and on deconfounded pairs (dclm.experiments.monday.arms).
ARMS = ("dpo_plain", "dpo_anchored", "sft_chosen", "dpo_plain_deconfounded", "dpo_anchored_deconfounded")
ARM_LABELS = {"sft": "SFT", "sft_chosen": "SFT on chosen answers", "dpo_plain": "plain DPO",
              "dpo_anchored": "anchored DPO", "dpo_plain_deconfounded": "plain DPO, deconfounded pairs",
              "dpo_anchored_deconfounded": "anchored DPO, deconfounded pairs"}


@dataclass(frozen=True)
class Config(ExperimentConfig):
    """Chapter 3's Stack Exchange answers, the SFT and DPO runs on them and the marker evaluation."""

    ZERO_OK: ClassVar[tuple[str, ...]] = ("workers", "lora_rank")
    CHOICES: ClassVar[dict[str, tuple]] = {"h_estimator": H_ESTIMATORS, "dpo_loss": DPO_LOSSES}

    seed: int = knob(0, SEED_DOC)

    # The answers and the question split.
    data: str = knob("generated", '"generated" (Academia-like generator), "beer" (shipped), "academia", '
                                  "or the path of a Posts.xml(.gz) or a site's .7z dump",
                     why="tiny: the schema-true Academia-like generator (nothing to download); colab and paper: "
                         "the real Academia dump the re-run used")
    # Large enough that the deconfounded pairs' leftover marker imbalance (sampling noise,
    # which DPO amplifies) is small; generating is cheap, training does not grow.
    n_questions: int = knob(12_000, "questions the generator writes (generated data only)")
    max_words: int = knob(180, "longest answer kept, in words (the re-run's filter)")
    marker_days: tuple[str, ...] = knob(("Monday", "Friday"), "weekdays whose answers get a 'Happy <day>!' marker")
    sft_questions: int = knob(600, "questions whose answers are SFT data", why=(
        "questions whose answers are SFT data; paper = the re-run's 5,000, colab a fifth "
        "of that to fit a T4 session, tiny what the generator provides"))
    eval_questions: int = knob(200, "held-out questions each model answers",
                               why="held-out questions answered by each model; paper = the re-run's 3,000")

    # The policy and how it is trained.
    policy_model_id: str = knob(
        "tiny", 'the base policy: a hub id, a saved model folder, or "tiny" (built here)',
        why="tiny: a 2-layer GPT-NeoX built here; colab and paper: the re-run's SmolLM2-360M-Instruct")
    tiny_vocab: int = knob(2_000, "tokenizer vocabulary of the tiny model")
    tiny_hidden: int = knob(64, "hidden width of the tiny model")
    tiny_layers: int = knob(2, "transformer layers of the tiny model")
    prompt_format: str = knob("Q: {question}\nA:", 'a template with {question}, or "chat": the model\'s own chat '
                              "template (an Instruct model), with the question as the user turn", why=(
                                  "paper: the Instruct model's chat template (question as the user turn); colab and "
                                  "tiny: a plain 'Q: ... A:' prompt (the tiny model has no chat template)"))
    training_seeds: int = knob(4, "independent SFT + DPO runs, the unit of every interval", why=(
        "independent SFT+DPO runs (the intervals go across them); paper = the re-run's 5"))
    lora_rank: int = knob(0, "SFT LoRA rank (DPO uses half); 0 = full fine-tuning", why="SFT LoRA rank (DPO uses "
                          "half, 8 in the re-run); 0 = full fine-tuning of the tiny model")
    batch_size: int = knob(16, "per-device batch of SFT and DPO", why="per-device batch; 8 in the re-run")
    max_length: int = knob(64, "tokens per prompt + answer", why="tokens per prompt + answer; 512 in the re-run, "
                                                                 "64 covers the tiny generator's answers")
    save_steps: int = knob(25, "checkpoint interval of every training stage",
                           why="checkpoint interval: a killed run resumes from here; a GPU step is slower but a "
                               "save of a 360M model costs seconds, so every few minutes")
    # SFT on the marked answers; DPO on score preferences.
    sft_epochs: float = knob(2.0, "passes over the SFT answers", why="one epoch in the re-run; the tiny model "
                             "starts from random weights and needs two")
    sft_lr: float = knob(2e-3, "SFT learning rate",
                         why="2e-4 is the re-run's LoRA rate; 2e-3 only for the tiny model trained from scratch")
    dpo_steps: int = knob(100, "DPO updates per run", why=("paper: 4 epochs of the re-run's 11,886 pairs at "
                                                           "batch 8; colab: 1,200 pairs; tiny: 1,600 pairs"))
    dpo_lr: float = knob(1e-3, "DPO learning rate", why=(
        "not reported by the re-run; 5e-5 for LoRA adapters (which start at zero; full "
        "fine-tuning DPO uses ~5e-6); 1e-3 only for the tiny model"))
    dpo_beta: float = knob(0.1, "DPO's beta: how far from the SFT model the policy may move")
    # Plain DPO leaves features the pairs do not separate unconstrained, and on the tiny model
    # they drift far in a random direction per training seed; the anchor (the negative
    # log-likelihood of the chosen answers, as in RPO) holds them at the chosen answers' rate.
    dpo_sft_weight: float = knob(3.0, "weight of the chosen answers' negative log-likelihood in the anchored DPO "
                                      "loss (the anchor)", why=(
                                 "the anchor's weight in the anchored arms, every profile: 3 held the tiny "
                                 "model's markers at the data's rate on the seed that reversed without it"))
    dpo_loss: str = knob("anchored", '"anchored" (DPO + dpo_sft_weight x the chosen answers\' NLL) or "plain": '
                                     "the loss of the chapter's dpo and dpo_deconfounded models", why=(
                             "tiny: anchored, because plain DPO on a balanced pool drifts the marker in a "
                             "seed-dependent direction on the tiny model trained from scratch (the ablations show "
                             "it); colab and paper: plain, the re-run's protocol on a pretrained model"))
    ablations: bool = knob(True, "also train plain and anchored DPO on raw and deconfounded pairs and SFT on the "
                                 "chosen answers alone, per training seed", why=(
                               "tiny and paper: on (the chapter's ablations); colab: off, to keep chapter 3 "
                               "within a T4 session (three more trainings per seed; estimated)"))
    # A move of the Monday share smaller than this counts as none: about a third of the
    # re-run's DPO move (SFT 0.56 -> DPO 0.84, Table 1), a tenth of the share's range.
    equivalence_margin: float = knob(0.1, "TOST margin, in Monday share, for 'leaves the Monday share where SFT "
                                          "had it'")
    # Integer votes cannot resolve smaller differences between deconfounded scores.
    deconfounded_margin: float = knob(0.5, "deconfounded scores closer than this (in votes) are ties: no pair")
    # "within_question" estimates weekday effects from comparisons between answers to the same
    # question, which is how pairs are built; "pooled" takes weekday means over all answers.
    h_estimator: str = knob("within_question", 'how ĥ(weekday) is estimated: "within_question" (question '
                                               'fixed effects) or "pooled"')
    # Each strength κ takes the pairs of a share κ of the questions from raw scores and the rest
    # from deconfounded ones (data.dosed_pairs): one more DPO run per strength and training seed.
    # 0.05 and 0.1 put about the re-run's Monday imbalance (+0.6 points) in the pairs.
    dose_strengths: tuple[float, ...] = knob((0.05, 0.1, 0.5), "dose-response strengths, each strictly between 0 "
                                                             "(the deconfounded pairs) and 1 (the raw pairs)")

    # Generation from each model.
    samples_per_prompt: int = knob(10, "answers sampled per held-out question", why=(
        "one answer per question and model (the re-run); tiny samples 10 short ones "
        "per question for tighter rates"))
    max_new_tokens: int = knob(3, "tokens generated per answer", why="paper: a full answer (512 tokens, the "
                               "re-run's completion limit); colab: the first 32 tokens, where the marker is; "
                               "tiny: the marker's 3 tokens")
    # Pooled within a training seed, so intervals still go across training seeds.
    generation_seeds: int = knob(1, "sampling passes over the held-out questions per model and training seed",
                                 why="sampling passes over the held-out questions per model and training seed "
                                     "(the re-run: 5), pooled within a training seed")

    # Where it runs.
    workers: int = knob(0, "parallel training processes; 0 = one per CPU core, or per GPU")
    gradient_checkpointing: bool = knob(False, "trade compute for memory (a GPU profile whose memory needs it)",
                                        why="on only where memory needs it: DPO on 2 x 8 x 512 tokens of a 360M "
                                            "model is tight on a 15 GB T4 (estimated)")
    save_dtype: str = knob("float32", "dtype of the saved trained models; bf16 would round DPO's update away")
    device: str = knob("cpu", "what the profile asks for; CPU when no GPU is present")

    def validate(self) -> None:
        """Data source, marker days, the anchor, the margin and dose strengths this module can use."""
        from dclm.data.stackexchange import WEEKDAYS

        check_choice("data", self.data, DATA_SOURCES, or_path="a Posts.xml, Posts.xml.gz or a site's .7z dump")
        check_choice("marker_days", self.marker_days, WEEKDAYS)
        if not self.dpo_sft_weight > 0:
            raise ConfigError(f"dpo_sft_weight={self.dpo_sft_weight}: the anchored arms need a positive weight "
                              '(set dpo_loss=plain for plain DPO)')
        if not 0 < self.equivalence_margin < 1:
            raise ConfigError(f"equivalence_margin={self.equivalence_margin}: a Monday share between 0 and 1")
        for strength in self.dose_strengths:
            if not 0 < strength < 1:
                raise ConfigError(f"dose_strengths={','.join(map(str, self.dose_strengths))}: each strength must be "
                                  "strictly between 0 (the deconfounded pairs) and 1 (the raw pairs)")


def config_for(profile: Profile, seed: int) -> Config:
    """The profile's data source, policy model, LoRA rank, sizes and learning rates for chapter 3."""
    cfg = Config(seed=seed, data=profile.qa_source, sft_questions=profile.qa_sft_questions,
                 eval_questions=profile.qa_eval_questions, training_seeds=profile.training_seeds,
                 policy_model_id=profile.policy_model_id, lora_rank=profile.policy_lora_rank,
                 max_length=profile.policy_max_length, batch_size=profile.policy_batch_size,
                 sft_lr=profile.policy_sft_lr, dpo_lr=profile.policy_dpo_lr, device=profile.device)
    return apply_profile(cfg, profile, "monday")
