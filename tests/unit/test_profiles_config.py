from dataclasses import dataclass, field

import pytest

from dclm.config import ConfigError, apply_overrides, from_dict, to_dict, valid_keys
from dclm.profiles import PROFILES, ProfileError, get_profile


def test_profiles_grow_from_tiny_to_paper():
    tiny, colab, paper = (PROFILES[n] for n in ("tiny", "colab", "paper"))
    assert tiny.device == "cpu"
    assert tiny.simulation_n < colab.simulation_n < paper.simulation_n
    # The paper profile splits Stack Exchange questions as the author's re-run did.
    assert (paper.qa_sft_questions, paper.qa_eval_questions) == (5_000, 3_000)


def test_tiny_split_scales_to_fit_the_shipped_beer_questions():
    from dclm.data.stackexchange import filter_posts, fit_split_sizes, read_posts, split_by_question

    questions, _ = filter_posts(*read_posts())
    tiny = PROFILES["tiny"]
    n = questions["question_id"].nunique()
    sft, evaluation = fit_split_sizes(n, tiny.qa_sft_questions, tiny.qa_eval_questions)
    assert sft + evaluation <= 0.6 * n and sft / evaluation == tiny.qa_sft_questions / tiny.qa_eval_questions
    split = split_by_question(questions["question_id"], sft, evaluation, seed=0)
    assert len(split["preference"]) >= 0.4 * n
    assert fit_split_sizes(10_000, 600, 200) == (600, 200)


def test_default_profile_follows_env(monkeypatch):
    monkeypatch.delenv("DCLM_PROFILE", raising=False)
    assert get_profile().name == "tiny"
    monkeypatch.setenv("DCLM_PROFILE", "colab")
    assert get_profile().name == "colab"


def test_unknown_profile_lists_valid_ones(monkeypatch):
    with pytest.raises(ProfileError, match="valid profiles: tiny, colab, paper"):
        get_profile("nope")
    monkeypatch.setenv("DCLM_PROFILE", "huge")
    with pytest.raises(ProfileError, match=r"'huge' \(from \$DCLM_PROFILE\)"):
        get_profile()


def test_unknown_profile_field_lists_valid_fields():
    with pytest.raises(ProfileError, match="unknown profile field.*valid fields: .*simulation_n"):
        PROFILES["tiny"].replace(simulation_size=3)


@dataclass(frozen=True)
class Inner:
    lr: float = 0.1
    steps: int = 3


@dataclass(frozen=True)
class Outer:
    seed: int = 0
    name: str = "x"
    flag: bool = False
    grid: tuple[float, ...] = (1.0, 2.0)
    inner: Inner = field(default_factory=Inner)


def test_overrides_parse_by_type_and_reach_nested_keys():
    cfg = apply_overrides(Outer(), {"inner.lr": "0.5", "flag": "true", "grid": "1,10,100", "seed": "7"})
    assert cfg.inner.lr == 0.5 and cfg.inner.steps == 3
    assert cfg.flag is True and cfg.seed == 7
    assert cfg.grid == (1.0, 10.0, 100.0)
    assert apply_overrides(Outer(), {"grid": "[3, 4]"}).grid == (3.0, 4.0)


def test_unknown_or_mistyped_keys_are_clear_errors():
    assert valid_keys(Outer()) == ["seed", "name", "flag", "grid", "inner.lr", "inner.steps"]
    with pytest.raises(ConfigError, match="unknown config key 'inner.lrr'; valid keys: seed, name"):
        apply_overrides(Outer(), {"inner.lrr": "1"})
    with pytest.raises(ConfigError, match="'inner' is a group; set one of: inner.lr, inner.steps"):
        apply_overrides(Outer(), {"inner": "1"})
    with pytest.raises(ConfigError, match="--set seed=abc: expected a value of type int"):
        apply_overrides(Outer(), {"seed": "abc"})
    with pytest.raises(ConfigError, match="expected true or false"):
        apply_overrides(Outer(), {"flag": "maybe"})


def test_config_round_trips_through_json_dict():
    cfg = apply_overrides(Outer(), {"inner.steps": "9"})
    assert from_dict(Outer, to_dict(cfg)) == cfg


