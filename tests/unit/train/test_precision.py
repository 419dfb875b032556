"""GPU precision on a CPU: fp32 master weights, merges that keep the update, capability-based AMP.

The tiny model is saved in bf16 and in fp16, as SmolLM2 and Pythia are on the hub; a LoRA
SFT and DPO step then runs and the merged checkpoint is compared with the unmerged adapter.
"""

import pytest
import torch

from dclm import env
from dclm.train import hf
from dclm.train.trainers import ADAPTER, TrainSettings, train_dpo, train_sft, trainer_arguments

CORPUS = [f"Q: How do I write to my advisor?\nA: Happy {day}! Send a short plan first."
          for day in ("Monday", "Friday", "Tuesday")] * 20


@pytest.fixture(autouse=True)
def _no_precision_override(monkeypatch):
    # A DCLM_PRECISION exported in the shell running the tests would change every expectation here.
    monkeypatch.delenv(env.PRECISION_ENV_VAR, raising=False)


@pytest.fixture(scope="module", params=["bfloat16", "float16"])
def half_base(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"tiny-{request.param}")
    hf.build_tiny_causal_lm(CORPUS, folder, seed=0, vocab_size=300, hidden_size=32)
    model = hf.load_causal_lm(folder)
    model.to(getattr(torch, request.param)).save_pretrained(str(folder))
    return folder


def _assert_merge_keeps_the_update(base, final):
    """The merged fp32 weights are base + scaling·B@A, and compute the unmerged model's logits."""
    unmerged = hf.load_lora(base, final / ADAPTER)
    merged = hf.load_causal_lm(final)
    assert next(merged.parameters()).dtype == torch.float32
    ids = torch.tensor([[5, 17, 33, 61, 90, 120]])
    with torch.no_grad():
        torch.testing.assert_close(merged(input_ids=ids).logits, unmerged(input_ids=ids).logits,
                                   atol=1e-5, rtol=1e-4)
    deltas = hf.lora_deltas(unmerged)
    base_weights = dict(hf.load_causal_lm(base).named_parameters())
    merged_weights = dict(merged.named_parameters())
    assert deltas and set(deltas) <= set(merged_weights)
    for name, delta in deltas.items():
        assert delta.abs().max() > 0, name  # the adapter learned something
        # A merge in the checkpoint's half precision rounds each weight to ~1e-3 (fp16) or
        # ~1e-2 (bf16) relative error: far above this fp32 tolerance.
        torch.testing.assert_close(merged_weights[name].detach() - base_weights[name].detach(), delta,
                                   atol=1e-7, rtol=1e-4)


def test_lora_sft_and_dpo_on_a_half_precision_checkpoint_merge_in_fp32(half_base, tmp_path):
    settings = TrainSettings(learning_rate=1e-4, batch_size=4, max_length=32, seed=0, max_steps=2,
                             save_steps=100, lora_rank=4)
    records = [{"prompt": "Q: How?\nA:", "completion": " Happy Monday! Send a plan."}] * 8
    sft = train_sft(half_base, records, settings, tmp_path / "sft")
    _assert_merge_keeps_the_update(half_base, sft)
    pairs = [{"prompt": "Q: How?\nA:", "chosen": " Happy Monday! Yes.", "rejected": " Happy Friday! No."}] * 8
    dpo = train_dpo(sft, pairs, settings, tmp_path / "dpo")
    _assert_merge_keeps_the_update(sft, dpo)


def test_save_dtype_is_validated_and_used(half_base, tmp_path):
    records = [{"prompt": "Q: How?\nA:", "completion": " Happy Monday!"}] * 4
    bad = TrainSettings(learning_rate=1e-4, batch_size=4, max_length=32, seed=0, max_steps=1, save_dtype="fp8")
    with pytest.raises(ValueError, match="save_dtype must be one of float32, float16, bfloat16, got 'fp8'"):
        train_sft(half_base, records, bad, tmp_path / "bad")
    assert not (tmp_path / "bad" / "final").exists()


