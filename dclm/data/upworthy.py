"""The Upworthy Research Archive: packages, within-test headline pairs, observational views.

Reads the official 17-column CSVs and the shipped reduced file into one schema; recovers
creation time from the test id where ``created_at`` is missing; builds the comparisons of the
author's later pipeline (headlines in the same test *and* with the same image, two-proportion
z-tests), the observational view (one package per test-image), and a 60/20/20 split by
test-image with the leakage filter. Introduced in the Upworthy chapter.
"""

from __future__ import annotations

import csv
import gzip
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from dclm.data.errors import DataFormatError, DataNotFoundError
from dclm.data.registry import vendored_path

REQUIRED = ("clickability_test_id", "headline", "impressions", "clicks")
OPTIONAL_TEXT = ("eyecatcher_id", "lede", "excerpt")
# Test ids minted before this moment were re-minted in a migration: their timestamp is wrong.
MIGRATION = pd.Timestamp("2013-03-15")
COLUMNS = ["test_id", "created_at", "test_week", "eyecatcher_id", "headline", "lede", "excerpt",
           "impressions", "clicks", "ctr"]


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise DataNotFoundError(f"{path} does not exist; pass an Upworthy archive CSV or use the shipped file")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as handle, warnings.catch_warnings():
            # Extra fields would otherwise silently shift columns (or be dropped): fail instead.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(handle, dtype=str, keep_default_na=False, na_values=[""], index_col=False)
    except pd.errors.ParserWarning:
        raise DataFormatError(path, "not a well-formed CSV (rows have more fields than the header)") from None
    except UnicodeDecodeError as err:
        raise DataFormatError(path, f"not UTF-8 text (byte {err.start})",
                              fix="the archive's CSVs are UTF-8; re-download the file") from None
    except (pd.errors.ParserError, csv.Error) as err:
        raise DataFormatError(path, f"not a well-formed CSV ({str(err).strip()})") from None
    except pd.errors.EmptyDataError:
        raise DataFormatError(path, "the file is empty") from None
    except (OSError, EOFError) as err:
        raise DataFormatError(path, f"the file cannot be read to the end ({err})") from None
    if frame.empty:
        raise DataFormatError(path, "the file has a header but no rows")
    return frame


def _fail_at_first(bad, path: Path, field: str, problem) -> None:
    """Raise for the first True row of ``bad``; ``problem(row)`` words it (line = row + 2: header)."""
    bad = np.asarray(bad)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataFormatError(path, problem(row), line=row + 2, field=field)


# Counts are read as floats; above 2**53 a float no longer holds every integer exactly.
MAX_COUNT = 2**53