def test_every_profile_config_passes_the_range_checks_at_both_ends_of_the_seed_range():
    from dclm.config import MAX_SEED, ConfigError
    from dclm.experiments import EXPERIMENTS, resolve_config
    from dclm.profiles import PROFILES

    for name in EXPERIMENTS:
        for profile in PROFILES:
            for seed in (0, MAX_SEED):
                assert resolve_config(name, profile, seed)[1].seed == seed
    with pytest.raises(ConfigError, match=f"from 0 to {MAX_SEED}"):
        resolve_config("confounding", seed=MAX_SEED + 1)
    with pytest.raises(ConfigError, match="seed=-1: expected an integer >= 0|from 0 to"):
        resolve_config("confounding", overrides={"seed": "-1"})


def test_every_profile_setting_is_a_config_field_and_unknown_ones_are_errors():
    import dataclasses

    from dclm.experiments import EXPERIMENTS, get_module
    from dclm.profiles import apply_profile

    for profile in PROFILES.values():
        for name in EXPERIMENTS:
            cfg = get_module(name).config_for(profile, 0)
            for key, value in profile.overrides_for(name).items():
                assert getattr(cfg, key) == value, (profile.name, name, key)
    bad = PROFILES["colab"].replace(experiment_overrides={"monday": {"dpo_stepz": 3}})
    from dclm.experiments import monday

    with pytest.raises(ProfileError, match="profile 'colab' sets unknown monday field.*dpo_stepz.*valid fields: "):
        apply_profile(monday.Config(), bad, "monday")
    assert dataclasses.asdict(monday.config_for(PROFILES["tiny"], 0)) == dataclasses.asdict(monday.Config())


def test_pretrained_models_never_get_the_tiny_models_learning_rates():
    from dclm.experiments import deconfound, monday

    for name in ("colab", "paper"):
        m, d = monday.config_for(PROFILES[name], 0), deconfound.config_for(PROFILES[name], 0)
        assert m.policy_model_id != "tiny" and d.policy_model_id != "tiny"
        # LoRA on a pretrained model: 1e-4-ish for SFT, lower for preference and RL updates.
        assert m.sft_lr <= 3e-4 and d.sft_lr <= 3e-4, name
        assert m.dpo_lr <= 1e-4 and d.rl_lr <= 1e-4, name
        # A checkpoint costs seconds on a GPU: not every 25 steps of a 1,000-step run.
        assert m.save_steps >= 100 and d.save_steps >= 50, name
        assert m.samples_per_prompt == 1  # one answer per held-out question, as in the re-run


def test_paper_profile_follows_the_rerun_protocol():
    from dclm.experiments import monday

    cfg = monday.config_for(PROFILES["paper"], 0)
    assert (cfg.sft_questions, cfg.eval_questions, cfg.training_seeds) == (5_000, 3_000, 5)
    assert (cfg.sft_epochs, cfg.sft_lr, cfg.batch_size, cfg.lora_rank, cfg.max_length) == (1.0, 2e-4, 8, 16, 512)
    # Up to 4 epochs over the re-run's 11,886 pairs at batch 8; a full answer per question.
    assert cfg.dpo_steps == -(-4 * 11_886 // 8) and cfg.max_new_tokens == 512


def test_settings_table_shows_each_profiles_resolved_value_and_a_reason():
    import json

    from dclm.config import to_dict
    from dclm.experiments import deconfound, get_module, settings_table

    for name in ("monday", "deconfound", "upworthy"):
        table = settings_table(name)
        assert list(table.columns) == ["tiny", "colab", "paper", "why"]
        assert table["why"].str.len().min() > 10
        # Every value a profile changes is explained (the device follows the profile's hardware).
        configs = [to_dict(get_module(name).config_for(profile, 0)) for profile in PROFILES.values()]
        differing = {key for key in configs[0] if len({json.dumps(c[key]) for c in configs}) > 1} - {"device"}
        assert differing <= set(table.index), f"{name}: no reason for {differing - set(table.index)}"
    table = settings_table("deconfound")
    assert table.loc["rl_lr", "colab"] == f"{deconfound.config_for(PROFILES['colab'], 0).rl_lr:g}"
    assert table.loc["rl_steps", "tiny"] == str(deconfound.Config().rl_steps)


def test_chapters_main_run_uses_colab_on_a_colab_gpu_and_tiny_elsewhere(monkeypatch):
    import sys
    import types

    import torch

    from dclm.env import page_profile

    monkeypatch.delenv("DCLM_PROFILE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert page_profile() == "tiny"  # a GPU, but not Colab
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert page_profile() == "colab"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert page_profile() == "tiny"  # Colab on a CPU runtime
    monkeypatch.setenv("DCLM_PROFILE", "paper")
    assert page_profile() == "paper"
