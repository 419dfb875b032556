"""SFT and DPO over trl 1.16, with checkpoints, resume and CPU-safe defaults.

Each stage trains in ``out_dir``: checkpoints every ``save_steps`` steps go to
``out_dir/checkpoint-N``; a re-run with the same ``out_dir`` resumes from the last one (trl's
Trainer restores model, optimizer, scheduler, RNG state and the data position), and a stage
whose ``out_dir/final`` exists is not trained again. Introduced in the Monday chapter.

Precision: the weights being trained (the full model, or the LoRA adapters and the base they
merge into) are fp32 master weights whatever dtype the checkpoint was saved in; the GPU computes
in bf16 from compute capability 8.0 and in fp16 with a gradient scaler below
(:func:`dclm.env.precision`); the CPU in fp32. A LoRA adapter is merged in fp32 and the merged
model saved in ``save_dtype``: a DPO step moves a weight of size 0.02 by about 1e-5, less than
bf16 can resolve there (about 1e-4), so merging or saving in bf16 rounds the update away.
Gradient checkpointing only where the profile says memory needs it; 8-bit AdamW only where
bitsandbytes and a GPU exist (plain AdamW otherwise). ``$DCLM_PRECISION`` overrides the GPU's
mixed precision (:func:`dclm.env.precision_override`).

Memory: a stage frees its model, reference model, optimizer and trainer before it returns
(:func:`release_memory`): chapter 3 trains eight stages in one process on a 15 GB T4, and the
trainer's reference cycles would otherwise keep the last stage's weights and optimizer state
on the GPU until Python's cyclic collector happened to run.
"""

from __future__ import annotations

import gc
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dclm.train.hf import quiet

FINAL = "final"


@dataclass(frozen=True)
class TrainSettings:
    """What one training stage needs besides its data."""

    learning_rate: float
    batch_size: int
    max_length: int
    seed: int
    epochs: float = 1.0
    max_steps: int = -1
    save_steps: int = 50
    lora_rank: int = 0  # 0: full fine-tuning
    lora_dropout: float = 0.1
    # "cpu" or "cuda": chosen by the profile (dclm.env.device), not by what the machine has.
    device: str = "cpu"
    # Trade compute for memory; only on a GPU and only where the profile needs it.
    gradient_checkpointing: bool = False
    # The dtype the trained (merged) model is saved in; see the module docstring.
    save_dtype: str = "float32"
    # Behaviour, not results (dclm.train.options.JobOptions): the trainer's progress bars.
    show_progress: bool = True


ADAPTER = "lora-adapter"
SAVE_DTYPES = ("float32", "float16", "bfloat16")


def trainer_arguments(settings: TrainSettings, out_dir: Path) -> dict:
    """The arguments every trl config of a stage gets: precision, optimiser, checkpointing, logging."""
    from dclm.env import precision

    cuda = settings.device.startswith("cuda")
    eight_bit = cuda and importlib.util.find_spec("bitsandbytes") is not None
    mixed = precision(settings.device)
    return {
        "output_dir": str(out_dir),
        "learning_rate": settings.learning_rate,
        "per_device_train_batch_size": settings.batch_size,
        "num_train_epochs": settings.epochs,
        "max_steps": settings.max_steps,
        "seed": settings.seed,
        "data_seed": settings.seed,
        "save_strategy": "steps",
        "save_steps": settings.save_steps,
        "save_total_limit": 2,
        "logging_steps": 10**9,
        "log_level": "error",
        "report_to": "none",
        "disable_tqdm": not settings.show_progress,
        "use_cpu": not cuda,
        # trl defaults to bf16=True: on a CPU that means bf16 autocast, many times slower.
        "bf16": mixed == "bf16",
        "fp16": mixed == "fp16",
        "gradient_checkpointing": cuda and settings.gradient_checkpointing,
        "optim": "adamw_8bit" if eight_bit else "adamw_torch",
        "dataloader_num_workers": 0,
    }


def _lora(settings: TrainSettings):
    if not settings.lora_rank:
        return None
    from peft import LoraConfig

    return LoraConfig(r=settings.lora_rank, lora_alpha=2 * settings.lora_rank, lora_dropout=settings.lora_dropout,
                      target_modules="all-linear", task_type="CAUSAL_LM")


