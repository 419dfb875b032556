"""Benchmark: streaming a large generated Posts.xml (rows/s and memory), in fresh processes.

    .venv/bin/python benchmarks/posts_xml.py [--mb 200]

Generates an Academia-like Posts.xml of about --mb megabytes (dclm.data.synthetic), then in a
fresh subprocess each: streams it with iter_posts (flat memory) and builds the question/answer
tables with read_posts (memory grows with the tables, not with the parser). Peak RSS comes from
/proc/self/status (VmHWM) of each subprocess.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROBE = """
import json, sys, time
import psutil
from dclm.data.stackexchange import iter_posts, read_posts

def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024

before = psutil.Process().memory_info().rss
start = time.perf_counter()
if sys.argv[2] == "stream":
    rows = sum(1 for _ in iter_posts(sys.argv[1]))
else:
    q, a = read_posts(sys.argv[1])
    rows = len(q) + len(a)
seconds = time.perf_counter() - start
print(json.dumps({"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds,
                  "rss_growth_mb": (peak() - before) / 2**20}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=200)
    args = parser.parse_args()
    from dclm.data.synthetic import write_stackexchange_posts

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Posts.xml"
        start = time.perf_counter()
        # About 2,340 bytes per question with its answers (measured on the generator).
        write_stackexchange_posts(path, n_questions=int(args.mb * 1e6 / 2_340), seed=0)
        size = path.stat().st_size / 1e6
        print(f"generated {size:.0f} MB in {time.perf_counter() - start:.0f} s")
        for mode in ("stream", "tables"):
            out = subprocess.run([sys.executable, "-c", PROBE, str(path), mode], check=True,
                                 capture_output=True, text=True).stdout
            result = json.loads(out)
            print(f"{mode:7s} {result['rows']:>9,d} rows in {result['seconds']:6.1f} s = "
                  f"{result['rows_per_s']:>9,.0f} rows/s; RSS growth {result['rss_growth_mb']:7.1f} MB")


if __name__ == "__main__":
    main()
