import os

import pytest

# Tests never touch the hub, and their figures never need a display.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    """A run cache of the test's own, so cache tests never see other runs."""
    monkeypatch.setenv("DCLM_RUN_CACHE", str(tmp_path / "runs"))
    return tmp_path / "runs"
