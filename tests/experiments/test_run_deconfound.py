"""`dclm run deconfound` on the tiny profile: the issue's acceptance on seed 0."""

import json
import os
import subprocess
import sys

import pytest

SETTINGS = ("orthogonal", "entangled")
METHODS = ("naive", "feature", "iv", "invariant", "oracle")
KEYS = {"sentiment", "team_rate", "top_team_rate", "valid_rate", "reward_sentiment_corr"}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("deconfound")
    result = subprocess.run([sys.executable, "-m", "dclm", "run", "deconfound", "--profile", "tiny", "--seed", "0",
                             "--out", str(out)], capture_output=True, text=True, timeout=1200, env=os.environ.copy())
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((out / "metrics.json").read_text())


def test_metric_keys(tiny_run):
    m = tiny_run["metrics"]
    assert m["n_seeds"] >= 2
    for setting in SETTINGS:
        for method in METHODS:
            assert KEYS <= set(m["results"][setting][method])
            assert m["se"][setting][method]["sentiment"] > 0


def test_entangled_iv_beats_naive(tiny_run):
    r, se = tiny_run["metrics"]["results"]["entangled"], tiny_run["metrics"]["se"]["entangled"]
    gap = r["iv"]["sentiment"] - r["naive"]["sentiment"]
    assert gap > 2 * (se["iv"]["sentiment"] ** 2 + se["naive"]["sentiment"] ** 2) ** 0.5
    assert r["iv"]["reward_sentiment_corr"] > r["naive"]["reward_sentiment_corr"]
    assert r["iv"]["reward_sentiment_corr"] > r["feature"]["reward_sentiment_corr"]
    assert r["naive"]["team_rate"] > r["iv"]["team_rate"]
    assert r["iv"]["valid_rate"] >= 0.5


def test_orthogonal_naive_names_the_top_team(tiny_run):
    r = tiny_run["metrics"]["results"]["orthogonal"]
    assert r["naive"]["top_team_rate"] > r["iv"]["top_team_rate"]
    assert r["naive"]["top_team_rate"] > r["feature"]["top_team_rate"]


def test_tiny_run_fits_its_budget(tiny_run):
    assert tiny_run["wall_s"] < 600
