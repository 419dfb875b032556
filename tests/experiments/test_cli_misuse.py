"""`dclm run` used carelessly: shared folders, concurrent runs, an unusable cache, default folders."""

import json
import os
import stat
import subprocess
import sys

SMALL = ["--set", "n=300", "--set", "sweep_n=200"]


def dclm(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "dclm", *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def test_five_concurrent_runs_into_one_out_and_one_cache_all_succeed_alike(tmp_path):
    env = {**os.environ, "DCLM_RUN_CACHE": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "dclm", "run", "confounding", "--out", str(tmp_path / "out"), *SMALL]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            for _ in range(5)]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0] * 5, [err[-2000:] for _, err in outputs]
    metrics = [json.loads(out.partition("\n")[2]) for out, _ in outputs]
    assert all(m == metrics[0] for m in metrics)
    assert json.loads((tmp_path / "out" / "metrics.json").read_text())["metrics"] == metrics[0]
    # Every temporary name was unique and renamed into place: nothing half-written is left.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["dag.png", "lesson.png", "metrics.json",
                                                                   "scatter.png"]
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.name.startswith(".")]


def test_an_unwritable_cache_still_writes_metrics_and_figures_with_one_mode(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    result = dclm("run", "confounding", "--out", str(tmp_path / "out"), *SMALL,
                  env={"DCLM_RUN_CACHE": str(blocker / "runs")})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "dclm: warning: run cache" in result.stderr and "is not writable" in result.stderr
    files = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in files] == ["dag.png", "lesson.png", "metrics.json", "scatter.png"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o666 & ~umask}


def test_default_out_is_one_folder_per_experiment_profile_and_seed(tmp_path):
    for seed in ("0", "1"):
        result = dclm("run", "confounding", "--seed", seed, *SMALL, "--no-cache", cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
    first, second = (json.loads((tmp_path / "runs" / "confounding" / f"tiny-seed{s}" / "metrics.json").read_text())
                     for s in ("0", "1"))
    assert (first["seed"], second["seed"]) == (0, 1)
    assert first["metrics"] != second["metrics"]
