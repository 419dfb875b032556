"""The results page's table reads the right metric for each row and labels its sources."""

import pytest

from dclm.results import HEADLINES, results_table

METRICS = {
    "confounding": {"naive_estimate": 2.5, "adjusted_estimate": 0.95, "true_effect": 0.0},
    "iv": {"entangled": {"iv_beta": 0.9, "ols_beta": 0.56, "true_beta": 1.0}},
    "monday": {"rates": {"sft": {"monday": 0.12}, "dpo": {"monday": 0.3}, "dpo_deconfounded": {"monday": 0.1}}},
    "upworthy": {"lambda_val_opt": 562.3, "lambda_test_opt": 31622.8, "auc": {"logistic_exp": 0.748}},
    "deconfound": {"results": {s: {"iv": {"sentiment": 0.5 + i}, "naive": {"sentiment": -0.6 + i}}
                               for i, s in enumerate(("entangled", "orthogonal"))}},
    "diagnose": {"canary": {"deconfound_entangled": {"naive": {"uplift": 0.41}},
                            "monday": {"raw": {"uplift": 0.5}, "deconfounded": {"uplift": 0.02}}},
                 "lambda_rule": {"validation_mse": {"auc_cost": 0.054}, "time_split": {"auc_cost": 0.006}}},
}


def test_rows_read_their_metrics():
    table = results_table(METRICS).set_index("quantity")
    ours = table["ours (tiny profile, this build)"]
    assert ours["'Monday' in DPO generations (%)"] == "30.000"
    assert ours["lambda best on the experimental test"] == "31,623"
    assert ours["generation sentiment, naive reward, orthogonal"] == "0.400"
    assert table.loc["lambda picked by observational validation MSE", "paper (v1)"] == "18,000"
    assert table.loc["'Monday' in DPO generations (%)", "re-run"] == "14.84"
    assert len(table) == len(HEADLINES)
    assert ours["adjusted estimate (truth 0)"] == "0.950"  # the truth is read from the run
    assert ours["canary uplift beyond random markers, raw Monday scores (reward SDs)"] == "0.500"
    assert "2SLS estimate of beta, entangled setting (truth 1)" in table.index


def test_a_missing_experiment_is_named():
    with pytest.raises(KeyError, match="deconfound"):
        results_table({k: v for k, v in METRICS.items() if k != "deconfound"})


def test_every_row_says_what_its_numbers_mean_in_each_source():
    table = results_table(METRICS)
    assert table["scale (ours; paper / re-run)"].str.len().min() > 0
    # A paper number whose scorer is unknown must say so next to ours.
    sentiment = table[table["quantity"].str.contains("sentiment")]
    assert sentiment["scale (ours; paper / re-run)"].str.contains("unknown").all()
