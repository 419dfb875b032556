"""Every data set the book uses: where it comes from, its licence, its card, how to get it.

Vendored samples ship inside the package (compressed) so that ``pip install`` users and Colab
have them offline. Other files download through pooch into ``$DCLM_DATA_DIR`` (default: the
user cache, ``~/.cache/dclm``), verified by sha256 where upstream is fixed, written to a
temporary file and renamed only once complete. Introduced in the data appendix.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from dclm.data.errors import ChecksumError, DataNotFoundError

DATA_DIR_ENV_VAR = "DCLM_DATA_DIR"


@dataclass(frozen=True)
class Dataset:
    """One data set: identity, provenance, licence and how dclm obtains it."""

    name: str
    title: str
    source_urls: tuple[str, ...]
    licence: str
    attribution: str
    card: str  # file name under dclm/data/cards/
    # File dclm fetches (download URL and its sha256), or None when only a local path works.
    download_url: str | None = None
    sha256: str | None = None
    # The vendored, gzip-compressed copy under dclm/data/vendor/, if shipped.
    vendored: str | None = None
    # sha256 of the original (uncompressed) file the vendored copy was made from.
    original_sha256: str | None = None
    redistributable: bool = True
    # The installed Python package whose copy dclm reads, for data that comes with a dependency.
    installed_with: str | None = None
    how_to_get: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def card_text(self) -> str:
        """The data card (markdown)."""
        return resources.files("dclm.data").joinpath("cards", self.card).read_text(encoding="utf-8")


def _stackexchange(site: str, what: str, licence: str, second_source: str, **fields) -> Dataset:
    """A Stack Exchange site's entry: the dump's archive, attribution and card follow from the site."""
    return Dataset(
        name=f"stackexchange-{site}",
        title=f"{site}.stackexchange.com {what}",
        source_urls=("https://archive.org/details/stackexchange", second_source),
        licence=licence,
        attribution=f"Stack Exchange, Inc. and the post authors of {site}.stackexchange.com",
        card=f"stackexchange-{site}.md",
        **fields,
    )


def _mind_split(split: str, how_to_get: str, notes: tuple[str, ...]) -> Dataset:
    """A MIND-small split's entry: the two splits differ only in their name and zip file."""
    return Dataset(
        name=f"mind-small-{split}",
        title=f"MIND small, {'training' if split == 'train' else 'development'} split (news.tsv, behaviors.tsv)",
        source_urls=("https://msnews.github.io",),
        licence="Microsoft Research License Terms (non-commercial research; no redistribution)",
        attribution="F. Wu et al. (2020), MIND: A Large-scale Dataset for News Recommendation, ACL 2020",
        card="mind.md",
        download_url=f"https://mind201910small.blob.core.windows.net/release/MINDsmall_{split}.zip",
        redistributable=False,
        how_to_get=how_to_get,
        notes=(*notes, "sha256=None: no official checksum is published"),
    )


