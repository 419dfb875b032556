"""``dclm`` on the command line.

    dclm run <experiment> --profile P --seed S --out DIR [--set key=value ...] [--no-cache]
    dclm run --list
    dclm data list | info NAME | fetch NAME [--url URL --sha256 HEX]
    dclm env

``run`` writes ``DIR/metrics.json`` (the envelope of design.md section 3, written atomically)
and the experiment's figures as PNG. Bad input exits with status 2 and one line saying what
is valid.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dclm import cache, env
from dclm.config import ConfigError
from dclm.data.errors import DataError
from dclm.data.registry import UnknownDatasetError
from dclm.experiments import EXPERIMENTS, UnknownExperimentError
from dclm.experiments import run as run_experiment
from dclm.profiles import PROFILES, ProfileError


class CLIError(Exception):
    """Bad command-line input; the message is the one line the user sees."""


def _parse_sets(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CLIError(f"--set expects key=value (e.g. --set n=1000), got {pair!r}")
        overrides[key.strip()] = value.strip()
    return overrides


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dclm", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run one experiment and write DIR/metrics.json")
    run.add_argument("experiment", nargs="?", help=f"one of: {', '.join(EXPERIMENTS)}")
    run.add_argument("--list", action="store_true", help="list the experiments and exit")
    run.add_argument("--profile", default=None,
                     help=f"one of: {', '.join(PROFILES)} (default: $DCLM_PROFILE or tiny)")
    run.add_argument("--seed", type=int, default=0, help="what it seeds: see `dclm run --list`")
    run.add_argument("--out", type=Path, default=None, help="output folder (default: runs/<experiment>)")
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

    commands.add_parser("env", help="print versions, device and profile")
    return parser


def _cmd_data(args: argparse.Namespace) -> int:
    from dclm.data import registry

    if args.data_command == "list":
        for dataset in registry.REGISTRY.values():
            where = "shipped" if dataset.vendored else ("download" if dataset.download_url else "local path")
            print(f"{dataset.name:24s} {where:10s} {dataset.licence}")
        return 0
    dataset = registry.get(args.name)
    if args.data_command == "info":
        print(dataset.card_text().rstrip())
        print(f"\nHow to get it: {dataset.how_to_get}")
        for note in dataset.notes:
            print(f"Note: {note}")
        return 0
    print(registry.fetch(args.name, url=args.url, sha256=args.sha256))
    return 0


def _cmd_list() -> int:
    from dclm.experiments import get_module

    for name, summary in EXPERIMENTS.items():
        print(f"{name:14s} {summary}")
        print(f"{'':14s} --seed {get_module(name).SEED_DOC}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    if args.list:
        return _cmd_list()
    if not args.experiment:
        raise CLIError(f"name an experiment to run; valid experiments: {', '.join(EXPERIMENTS)}")
    if args.seed < 0:
        raise CLIError(f"--seed must be a non-negative integer, got {args.seed}")
    overrides = _parse_sets(args.sets)
    out = args.out if args.out is not None else Path("runs") / args.experiment
    # Checkpoints live under --out, so re-running with the same --out resumes a killed run.
    result = run_experiment(args.experiment, profile=args.profile, seed=args.seed,
                            overrides=overrides, use_cache=not args.no_cache, work_dir=out / "work")
    out.mkdir(parents=True, exist_ok=True)
    for name, figure in result.figures().items():
        tmp = out / f".{name}.png.tmp"
        figure.savefig(tmp, format="png", bbox_inches="tight")
        tmp.replace(out / f"{name}.png")
    cache.write_json_atomic(out / "metrics.json", result.envelope())
    origin = "from the run cache" if result.from_cache else f"in {result.wall_s:.1f} s"
    print(f"{args.experiment} ({result.profile}, seed {result.seed}) {origin}: {out / 'metrics.json'}")
    print(json.dumps(result.metrics, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return _cmd_run(args)
        if args.command == "data":
            return _cmd_data(args)
        if args.command == "env":
            print(json.dumps(env.report(), indent=2))
            return 0
    except (CLIError, UnknownExperimentError, ProfileError, ConfigError, UnknownDatasetError) as err:
        print(f"dclm: error: {err}", file=sys.stderr)
        return 2
    except DataError as err:
        print(f"dclm: error: {err}", file=sys.stderr)
        return 1
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
