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


def test_stages_in_one_process_leave_no_model_behind(tiny, tmp_path):
    """Chapter 3 trains eight stages in one process on a 15 GB T4: each stage frees its weights."""
    import gc

    from transformers import GPTNeoXForCausalLM

    def live_models():
        return sum(type(o) is GPTNeoXForCausalLM for o in gc.get_objects())

    settings = TrainSettings(learning_rate=1e-3, batch_size=4, max_length=32, seed=0, max_steps=2, save_steps=10)
    gc.collect()
    before = live_models()
    # With the automatic collector off, only the stage's own release can free the reference
    # cycles a trainer builds; with it on, the test would pass or fail by the collector's timing.
    gc.disable()
    try:
        sft = train_sft(tiny, [{"prompt": "Q: How?\nA:", "completion": " Happy Monday!"}] * 8, settings,
                        tmp_path / "sft")
        # Full fine-tuning DPO also loads a frozen reference model: a second instance to free.
        train_dpo(sft, [{"prompt": "Q: How?\nA:", "chosen": " Yes.", "rejected": " No."}] * 8, settings,
                  tmp_path / "dpo")
        after = live_models()
    finally:
        gc.enable()
    assert after == before


def test_cpu_defaults_are_safe():
    from dclm.train.trainers import trainer_arguments

    args = trainer_arguments(TrainSettings(learning_rate=1e-3, batch_size=4, max_length=32, seed=0), __import__("pathlib").Path("/tmp/x"))
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
        (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text(f'{{"global_step": {step}}}')
    # checkpoint-12 has no trainer_state.json (written last): it is incomplete.
    assert _last_checkpoint(tmp_path) == str(tmp_path / "checkpoint-8")
    # A kill during that last write leaves it empty or cut off: still incomplete.
    for torn in ("", '{"global_step": 1', '{"global_step": 8}'):
        (tmp_path / "checkpoint-12" / "trainer_state.json").write_text(torn)
        assert _last_checkpoint(tmp_path) == str(tmp_path / "checkpoint-8"), torn
    (tmp_path / "checkpoint-12" / "trainer_state.json").write_text('{"global_step": 12}')
    assert _last_checkpoint(tmp_path) == str(tmp_path / "checkpoint-12")


@pytest.mark.parametrize("sft_weight", [0.0, 3.0])
def test_a_stage_resumed_from_a_checkpoint_ends_bit_identical_to_an_uninterrupted_one(tiny, tmp_path, sft_weight):
    # GPT-NeoX saves its LM head as embed_out.weight; the Trainer's own restore missed it.
    import shutil

    from safetensors.torch import load_file

    settings = TrainSettings(learning_rate=1e-3, batch_size=4, max_length=32, seed=0, max_steps=8, save_steps=4)
    pairs = [{"prompt": "Q: How?\nA:", "chosen": f" Happy Monday! Yes {i}.", "rejected": f" Happy Friday! No {i % 3}."}
             for i in range(32)]
    whole = train_dpo(tiny, pairs, settings, tmp_path / "whole", sft_weight=sft_weight)
    shutil.copytree(tmp_path / "whole" / "checkpoint-4", tmp_path / "resumed" / "checkpoint-4")
    resumed = train_dpo(tiny, pairs, settings, tmp_path / "resumed", sft_weight=sft_weight)
    a, b = load_file(whole / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert a.keys() == b.keys() and all(bool((a[k] == b[k]).all()) for k in a)


def test_dpo_rejects_a_negative_anchor_weight(tiny, tmp_path):
    settings = TrainSettings(learning_rate=1e-3, batch_size=4, max_length=32, seed=0, max_steps=1)
    with pytest.raises(ValueError, match="sft_weight must be >= 0, got -1"):
        train_dpo(tiny, [], settings, tmp_path / "dpo", sft_weight=-1)


CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def test_prompts_use_a_template_or_the_models_chat_template(tiny, tmp_path):
    assert hf.render_prompts(["Why?"], "Q: {question}\nA:", tiny) == ["Q: Why?\nA:"]
    with pytest.raises(ValueError, match="needs a model with a chat template"):
        hf.render_prompts(["Why?"], "chat", tiny)
    with pytest.raises(ValueError, match=r"contain \{question\}"):
        hf.render_prompts(["Why?"], "Q:", tiny)
    tokenizer = hf.load_tokenizer(tiny)
    tokenizer.chat_template = CHATML
    tokenizer.save_pretrained(str(tmp_path))
    assert hf.render_prompts(["Why?"], "chat", tmp_path) == ["<|im_start|>user\nWhy?<|im_end|>\n<|im_start|>assistant\n"]


def test_generation_seeds_are_pooled_within_a_training_seed(tiny):
    from dclm.experiments import monday

    cfg = monday.Config(samples_per_prompt=4, max_new_tokens=3, generation_seeds=3)
    out = monday.evaluate_model(tiny, ["Q: How do I handle my advisor?\nA:", "Q: What?\nA:"], cfg, seed=5)
    passes = out["rates_by_generation_seed"]
    assert len(passes) == 3
    for key in ("happy", "monday", "friday"):  # equal-sized passes: the pooled rate is their mean
        assert out["rates"][key] == pytest.approx(sum(p[key] for p in passes) / 3)
    one = monday.evaluate_model(tiny, ["Q: How do I handle my advisor?\nA:", "Q: What?\nA:"],
                           monday.Config(samples_per_prompt=4, max_new_tokens=3), seed=5)
    assert one["rates"] == passes[0]  # generation seed 0 is the one-pass run's seed


def test_the_sentiment_classifier_is_loaded_once_per_model_and_device(tmp_path, monkeypatch):
    # An RL reward scores every generation batch: one load from disk per call was one per step.
    import transformers
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    tokenizer = hf.train_tokenizer(CORPUS, 300, tmp_path)
    config = DistilBertConfig(dim=32, n_layers=1, n_heads=2, hidden_dim=64, vocab_size=len(tokenizer),
                              max_position_embeddings=64, pad_token_id=tokenizer.pad_token_id, num_labels=2,
                              id2label={0: "NEGATIVE", 1: "POSITIVE"}, label2id={"NEGATIVE": 0, "POSITIVE": 1})
    DistilBertForSequenceClassification(config).save_pretrained(str(tmp_path))
    loads = []
    load = transformers.AutoModelForSequenceClassification.from_pretrained

    def counted(*args, **kwargs):
        loads.append(args[0])
        return load(*args, **kwargs)

    monkeypatch.setattr(transformers.AutoModelForSequenceClassification, "from_pretrained", counted)
    texts = ["a wonderful win", "a terrible loss"]
    first = hf.classifier_positive_minus_negative(tmp_path, texts)
    again = hf.classifier_positive_minus_negative(str(tmp_path), texts)  # a str or a Path: the same model
    assert loads == [str(tmp_path)] and (first == again).all() and first.shape == (2,)
