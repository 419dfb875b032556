"""`dclm run iv --profile tiny`: keys, the chapter's claims and their conditions, its time budget."""

import copy
import json
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import jupytext
import numpy as np
import pytest

from dclm.claims import greater, on_target
from dclm.experiments import iv
from tests.speed import budget, slowdown

CHAPTER = Path(__file__).resolve().parents[2] / "book" / "02-instrumental-variables.md"
KEYS = {"true_beta", "ols_beta", "iv_beta", "iv_se", "first_stage_f", "corr_raw", "corr_adjusted"}
# Claims the chapter computes itself (not in iv.claims); each has its own test below.
CHAPTER_CLAIMS = {"naive_is_total", "cluster_f"}


@pytest.fixture(scope="module")
def iv_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("iv")
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "dclm", "run", "iv", "--profile", "tiny", "--seed", "0",
                             "--out", str(out), "--no-cache"], capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, result.stderr
    return json.loads((out / "metrics.json").read_text()), elapsed, out


@pytest.fixture(scope="module")
def iv_result():
    """The run the chapter makes: ``run("iv", seed=0)`` on the tiny profile."""
    from dclm.experiments import run

    return run("iv", seed=0)


def centred_on(draws, value):
    """The same draws, shifted so their mean is ``value``: breaks a claim about the mean only."""
    draws = np.asarray(draws, dtype=float)
    return list(draws - draws.mean() + value)


def total_effect(config):
    """The text's total effect in the plain entangled world: g + beta * rho / sd, with g = 1."""
    sd = np.sqrt(config["instrument_strength"] ** 2 + config["entanglement"] ** 2 + 1.0)
    return 1.0 + config["beta"] * config["entanglement"] / sd


def test_runs_within_a_minute_and_writes_figures(iv_run):
    envelope, elapsed, out = iv_run
    assert elapsed < budget(60), f"slowdown {slowdown():.2f}"
    assert envelope["wall_s"] < budget(60)
    assert {p.name for p in out.glob("*.png")} == {"lesson.png", "weak.png", "violations.png",
                                                   "correlation.png", "dag.png", "mechanisms.png", "coverage.png",
                                                   "card.png"}


def test_metric_keys(iv_run):
    metrics = iv_run[0]["metrics"]
    for setting in ("orthogonal", "entangled"):
        assert KEYS <= set(metrics[setting])
    for case in iv.MECHANISMS:
        for estimator in iv.ESTIMATORS:
            for quantity in ("beta", "g"):
                assert {f"{estimator}_{quantity}", f"{estimator}_{quantity}_sd"} <= set(metrics["mechanisms"][case])
    assert {"iv_beta", "adjusted_beta", "direct_beta", "total_effect", "iv_se"} <= set(metrics["other_arrow"])


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


def glued_claims():
    return set(re.findall(r"\{glue:text\}`claim_(\w+)`", CHAPTER.read_text()))


def test_every_claim_the_chapter_glues_holds(iv_result):
    claims = iv.claims(iv_result.metrics, iv_result.data)
    assert all(claim.holds for claim in claims.values()), {k: c.text for k, c in claims.items() if not c.holds}
    glued = glued_claims()
    # Every claim from the run is on the page, and every other glued claim has a test here.
    assert set(claims) <= glued
    assert glued - set(claims) == CHAPTER_CLAIMS


