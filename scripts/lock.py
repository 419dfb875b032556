"""Write requirements/lock.txt from a freshly resolved venv (used by `make lock`).

    python scripts/lock.py VENV_DIR
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = (
    "# The whole stack, resolved once with pip (pip check clean) on Python 3.11 / Linux x86_64.\n"
    "# Regenerate with 'make lock'. torch is the CPU wheel; Colab keeps its own torch.\n"
)


def main(venv: Path) -> None:
    frozen = subprocess.run([str(venv / "bin" / "pip"), "freeze", "--exclude-editable"],
                            check=True, capture_output=True, text=True).stdout.splitlines()
    pins = sorted((line.replace("+cpu", "") for line in frozen
                   if "==" in line and not line.lower().startswith("dclm==")), key=str.lower)
    (ROOT / "requirements" / "lock.txt").write_text(HEADER + "\n".join(pins) + "\n")
    print(f"wrote {len(pins)} pins to requirements/lock.txt")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