REGISTRY: dict[str, Dataset] = {
    d.name: d
    for d in (
        _stackexchange(
            "beer", "Posts.xml (Stack Exchange data dump, about March 2017)", licence="CC BY-SA 3.0",
            second_source="https://github.com/kevswanberg/beer_tentrr/blob/8e275ba23f3942c83e1297e7c62102282f3b0f82/Posts.xml",
            vendored="beer.stackexchange.com-Posts.xml.gz",
            original_sha256="37a93b290a79c20ee14127febfadb18e58a172e39f732f690512c1dac4da8777",
            how_to_get="shipped with dclm",
        ),
        _stackexchange(
            "academia", "data dump (7z with Posts.xml)",
            licence="CC BY-SA 3.0 (content before 2018-05-02) / CC BY-SA 4.0 (after)",
            second_source="https://academia.stackexchange.com (account settings: data dump)",
            download_url="https://archive.org/download/stackexchange/academia.stackexchange.com.7z",
            how_to_get=("download academia.stackexchange.com.7z from the Stack Exchange data dump "
                        "(archive.org item 'stackexchange', or your account settings on the site since "
                        "2024) and pass its path; dclm reads the .7z, Posts.xml or Posts.xml.gz"),
            notes=("sha256=None: the dump is re-published quarterly and its hosting moved in 2024, "
                   "so no fixed hash can be verified from here",),
        ),
        Dataset(
            name="upworthy-exploratory",
            title="Upworthy Research Archive, exploratory packages (22,666 packages, 4,873 tests)",
            source_urls=("https://osf.io/jd64p/", "https://upworthy.natematias.com/about-the-archive"),
            licence="CC BY 4.0",
            attribution=("J. N. Matias, K. Munger, M. Aubin Le Quere and C. Ebersole (2021), The Upworthy "
                         "Research Archive, a time series of 32,487 experiments in U.S. media, Scientific "
                         "Data 8:195, doi:10.1038/s41597-021-00934-7"),
            card="upworthy-exploratory.md",
            vendored="upworthy-exploratory-packages.csv.gz",
            original_sha256="0bd8ba9632cc1f72a7e78a2ef1b02193f62cb3bc795d312ad53632429350e638",
            how_to_get="shipped with dclm; the official 17-column CSVs from OSF also load",
        ),
        Dataset(
            name="card-1995",
            title="Card (1995) college proximity, NLS Young Men 1966/1976 (3,010 men)",
            source_urls=("https://github.com/bashtage/linearmodels/tree/main/linearmodels/datasets/card",
                         "https://davidcard.berkeley.edu/data_sets.html"),
            licence="not stated by its distributors; read from the copy inside linearmodels (its code: NCSA)",
            attribution=("D. Card (1995), Using Geographic Variation in College Proximity to Estimate the Return "
                         "to Schooling, in Aspects of Labour Market Behavior (University of Toronto Press), "
                         "201-222; as distributed with J. M. Wooldridge, Introductory Econometrics"),
            card="textbook-iv.md",
            installed_with="linearmodels",
            how_to_get="installed with linearmodels, a dependency of dclm: dclm.data.textbook.load_card()",
        ),
        Dataset(
            name="mroz-1987",
            title="Mroz (1987) married women's labour supply, PSID 1975 (753 women, 428 in the labour force)",
            source_urls=("https://github.com/bashtage/linearmodels/tree/main/linearmodels/datasets/mroz",),
            licence="not stated by its distributors; read from the copy inside linearmodels (its code: NCSA)",
            attribution=("T. A. Mroz (1987), The Sensitivity of an Empirical Model of Married Women's Hours of "
                         "Work to Economic and Statistical Assumptions, Econometrica 55, 765-799; as distributed "
                         "with J. M. Wooldridge, Introductory Econometrics"),
            card="textbook-iv.md",
            installed_with="linearmodels",
            how_to_get="installed with linearmodels, a dependency of dclm: dclm.data.textbook.load_mroz()",
        ),
        _mind_split("train", how_to_get=(
            "accept the licence at https://msnews.github.io, download MINDsmall_train.zip, unzip it and set "
            "DCLM_MIND_DIR to the folder holding news.tsv and behaviors.tsv"),
            notes=("not shipped: its licence forbids redistribution; dclm falls back to a generator with the "
                   "same schema (dclm.data.synthetic.write_mind)",)),
        _mind_split("dev", how_to_get="as mind-small-train, with MINDsmall_dev.zip",
                    notes=("not shipped: its licence forbids redistribution",)),
    )
}


class UnknownDatasetError(KeyError):
    def __str__(self) -> str:
        return self.args[0]


