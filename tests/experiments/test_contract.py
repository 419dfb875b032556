"""Every experiment keeps one contract (docs/architecture.md): a Config that checks itself, a
Result with claims, a lesson whose claims hold on the tiny run and flip when broken."""

import copy
import dataclasses
import math
import typing

import pytest

from dclm.claims import Claim
from dclm.config import ConfigError, ExperimentConfig
from dclm.experiments import EXPERIMENTS, get_module, run
from dclm.profiles import PROFILES


@pytest.fixture(scope="module", params=list(EXPERIMENTS))
def tiny(request):
    """One tiny Result per experiment, from the run cache the experiment tests fill."""
    return run(request.param, profile="tiny", seed=0)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_config_is_a_frozen_self_checking_dataclass_with_help(name):
    module = get_module(name)
    cfg = module.Config()
    assert isinstance(cfg, ExperimentConfig)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.seed = 1
    undocumented = [f.name for f in dataclasses.fields(cfg) if not f.metadata.get("help")]
    assert undocumented == [], f"{name}: fields without help: {undocumented}"
    for profile in PROFILES.values():
        assert isinstance(module.config_for(profile, 3), module.Config)


def bad_values(cfg):
    """(field, value) pairs every config must refuse: negative counts, NaN, empty lists."""
    hints = typing.get_type_hints(type(cfg))
    for field in dataclasses.fields(cfg):
        kind = hints[field.name]
        if kind is int:
            yield field.name, -1
        elif kind is float:
            yield field.name, math.nan
        elif typing.get_origin(kind) is tuple and field.name not in getattr(cfg, "ZERO_OK", ()):
            # ZERO_OK lists are optional parts of a study: empty is allowed there.
            yield field.name, ()


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_bad_values_raise_a_one_line_config_error_naming_the_field(name):
    cfg = get_module(name).Config()
    cases = list(bad_values(cfg))
    assert cases
    for key, value in cases:
        with pytest.raises(ConfigError) as err:
            dataclasses.replace(cfg, **{key: value})
        assert key in str(err.value) and "\n" not in str(err.value), (key, str(err.value))


def test_the_lesson_is_claimed_and_holds_on_the_tiny_run(tiny):
    module = get_module(tiny.experiment)
    claims = tiny.claims
    assert all(isinstance(c, Claim) for c in claims.values())
    assert module.LESSON and set(module.LESSON) <= set(claims)
    failing = {k: claims[k].text for k in module.LESSON if not claims[k].holds}
    assert failing == {}
    summary = tiny.summary()
    assert summary.count("[holds]") == len(module.LESSON) and tiny.experiment in summary.splitlines()[0]
    assert '"metrics"' in tiny.to_json()


def _swap(metrics, path_a, path_b):
    def at(path):
        node = metrics
        for key in path[:-1]:
            node = node[key]
        return node, path[-1]

    (a, ka), (b, kb) = at(path_a), at(path_b)
    a[ka], b[kb] = b[kb], a[ka]


# One break per experiment: the metrics changed so that one lesson claim's condition is false.
BREAKS = {
    "confounding": ("naive_biased", lambda m, d: m.update(naive_estimate=m["adjusted_estimate"])),
    "iv": ("iv_entangled", lambda m, d: d["settings_mc"]["entangled"].update(iv=d["settings_mc"]["entangled"]["ols"])),
    "monday": ("dpo_raises_monday_share", lambda m, d: m["per_seed"]["dpo"].update(
        monday_share=list(m["per_seed"]["sft"]["monday_share"]))),
    "deconfound": ("corr_iv_over_feature_proxy", lambda m, d: _swap(
        m, ["results", "proxy", "iv", "reward_sentiment_corr_per_replicate"],
        ["results", "proxy", "feature", "reward_sentiment_corr_per_replicate"])),
    "upworthy": ("experiment_prefers_stronger_penalty", lambda m, d: m.update(lambda_test_opt=m["lambda_val_opt"])),
    "diagnose": ("naive_entangled_flagged", lambda m, d: m["canary"]["deconfound_entangled"]["naive"].update(
        flagged=False)),
}


def test_breaking_a_lesson_condition_flips_its_claim(tiny):
    if tiny.experiment not in BREAKS:
        pytest.fail(f"add a break for {tiny.experiment} to BREAKS")
    key, breaker = BREAKS[tiny.experiment]
    module = get_module(tiny.experiment)
    assert key in module.LESSON and module.claims(tiny.metrics, tiny.data)[key].holds
    metrics, data = copy.deepcopy(tiny.metrics), copy.deepcopy(tiny.data)
    breaker(metrics, data)
    assert not module.claims(metrics, data)[key].holds