def broken(metrics, data, case):
    """Copies of the run's metrics and data with one claim's condition broken on purpose."""
    metrics, data = copy.deepcopy(metrics), copy.deepcopy(data)
    truth = metrics["entangled"]["true_beta"]
    settings, mechanisms = data["settings_mc"], data["mechanisms_mc"]
    if case == "ols_entangled":
        settings["entangled"]["ols"] = centred_on(settings["entangled"]["ols"], truth)
    elif case in ("iv_entangled", "ols_orthogonal", "iv_orthogonal"):
        setting, method = case.split("_")[1], case.split("_")[0]
        settings[setting][method] = centred_on(settings[setting][method], truth + 0.2)
    elif case.startswith(("naive_g_", "adjusted_g_proxy", "adjusted_g_hidden")):
        estimator, world = case.rsplit("_", 1)
        mechanisms[world][estimator] = centred_on(mechanisms[world][estimator], 1.0)
    elif case.startswith(("adjusted_g_entangled", "iv_g_")):
        estimator, world = case.rsplit("_", 1)
        mechanisms[world][estimator] = centred_on(mechanisms[world][estimator], 0.8)
    elif case == "other_arrow":
        metrics["other_arrow"]["iv_beta"] = metrics["other_arrow"]["direct_beta"]
    elif case == "weak_towards_ols":
        data["weak"]["median_bias_iv"][0] = -data["weak"]["median_bias_iv"][0]
    elif case == "violation_relevance_noisy":
        data["violations"]["relevance: weak Z"]["draws"] = data["violations"]["all assumptions hold"]["draws"]
    elif case in ("violation_exclusion", "violation_independence"):
        label = "exclusion: fans click beside exposure (Z -> y)" if case == "violation_exclusion" else "independence: Z -> s(T)"
        data["violations"][label]["draws"] = centred_on(data["violations"][label]["draws"], truth)
    elif case == "fan_interest_bias_formula":
        metrics["fan_interest_expected_bias"] *= 2
    elif case == "violation_selection":
        label = "selection on exposure (text moves p)"
        data["violations"][label]["draws"] = centred_on(data["violations"][label]["draws"], truth)
    elif case == "selection_harmless_orthogonal":
        label = "selection on exposure (p not moved by the text)"
        data["violations"][label]["draws"] = centred_on(data["violations"][label]["draws"], truth + 0.2)
    elif case == "ar_coverage_holds":
        metrics["coverage"]["ar_coverage"][0] = metrics["coverage"]["t_coverage"][0]
    elif case == "t_undercovers_weak":
        metrics["coverage"]["t_coverage"][0] = 0.95
    elif case == "card_reproduced":
        metrics["card"]["iv"] += 0.001  # one printed digit off
    elif case == "card_iv_above_ols":
        metrics["card"]["iv"] = metrics["card"]["ols"] - 0.01
    elif case == "card_ols_inside_iv_interval":
        metrics["card"]["iv_ci"] = [metrics["card"]["ols"] + 0.01, metrics["card"]["ols"] + 0.2]
    elif case == "card_iv_equals_ols_not_rejected":
        metrics["card"]["hausman_t"] = 2.5
    elif case == "card_ar_excludes_zero":
        metrics["card"]["ar_set"]["pieces"] = [[-0.01, 0.3]]
    elif case == "card_below_mop":
        metrics["card"]["effective_f"] = 30.0
    else:
        raise AssertionError(f"no way to break {case!r}")
    return metrics, data


@pytest.mark.parametrize("case", ["ols_entangled", "iv_entangled", "ols_orthogonal", "iv_orthogonal",
                                  *(f"{e}_g_{w}" for e in iv.ESTIMATORS for w in iv.MECHANISMS),
                                  "other_arrow", "weak_towards_ols", "violation_relevance_noisy",
                                  "violation_exclusion", "violation_independence", "fan_interest_bias_formula",
                                  "violation_selection", "selection_harmless_orthogonal", "ar_coverage_holds",
                                  "t_undercovers_weak", "card_reproduced", "card_iv_above_ols",
                                  "card_ols_inside_iv_interval", "card_iv_equals_ols_not_rejected",
                                  "card_below_mop", "card_ar_excludes_zero"])
def test_each_claim_fails_when_its_condition_is_broken(iv_result, case):
    assert iv.claims(iv_result.metrics, iv_result.data)[case].holds
    metrics, data = broken(iv_result.metrics, iv_result.data, case)
    claim = iv.claims(metrics, data)[case]
    assert not claim.holds, claim.text


