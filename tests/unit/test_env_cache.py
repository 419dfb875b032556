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


def test_an_install_that_changed_an_imported_package_restarts_the_runtime(monkeypatch, capsys):
    restarts = []
    assert env.restart_if_stale(restart=lambda: restarts.append(1)) == {} and not restarts
    monkeypatch.setattr(np, "__version__", "2.0.2")  # Colab's numpy, loaded before the install
    stale = env.restart_if_stale(restart=lambda: restarts.append(1))
    assert restarts == [1] and stale["numpy"][0] == "2.0.2"
    line = capsys.readouterr().out.strip()
    assert line.startswith("dclm: the install changed numpy 2.0.2 -> ") and "\n" not in line
