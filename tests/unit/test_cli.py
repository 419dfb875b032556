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
        (["run", "confounding", "--set", "nope=1"], "unknown config key 'nope'; valid keys: seed, n, sweep_n, sweep_strengths, confounding"),
        (["run", "confounding", "--set", "n=many"], "--set n=many: expected a value of type int"),
        (["run", "confounding", "--set", "n"], "--set expects key=value"),
        (["run"], "name an experiment to run; valid experiments: confounding"),
        (["run", "confounding", "--seed", "-1"], "--seed must be an integer from 0 to 4294966, got -1"),
        (["run", "confounding", "--seed", str(2**64)], f"--seed must be an integer from 0 to 4294966, got {2**64}"),
        (["run", "confounding", "--seed", "2**64"], "argument --seed: invalid int value: '2**64'"),
        (["run", "confounding", "--set", "n=0"], "n=0: expected an integer >= 1"),
        (["run", "iv", "--set", "mc_reps=0"], "mc_reps=0: expected an integer >= 1"),
        (["run", "confounding", "--set", "n=3"], "n=3: expected at least 10"),
        (["run", "confounding", "--set", "sweep_n=9"], "sweep_n=9: expected at least 10"),
        (["run", "iv", "--set", "mc_n=2"], "mc_n=2: expected at least 10"),
        (["run", "upworthy", "--set", "residual_folds=1"], "residual_folds=1: expected at least 2"),
        (["run", "monday", "--set", "training_seeds=0"], "training_seeds=0: expected an integer >= 1"),
        (["run", "confounding", "--set", "noise_sd=nan"], "--set noise_sd=nan: expected a finite number"),
        (["run", "confounding", "--set", "noise_sd=-1"], "noise_sd=-1.0: a standard deviation must be >= 0"),
        (["run", "confounding", "--set", "sweep_strengths=[1,"], "--set sweep_strengths=[1,: not a list; write it as"),
        (["run", "confounding", "--set", "sweep_strengths=1,,2"], "an empty item"),
        (["run", "confounding", "--set", "sweep_strengths=[[1]]"], "expected a flat list"),
        (["run", "confounding", "--set", "sweep_strengths=[]"], "sweep_strengths is empty"),
        (["run", "monday", "--set", "data=bogus"],
         "data='bogus' (no such path): valid values are generated, beer, academia, or the path of a Posts.xml"),
        (["run", "deconfound", "--set", "launcher=slurm"], "launcher='slurm': valid values are local, accelerate"),
        (["run", "upworthy", "--set", "text=body"], "text='body': valid values are headline, lede+headline"),
        (["run", "monday", "--set", "marker_days=Caturday"], "marker_days='Caturday': valid values are Monday"),
        (["run", "confounding", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_input_exits_nonzero_with_one_clear_line(args, message, tmp_path, capsys):
    # In-process (`python -m dclm` calls the same main) to keep the many cases cheap.
    from dclm import cli

    try:
        returncode = cli.main([*args, "--out", str(tmp_path / "out")] if args[1:] else args)
    except SystemExit as exit_:  # argparse's own errors
        returncode = exit_.code
    assert returncode == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("dclm: error: ") and message in lines[0]
    assert not (tmp_path / "out").exists()  # nothing written, not even an empty folder


def test_bad_input_from_the_real_command_line(tmp_path):
    result = dclm("run", "confounding", "--set", "n=0", "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr == "dclm: error: n=0: expected an integer >= 1\n"


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
                                      "stackexchange-academia, upworthy-exploratory, card-1995, mroz-1987, mind-small-train, "
                                      "mind-small-dev")
    source = tmp_path / "x.zip"
    source.write_bytes(b"abc")
    import os

    env = {**os.environ, "DCLM_DATA_DIR": str(tmp_path / "cache")}
    bad = dclm("data", "fetch", "mind-small-dev", "--url", f"file://{source}", "--sha256", "0" * 64, env=env)
    assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1
    assert "expected 000" in bad.stderr


def test_version():
    from dclm import __version__

    result = dclm("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"dclm {__version__}"


def test_out_that_is_a_file_is_one_line(tmp_path):
    target = tmp_path / "metrics.json"
    target.write_text("{}")
    result = dclm("run", "confounding", "--out", str(target))
    assert result.returncode == 2
    assert result.stderr.strip() == f"dclm: error: --out {target} is an existing file; give a folder (new or existing)"
    under = dclm("run", "confounding", "--out", str(target / "sub"))
    assert under.returncode == 2 and len(under.stderr.strip().splitlines()) == 1
    assert f"--out {target / 'sub'} is not a writable folder" in under.stderr


def test_read_only_out_is_one_line(tmp_path, monkeypatch, capsys):
    # Permissions do not bind root (CI runs as root), so the write check is made to fail as it
    # does for a user in a read-only folder.
    from dclm import cli

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cli.tempfile, "mkstemp", read_only)
    assert cli.main(["run", "confounding", "--out", str(tmp_path / "ro" / "new")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"dclm: error: --out {tmp_path / 'ro' / 'new'} is not a writable folder (Permission denied); "
                   "give a folder you can write to")
    assert not (tmp_path / "ro").exists()  # the folders it made are gone again


def test_ctrl_c_is_one_line_and_leaves_no_empty_folder(tmp_path, monkeypatch, capsys, isolated_cache):
    from dclm import cli
    from dclm.experiments import confounding

    def interrupted(cfg, work_dir, options):
        assert work_dir.is_dir() and work_dir.parent == tmp_path / "out" / "work"
        raise KeyboardInterrupt

    monkeypatch.setattr(confounding, "run", interrupted)
    assert cli.main(["run", "confounding", "--out", str(tmp_path / "out")]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("dclm: interrupted")
    assert not (tmp_path / "out").exists()


def test_env_names_profile_and_device():
    import json
    import os

    report = json.loads(dclm("env", env={**os.environ, "DCLM_PROFILE": "colab"}).stdout)
    import torch

    assert report["profile"] == "colab" and report["profile_device"] == "cuda"
    assert report["device"] == ("cuda" if torch.cuda.is_available() else "cpu")
    assert len(report["gpus"]) == torch.cuda.device_count()
    assert json.loads(dclm("env", "--profile", "tiny").stdout)["profile"] == "tiny"


def test_posts_without_answers_through_set_data_is_one_line(tmp_path):
    posts = tmp_path / "Posts.xml"
    posts.write_text('<posts>\n<row Id="1" PostTypeId="1" CreationDate="2015-01-05T10:00:00.000" Score="3" '
                     'Body="q" Title="T" />\n</posts>')
    result = dclm("run", "monday", "--set", f"data={posts}", "--out", str(tmp_path / "out"), "--no-cache")
    assert result.returncode == 1, result.stderr[-2000:]
    assert result.stderr.strip().splitlines() == [
        f"dclm: error: {posts}: field 'PostTypeId': the file holds no answers (rows with PostTypeId=2) "
        "(pass a site's full Posts.xml)"]


def test_data_list_says_unverified_where_no_hash_is_known(tmp_path):
    import os

    listed = dclm("data", "list").stdout.splitlines()
    mind = next(line for line in listed if line.startswith("mind-small-train"))
    assert "unverified" in mind
    assert not any(" verified" in line for line in listed)
    source = tmp_path / "hostname"
    source.write_text("not MIND")
    env = {**os.environ, "DCLM_DATA_DIR": str(tmp_path / "cache")}
    fetched = dclm("data", "fetch", "mind-small-dev", "--url", f"file://{source}", env=env)
    assert fetched.returncode == 0 and "is unverified" in fetched.stderr


def test_a_dead_worker_is_one_line_saying_how_to_resume(tmp_path, monkeypatch, capsys, isolated_cache):
    from concurrent.futures.process import BrokenProcessPool

    from dclm import cli
    from dclm.experiments import confounding

    def worker_died(cfg, work_dir, options):
        raise BrokenProcessPool("A process in the process pool was terminated abruptly")

    monkeypatch.setattr(confounding, "run", worker_died)
    assert cli.main(["run", "confounding", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("dclm: error: a worker process died") and "re-run" in err[0]