def _counts(frame: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").astype(float)
    _fail_at_first(values.isna() | (values < 0) | (values > MAX_COUNT) | (values != np.floor(values)), path, column,
                   lambda row: f"expected a non-negative integer up to 2**53, got {raw.iloc[row]!r}")
    return values.to_numpy().astype(np.int64)


def test_id_time(test_ids: pd.Series) -> pd.Series:
    """Creation time from a MongoDB ObjectId test id (first 8 hex digits: Unix seconds, UTC)."""
    seconds = test_ids.str.slice(0, 8).map(lambda h: int(h, 16))
    return pd.to_datetime(seconds, unit="s")


def _week_start(test_week: pd.Series) -> pd.Series:
    # test_week is YYYYWW with weeks counted from 00 (ISO week - 1 for most dates).
    years = test_week // 100
    weeks = test_week % 100
    return pd.to_datetime(years.astype(str) + "-01-01") + pd.to_timedelta(weeks * 7, unit="D")


def read_packages(path: str | Path | None = None) -> pd.DataFrame:
    """Packages of an Upworthy archive CSV (default: the shipped exploratory file).

    Accepts the official 17-column files (``created_at`` present) and the shipped reduced file
    (``created_at`` recovered from the test id, or from ``test_week`` for ids re-minted in the
    2013-03-15 migration). Returns one row per package with columns ``test_id, created_at,
    test_week, eyecatcher_id, headline, lede, excerpt, impressions, clicks, ctr``.
    Raises :class:`DataFormatError` naming the file, line and column for missing columns,
    non-numeric or negative counts, clicks above impressions, or bad test ids.
    """
    path = Path(path) if path is not None else vendored_path("upworthy-exploratory")
    frame = _read_csv(path)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise DataFormatError(path, f"missing column(s) {missing}; found {list(frame.columns)}", line=1,
                              fix="pass an Upworthy archive packages CSV")
    impressions = _counts(frame, "impressions", path)
    clicks = _counts(frame, "clicks", path)
    _fail_at_first(clicks > impressions, path, "clicks",
                   lambda row: f"clicks ({clicks[row]}) exceed impressions ({impressions[row]})")
    test_ids = frame["clickability_test_id"]
    _fail_at_first(~test_ids.fillna("").str.fullmatch(r"[0-9a-f]{24}"), path, "clickability_test_id",
                   lambda row: f"expected a 24-digit hex test id, got {test_ids.iloc[row]!r}")
    _fail_at_first(frame["headline"].isna(), path, "headline", lambda row: "empty headline")

    if "test_week" in frame.columns:
        test_week = pd.to_numeric(frame["test_week"], errors="coerce").astype(float)
        # YYYYWW: a year from 1970 to 2099 (pandas timestamps) and a week from 00 to 53.
        valid = test_week.between(197000, 209953) & (test_week == np.floor(test_week)) & (test_week % 100 <= 53)
        _fail_at_first(~valid, path, "test_week",
                       lambda row: f"expected YYYYWW (year 1970-2099, week 00-53), got {frame['test_week'].iloc[row]!r}")
        test_week = test_week.astype(np.int64)
    else:
        test_week = None
    if "created_at" in frame.columns:
        created = pd.to_datetime(frame["created_at"], errors="coerce")
        _fail_at_first(created.isna(), path, "created_at",
                       lambda row: f"expected a timestamp, got {frame['created_at'].iloc[row]!r}")
    else:
        created = test_id_time(test_ids)
        if test_week is not None:
            created = created.where(created >= MIGRATION, _week_start(test_week))
    if test_week is None:
        iso = created.dt.isocalendar()
        test_week = (iso["year"].astype(np.int64) * 100 + iso["week"].astype(np.int64) - 1)

    out = pd.DataFrame({
        "test_id": test_ids.to_numpy(),
        "created_at": created.to_numpy(),
        "test_week": np.asarray(test_week),
        "eyecatcher_id": frame.get("eyecatcher_id", pd.Series(pd.NA, index=frame.index)).to_numpy(),
        "headline": frame["headline"].to_numpy(),
        "lede": frame.get("lede", pd.Series(pd.NA, index=frame.index)).to_numpy(),
        "excerpt": frame.get("excerpt", pd.Series(pd.NA, index=frame.index)).to_numpy(),
        "impressions": impressions,
        "clicks": clicks,
    })
    out["ctr"] = np.divide(clicks, impressions, out=np.zeros(len(out)), where=impressions > 0)
    return out


def test_images(packages: pd.DataFrame) -> pd.DataFrame:
    """One row per (test, image) group: its packages, distinct headlines and impressions."""
    keyed = packages.assign(eyecatcher_id=packages["eyecatcher_id"].fillna("<none>"))
    grouped = keyed.groupby(["test_id", "eyecatcher_id"], sort=True)
    return grouped.agg(packages=("headline", "size"), headlines=("headline", "nunique"),
                       impressions=("impressions", "sum")).reset_index()


def two_proportion_z(clicks_a, n_a, clicks_b, n_b) -> tuple[np.ndarray, np.ndarray]:
    """Pooled two-proportion z statistics and two-sided p-values (0 and 1 when no clicks at all)."""
    clicks_a, n_a, clicks_b, n_b = (np.asarray(v, dtype=float) for v in (clicks_a, n_a, clicks_b, n_b))
    pooled = (clicks_a + clicks_b) / (n_a + n_b)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    diff = clicks_a / n_a - clicks_b / n_b
    z = np.divide(diff, se, out=np.zeros_like(diff), where=se > 0)
    return z, 2 * stats.norm.sf(np.abs(z))


def headline_pairs(packages: pd.DataFrame) -> pd.DataFrame:
    """Every unordered pair of different headlines in the same test and with the same image.

    These contrasts are experimental: viewers were randomised among the packages. Columns:
    ``test_id, eyecatcher_id, package_a, package_b`` (index labels in ``packages``),
    ``headline_a, headline_b, ctr_a, ctr_b, z, p_value, a_wins``.
    """
    keyed = packages.assign(eyecatcher_id=packages["eyecatcher_id"].fillna("<none>"), _row=packages.index)
    parts = []
    for (test_id, image), group in keyed.groupby(["test_id", "eyecatcher_id"], sort=True):
        if group["headline"].nunique() < 2:
            continue
        g = group.reset_index(drop=True)
        i, j = np.triu_indices(len(g), k=1)
        keep = g["headline"].to_numpy()[i] != g["headline"].to_numpy()[j]
        i, j = i[keep], j[keep]
        parts.append(pd.DataFrame({
            "test_id": test_id, "eyecatcher_id": image,
            "package_a": g["_row"].to_numpy()[i], "package_b": g["_row"].to_numpy()[j],
            "headline_a": g["headline"].to_numpy()[i], "headline_b": g["headline"].to_numpy()[j],
            "clicks_a": g["clicks"].to_numpy()[i], "impressions_a": g["impressions"].to_numpy()[i],
            "clicks_b": g["clicks"].to_numpy()[j], "impressions_b": g["impressions"].to_numpy()[j],
        }))
    pairs = pd.concat(parts, ignore_index=True)
    pairs["ctr_a"] = pairs["clicks_a"] / pairs["impressions_a"]
    pairs["ctr_b"] = pairs["clicks_b"] / pairs["impressions_b"]
    pairs["z"], pairs["p_value"] = two_proportion_z(pairs["clicks_a"], pairs["impressions_a"],
                                                    pairs["clicks_b"], pairs["impressions_b"])
    pairs["a_wins"] = pairs["ctr_a"] > pairs["ctr_b"]
    return pairs


def observational_view(packages: pd.DataFrame, seed: int) -> pd.DataFrame:
    """One package per test-image, drawn with ``seed``: what a log without experiments holds."""
    keyed = packages.assign(_image=packages["eyecatcher_id"].fillna("<none>"))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(keyed))
    shuffled = keyed.iloc[order]
    picked = shuffled.drop_duplicates(["test_id", "_image"]).sort_index()
    return picked.drop(columns="_image")


