"""A built wheel carries the vendored data and the data cards (Colab installs from it)."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_contains_vendored_data_and_cards(tmp_path):
    # Build from a copy: setuptools leaves a build/ folder in the source tree.
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", "_build", ".git", "notebooks",
                                                                "*.egg-info", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path)], check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("dclm-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in ("dclm/data/vendor/beer.stackexchange.com-Posts.xml.gz",
                     "dclm/data/vendor/upworthy-exploratory-packages.csv.gz",
                     "dclm/data/cards/mind.md", "dclm/data/cards/upworthy-exploratory.md"):
        assert expected in names
    assert not any(n.startswith(("tests/", "book/", "notebooks/")) for n in names)
