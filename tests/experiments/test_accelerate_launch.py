"""DeconfoundLM's RL step under `accelerate launch` with two CPU processes (data parallel, gloo)."""

import json
import os
import subprocess
import sys

MINI = ["--set", "launcher=accelerate", "--set", "num_processes=2", "--set", "settings=entangled",
        "--set", "methods=iv", "--set", "rl_seeds=1", "--set", "rl_steps=3", "--set", "n_news=300",
        "--set", "sft_epochs=1", "--set", "eval_samples=8", "--set", "save_steps=2",
        "--set", "reward_replicates=2", "--set", "map_seeds=2"]


def test_rl_runs_under_accelerate_with_two_processes(tmp_path):
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "dclm", "run", "deconfound", "--profile", "tiny", "--seed", "0",
                             "--out", str(out), *MINI], capture_output=True, text=True, timeout=600,
                            env={**os.environ, "DCLM_RUN_CACHE": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr[-3000:]
    envelope = json.loads((out / "metrics.json").read_text())
    assert envelope["world_size"] == 2
    (job,) = out.glob("work/*/rl/*/seed_0")  # work/<run key>/rl/<reward id>/seed_0
    assert (job / "final" / "config.json").exists() and (job / "checkpoint-2").exists()
    assert len(json.loads((job / "generations.json").read_text())["generations"]) == 8
    assert set(envelope["metrics"]["results"]) == {"entangled"}
