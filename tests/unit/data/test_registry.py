"""Registry: provenance fields, vendored copies equal their originals, verified atomic fetch."""

import gzip
import hashlib
import os

import pytest

from dclm.data import registry
from dclm.data.errors import ChecksumError, DataNotFoundError


def test_every_entry_has_provenance_and_a_card():
    for dataset in registry.REGISTRY.values():
        assert dataset.source_urls and dataset.licence and dataset.attribution
        card = dataset.card_text()
        assert dataset.licence.split()[0] in card or "Licence" in card
        if dataset.sha256 is None and dataset.download_url is not None:
            assert any("sha256=None" in note for note in dataset.notes), dataset.name
        if not dataset.redistributable:
            assert dataset.vendored is None


@pytest.mark.parametrize("name", ["stackexchange-beer", "upworthy-exploratory"])
def test_vendored_copy_decompresses_to_the_original(name):
    dataset = registry.get(name)
    path = registry.fetch(name)
    assert path == registry.vendored_path(name) and path.suffix == ".gz"
    assert hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest() == dataset.original_sha256
    assert dataset.original_sha256 in dataset.card_text()


def test_unknown_and_unshipped_names():
    with pytest.raises(KeyError, match="valid names: stackexchange-beer"):
        registry.get("nope")
    with pytest.raises(DataNotFoundError, match="is not shipped"):
        registry.vendored_path("mind-small-train")


def test_fetch_from_a_file_url_verifies_and_caches(tmp_path, monkeypatch):
    monkeypatch.setenv("DCLM_DATA_DIR", str(tmp_path / "cache"))
    source = tmp_path / "MINDsmall_train.zip"
    source.write_bytes(b"fake zip bytes")
    digest = hashlib.sha256(b"fake zip bytes").hexdigest()
    path = registry.fetch("mind-small-train", url=f"file://{source}", sha256=digest)
    assert path.read_bytes() == b"fake zip bytes" and path.parent == tmp_path / "cache" / "mind-small-train"
    source.unlink()  # served from the cache now
    assert registry.fetch("mind-small-train", url=f"file://{source}", sha256=digest) == path


def test_checksum_mismatch_leaves_nothing_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DCLM_DATA_DIR", str(tmp_path / "cache"))
    source = tmp_path / "MINDsmall_dev.zip"
    source.write_bytes(b"tampered")
    with pytest.raises(ChecksumError, match="expected 000"):
        registry.fetch("mind-small-dev", url=f"file://{source}", sha256="0" * 64)
    assert os.listdir(tmp_path / "cache" / "mind-small-dev") == []
    with pytest.raises(DataNotFoundError, match="does not exist"):
        registry.fetch("mind-small-dev", url=f"file://{tmp_path / 'missing.zip'}")
