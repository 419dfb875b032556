"""Registry: provenance fields, vendored copies equal their originals, verified atomic fetch."""

import dataclasses
import gzip
import hashlib

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
    assert not (tmp_path / "cache").exists()  # not even an empty folder
    with pytest.raises(DataNotFoundError, match="does not exist"):
        registry.fetch("mind-small-dev", url=f"file://{tmp_path / 'missing.zip'}")


def test_a_fetch_without_sha256_is_unverified_and_never_served_for_another_source(tmp_path, monkeypatch):
    monkeypatch.setenv("DCLM_DATA_DIR", str(tmp_path / "cache"))
    for folder, content in (("a", b"first"), ("b", b"second")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "hostname").write_bytes(content)
    first = registry.fetch("mind-small-dev", url=f"file://{tmp_path / 'a' / 'hostname'}")
    assert first.read_bytes() == b"first"
    # Same file name, another source: the unverified copy is not taken for it.
    assert registry.fetch("mind-small-dev", url=f"file://{tmp_path / 'b' / 'hostname'}").read_bytes() == b"second"

    def offline(*args, **kwargs):
        raise registry.DataNotFoundError("offline")

    monkeypatch.setattr(registry, "_download_verified", offline)
    monkeypatch.setattr(registry, "REGISTRY", {**registry.REGISTRY, "mind-small-dev": dataclasses.replace(
        registry.REGISTRY["mind-small-dev"], download_url="https://example.invalid/hostname")})
    with pytest.raises(DataNotFoundError, match="offline"):  # the registry's own URL is fetched, not served
        registry.fetch("mind-small-dev")
    assert {registry.verification(d) for d in registry.REGISTRY.values() if d.download_url and not d.sha256} == \
        {"unverified"}


def test_a_folder_url_is_a_clean_error_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("DCLM_DATA_DIR", str(tmp_path / "cache"))
    (tmp_path / "folder").mkdir()
    with pytest.raises(DataNotFoundError, match="is not a file"):
        registry.fetch("mind-small-dev", url=f"file://{tmp_path / 'folder'}")
    with pytest.raises(DataNotFoundError, match="names a folder"):
        registry.fetch("mind-small-dev", url=f"file://{tmp_path / 'folder'}/")
    assert not (tmp_path / "cache").exists()
