"""scripts/gpu_check.py on the CPU with tiny shapes: every GPU code path it checks still runs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[3]
CHECKS = {"precision", "merge_smollm2-360m", "merge_pythia-70m", "left_padding", "rloo", "embeddings", "sentiment"}


def test_gpu_check_passes_on_the_cpu_with_tiny_shapes(tmp_path):
    out = tmp_path / "gpu-check.json"
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gpu_check.py"), "--cpu", "--out", str(out)],
                            capture_output=True, text=True, timeout=600,
                            env={**os.environ, "HF_HUB_OFFLINE": "1", "CUDA_VISIBLE_DEVICES": ""})
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert set(report["checks"]) == CHECKS and report["ok"] and report["shapes"] == "tiny"
    assert report["device"] == "cpu" and report["checks"]["precision"]["precision"] == "fp32"
    merge = report["checks"]["merge_smollm2-360m"]
    assert merge["sft"]["saved_dtype"] == "float32" and merge["dpo"]["delta_max_abs"] > 0
    assert merge["sft"]["s_per_step_incl_setup"] > 0 and merge["sft"]["peak_rss_gib"] > 0
    assert report["checks"]["embeddings"]["encoders_loaded"] == 1


def test_the_merge_check_catches_a_merged_model_saved_in_bf16(tmp_path):
    """What the check exists for: a bf16 save rounds the LoRA update away, and the check says so."""
    from dclm.train import gpu_check, hf

    base = hf.build_tiny_causal_lm(gpu_check._corpus(60), tmp_path / "base", seed=0, vocab_size=300, hidden_size=32)
    hf.load_causal_lm(base).to(torch.bfloat16).save_pretrained(str(base))
    row = gpu_check.check_merge("tiny", base, tmp_path / "work", "cpu", cpu=True, save_dtype="bfloat16")
    assert not row["sft"]["ok"] and row["sft"]["weight_max_abs_err"] > 100 * 1e-6
