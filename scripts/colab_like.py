"""`make colab-like`: the Colab install cell's command, run against this checkout in a Colab-like venv.

Builds a Python 3.12 venv from requirements/colab-like.txt with a placeholder ``torch``
distribution of Colab's version (a few lines of Python, no CUDA build: it only lets the
resolver see a torch of that version), snapshots the versions, runs the install cell's
``pip install "dclm[colab] @ ..."`` with this checkout in place of the repository URL, and
fails when torch changed or pip printed an ERROR (its resolver's complaint that an installed
package's requirement is now broken). Writes _build/colab-like/report.json with the before
and after versions. Without python3.12 it says so and exits 0: the stage is skipped.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "_build" / "colab-like"
COLAB_TORCH = "2.9.0"
WATCHED = ("torch", "numpy", "scipy", "pandas", "transformers", "huggingface-hub", "tokenizers", "datasets",
           "ipywidgets", "pyarrow", "scikit-learn", "matplotlib")


def find_python312() -> str | None:
    for candidate in (os.environ.get("COLAB_LIKE_PYTHON"), shutil.which("python3.12"),
                      *sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))):
        if candidate and subprocess.run([str(candidate), "-c", "import sys; assert sys.version_info[:2] == (3, 12)"],
                                        capture_output=True).returncode == 0:
            return str(candidate)
    return None


def placeholder_torch(folder: Path) -> Path:
    """A wheel named torch, of Colab's version, holding one module that says what it is."""
    name = f"torch-{COLAB_TORCH}-py3-none-any.whl"
    files = {
        "torch/__init__.py": f'"""Placeholder for Colab\'s torch {COLAB_TORCH} (dclm\'s Colab-like install test)."""\n'
                             f'__version__ = "{COLAB_TORCH}"\n',
        f"torch-{COLAB_TORCH}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: torch\nVersion: {COLAB_TORCH}\n"
                                                   "Summary: placeholder for Colab's preinstalled torch\n",
        f"torch-{COLAB_TORCH}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: dclm\nRoot-Is-Purelib: true\n"
                                                "Tag: py3-none-any\n",
    }
    record = f"torch-{COLAB_TORCH}.dist-info/RECORD"
    lines = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        lines.append(f"{path},sha256={digest},{len(text.encode())}")
    files[record] = "\n".join([*lines, f"{record},,"]) + "\n"
    wheel = folder / name
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


def versions(python: Path) -> dict[str, str]:
    frozen = subprocess.run([str(python), "-m", "pip", "list", "--format=json"], check=True, capture_output=True,
                            text=True).stdout
    return {row["name"].lower().replace("_", "-"): row["version"] for row in json.loads(frozen)}


def install_cell_command() -> str:
    """The chapters' install requirement, with this checkout in place of the repository URL."""
    import importlib.util

    # By path: the repository's notebooks/ folder would otherwise shadow scripts/notebooks.py.
    spec = importlib.util.spec_from_file_location("dclm_notebooks_script", ROOT / "scripts" / "notebooks.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    requirement = script.install_command().split('"')[1]  # dclm[colab] @ git+URL@branch
    return requirement.split(" @ ")[0] + f" @ {ROOT.as_uri()}"


def main() -> int:
    python312 = find_python312()
    if python312 is None:
        print("colab-like: SKIPPED: no python3.12 on this machine (set COLAB_LIKE_PYTHON to one)")
        return 0
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    venv = OUT / "venv"
    subprocess.run([python312, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # No .pyc compilation: little of this venv ever runs, and it halves the install time.
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-compile"]
    subprocess.run([*pip, "-r", str(ROOT / "requirements" / "colab-like.txt"), str(placeholder_torch(OUT))],
                   check=True)
    before = versions(python)
    requirement = install_cell_command()
    # What the install cell runs (%pip install -q "dclm[colab] @ ..."), output kept for the checks.
    cell = subprocess.run([*pip, requirement], capture_output=True, text=True)
    after = versions(python)
    (OUT / "install.log").write_text(cell.stdout + cell.stderr)
    # pip's resolver complaint is an ERROR line followed by one "X requires Y, but you have Z" line each.
    errors = [line for line in (cell.stdout + cell.stderr).splitlines()
              if line.startswith("ERROR") or "which is incompatible" in line]
    imported = subprocess.run([str(python), "-c", "import dclm.env, json; print(json.dumps(dclm.env.versions()))"],
                              capture_output=True, text=True)
    report = {"python": python312, "requirement": requirement, "returncode": cell.returncode, "errors": errors,
              "versions": {name: {"before": before.get(name), "after": after.get(name)} for name in WATCHED},
              "changed": sorted(n for n in set(before) | set(after) if before.get(n) != after.get(n)),
              "dclm_imports": imported.returncode == 0}
    (OUT / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"{'package':16s} {'Colab-like':>12s} {'after install':>14s}")
    for name, pair in report["versions"].items():
        print(f"{name:16s} {pair['before'] or '-':>12s} {pair['after'] or '-':>14s}")
    problems = []
    if cell.returncode != 0:
        problems.append(f"the install cell's pip exited {cell.returncode}")
    if errors:
        problems.append("pip printed: " + " | ".join(errors))
    if after.get("torch") != COLAB_TORCH:
        problems.append(f"torch changed: {COLAB_TORCH} -> {after.get('torch')}")
    if not report["dclm_imports"]:
        problems.append("import dclm failed: " + imported.stderr.strip()[-500:])
    for problem in problems:
        print(f"colab-like: FAILED: {problem}", file=sys.stderr)
    if not problems:
        print("colab-like: torch untouched, no pip ERROR; report in _build/colab-like/report.json")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
