"""MIND readers on generated files, and malformed input."""

import pytest

from dclm.data import mind, synthetic
from dclm.data.errors import DataFormatError, DataNotFoundError

NEWS = ("N1\tsports\tfootball_nfl\tLynxes win a game\tAbstract\thttps://x/N1.html\t"
        '[{"Label": "Lynxes", "Type": "O"}]\t[]\n')
BEHAVIOR = "1\tU1\t11/11/2019 9:05:58 AM\tN1 N2\tN1-1 N2-0\n"


def test_generated_files_round_trip(tmp_path):
    truth = synthetic.write_mind(tmp_path, n_news=120, n_users=30, n_impressions=80, seed=0)
    news, behaviors = mind.load_mind(tmp_path)
    assert len(news) == 120 and len(behaviors) == 80
    assert list(news.columns) == list(mind.NEWS_COLUMNS)
    sports = news[news["category"] == "sports"]
    assert all(e[0]["SurfaceForms"][0] in t for e, t in zip(sports["title_entities"], sports["title"], strict=True))
    assert set(truth["news"]["news_id"]) == set(news["news_id"])
    shown = {news_id for items in behaviors["impressions"] for news_id, _ in items}
    assert shown <= set(news["news_id"])


def test_env_var_and_missing_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DCLM_MIND_DIR", raising=False)
    with pytest.raises(DataNotFoundError, match="set DCLM_MIND_DIR"):
        mind.load_mind()
    with pytest.raises(DataNotFoundError, match="holds no news.tsv"):
        mind.load_mind(tmp_path)
    synthetic.write_mind(tmp_path, n_news=20, n_users=5, n_impressions=5, seed=1)
    monkeypatch.setenv("DCLM_MIND_DIR", str(tmp_path))
    assert len(mind.load_mind()[0]) == 20


NEWS_MALFORMED = [
    ("too few columns", "N1\tsports\tTitle\n", "expected 8 tab-separated columns, got 3", 1, None),
    ("header row", "news_id\tcategory\tsubcategory\ttitle\tabstract\turl\ttitle_entities\tabstract_entities\n",
     "expected an id like N12345", 1, "news_id"),
    ("bad id", NEWS.replace("N1\t", "X1\t", 1), "expected an id like N12345", 1, "news_id"),
    ("empty title", NEWS.replace("Lynxes win a game", ""), "empty title", 1, "title"),
    ("bad entity JSON", NEWS.replace('[{"Label": "Lynxes", "Type": "O"}]', "[{broken"), "not a JSON list", 1,
     "title_entities"),
    ("entity not a list", NEWS.replace('[{"Label": "Lynxes", "Type": "O"}]', '{"Label": 1}'), "expected a JSON list",
     1, "title_entities"),
    ("second line broken", NEWS + "N2\tsports\n", "got 2", 2, None),
    ("bad abstract entity JSON", NEWS.replace("\t[]\n", "\t[oops\n"), "not a JSON list", 1, "abstract_entities"),
    ("quoted title with a tab", NEWS.replace("Lynxes win a game", '"Lynxes\twin"'), "got 9", 1, None),
    ("field over csv's limit", NEWS.replace("Abstract", "x" * 131_073), "unreadable row", 1, None),
    ("field over csv's limit on line 2", NEWS + NEWS.replace("Abstract", "x" * 131_073), "unreadable row", 2, None),
    ("deeply nested entity JSON", NEWS.replace('[{"Label": "Lynxes", "Type": "O"}]', "[" * 20_000 + "]" * 20_000), "nested too deeply", 1,
     "title_entities"),
    ("entities not objects", NEWS.replace('[{"Label": "Lynxes", "Type": "O"}]', "[1, 2]"), "a list of entity objects", 1, "title_entities"),
    ("SurfaceForms a string", NEWS.replace('[{"Label": "Lynxes", "Type": "O"}]', '[{"Type": "O", "SurfaceForms": "Cats"}]'),
     "SurfaceForms must be a list of strings", 1, "title_entities"),
    ("Type a number", NEWS.replace('[{"Label": "Lynxes", "Type": "O"}]', '[{"Type": 1, "SurfaceForms": []}]'), "Type must be a string", 1,
     "title_entities"),
    ("empty file", "", "the file is empty", None, None),
]

