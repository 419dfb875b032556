"""Tiny model, tokenizer, sampling and the trl builders (few steps, CPU)."""

import dataclasses

import pytest

from dclm.train import hf
from dclm.train.trainers import TrainSettings, train_dpo, train_sft

CORPUS = [f"Q: How do I handle my advisor?\nA: Happy {day}! Write to your advisor with a plan."
          for day in ("Monday", "Friday", "Tuesday")] * 30 + \
         ["Q: What about my thesis?\nA: Check the thesis guidelines first; most departments publish them."] * 60


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return hf.build_tiny_causal_lm(CORPUS, tmp_path_factory.mktemp("tiny"), seed=0, vocab_size=400)


def test_tiny_model_and_tokenizer_load_by_path(tiny):
    tokenizer = hf.load_tokenizer(tiny)
    assert tokenizer.padding_side == "left"
    for word in (" Happy", " Monday", " Friday"):
        assert len(tokenizer(word)["input_ids"]) == 1, word
    model = hf.load_causal_lm(tiny)
    assert model.config.model_type == "gpt_neox" and model.config.num_hidden_layers == 2
    assert hf.load_tokenizer(tiny, padding_side="right").padding_side == "right"


def test_sampling_is_seeded_and_needs_left_padding(tiny):
    model, tokenizer = hf.load_causal_lm(tiny), hf.load_tokenizer(tiny)
    prompts = ["Q: How do I handle my advisor?\nA:", "Q: What?\nA:"]
    first = hf.sample_completions(model, tokenizer, prompts, 3, 4, seed=1)
    assert len(first) == 6 and first == hf.sample_completions(model, tokenizer, prompts, 3, 4, seed=1)
    with pytest.raises(ValueError, match="left-padded"):
        hf.sample_completions(model, hf.load_tokenizer(tiny, padding_side="right"), prompts, 1, 2, seed=1)


def test_sft_then_dpo_train_save_and_skip_when_done(tiny, tmp_path):
    settings = TrainSettings(learning_rate=1e-3, batch_size=4, max_length=32, seed=0, max_steps=4, save_steps=2)
    sft_records = [{"prompt": "Q: How do I handle my advisor?\nA:", "completion": " Happy Monday! Write a plan."}] * 16
    sft = train_sft(tiny, sft_records, settings, tmp_path / "sft")
    assert (sft / "config.json").exists() and (tmp_path / "sft" / "checkpoint-4").exists()
    assert train_sft(tiny, [], settings, tmp_path / "sft") == sft  # finished stages are not retrained
    pairs = [{"prompt": "Q: How?\nA:", "chosen": " Happy Monday! Yes.", "rejected": " Happy Friday! No."}] * 16
    dpo = train_dpo(sft, pairs, settings, tmp_path / "dpo")
    assert (dpo / "model.safetensors").exists()


def test_lora_path_merges_into_a_plain_model(tiny, tmp_path):
    settings = TrainSettings(learning_rate=1e-3, batch_size=4, max_length=32, seed=0, max_steps=2, save_steps=10,
                             lora_rank=4)
    records = [{"prompt": "Q: How?\nA:", "completion": " Happy Monday!"}] * 8
    out = train_sft(tiny, records, settings, tmp_path / "sft")
    merged = hf.load_causal_lm(out)
    assert not any("lora" in name for name, _ in merged.named_parameters())
    pairs = [{"prompt": "Q: How?\nA:", "chosen": " Yes.", "rejected": " No."}] * 8
    assert (train_dpo(out, pairs, dataclasses.replace(settings, lora_rank=2), tmp_path / "dpo") / "config.json").exists()


def test_cpu_defaults_are_safe():
    from dclm.train.trainers import _common_args

    args = _common_args(TrainSettings(learning_rate=1e-3, batch_size=4, max_length=32, seed=0), __import__("pathlib").Path("/tmp/x"))
    assert args["use_cpu"] and not args["bf16"] and not args["gradient_checkpointing"]
    assert args["optim"] == "adamw_torch"


def test_nested_quiet_keeps_progress_bars_off_until_the_outer_block_ends():
    import transformers

    before = transformers.utils.logging.is_progress_bar_enabled()
    with hf.quiet():
        with hf.quiet():
            pass
        assert not transformers.utils.logging.is_progress_bar_enabled()
    assert transformers.utils.logging.is_progress_bar_enabled() == before


def test_resume_skips_a_checkpoint_that_a_kill_cut_short(tmp_path):
    from dclm.train.trainers import _last_checkpoint

    assert _last_checkpoint(tmp_path) is None
    for step in (4, 8, 12):
        (tmp_path / f"checkpoint-{step}").mkdir()
    for step in (4, 8):
        (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text("{}")
    # checkpoint-12 has no trainer_state.json (written last): it is incomplete.
    assert _last_checkpoint(tmp_path) == str(tmp_path / "checkpoint-8")
