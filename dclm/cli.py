"""``dclm`` on the command line.

    dclm run <experiment> --profile P --seed S --out DIR [--set key=value ...] [--no-cache]
    dclm run --list
    dclm data list | info NAME | fetch NAME [--url URL --sha256 HEX]
    dclm env [--profile P]
    dclm --version

``run`` writes ``DIR/metrics.json`` (the envelope of design.md section 3, written atomically)
and the experiment's figures as PNG; stdout carries only the result, everything else goes to
stderr. Bad input exits with status 2 and one line saying what is valid; Ctrl-C exits with
status 130 and one line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import warnings
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import dclm
from dclm import cache, env
from dclm.config import ConfigError, check_seed
from dclm.data.errors import DataError
from dclm.data.registry import UnknownDatasetError
from dclm.experiments import EXPERIMENTS, UnknownExperimentError, clean
from dclm.experiments import run as run_experiment
from dclm.profiles import PROFILES, ProfileError, get_profile


class CLIError(Exception):
    """Bad command-line input; the message is the one line the user sees."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``dclm: error: ...``, status 2), like dclm's own."""

    def error(self, message: str) -> None:
        self.exit(2, f"dclm: error: {message} (see `{self.prog} --help`)\n")


def _parse_sets(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CLIError(f"--set expects key=value (e.g. --set n=1000), got {pair!r}")
        overrides[key.strip()] = value.strip()
    return overrides


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="dclm", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"dclm {dclm.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run one experiment and write DIR/metrics.json")
    run.add_argument("experiment", nargs="?", help=f"one of: {', '.join(EXPERIMENTS)}")
    run.add_argument("--list", action="store_true", help="list the experiments and exit")
    run.add_argument("--profile", default=None,
                     help=f"one of: {', '.join(PROFILES)} (default: $DCLM_PROFILE or tiny)")
    run.add_argument("--seed", type=int, default=0, help="what it seeds: see `dclm run --list`")
    run.add_argument("--out", type=Path, default=None,
                     help="output folder (default: runs/<experiment>/<profile>-seed<S>)")
    run.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                     help="override a config value; dotted keys reach nested values")
    run.add_argument("--no-cache", action="store_true", help="recompute even if the run cache has it")

    data = commands.add_parser("data", help="list, describe and fetch the data sets")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    data_commands.add_parser("list", help="every registered data set")
    info = data_commands.add_parser("info", help="a data set's card: source, licence, attribution, schema")
    info.add_argument("name")
    fetch = data_commands.add_parser("fetch", help="download (verified) or locate a data set; prints its path")
    fetch.add_argument("name")
    fetch.add_argument("--url", default=None, help="fetch from here instead (e.g. a file:// mirror)")
    fetch.add_argument("--sha256", default=None, help="expected sha256 of the file at --url")

    clean_parser = commands.add_parser(
        "clean", help="remove the checkpoint folders of completed runs (results and figures stay)")
    clean_parser.add_argument("--out", type=Path, action="append", default=[], metavar="DIR",
                              help="also clean DIR/work, a `dclm run --out DIR` folder (repeatable)")
    clean_parser.add_argument("--dry-run", action="store_true", help="list what would be removed")

    env_parser = commands.add_parser("env", help="print versions, device and profile")
    env_parser.add_argument("--profile", default=None, help=f"one of: {', '.join(PROFILES)} (default: $DCLM_PROFILE or tiny)")
    return parser


def _cmd_data(args: argparse.Namespace) -> int:
    from dclm.data import registry

    if args.data_command == "list":
        for dataset in registry.REGISTRY.values():
            where = ("shipped" if dataset.vendored else f"in {dataset.installed_with}" if dataset.installed_with
                     else "download" if dataset.download_url else "local path")
            check = registry.verification(dataset)
            print(f"{dataset.name:24s} {where:10s} {check if check != where else '':10s} {dataset.licence}")
        return 0
    dataset = registry.get(args.name)
    if args.data_command == "info":
        print(dataset.card_text().rstrip())
        print(f"\nHow to get it: {dataset.how_to_get}")
        for note in dataset.notes:
            print(f"Note: {note}")
        return 0
    path = registry.fetch(args.name, url=args.url, sha256=args.sha256)
    verified = args.sha256 is not None or (args.url is None and registry.verification(dataset) != "unverified")
    if not verified:
        print(f"dclm: warning: {args.name} is unverified: no sha256 is known for {args.url or dataset.download_url}; "
              "pass --sha256 to check it", file=sys.stderr)
    print(path)
    return 0


