"""Streaming Posts.xml stays flat in memory: a 50 MB file in a fresh process."""

import json
import subprocess
import sys

# Peak RSS from /proc/self/status (VmHWM): it belongs to this process image. ru_maxrss would
# not do: Linux carries the parent's high-water mark (pytest's) across fork and exec.
PROBE = """
import json, sys
import psutil
from dclm.data.stackexchange import iter_posts

def peak_bytes():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024

before = psutil.Process().memory_info().rss
rows = 0
for _line, _row in iter_posts(sys.argv[1]):
    rows += 1
print(json.dumps({"rows": rows, "growth_mb": (peak_bytes() - before) / 2**20}))
"""


def test_rss_growth_while_streaming_50mb_is_under_100mb(tmp_path):
    from dclm.data.synthetic import write_stackexchange_posts

    path = tmp_path / "Posts.xml"
    write_stackexchange_posts(path, n_questions=21_500, seed=0)
    assert path.stat().st_size > 50e6
    result = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True,
                            timeout=300, check=True)
    measured = json.loads(result.stdout)
    assert measured["rows"] > 90_000
    assert measured["growth_mb"] < 100, measured