def get(name: str) -> Dataset:
    """The registry entry ``name``; unknown names list the valid ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownDatasetError(f"unknown data set {name!r}; valid names: {', '.join(REGISTRY)}") from None


def data_dir() -> Path:
    """Where downloads are cached: ``$DCLM_DATA_DIR`` or the user cache (``~/.cache/dclm``)."""
    explicit = os.environ.get(DATA_DIR_ENV_VAR)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dclm"


def vendored_path(name: str) -> Path:
    """Path of the compressed copy shipped inside dclm."""
    dataset = get(name)
    if dataset.vendored is None:
        raise DataNotFoundError(f"{name} is not shipped with dclm: {dataset.how_to_get}")
    return Path(str(resources.files("dclm.data").joinpath("vendor", dataset.vendored)))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(name: str, url: str | None = None, sha256: str | None = None, progress: bool = True) -> Path:
    """The local path of data set ``name``: vendored copy, cached download, or a new download.

    ``url``/``sha256`` override the registry (tests use a ``file://`` URL). Downloads are
    verified against the sha256 when one is known; a mismatch raises :class:`ChecksumError`
    and leaves nothing in the cache. A file fetched without a known sha256 is kept with a note
    of its URL (``<file>.source.json``) and is served again only for that same URL, never as
    the registry's verified copy; :func:`verification` says which it is. A failed fetch leaves
    nothing behind, not even an empty folder.
    """
    dataset = get(name)
    if url is None and dataset.vendored is not None:
        return vendored_path(name)
    url = url or dataset.download_url
    known = sha256 if sha256 is not None else (dataset.sha256 if url == dataset.download_url else None)
    if url is None:
        raise DataNotFoundError(f"{name} cannot be downloaded automatically: {dataset.how_to_get}")
    if url.endswith("/"):
        raise DataNotFoundError(f"{name}: {url} names a folder; give the URL of the file itself")
    target_dir = data_dir() / name
    target = target_dir / url.split("/")[-1]
    if target.is_file():
        if known is not None and sha256_of(target) == known:
            return target
        if known is None and _source(target) == {"url": url, "sha256": None}:
            return target  # fetched unverified from this very URL before
    created = [p for p in (target_dir, *target_dir.parents) if not p.exists()]
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
        if url.startswith("file://"):
            _copy_verified(Path(url[len("file://"):]), target, known, name)
        else:
            _download_verified(url, target, known, name, dataset, progress)
        _note_source(target, url, known)
    except BaseException:
        for folder in created:  # innermost first; only folders this call made, and only if empty
            try:
                folder.rmdir()
            except OSError:
                break
        raise
    return target


def _source_path(target: Path) -> Path:
    return target.with_name(target.name + ".source.json")


def _source(target: Path) -> dict | None:
    import json

    try:
        return json.loads(_source_path(target).read_text())
    except (OSError, ValueError):
        return None


def _note_source(target: Path, url: str, known: str | None) -> None:
    from dclm.cache import write_json_atomic

    if known is None:
        write_json_atomic(_source_path(target), {"url": url, "sha256": None})
    else:
        _source_path(target).unlink(missing_ok=True)


def verification(dataset: Dataset) -> str:
    """How ``dclm data fetch`` checks this data set: ``"verified"`` (fixed sha256 known),
    ``"unverified"`` (no hash can be known), ``"shipped"``, ``"in <package>"`` or ``"local path"``."""
    if dataset.vendored is not None:
        return "shipped"
    if dataset.installed_with is not None:
        return f"in {dataset.installed_with}"
    if dataset.download_url is None:
        return "local path"
    return "verified" if dataset.sha256 else "unverified"


def _download_verified(url: str, target: Path, known: str | None, name: str, dataset: Dataset,
                       progress: bool) -> None:
    import pooch

    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        downloader = pooch.HTTPDownloader(progressbar=progress)
        try:
            downloader(url, str(tmp), None)
        except Exception as err:  # network errors vary by backend; name the data set and the fix
            raise DataNotFoundError(f"could not download {name} from {url}: {err}. {dataset.how_to_get}") from err
        _verify(tmp, known, name, url)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _verify(path: Path, known: str | None, name: str, source: str) -> None:
    if known is None:
        return
    actual = sha256_of(path)
    if actual != known:
        raise ChecksumError(f"{name}: {source} has sha256 {actual}, expected {known}; the file is "
                            "corrupt or upstream changed it, so nothing was cached")


def _copy_verified(source: Path, target: Path, known: str | None, name: str) -> Path:
    if not source.exists():
        raise DataNotFoundError(f"{name}: {source} does not exist")
    if not source.is_file():
        raise DataNotFoundError(f"{name}: {source} is not a file; give the URL of the file itself")
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        shutil.copyfile(source, tmp)
        _verify(tmp, known, name, str(source))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