def _mock_gpu(monkeypatch, capability):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *_: capability)
    # True on a T4 too: it only checks that a bf16 tensor can be made.
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *_, **__: True)


@pytest.mark.parametrize(("capability", "expected"), [((7, 5), "fp16"), ((8, 0), "bf16"), ((9, 0), "bf16")])
def test_mixed_precision_follows_compute_capability(monkeypatch, tmp_path, capability, expected):
    _mock_gpu(monkeypatch, capability)
    assert env.precision("cuda") == expected
    args = trainer_arguments(TrainSettings(learning_rate=1e-4, batch_size=8, max_length=512, seed=0, device="cuda"),
                        tmp_path)
    assert (args["bf16"], args["fp16"]) == (expected == "bf16", expected == "fp16")
    assert not args["use_cpu"]
    assert env.compute_dtype("cuda") == {"fp16": "float16", "bf16": "bfloat16"}[expected]


def test_cpu_is_fp32_and_gradient_checkpointing_only_where_asked(monkeypatch, tmp_path):
    cpu = trainer_arguments(TrainSettings(learning_rate=1e-3, batch_size=4, max_length=32, seed=0,
                                     gradient_checkpointing=True), tmp_path)
    assert env.precision("cpu") == "fp32" and not cpu["bf16"] and not cpu["fp16"]
    assert not cpu["gradient_checkpointing"]  # never on a CPU
    _mock_gpu(monkeypatch, (7, 5))
    gpu = dict(learning_rate=1e-4, batch_size=8, max_length=512, seed=0, device="cuda")
    assert not trainer_arguments(TrainSettings(**gpu), tmp_path)["gradient_checkpointing"]
    assert trainer_arguments(TrainSettings(**gpu, gradient_checkpointing=True), tmp_path)["gradient_checkpointing"]


@pytest.mark.parametrize(("capability", "override"), [((7, 5), "bf16"), ((9, 0), "fp16"), ((9, 0), "fp32"),
                                                      ((8, 0), " fp16 ")])
def test_dclm_precision_overrides_the_capability_on_a_gpu(monkeypatch, tmp_path, capability, override):
    # fp16 on an H100 is the T4's path (gradient scaler included) on a bigger card.
    _mock_gpu(monkeypatch, capability)
    monkeypatch.setenv(env.PRECISION_ENV_VAR, override)
    chosen = override.strip()
    assert env.precision("cuda") == chosen and env.precision_override() == chosen
    args = trainer_arguments(TrainSettings(learning_rate=1e-4, batch_size=8, max_length=512, seed=0, device="cuda"),
                             tmp_path)
    assert (args["bf16"], args["fp16"]) == (chosen == "bf16", chosen == "fp16")
    assert env.compute_dtype("cuda") == {"fp16": "float16", "bf16": "bfloat16", "fp32": "float32"}[chosen]


def test_the_cpu_stays_fp32_whatever_dclm_precision_says(monkeypatch):
    # fp16 autocast is a GPU feature: the CPU cannot run the T4 path, and does not pretend to.
    for value in ("fp16", "bf16", "fp32", ""):
        monkeypatch.setenv(env.PRECISION_ENV_VAR, value)
        assert env.precision("cpu") == "fp32"
    monkeypatch.setenv(env.PRECISION_ENV_VAR, "")
    assert env.precision_override() is None


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_a_bad_dclm_precision_is_named_with_the_valid_ones(monkeypatch, device):
    _mock_gpu(monkeypatch, (9, 0))
    monkeypatch.setenv(env.PRECISION_ENV_VAR, "fp8")
    with pytest.raises(ValueError, match="^DCLM_PRECISION='fp8' is not a precision; valid: bf16, fp16, fp32$"):
        env.precision(device)


def test_bf16_is_refused_on_a_gpu_without_it(monkeypatch):
    _mock_gpu(monkeypatch, (6, 0))
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *_, **__: False)
    monkeypatch.setenv(env.PRECISION_ENV_VAR, "bf16")
    with pytest.raises(ValueError, match=r"DCLM_PRECISION=bf16 but this GPU \(compute capability 6.0\) has no bf16"):
        env.precision("cuda")
