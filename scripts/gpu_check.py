"""Check dclm's GPU code paths with random-weight models of the real shapes, offline.

    python scripts/gpu_check.py            # one GPU, real shapes; prints JSON
    python scripts/gpu_check.py --cpu      # tiny shapes on the CPU (CI), about a minute
    python scripts/gpu_check.py --out gpu-check.json           # also gpu-check.md, a table
    DCLM_PRECISION=fp16 python scripts/gpu_check.py --memory-cap-gib 15   # a T4's path on any GPU

What it checks and records (seconds per step over steps 3..N, generation tokens per second,
peak allocated and reserved memory): see dclm/train/gpu_check.py. Exit status 2, before any
work, when something it needs is missing (each named on one line); 1 when a check fails.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dclm.train.gpu_check import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
