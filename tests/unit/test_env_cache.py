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
    with pytest.raises(TypeError):  # not JSON: the write fails before the rename
        cache.store("x", "k", {"a": object()})
    assert json.loads(path.read_text()) == {"a": 1}
    assert os.listdir(path.parent) == ["k.json"]
    # NaN (a seed with no fluent generation) is stored as null, never a crash of the run.
    cache.store("x", "k", {"a": float("nan"), "b": [1.0, float("inf")]})
    assert json.loads(path.read_text()) == {"a": None, "b": [1.0, None]}
    assert os.listdir(path.parent) == ["k.json"]
    assert cache.load("x", "missing") is None


SMALL = {"n": "300", "sweep_n": "200"}


@pytest.mark.parametrize("bad", ["{}", "[1, 2]", '{"experiment": "confounding"}', b"\xff\xfe not utf-8", "dir",
                                 '{"experiment": "x", "profile": "tiny", "seed": 0, "config": {}, "metrics": {}, '
                                 '"data": {}, "wall_s": 1, "device": "cpu", "versions": {}, "seed_doc": "", '
                                 '"unknown": 1, "world_size": "many", "attempts": 1, "from_cache": 1}'])
def test_a_bad_cache_entry_is_moved_aside_and_the_run_recomputes(isolated_cache, bad):
    from dclm import config
    from dclm.experiments import resolve_config, run

    _, cfg = resolve_config("confounding", overrides=SMALL)
    path = cache.entry_path("confounding", cache.run_key("confounding", config.to_dict(cfg)))
    path.parent.mkdir(parents=True)
    if bad == "dir":
        path.mkdir()
    elif isinstance(bad, bytes):
        path.write_bytes(bad)
    else:
        path.write_text(bad)
    with pytest.warns(cache.CacheWarning, match="recomputing"):
        result = run("confounding", overrides=SMALL)
    assert not result.from_cache and path.with_name(path.name + ".bad").exists()
    assert run("confounding", overrides=SMALL).from_cache  # the fresh result took its place


def test_an_unwritable_cache_warns_and_still_returns_the_run(tmp_path, monkeypatch):
    from dclm.experiments import run

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("DCLM_RUN_CACHE", str(blocker / "runs"))
    with pytest.warns(cache.CacheWarning, match="not writable"):
        result = run("confounding", overrides=SMALL)
    assert result.metrics and not result.from_cache


def test_entries_and_metrics_are_written_with_the_umask_mode(isolated_cache):
    path = cache.store("x", "k", {"a": 1})
    assert path.stat().st_mode & 0o777 == cache.file_mode()
    umask = os.umask(0o022)
    os.umask(umask)
    assert cache.file_mode() == 0o666 & ~umask


def test_a_launched_command_dies_with_its_parent(tmp_path):
    import subprocess
    import sys
    import time

    from dclm.train.pool import dies_with_parent

    # parent: starts `sleep` through dies_with_parent, reports its pid, then is SIGKILLed.
    script = ("import subprocess, sys\nfrom dclm.train.pool import dies_with_parent\n"
              "child = subprocess.Popen(dies_with_parent(['sleep', '60']))\nprint(child.pid, flush=True)\n"
              "child.wait()\n")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    deadline = time.monotonic() + 10
    while open(f"/proc/{child}/comm").read().strip() != "sleep":  # until the trampoline has exec'd
        assert time.monotonic() < deadline
        time.sleep(0.05)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            state = open(f"/proc/{child}/stat").read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            break
        if state in ("Z", "X"):
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"sleep {child} outlived its parent")
    assert dies_with_parent(["x"])[-1] == "x"


def test_an_install_that_changed_an_imported_package_restarts_the_runtime(monkeypatch, capsys):
    restarts = []
    assert env.restart_if_stale(restart=lambda: restarts.append(1)) == {} and not restarts
    monkeypatch.setattr(np, "__version__", "2.0.2")  # Colab's numpy, loaded before the install
    stale = env.restart_if_stale(restart=lambda: restarts.append(1))
    assert restarts == [1] and stale["numpy"][0] == "2.0.2"
    line = capsys.readouterr().out.strip()
    assert line.startswith("dclm: the install changed numpy 2.0.2 -> ") and "\n" not in line
