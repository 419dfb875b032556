"""Bad input on the command line: non-zero exit and one clear line saying what is valid."""

import subprocess
import sys

import pytest


def dclm(*args, env=None):
    return subprocess.run([sys.executable, "-m", "dclm", *args], capture_output=True, text=True,
                          env=env, timeout=120)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "confounding", "--profile", "nope"], "unknown profile 'nope'; valid profiles: tiny, colab, paper"),
        (["run", "nope"], "unknown experiment 'nope'; valid experiments: confounding"),
        (["run", "confounding", "--set", "nope=1"], "unknown config key 'nope'; valid keys: seed, n, confounding"),
        (["run", "confounding", "--set", "n=many"], "--set n=many: expected a value of type int"),
        (["run", "confounding", "--set", "n"], "--set expects key=value"),
        (["run"], "name an experiment to run; valid experiments: confounding"),
        (["run", "confounding", "--seed", "-1"], "--seed must be a non-negative integer"),
    ],
)
def test_bad_input_exits_nonzero_with_one_clear_line(args, message, tmp_path):
    result = dclm(*args, "--out", str(tmp_path / "out")) if args[1:] else dclm(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("dclm: error: ") and message in lines[0]
    assert not (tmp_path / "out" / "metrics.json").exists()


def test_list_names_every_experiment_and_what_its_seed_seeds():
    result = dclm("run", "--list")
    assert result.returncode == 0
    assert result.stdout.startswith("confounding")
    assert "--seed seeds the simulated listings" in result.stdout


def test_data_list_info_and_fetch(tmp_path):
    listed = dclm("data", "list")
    assert listed.returncode == 0
    assert "stackexchange-beer" in listed.stdout and "mind-small-train" in listed.stdout
    info = dclm("data", "info", "upworthy-exploratory")
    assert info.returncode == 0 and "CC BY 4.0" in info.stdout and "Matias" in info.stdout
    shipped = dclm("data", "fetch", "stackexchange-beer")
    assert shipped.returncode == 0 and shipped.stdout.strip().endswith("beer.stackexchange.com-Posts.xml.gz")


def test_data_errors_are_one_line(tmp_path):
    unknown = dclm("data", "info", "nope")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == ("dclm: error: unknown data set 'nope'; valid names: stackexchange-beer, "
                                      "stackexchange-academia, upworthy-exploratory, mind-small-train, mind-small-dev")
    source = tmp_path / "x.zip"
    source.write_bytes(b"abc")
    import os

    env = {**os.environ, "DCLM_DATA_DIR": str(tmp_path / "cache")}
    bad = dclm("data", "fetch", "mind-small-dev", "--url", f"file://{source}", "--sha256", "0" * 64, env=env)
    assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1
    assert "expected 000" in bad.stderr
