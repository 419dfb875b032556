"""`dclm run confounding --profile tiny --seed 0` end to end, through the CLI."""

import json
import subprocess
import sys

import pytest

ENVELOPE = {"experiment", "profile", "seed", "seed_doc", "device", "world_size", "versions",
            "config", "wall_s", "attempts", "metrics"}


@pytest.fixture(scope="module")
def envelope(tmp_path_factory):
    out = tmp_path_factory.mktemp("confounding")
    result = subprocess.run(
        [sys.executable, "-m", "dclm", "run", "confounding", "--profile", "tiny", "--seed", "0",
         "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return out, json.loads((out / "metrics.json").read_text())


def test_envelope_and_keys(envelope):
    out, env = envelope
    assert set(env) == ENVELOPE
    assert (env["experiment"], env["profile"], env["seed"], env["world_size"]) == ("confounding", "tiny", 0, 1)
    assert env["config"]["n"] == 5_000 and env["config"]["seed"] == 0
    assert {"dclm", "numpy", "dowhy"} <= set(env["versions"])
    assert {"true_effect", "naive_estimate", "adjusted_estimate", "adjusted_se", "dowhy_estimate"} <= set(env["metrics"])
    assert {p.name for p in out.glob("*.png")} == {"lesson.png", "scatter.png", "dag.png"}
    assert not list(out.glob(".*"))  # no temporary files left behind


def test_adjustment_recovers_truth_and_naive_does_not(envelope):
    m = envelope[1]["metrics"]
    assert abs(m["adjusted_estimate"] - m["true_effect"]) < 3 * m["adjusted_se"]
    assert abs(m["naive_estimate"] - m["true_effect"]) > 5 * m["adjusted_se"]
    # dowhy's backdoor linear regression is the same regression: equal to rounding.
    assert m["dowhy_estimate"] == pytest.approx(m["adjusted_estimate"], rel=1e-8, abs=1e-10)


def test_same_seed_same_metrics_without_cache(envelope):
    from dclm.experiments import run

    fresh = run("confounding", profile="tiny", seed=0, use_cache=False)
    assert fresh.metrics == envelope[1]["metrics"]
    other = run("confounding", profile="tiny", seed=1, use_cache=False)
    assert other.metrics["adjusted_estimate"] != fresh.metrics["adjusted_estimate"]


def test_cached_result_equals_fresh_result(isolated_cache):
    from dclm.experiments import run

    first = run("confounding", seed=0, overrides={"n": "500", "sweep_n": "300"})
    second = run("confounding", seed=0, overrides={"n": "500", "sweep_n": "300"})
    assert not first.from_cache and second.from_cache
    assert second.metrics == first.metrics and second.data == first.data
    assert run("confounding", seed=0, overrides={"n": "501", "sweep_n": "300"}).from_cache is False
