import json
import os

import numpy as np
import pytest

from dclm import cache, env


def test_seed_everything_is_reproducible():
    a = env.seed_everything(3).standard_normal(4)
    py_a, np_a = __import__("random").random(), np.random.random()
    b = env.seed_everything(3).standard_normal(4)
    assert np.array_equal(a, b)
    assert (__import__("random").random(), np.random.random()) == (py_a, np_a)
    with pytest.raises(ValueError, match="non-negative integer"):
        env.seed_everything(-1)


def test_versions_and_report_name_the_stack():
    report = env.report()
    assert report["device"] == "cpu"
    assert {"python", "dclm", "numpy"} <= set(report["versions"])


def test_book_build_flag(monkeypatch):
    monkeypatch.setenv("DCLM_BOOK_BUILD", "1")
    assert env.in_book_build()
    monkeypatch.setenv("DCLM_BOOK_BUILD", "0")
    assert not env.in_book_build()


def test_run_key_depends_on_config_and_source(isolated_cache, monkeypatch):
    key = cache.run_key("x", {"n": 1})
    assert key == cache.run_key("x", {"n": 1})
    assert key != cache.run_key("x", {"n": 2})
    assert key != cache.run_key("y", {"n": 1})
    monkeypatch.setattr(cache, "source_hash", lambda: "edited")
    assert key != cache.run_key("x", {"n": 1})


def test_store_is_atomic_and_leaves_no_temp_files(isolated_cache):
    path = cache.store("x", "k", {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1}
    with pytest.raises(ValueError):  # NaN is not JSON: the write fails before the rename
        cache.store("x", "k", {"a": float("nan")})
    assert json.loads(path.read_text()) == {"a": 1}
    assert os.listdir(path.parent) == ["k.json"]
    assert cache.load("x", "missing") is None
