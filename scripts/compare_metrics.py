"""Compare the metrics of two metrics.json files: every key equal, floats to 1e-9 (relative).

    python scripts/compare_metrics.py A/metrics.json B/metrics.json    # exit 1 on any difference
    python scripts/compare_metrics.py A B --ignore ledger   # leave out keys named ledger (wall-clock seconds)

Used to show a refactoring left every experiment's results unchanged.
"""
import json
import math
import sys


def diff(a, b, path="metrics"):
    out = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                out.append(f"{path}.{k}: only in {'B' if k not in a else 'A'}")
            else:
                out += diff(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: length {len(a)} vs {len(b)}")
        else:
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                out += diff(x, y, f"{path}[{i}]")
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        if not (a == b or (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))):
            out.append(f"{path}: {a!r} vs {b!r}")
    elif a != b:
        out.append(f"{path}: {a!r:.80} vs {b!r:.80}")
    return out

if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--ignore", action="append", default=[], metavar="KEY",
                        help="a key whose values may differ wherever it appears (e.g. ledger: seconds)")
    args = parser.parse_args()
    a, b = (json.loads(open(path).read())["metrics"] for path in (args.a, args.b))
    ignored = {f".{key}" for key in args.ignore}
    problems = [p for p in diff(a, b) if not any(f"{key}." in p.split(":")[0] + "." for key in ignored)]
    skipped = f", ignoring {', '.join(args.ignore)}" if args.ignore else ""
    print(f"{args.a} vs {args.b}: " + (f"identical (floats to 1e-9{skipped})" if not problems
                                                 else f"{len(problems)} differences"))
    for line in problems[:30]:
        print("  ", line)
    sys.exit(1 if problems else 0)
