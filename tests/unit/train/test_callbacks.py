"""The callbacks that measure a stage from inside its loop: step times without set-up, what it trains with."""

import time

import pytest
import torch

from dclm.train import hf
from dclm.train.callbacks import StageProbe, StepTimer
from dclm.train.pool import torch_threads
from dclm.train.trainers import TrainSettings, train_rloo, train_sft

CORPUS = [f"Q: How do I handle my advisor?\nA: Happy {day}! Write to your advisor with a plan."
          for day in ("Monday", "Friday", "Tuesday")] * 30
SETUP_SLEEP_S = 3.0


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return hf.build_tiny_causal_lm(CORPUS, tmp_path_factory.mktemp("tiny"), seed=0, vocab_size=300, hidden_size=32)


def test_step_times_leave_out_a_slow_trainer_construction(tiny, tmp_path, monkeypatch):
    import trl

    built = trl.SFTTrainer.__init__

    def slow_init(self, *args, **kwargs):
        time.sleep(SETUP_SLEEP_S)
        built(self, *args, **kwargs)

    monkeypatch.setattr(trl.SFTTrainer, "__init__", slow_init)
    steps = 5
    settings = TrainSettings(learning_rate=1e-3, batch_size=4, max_length=32, seed=0, max_steps=steps,
                             save_steps=10**6, show_progress=False)
    timer = StepTimer()
    # One thread: two threads on a busy 2-core machine make a tiny step many times slower.
    with torch_threads(1):
        start = time.perf_counter()
        train_sft(tiny, [{"prompt": "Q: How?\nA:", "completion": " Happy Monday! Write a plan."}] * 20, settings,
                  tmp_path / "sft", callbacks=[timer])
        wall = time.perf_counter() - start
    summary = timer.summary()
    assert len(timer.durations) == steps and summary["steps_timed"] == steps - 2 and summary["first_timed_step"] == 3
    # The sleep is in the stage's wall time and in none of its steps: exact, whatever the load.
    assert sum(timer.durations) <= wall - SETUP_SLEEP_S
    # The old measure, wall time over steps, carries sleep / steps on top of the steps; the
    # timer's median is a step's time (a tiny CPU step takes a few hundredths of a second).
    assert wall / steps - sum(timer.durations) / steps >= SETUP_SLEEP_S / steps > 2 * summary["s_per_step"]


def test_a_timer_with_no_step_past_warmup_says_how_many_it_needs():
    timer = StepTimer()
    timer.durations = [0.1, 0.1]
    with pytest.raises(ValueError, match="timed 2 step\\(s\\), all within warmup=2; train at least 3 steps"):
        timer.summary()
    with pytest.raises(ValueError, match="warmup must be >= 0 steps, got -1"):
        StepTimer(warmup=-1)


def test_rloo_trains_with_dropout_off_in_fp32_on_the_cpu(tmp_path):
    """GPT-2 ships dropout 0.1; RLOO's KL term compares policy and reference, so it must be off."""
    from transformers import GPT2Config, GPT2LMHeadModel

    tokenizer = hf.train_tokenizer(CORPUS, 300, tmp_path / "gpt2")
    config = GPT2Config(n_embd=32, n_layer=2, n_head=4, n_positions=64, vocab_size=len(tokenizer),
                        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                        bos_token_id=tokenizer.eos_token_id)
    assert config.resid_pdrop == config.attn_pdrop == config.embd_pdrop == 0.1
    torch.manual_seed(0)
    GPT2LMHeadModel(config).save_pretrained(str(tmp_path / "gpt2"))
    probe = StageProbe()
    settings = TrainSettings(learning_rate=1e-4, batch_size=4, max_length=32, seed=0, max_steps=1, save_steps=10**6,
                             show_progress=False)
    train_rloo(tmp_path / "gpt2", ["Q: How?\nA:"] * 8, lambda texts: [len(t) / 10 for t in texts], settings,
               tmp_path / "rloo", num_generations=4, max_completion_length=4, callbacks=[probe])
    seen = probe.report()
    assert seen["max_dropout"] == 0.0
    # What the CPU computes in, seen in the training forward pass: fp32, and no gradient scaler.
    assert seen["forward_dtypes"] == ["float32"] and seen["grad_scaler"] is None
    assert seen["trained_dtypes"] == ["float32"]


def test_the_tiny_profile_models_have_no_dropout_to_disable(tiny):
    """So RLOO's disable_dropout leaves the tiny profile's results as they were."""
    model = hf.load_causal_lm(tiny)
    assert model.config.attention_dropout == 0.0 and model.config.hidden_dropout == 0.0
    assert all(m.p == 0.0 for m in model.modules() if isinstance(m, torch.nn.Dropout))
