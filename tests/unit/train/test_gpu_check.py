"""scripts/gpu_check.py on the CPU with tiny shapes: every GPU code path it checks still runs."""

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

ROOT = Path(__file__).resolve().parents[3]
CHECKS = {"precision", "merge_smollm2-360m", "merge_pythia-70m", "left_padding", "rloo", "generation", "embeddings",
          "sentiment"}


def test_gpu_check_passes_on_the_cpu_with_tiny_shapes(tmp_path):
    out = tmp_path / "gpu-check.json"
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "CUDA_VISIBLE_DEVICES": ""}
    environment.pop("DCLM_PRECISION", None)
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gpu_check.py"), "--cpu", "--out", str(out),
                             "--memory-cap-gib", "15"], capture_output=True, text=True, timeout=600, env=environment)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    checks = report["checks"]
    assert set(checks) == CHECKS and report["ok"] and report["shapes"] == "tiny"
    assert report["device"] == "cpu" and report["precision"] == "fp32" and report["precision_override"] is None
    # What the stage computed in, seen from inside it: fp32 forward passes, no gradient scaler.
    precision = checks["precision"]
    assert (precision["forward_dtypes"], precision["grad_scaler"], precision["trained_dtypes"]) == (
        ["float32"], None, ["float32"])
    merge = checks["merge_smollm2-360m"]
    assert merge["sft"]["saved_dtype"] == "float32" and merge["dpo"]["delta_max_abs"] > 0
    for stage in ("sft", "dpo"):  # steps 3..5 of 5
        assert merge[stage]["steps_timed"] == 3 and merge[stage]["first_timed_step"] == 3
        assert 0 < merge[stage]["s_per_step"] < merge[stage]["wall_s"] and merge[stage]["peak_rss_gib"] > 0
    assert checks["rloo"]["steps_timed"] == 3 and checks["rloo"]["max_dropout"] == 0.0
    # The tiny profile's lengths: chapter 3's 3-token answers, chapter 5's 16-token headlines.
    runs = checks["generation"]["runs"]
    assert [(r["model"], r["new_tokens"]) for r in runs] == [("smollm2-360m", 3), ("gpt2", 16)]
    assert all(r["tokens_per_s"] > 0 for r in runs)
    assert checks["embeddings"]["encoders_loaded"] == 1
    assert report["memory_cap"] == {"cap_gib": 15.0, "applied": False,
                                    "note": "no-op on the CPU: only CUDA memory can be capped"}
    table = out.with_suffix(".md").read_text().splitlines()
    assert table[0].startswith("| check | model | s/step (median, steps 3..N) | tokens/s | peak allocated GiB "
                               "| peak reserved GiB |")
    rows = [line for line in table[2:] if line.startswith("| ")]
    # precision, 2 models x (sft, dpo), left padding, rloo, 2 generation lengths, 2 encoders, sentiment
    assert len(rows) == 12 and all(line.endswith("| fp32 | cpu | yes |") for line in rows)
    assert sum("(n=3)" in line for line in rows) == 5


def test_the_memory_cap_is_a_fraction_of_the_gpu(monkeypatch):
    from dclm.train import gpu_check

    fractions = []
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda *_: SimpleNamespace(total_memory=80 * 2**30))
    monkeypatch.setattr(torch.cuda, "set_per_process_memory_fraction", lambda f, *_: fractions.append(f))
    cap = gpu_check.apply_memory_cap(15, "cuda")
    assert fractions == [15 / 80] and cap["applied"] and cap["fraction"] == 0.1875
    assert gpu_check.apply_memory_cap(None, "cuda") == {} and fractions == [15 / 80]
    with pytest.raises(ValueError, match="memory cap must be > 0 GiB, got 0"):
        gpu_check.apply_memory_cap(0, "cuda")


def _without(monkeypatch, *names):
    """Make ``names`` look uninstalled to the preflight (packages by find_spec, programs by which)."""
    import importlib.util
    import shutil

    find_spec, which = importlib.util.find_spec, shutil.which
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in names else find_spec(name, *a))
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name in names else which(name, *a, **k))


def test_the_preflight_names_each_missing_thing_and_does_no_work(monkeypatch, capsys):
    from dclm.train import gpu_check

    monkeypatch.delenv("DCLM_PRECISION", raising=False)
    _without(monkeypatch, "peft", "datasets", "cc", "gcc")
    monkeypatch.setattr(torch.version, "cuda", None)
    monkeypatch.setattr(gpu_check, "run_checks", lambda *_: pytest.fail("the preflight let work start"))
    assert gpu_check.missing_requirements(cpu=False) == [
        f"a CUDA build of torch (this one is {torch.__version__}); or run with --cpu",
        "peft (pip install peft)", "datasets (pip install datasets)",
        "a C compiler (cc or gcc), which Triton needs to build GPU kernels"]
    assert gpu_check.main([]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"gpu_check: missing a CUDA build of torch (this one is {torch.__version__}); or run with --cpu",
        "gpu_check: missing peft (pip install peft)", "gpu_check: missing datasets (pip install datasets)",
        "gpu_check: missing a C compiler (cc or gcc), which Triton needs to build GPU kernels"]
    # A CPU run needs neither CUDA nor a compiler.
    assert gpu_check.main(["--cpu"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "gpu_check: missing peft (pip install peft)", "gpu_check: missing datasets (pip install datasets)"]


def test_the_preflight_rejects_a_bad_precision_before_any_work(monkeypatch, capsys):
    from dclm.train import gpu_check

    monkeypatch.setenv("DCLM_PRECISION", "half")
    monkeypatch.setattr(gpu_check, "run_checks", lambda *_: pytest.fail("the preflight let work start"))
    assert gpu_check.main(["--cpu"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "gpu_check: missing a valid precision (DCLM_PRECISION='half' is not a precision; valid: bf16, fp16, fp32)"]


def test_the_merge_check_catches_a_merged_model_saved_in_bf16(tmp_path):
    """What the check exists for: a bf16 save rounds the LoRA update away, and the check says so."""
    from dclm.train import gpu_check, hf

    base = hf.build_tiny_causal_lm(gpu_check.corpus(60), tmp_path / "base", seed=0, vocab_size=300, hidden_size=32)
    hf.load_causal_lm(base).to(torch.bfloat16).save_pretrained(str(base))
    row = gpu_check.check_merge("tiny", base, tmp_path / "work", "cpu", cpu=True, save_dtype="bfloat16")
    assert not row["sft"]["ok"] and row["sft"]["weight_max_abs_err"] > 100 * 1e-6