BEHAVIOR_MALFORMED = [
    ("too many columns", BEHAVIOR.strip() + "\textra\n", "expected 5 tab-separated columns, got 6", 1, None),
    ("bad time", BEHAVIOR.replace("11/11/2019 9:05:58 AM", "2019-11-11"), "expected a time like", 1, "time"),
    ("bad label", BEHAVIOR.replace("N1-1", "N1-yes"), "expected N123-0 or N123-1", 1, "impressions"),
    ("no impressions", BEHAVIOR.replace("N1-1 N2-0", ""), "no impressions", 1, "impressions"),
    ("bad impression id", BEHAVIOR.replace("1\tU1", "one\tU1", 1), "expected an integer", 1, "impression_id"),
    ("24-hour time", BEHAVIOR.replace("9:05:58 AM", "21:05:58"), "expected a time like", 1, "time"),
    ("missing label dash value", BEHAVIOR.replace("N2-0", "N2-"), "expected N123-0 or N123-1", 1, "impressions"),
    ("header row", "impression_id\tuser_id\ttime\thistory\timpressions\n", "expected a time like", 1, "time"),
    ("news file given as behaviors", NEWS, "expected 5 tab-separated columns, got 8", 1, None),
    ("empty file", "", "the file is empty", None, None),
]


@pytest.mark.parametrize(("case", "text", "message", "line", "field"), NEWS_MALFORMED, ids=[m[0] for m in NEWS_MALFORMED])
def test_malformed_news(tmp_path, case, text, message, line, field):
    path = tmp_path / "news.tsv"
    path.write_text(text)
    with pytest.raises(DataFormatError) as err:
        mind.read_news(path)
    assert str(path) in str(err.value) and message in str(err.value)
    assert err.value.line == line and err.value.field == field


@pytest.mark.parametrize(("case", "text", "message", "line", "field"), BEHAVIOR_MALFORMED,
                         ids=[m[0] for m in BEHAVIOR_MALFORMED])
def test_malformed_behaviors(tmp_path, case, text, message, line, field):
    path = tmp_path / "behaviors.tsv"
    path.write_text(text)
    with pytest.raises(DataFormatError) as err:
        mind.read_behaviors(path)
    assert str(path) in str(err.value) and message in str(err.value)
    assert err.value.line == line and err.value.field == field


def test_unpack_official_zip(tmp_path):
    import zipfile

    synthetic.write_mind(tmp_path / "src", n_news=20, n_users=5, n_impressions=5, seed=2)
    archive = tmp_path / "MINDsmall_train.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for name in ("news.tsv", "behaviors.tsv"):
            out.write(tmp_path / "src" / name, name)
    folder = mind.unpack_zip(archive, tmp_path / "unpacked")
    assert len(mind.load_mind(folder)[0]) == 20
    assert not list(folder.glob(".*"))
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"not a zip")
    with pytest.raises(DataFormatError, match="not a readable zip"):
        mind.unpack_zip(broken, tmp_path / "x")
    partial = tmp_path / "partial.zip"
    with zipfile.ZipFile(partial, "w") as out:
        out.write(tmp_path / "src" / "news.tsv", "news.tsv")
    with pytest.raises(DataFormatError, match="holds no"):
        mind.unpack_zip(partial, tmp_path / "y")


def test_test_split_without_labels_and_wrong_encoding(tmp_path):
    path = tmp_path / "behaviors.tsv"
    path.write_text(BEHAVIOR.replace("N1-1 N2-0", "N1 N2"))
    assert mind.read_behaviors(path)["impressions"][0] == [("N1", None), ("N2", None)]
    latin = tmp_path / "news.tsv"
    latin.write_bytes(NEWS.replace("Lynxes", "L\xfcnxes").encode("latin-1"))
    with pytest.raises(DataFormatError, match="not UTF-8"):
        mind.read_news(latin)


def test_byte_order_mark_is_stripped(tmp_path):
    path = tmp_path / "news.tsv"
    path.write_text("\ufeff" + NEWS, encoding="utf-8")
    assert mind.read_news(path)["news_id"].tolist() == ["N1"]
    behaviors = tmp_path / "behaviors.tsv"
    behaviors.write_text("\ufeff" + BEHAVIOR, encoding="utf-8")
    assert mind.read_behaviors(behaviors)["impression_id"].tolist() == [1]
