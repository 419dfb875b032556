"""`dclm run iv --profile tiny`: keys, the acceptance inequalities, and its time budget."""

import json
import subprocess
import sys
import time

import pytest

KEYS = {"true_beta", "ols_beta", "iv_beta", "iv_se", "first_stage_f", "corr_raw", "corr_adjusted"}


@pytest.fixture(scope="module")
def iv_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("iv")
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "dclm", "run", "iv", "--profile", "tiny", "--seed", "0",
                             "--out", str(out), "--no-cache"], capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, result.stderr
    return json.loads((out / "metrics.json").read_text()), elapsed, out


def test_runs_within_a_minute_and_writes_figures(iv_run):
    envelope, elapsed, out = iv_run
    assert elapsed < 60
    assert envelope["wall_s"] < 60
    assert {p.name for p in out.glob("*.png")} == {"lesson.png", "weak.png", "violations.png",
                                                   "correlation.png", "dag.png"}


def test_metric_keys(iv_run):
    metrics = iv_run[0]["metrics"]
    for setting in ("orthogonal", "entangled"):
        assert KEYS <= set(metrics[setting])


def test_entangled_setting_acceptance(iv_run):
    m = iv_run[0]["metrics"]["entangled"]
    assert m["corr_adjusted"] > m["corr_raw"]
    assert abs(m["iv_beta"] - m["true_beta"]) < 3 * m["iv_se"]
    assert m["first_stage_f"] > 10
    # OLS is pulled away from the truth when p is entangled with s(T).
    assert abs(m["ols_beta"] - m["true_beta"]) > 5 * m["iv_se"]


def test_orthogonal_setting_ols_and_iv_agree(iv_run):
    m = iv_run[0]["metrics"]["orthogonal"]
    assert abs(m["iv_beta"] - m["true_beta"]) < 3 * m["iv_se"]
    assert abs(m["ols_beta"] - m["true_beta"]) < 3 * m["iv_se"]


def test_weak_instrument_study_moves_towards_ols(iv_run):
    from dclm.experiments import run

    weak = run("iv", seed=0).data["weak"]
    strongest, weakest = weak["median_bias_iv"][-1], weak["median_bias_iv"][0]
    assert weak["median_f"][0] < 10 < weak["median_f"][-1]
    assert abs(weakest) > abs(strongest)
    assert weakest * weak["median_bias_ols"][0] > 0  # same sign as the OLS bias
