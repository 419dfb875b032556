"""Upworthy loader: the shipped counts, both layouts, pairs, splits, and malformed input."""

import gzip

import numpy as np
import pandas as pd
import pytest

from dclm.data import synthetic, upworthy
from dclm.data.errors import DataFormatError, DataNotFoundError


def test_shipped_counts():
    packages = upworthy.read_packages()
    assert len(packages) == 22_666 and packages["test_id"].nunique() == 4_873
    assert packages["created_at"].notna().all()
    # Creation time from the ObjectId agrees with test_week for almost every package.
    iso = packages["created_at"].dt.isocalendar()
    derived = iso["year"].astype(int) * 100 + iso["week"].astype(int) - 1
    assert (abs(derived - packages["test_week"]) <= 1).mean() > 0.95


def test_official_and_shipped_layouts_agree(tmp_path):
    synthetic.write_upworthy_csv(tmp_path / "official.csv", n_tests=30, seed=3, official=True)
    synthetic.write_upworthy_csv(tmp_path / "shipped.csv", n_tests=30, seed=3, official=False)
    official = upworthy.read_packages(tmp_path / "official.csv")
    shipped = upworthy.read_packages(tmp_path / "shipped.csv")
    cols = ["test_id", "headline", "impressions", "clicks", "test_week"]
    pd.testing.assert_frame_equal(official[cols], shipped[cols])
    # Without created_at, the ObjectId's timestamp stands in (to the second).
    assert (abs(official["created_at"] - shipped["created_at"]) < pd.Timedelta(seconds=1)).all()


def test_test_id_time():
    assert upworthy.test_id_time(pd.Series(["546d88fb84ad38b2ce000024"]))[0] == pd.Timestamp("2014-11-20 06:23:55")


def test_pairs_z_test_split_and_leakage():
    packages = upworthy.read_packages()
    pairs = upworthy.headline_pairs(packages)
    assert (pairs["headline_a"] != pairs["headline_b"]).all()
    assert 0.2 < (pairs["p_value"] < 0.05).mean() < 0.4
    z, p = upworthy.two_proportion_z([50], [1000], [30], [1000])
    from statsmodels.stats.proportion import proportions_ztest

    ref_z, ref_p = proportions_ztest([50, 30], [1000, 1000])
    assert np.isclose(z[0], ref_z) and np.isclose(p[0], ref_p)

    split = upworthy.split_test_images(packages, seed=0)
    keys = packages["test_id"] + "|" + packages["eyecatcher_id"].fillna("<none>")
    assert split.groupby(keys).nunique().max() == 1  # a test-image never straddles splits
    shares = split.value_counts(normalize=True)
    assert abs(shares["train"] - 0.6) < 0.02 and abs(shares["test"] - 0.2) < 0.02
    train_headlines = packages.loc[split == "train", "headline"]
    clean = upworthy.drop_leaked_pairs(pairs, train_headlines)
    assert not clean["headline_a"].isin(set(train_headlines)).any()

    view = upworthy.observational_view(packages, seed=1)
    assert len(view) == len(upworthy.test_images(packages))
    assert view.equals(upworthy.observational_view(packages, seed=1))


HEADER = "clickability_test_id,headline,impressions,clicks,test_week,eyecatcher_id\n"
ROW = "546d88fb84ad38b2ce000024,A headline,3000,40,201446,img1\n"

MALFORMED = [
    ("missing column", "clickability_test_id,headline,impressions\n546d88fb84ad38b2ce000024,A,3\n",
     "missing column(s) ['clicks']", 1, None),
    ("renamed column", HEADER.replace("clicks", "click_count") + ROW, "missing column(s) ['clicks']", 1, None),
    ("text impressions", HEADER + ROW + ROW.replace("3000", "lots"), "non-negative integer", 3, "impressions"),
    ("negative clicks", HEADER + ROW.replace(",40,", ",-1,"), "non-negative integer", 2, "clicks"),
    ("fractional clicks", HEADER + ROW.replace(",40,", ",4.5,"), "non-negative integer", 2, "clicks"),
    ("clicks above impressions", HEADER + ROW.replace(",40,", ",4000,"), "exceed impressions", 2, "clicks"),
    ("bad test id", HEADER + ROW.replace("546d88fb84ad38b2ce000024", "test-1"), "24-digit hex", 2,
     "clickability_test_id"),
    ("empty headline", HEADER + ROW.replace("A headline", ""), "empty headline", 2, "headline"),
    ("bad test week", HEADER + ROW.replace("201446", "week46"), "YYYYWW", 2, "test_week"),
    ("impressions past 2**53", HEADER + ROW.replace("3000", "1e30"), "non-negative integer up to 2**53", 2,
     "impressions"),
    ("infinite impressions", HEADER + ROW.replace("3000", "inf"), "non-negative integer", 2, "impressions"),
    ("infinite clicks", HEADER + ROW + ROW.replace(",40,", ",inf,"), "non-negative integer", 3, "clicks"),
    ("test week overflow", HEADER + ROW.replace("201446", "1e30"), "YYYYWW", 2, "test_week"),
    ("test week 99", HEADER + ROW.replace("201446", "201499"), "YYYYWW", 2, "test_week"),
    ("header only", HEADER, "no rows", None, None),
    ("empty file", "", "the file is empty", None, None),
    ("ragged row", HEADER + ROW.strip() + ",extra,fields,here\n", "not a well-formed CSV", None, None),
]


@pytest.mark.parametrize(("case", "text", "message", "line", "field"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_csv_names_file_line_and_field(tmp_path, case, text, message, line, field):
    path = tmp_path / "packages.csv"
    path.write_text(text)
    with pytest.raises(DataFormatError) as err:
        upworthy.read_packages(path)
    assert str(path) in str(err.value) and message in str(err.value)
    assert err.value.line == line and err.value.field == field


def test_wrong_encoding_truncated_gzip_and_missing_path(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes((HEADER + ROW.replace("A headline", "Caf\xe9")).encode("latin-1"))
    with pytest.raises(DataFormatError, match="not UTF-8"):
        upworthy.read_packages(latin)
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(gzip.compress((HEADER + ROW * 500).encode())[:-40])
    with pytest.raises(DataFormatError, match="cannot be read to the end"):
        upworthy.read_packages(cut)
    with pytest.raises(DataNotFoundError):
        upworthy.read_packages(tmp_path / "missing.csv")
