"""Check dclm's GPU code paths with random-weight models of the real shapes, offline.

    python scripts/gpu_check.py            # one GPU, real shapes, < 8 min; prints JSON
    python scripts/gpu_check.py --cpu      # tiny shapes on the CPU (CI), about a minute
    python scripts/gpu_check.py --out gpu-check.json

What it checks and records (seconds per step, peak memory): see dclm/train/gpu_check.py.
Exit status 1 when a check fails.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dclm.train.gpu_check import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
