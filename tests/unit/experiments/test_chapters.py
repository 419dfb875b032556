"""The cold run time of each chapter is read from its runs' cache entries, never recomputed."""

import re
from pathlib import Path

import pytest
import yaml

from dclm import cache
from dclm.config import to_dict
from dclm.experiments import resolve_config
from dclm.experiments.chapters import CHAPTER_RUNS, cold_compute, compute_table

ROOT = Path(__file__).resolve().parents[3]


def test_every_chapter_of_the_book_has_its_runs_listed():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    stems = [chapter["file"].split("/")[-1] for part in toc["parts"] for chapter in part["chapters"]]
    assert sorted(CHAPTER_RUNS) == sorted(s for s in stems if re.match(r"\d\d-", s) and s != "00-setup")


def _store(name, overrides, wall_s, device="cpu"):
    _, cfg = resolve_config(name, "tiny", 0, overrides)
    cache.store(name, cache.run_key(name, to_dict(cfg)), {"wall_s": wall_s, "device": device})


def test_cold_time_sums_the_chapters_runs_and_says_when_one_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV_VAR, str(tmp_path))
    (first, first_overrides, _), (second, second_overrides, _) = CHAPTER_RUNS["03-monday-effect"]
    _store(first, first_overrides, 120.0)
    assert cold_compute("03-monday-effect") == {"wall_s": None, "device": None}
    _store(second, second_overrides, 60.0)
    assert cold_compute("03-monday-effect") == {"wall_s": 180.0, "device": "cpu"}
    table = compute_table()
    assert table.loc["03-monday-effect", "cold run time, tiny profile (measured)"] == "3.0 min"
    assert table.loc["01-confounding", "cold run time, tiny profile (measured)"] == "not in this build's run cache"


def test_an_unknown_chapter_is_named():
    with pytest.raises(KeyError, match="07-nothing"):
        cold_compute("07-nothing")
