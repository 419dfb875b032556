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
