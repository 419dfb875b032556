"""`dclm run monday`: the tiny-profile acceptance, resume after a kill, and the colab code path."""

import json
import math
import os
import subprocess
import sys
import time

import pytest

MINI = ["--set", "n_questions=300", "--set", "sft_questions=60", "--set", "eval_questions=20",
        "--set", "training_seeds=1", "--set", "dpo_steps=8", "--set", "save_steps=4", "--set", "sft_epochs=1",
        "--set", "samples_per_prompt=2", "--set", "workers=1", "--set", "batch_size=8"]


def dclm(*args, env=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "dclm", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("monday")
    start = time.perf_counter()
    result = dclm("run", "monday", "--profile", "tiny", "--seed", "0", "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((out / "metrics.json").read_text()), time.perf_counter() - start


def test_metric_keys(tiny_run):
    m = tiny_run[0]["metrics"]
    for model in ("base", "sft", "dpo", "dpo_deconfounded"):
        assert set(m["rates"][model]) == {"happy", "monday", "friday", "monday_share"}
        assert set(m["se"][model]) == set(m["rates"][model])
    assert set(m["pvalues"]) == {"dpo_vs_sft", "dpo_deconfounded_vs_sft", "dpo_deconfounded_vs_dpo"}
    assert {"monday", "friday"} <= set(m["data_rates"])
    assert m["n_runs"] >= 3 and m["n_generations"] > 0


def test_dpo_amplifies_the_confounded_marker(tiny_run):
    m = tiny_run[0]["metrics"]
    rates, p = m["rates"], m["pvalues"]["dpo_vs_sft"]
    assert rates["dpo"]["friday"] < rates["sft"]["friday"] and p["friday"] < 0.05
    assert rates["dpo"]["monday_share"] > rates["sft"]["monday_share"] and p["monday_share"] < 0.05
    assert rates["dpo"]["monday"] > rates["sft"]["monday"]  # direction


def test_deconfounding_fixes_it(tiny_run):
    m = tiny_run[0]["metrics"]
    rates, se = m["rates"], m["se"]
    deconf, sft, dpo = (rates[k]["monday_share"] for k in ("dpo_deconfounded", "sft", "dpo"))
    assert deconf < dpo and m["pvalues"]["dpo_deconfounded_vs_dpo"]["monday_share"] < 0.05
    # Equivalence with SFT: within two standard errors of the difference.
    assert abs(deconf - sft) < 2 * math.hypot(se["dpo_deconfounded"]["monday_share"], se["sft"]["monday_share"])


def test_tiny_run_fits_its_budget(tiny_run):
    assert tiny_run[0]["wall_s"] < 300


def test_killed_during_dpo_resumes_bit_identically(tmp_path):
    killed = dclm("run", "monday", "--out", str(tmp_path / "a"), "--no-cache", *MINI, env={"DCLM_FAULT_KILL_AT": "dpo:4"})
    assert killed.returncode == -9
    assert (tmp_path / "a" / "work" / "seed_0" / "dpo" / "checkpoint-4").exists()
    assert not (tmp_path / "a" / "work" / "seed_0" / "dpo" / "final").exists()
    assert not (tmp_path / "a" / "metrics.json").exists()
    resumed = dclm("run", "monday", "--out", str(tmp_path / "a"), "--no-cache", *MINI)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    fresh = dclm("run", "monday", "--out", str(tmp_path / "b"), "--no-cache", *MINI)
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    first, second = (json.loads((tmp_path / d / "metrics.json").read_text())["metrics"] for d in ("a", "b"))
    assert first == second


def test_colab_profile_resolves_hub_ids_and_runs_with_a_saved_model_in_their_place(tmp_path):
    from dclm.experiments import resolve_config
    from dclm.train.hf import build_tiny_causal_lm

    _, cfg = resolve_config("monday", profile="colab")
    assert cfg.model_id == "HuggingFaceTB/SmolLM2-360M-Instruct" and cfg.lora_rank == 16
    assert cfg.data == "academia" and (cfg.sft_questions, cfg.eval_questions) == (1_500, 500)
    assert cfg.device == "cuda"
    stand_in = build_tiny_causal_lm(["Q: x\nA: Happy Monday! y"] * 50, tmp_path / "smollm2-stand-in", seed=0,
                                    vocab_size=300)
    result = dclm("run", "monday", "--profile", "colab", "--out", str(tmp_path / "out"), "--no-cache", *MINI,
                  "--set", f"model_id={stand_in}", "--set", "data=generated", "--set", "max_length=48")
    assert result.returncode == 0, result.stderr[-3000:]
    envelope = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert envelope["profile"] == "colab" and envelope["config"]["lora_rank"] == 16
    import torch

    # The envelope records the device actually used: the profile asks for CUDA, this machine may lack it.
    assert envelope["device"] == ("cuda" if torch.cuda.is_available() else "cpu")
    assert envelope["config"]["model_id"] == str(stand_in)
