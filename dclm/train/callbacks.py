"""transformers callbacks that measure a training stage from inside its loop.

Pass them to any stage (``train_sft``, ``train_dpo``, ``train_rloo``: ``callbacks=[...]``).
:class:`StepTimer` times optimizer steps and nothing else; :class:`StageProbe` records what
the stage really computes in. ``dclm.train.gpu_check`` reports both.
"""

from __future__ import annotations

import statistics
import time

import torch
from transformers import TrainerCallback
from transformers.pytorch_utils import Conv1D

# Steps left out of the timing summary: the first ones select CUDA kernels and grow the caching
# allocator, so they say little about the rest.
WARMUP_STEPS = 2


def _synchronize() -> None:
    # CUDA runs asynchronously: without a barrier a step's end is only when its kernels were queued.
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


class StepTimer(TrainerCallback):
    """Wall time of each optimizer step, from ``on_step_begin`` to ``on_step_end``.

    Loading the model, building the trainer and tokenising the data happen before the first
    step, checkpoint saves after ``on_step_end`` and a LoRA merge after training: none of them
    is inside a timed step. :meth:`summary` leaves out the first ``warmup`` steps.
    """

    def __init__(self, warmup: int = WARMUP_STEPS):
        if warmup < 0:
            raise ValueError(f"warmup must be >= 0 steps, got {warmup}")
        self.warmup = warmup
        self.durations: list[float] = []
        self._started: float | None = None

    def on_step_begin(self, args, state, control, **kwargs):
        _synchronize()
        self._started = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        _synchronize()
        if self._started is not None:
            self.durations.append(time.perf_counter() - self._started)
            self._started = None

    def summary(self) -> dict:
        """Median and mean seconds per step over steps ``warmup + 1`` .. N, and how many those are."""
        timed = self.durations[self.warmup:]
        if not timed:
            raise ValueError(f"StepTimer timed {len(self.durations)} step(s), all within warmup={self.warmup}; "
                             f"train at least {self.warmup + 1} steps")
        return {"s_per_step": round(statistics.median(timed), 5), "s_per_step_mean": round(statistics.fmean(timed), 5),
                "steps_timed": len(timed), "first_timed_step": self.warmup + 1}


def _dtype_name(dtype) -> str:
    return str(dtype).replace("torch.", "")


class StageProbe(TrainerCallback):
    """What a stage trains with, seen from inside it rather than derived from its settings.

    Records the dtype the first linear layer of the network returns in the stage's forward
    passes with gradients (generation and reference passes run without), the gradient scaler accelerate attached to
    the optimizer (present exactly when fp16 mixed precision is on), the optimizer's class,
    whether gradient checkpointing is on, the largest ``nn.Dropout`` probability in the model
    as training starts and the dtypes of the trained parameters. (A dropout an architecture
    applies functionally from its config, such as GPT-NeoX's attention dropout, is not seen.)
    """

    def __init__(self):
        self.forward_dtypes: set[str] = set()
        self.grad_scaler: str | None = None
        self.grad_scale: float | None = None
        self.optimizer: str | None = None
        self.gradient_checkpointing: bool | None = None
        self.max_dropout: float | None = None
        self.trained_dtypes: list[str] = []
        self._hook = None

    def _record(self, module, inputs, output) -> None:
        if torch.is_grad_enabled() and isinstance(output, torch.Tensor):
            self.forward_dtypes.add(_dtype_name(output.dtype))

    def on_train_begin(self, args, state, control, model=None, optimizer=None, **kwargs):
        # Not the LM head: trl 1.16 multiplies by lm_head.weight directly (a fused head), so that
        # module's forward never runs. GPT-2's projections are Conv1D, not nn.Linear.
        head = model.get_output_embeddings()
        layer = next(m for m in model.modules() if isinstance(m, (torch.nn.Linear, Conv1D)) and m is not head)
        self._hook = layer.register_forward_hook(self._record)
        # accelerate wraps the optimizer and hands it the accelerator's scaler (None unless fp16).
        scaler = getattr(optimizer, "scaler", None)
        self.grad_scaler = None if scaler is None else type(scaler).__name__
        self.optimizer = type(getattr(optimizer, "optimizer", optimizer)).__name__
        self.gradient_checkpointing = bool(getattr(model, "is_gradient_checkpointing", False))
        self.max_dropout = float(max((m.p for m in model.modules() if isinstance(m, torch.nn.Dropout)), default=0.0))

    def on_train_end(self, args, state, control, model=None, optimizer=None, **kwargs):
        if self._hook is not None:
            self._hook.remove()
            self._hook = None
        scaler = getattr(optimizer, "scaler", None)
        if scaler is not None:
            self.grad_scale = float(scaler.get_scale())
        self.trained_dtypes = sorted({_dtype_name(p.dtype) for p in model.parameters() if p.requires_grad})

    def report(self) -> dict:
        """The recorded values, JSON-ready."""
        return {"forward_dtypes": sorted(self.forward_dtypes), "grad_scaler": self.grad_scaler,
                "grad_scale": self.grad_scale, "optimizer": self.optimizer,
                "gradient_checkpointing": self.gradient_checkpointing, "max_dropout": self.max_dropout,
                "trained_dtypes": self.trained_dtypes}