def _complete(checkpoint: Path) -> bool:
    """Whether a kill left ``checkpoint`` whole. transformers writes trainer_state.json last, but
    not atomically (open, then write): a kill can leave it empty or cut off, so it must parse
    and name this checkpoint's own step."""
    import json

    try:
        state = json.loads((checkpoint / "trainer_state.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(state, dict) and state.get("global_step") == int(checkpoint.name.split("-")[-1])


def _last_checkpoint(out_dir: Path) -> str | None:
    checkpoints = sorted((p for p in out_dir.glob("checkpoint-*") if _complete(p)),
                         key=lambda p: int(p.name.split("-")[-1]))
    return str(checkpoints[-1]) if checkpoints else None


def _restore_weights(model, checkpoint: str) -> None:
    """Load a full fine-tuning checkpoint's weights into ``model`` by their current names.

    The Trainer restores weights with a non-strict ``load_state_dict`` on the names as saved,
    and transformers saves some under legacy names (GPT-NeoX's LM head as ``embed_out.weight``,
    ``lm_head.weight`` in the model): that tensor silently kept its pre-training value, so a
    resumed run diverged from an uninterrupted one. ``from_pretrained`` maps the names; the
    model itself is still loaded from the stage's start, so trl builds the DPO reference from it.
    """
    from dclm.train.hf import load_causal_lm

    saved = load_causal_lm(checkpoint, dtype="float32").state_dict()
    model.load_state_dict(saved, strict=True)


def _finish(trainer, tokenizer, out_dir: Path, save_dtype: str) -> Path:
    import shutil

    import torch

    final = out_dir / FINAL
    tmp = out_dir / f".{FINAL}.tmp"
    # Under accelerate launch every process gets here; one writes, the others wait for it.
    if trainer.is_world_process_zero():
        shutil.rmtree(tmp, ignore_errors=True)  # left by a run killed while saving
        model = trainer.accelerator.unwrap_model(trainer.model).to(torch.float32)
        if hasattr(model, "merge_and_unload"):  # LoRA: save a plain model the next stage can load
            # The adapter too, so the merge can be checked against the unmerged model.
            model.save_pretrained(str(tmp / ADAPTER))
            model = model.merge_and_unload()
        model.to(getattr(torch, save_dtype)).save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        tmp.rename(final)
    trainer.accelerator.wait_for_everyone()
    return final


def release_memory() -> None:
    """Collect unreachable objects now and hand the freed accelerator memory back to the driver.

    ``gc.collect()`` first: a trl trainer and its model refer to each other through callbacks
    and the accelerator, so dropping the last name does not free them; only then are their
    tensors' blocks free for ``empty_cache``.
    """
    import torch

    gc.collect()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()
    if torch.backends.mps.is_available():
        torch.mps.empty_cache()


def _run_stage(model_path: str | Path, records: list[dict], settings: TrainSettings, out_dir: Path,
               config_cls, trainer_cls, trainer_extra: dict | None = None,
               callbacks: Sequence | None = None, **config_extra) -> Path:
    """Train one trl stage in ``out_dir`` (resuming from its last checkpoint); return ``out_dir/final``.

    ``callbacks`` (transformers ``TrainerCallback`` objects, e.g. :class:`dclm.train.callbacks.StepTimer`)
    are added to the trainer's own. Model, reference model, optimizer and trainer are released
    before it returns; when training fails, what the traceback still holds goes once the
    exception is handled.
    """
    if (out_dir / FINAL).exists():
        return out_dir / FINAL
    if settings.save_dtype not in SAVE_DTYPES:
        raise ValueError(f"save_dtype must be one of {', '.join(SAVE_DTYPES)}, got {settings.save_dtype!r}")
    from datasets import Dataset
    from transformers import PrinterCallback

    from dclm.train.hf import load_causal_lm, load_tokenizer

    model = trainer = None
    try:
        with quiet():
            tokenizer = load_tokenizer(model_path, padding_side="right")
            # Loaded from its folder, so trl can rebuild a DPO reference model from the same path;
            # in fp32 whatever the checkpoint's dtype: these are the master weights.
            model = load_causal_lm(model_path, dtype="float32").train()
            args = config_cls(**trainer_arguments(settings, out_dir), **config_extra)
            trainer = trainer_cls(model=model, args=args, train_dataset=Dataset.from_list(records),
                                  processing_class=tokenizer, peft_config=_lora(settings),
                                  callbacks=list(callbacks or []), **(trainer_extra or {}))
            # With progress bars off, transformers prints every log dict to stdout instead.
            trainer.remove_callback(PrinterCallback)
            checkpoint = _last_checkpoint(out_dir)
            if checkpoint and not settings.lora_rank:
                _restore_weights(trainer.model, checkpoint)
            trainer.train(resume_from_checkpoint=checkpoint)
            return _finish(trainer, tokenizer, out_dir, settings.save_dtype)
    finally:
        model = trainer = None
        release_memory()


def train_sft(model_path: str | Path, records: list[dict], settings: TrainSettings, out_dir: str | Path,
              callbacks: Sequence | None = None) -> Path:
    """Supervised fine-tuning on ``{"prompt", "completion"}`` records (loss on completions).

    Returns the folder of the trained model (``out_dir/final``). ``callbacks``: see :func:`_run_stage`.
    """
    from trl import SFTConfig, SFTTrainer

    return _run_stage(model_path, records, settings, Path(out_dir), SFTConfig, SFTTrainer, callbacks=callbacks,
                      completion_only_loss=True, max_length=settings.max_length)


def train_dpo(model_path: str | Path, pairs: list[dict], settings: TrainSettings, out_dir: str | Path,
              beta: float = 0.1, sft_weight: float = 0.0, callbacks: Sequence | None = None) -> Path:
    """DPO on ``{"prompt", "chosen", "rejected"}`` records, starting from ``model_path``.

    Full fine-tuning keeps a frozen copy of ``model_path`` as the reference; with LoRA the
    adapter-free base is the reference. ``sft_weight`` > 0 adds that times the negative
    log-likelihood of the chosen answers to the loss (trl's ``loss_type=["sigmoid", "sft"]``):
    an anchor to the data for features the pairs do not separate, which plain DPO is free to
    drift on. Returns ``out_dir/final``. ``callbacks``: see :func:`_run_stage`.
    """
    from trl import DPOConfig, DPOTrainer

    if sft_weight < 0:
        raise ValueError(f"sft_weight must be >= 0, got {sft_weight}")
    anchor = {"loss_type": ["sigmoid", "sft"], "loss_weights": [1.0, float(sft_weight)]} if sft_weight else {}
    return _run_stage(model_path, pairs, settings, Path(out_dir), DPOConfig, DPOTrainer, callbacks=callbacks,
                      beta=beta, max_length=settings.max_length, **anchor)


def train_rloo(model_path: str | Path, prompts: list[str], reward, settings: TrainSettings, out_dir: str | Path,
               beta: float = 0.05, num_generations: int = 4, max_completion_length: int = 16,
               callbacks: Sequence | None = None) -> Path:
    """RL with trl's RLOO (REINFORCE leave-one-out), KL-anchored to ``model_path``.

    ``reward(completions) -> list[float]`` scores the generated texts. trl 1.16 has no
    PPOTrainer; RLOO needs no value model and is the on-policy method trl maintains. Dropout
    is off in the policy and the reference (GPT-2's 0.1, and LoRA's): with it on, the two give
    different log-probabilities for the same text, and the KL term measures dropout noise.
    Returns ``out_dir/final``. ``callbacks``: see :func:`_run_stage`.
    """
    from trl import RLOOConfig, RLOOTrainer

    def reward_func(completions, **_):
        return [float(r) for r in reward(list(completions))]

    return _run_stage(model_path, [{"prompt": p} for p in prompts], settings, Path(out_dir), RLOOConfig,
                      RLOOTrainer, trainer_extra={"reward_funcs": reward_func}, callbacks=callbacks, beta=beta,
                      num_generations=num_generations, max_completion_length=max_completion_length,
                      temperature=1.0, top_k=0, top_p=1.0, disable_dropout=True)