def _cmd_list() -> int:
    from dclm.experiments import get_module

    for name, summary in EXPERIMENTS.items():
        print(f"{name:14s} {summary}")
        print(f"{'':14s} --seed {get_module(name).SEED_DOC}")
    return 0


def _cmd_clean(args: argparse.Namespace) -> int:
    for out in args.out:
        if not out.is_dir():
            raise CLIError(f"--out {out} is not a folder; give a folder `dclm run --out` wrote")
    removed = clean(tuple(args.out), dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    for folder, size in removed:
        print(f"{verb} {folder} ({size / 2**20:.1f} MiB)")
    total = sum(size for _, size in removed) / 2**20
    print(f"{verb} {len(removed)} work folder(s) of completed runs, {total:.1f} MiB; "
          "folders of killed runs are kept (a re-run resumes from them)")
    return 0


def _cmd_env(args: argparse.Namespace) -> int:
    profile = get_profile(args.profile)
    # "device" is what runs of this profile use here; "gpus" what the machine has.
    print(json.dumps({**env.report(profile.name), "profile_device": profile.device}, indent=2))
    return 0


def _prepare_out(out: Path) -> list[Path]:
    """Create ``out`` (checking it is a writable folder); return the folders this created."""
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {out} is an existing file; give a folder (new or existing)")
    created = [p for p in (out, *out.parents) if not p.exists()]
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".dclm-write-check.")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        _remove_empty(created)
        raise CLIError(f"--out {out} is not a writable folder ({err.strerror or err}); "
                       "give a folder you can write to") from None
    return created


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:  # innermost first
        with contextlib.suppress(OSError):
            folder.rmdir()


def _cmd_run(args: argparse.Namespace) -> int:
    if args.list:
        return _cmd_list()
    if not args.experiment:
        raise CLIError(f"name an experiment to run; valid experiments: {', '.join(EXPERIMENTS)}")
    check_seed(args.seed)
    overrides = _parse_sets(args.sets)
    profile = get_profile(args.profile)
    # One folder per experiment, profile and seed by default: checkpoints and figures of
    # different runs never share a folder unless the user asks for it.
    out = args.out if args.out is not None else Path("runs") / args.experiment / f"{profile.name}-seed{args.seed}"
    created = _prepare_out(out)
    try:
        # Library chatter (trainer summaries, warnings printed by dependencies) goes to
        # stderr: stdout is the result.
        with contextlib.redirect_stdout(sys.stderr):
            # Checkpoints live in out/work/<run key>: a re-run with the same --out and config
            # resumes a killed run; another config or seed gets a folder of its own.
            result = run_experiment(args.experiment, profile=profile.name, seed=args.seed, overrides=overrides,
                                    use_cache=not args.no_cache, work_dir=out / "work")
            for name, figure in result.figures().items():
                cache.write_atomic(out / f"{name}.png", lambda handle, figure=figure: figure.savefig(
                    handle, format="png", bbox_inches="tight"), binary=True)
    except BaseException:
        _remove_empty([out / "work", *created])
        raise
    _remove_empty([out / "work"])
    cache.write_json_atomic(out / "metrics.json", result.envelope())
    origin = "from the run cache" if result.from_cache else f"in {result.wall_s:.1f} s"
    print(f"{args.experiment} ({result.profile}, seed {result.seed}) {origin}: {out / 'metrics.json'}")
    print(json.dumps(result.metrics, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        library_warning = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None) -> None:
            # dclm's own warnings are one line, like its errors; libraries keep their format.
            if issubclass(category, cache.CacheWarning):
                print(f"dclm: warning: {message}", file=sys.stderr)
            else:
                library_warning(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        return _main(parser, args)


def _main(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    try:
        if args.command == "run":
            return _cmd_run(args)
        if args.command == "data":
            return _cmd_data(args)
        if args.command == "env":
            return _cmd_env(args)
        if args.command == "clean":
            return _cmd_clean(args)
    except (CLIError, UnknownExperimentError, ProfileError, ConfigError, UnknownDatasetError) as err:
        print(f"dclm: error: {err}", file=sys.stderr)
        return 2
    except DataError as err:
        print(f"dclm: error: {err}", file=sys.stderr)
        return 1
    except BrokenProcessPool as err:
        print(f"dclm: error: a worker process died ({err}); re-run the same command to resume from the last "
              "checkpoint", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("dclm: interrupted; re-run the same command to resume from the last checkpoint", file=sys.stderr)
        return 130
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