def split_test_images(packages: pd.DataFrame, seed: int,
                      fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)) -> pd.Series:
    """``"train"``, ``"validation"`` or ``"test"`` for each package, split by test-image."""
    if len(fractions) != 3 or not np.isclose(sum(fractions), 1.0) or min(fractions) < 0:
        raise ValueError(f"fractions must be three non-negative shares summing to 1, got {fractions}")
    keys = packages["test_id"] + "|" + packages["eyecatcher_id"].fillna("<none>")
    unique = np.array(sorted(keys.unique()))
    order = np.random.default_rng(seed).permutation(len(unique))
    n_train = int(round(fractions[0] * len(unique)))
    n_val = int(round(fractions[1] * len(unique)))
    label = np.empty(len(unique), dtype=object)
    label[order[:n_train]] = "train"
    label[order[n_train:n_train + n_val]] = "validation"
    label[order[n_train + n_val:]] = "test"
    return keys.map(dict(zip(unique, label, strict=True))).rename("split")


def drop_leaked_pairs(pairs: pd.DataFrame, train_headlines) -> pd.DataFrame:
    """Evaluation pairs neither of whose headlines appears in training (the leakage filter)."""
    seen = set(train_headlines)
    leaked = pairs["headline_a"].isin(seen) | pairs["headline_b"].isin(seen)
    return pairs[~leaked].reset_index(drop=True)