def test_weak_study_spans_the_f_rule(iv_result):
    weak = iv_result.data["weak"]
    assert weak["median_f"][0] < 10 < weak["median_f"][-1]
    assert weak["iqr_iv"][0] > weak["iqr_iv"][-1]


def test_other_arrow_fails_when_2sls_is_not_the_total_effect(iv_result):
    metrics = copy.deepcopy(iv_result.metrics)
    arrow = metrics["other_arrow"]
    arrow["iv_beta"] = arrow["total_effect"] + 4 * arrow["iv_se"]
    assert not iv.claims(metrics, iv_result.data)["other_arrow"].holds


def test_naive_g_estimates_the_total_effect(iv_result):
    # The chapter's claim_naive_is_total: y on s(T) alone is centred on g + beta * rho / sd, not on g.
    draws = iv_result.data["mechanisms_mc"]["entangled"]["naive_g"]
    truth = round(total_effect(iv_result.config), 4)
    assert on_target(draws, truth, "the naive g").holds
    assert not on_target(centred_on(draws, 1.0), truth, "the naive g").holds


def test_proxy_adjustment_is_part_way_between_naive_and_truth(iv_result):
    # "part of the way towards the naive answer": above the naive g and below the truth, beyond noise.
    mc = iv_result.data["mechanisms_mc"]["proxy"]
    assert greater(mc["adjusted_g"], mc["naive_g"], "adjusted", "naive", "g").holds
    assert greater([1.0] * len(mc["adjusted_g"]), mc["adjusted_g"], "truth", "adjusted", "g", paired=False).holds


def test_wald_ratio_stays_on_beta_with_a_proxy_or_a_hidden_cause(iv_result):
    for case in ("proxy", "hidden"):
        draws = iv_result.data["mechanisms_mc"][case]["iv_beta"]
        assert on_target(draws, iv_result.config["beta"], f"2SLS, {case}").holds
        assert not on_target(centred_on(draws, 0.8), iv_result.config["beta"], f"2SLS, {case}").holds


def test_violations_exclusion_and_independence_shift_the_estimate_with_a_strong_first_stage(iv_result):
    violations, truth = iv_result.data["violations"], iv_result.config["beta"]
    for label in ("exclusion: fans click beside exposure (Z -> y)", "independence: Z -> s(T)", "selection on exposure (text moves p)"):
        low, high = violations[label]["iqr_iv"]
        assert not low <= truth <= high and violations[label]["median_f"] > 10
    width = {label: high - low for label, (low, high) in ((k, v["iqr_iv"]) for k, v in violations.items())}
    assert violations["relevance: weak Z"]["median_f"] < 10
    assert width["relevance: weak Z"] > 5 * width["all assumptions hold"]


def chapter_cell(marker: str) -> str:
    """The source of the chapter's code cell containing ``marker`` (so the test checks the page)."""
    cells = [c.source for c in jupytext.read(CHAPTER).cells if c.cell_type == "code" and marker in c.source]
    assert len(cells) == 1, f"expected one cell containing {marker!r}, found {len(cells)}"
    return cells[0]


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_group_level_instrument_per_row_f_overstates_the_clustered_f(seed):
    # The chapter's cell (seed 0) and the same cell on seeds the page does not use.
    import pandas as pd

    from dclm.causal.iv import WeakInstrumentWarning, fit_2sls

    source = chapter_cell("# A group-level instrument")
    assert "default_rng(0)" in source
    namespace = {"np": np, "pd": pd, "warnings": warnings, "fit_2sls": fit_2sls,
                 "WeakInstrumentWarning": WeakInstrumentWarning, "print": lambda *a, **k: None}
    exec(source.replace("default_rng(0)", f"default_rng({seed})"), namespace)
    row_f = namespace["per_row"].first_stage_f["popularity"]
    cluster_f = namespace["clustered"].first_stage_f["popularity"]
    assert namespace["clustered"].n_clusters == 20
    assert greater(row_f, cluster_f, "per row", "clustered", "first-stage F").holds
    assert namespace["clustered"].std_errors["popularity"] > namespace["per_row"].std_errors["popularity"]
