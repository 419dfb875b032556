"""The pieces of the Colab-like install stage (scripts/colab_like.py) that run without a download."""

import importlib.util
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
spec = importlib.util.spec_from_file_location("colab_like", ROOT / "scripts" / "colab_like.py")
colab_like = importlib.util.module_from_spec(spec)
spec.loader.exec_module(colab_like)


def test_the_torch_placeholder_is_a_wheel_of_colabs_version(tmp_path):
    wheel = colab_like.placeholder_torch(tmp_path)
    assert wheel.name == f"torch-{colab_like.COLAB_TORCH}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"torch-{colab_like.COLAB_TORCH}.dist-info/METADATA").decode()
        record = archive.read(f"torch-{colab_like.COLAB_TORCH}.dist-info/RECORD").decode()
    assert "torch/__init__.py" in names and f"Version: {colab_like.COLAB_TORCH}\n" in metadata
    assert all(name in record for name in names)  # pip refuses a wheel whose RECORD misses a file


def test_the_stage_runs_the_chapters_install_requirement_against_this_checkout():
    requirement = colab_like.install_cell_command()
    assert requirement == f"dclm[colab] @ {ROOT.as_uri()}"
    pinned = (ROOT / "requirements" / "colab-like.txt").read_text()
    assert "numpy==2.0.2" in pinned and "torch" not in [line.split("==")[0] for line in pinned.splitlines()]
