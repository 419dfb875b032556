"""Posts.xml reader: the shipped counts, the pipeline, and malformed input."""

import gzip

import numpy as np
import pytest

from dclm.data import stackexchange as se
from dclm.data.errors import DataFormatError, DataNotFoundError

GOOD_QUESTION = '<row Id="1" PostTypeId="1" CreationDate="2015-01-05T10:00:00.000" Score="3" Body="&lt;p&gt;Q?&lt;/p&gt;" Title="T" />'
GOOD_ANSWER = '<row Id="2" PostTypeId="2" ParentId="1" CreationDate="2015-01-05T11:00:00.000" Score="2" Body="&lt;p&gt;A &amp;amp; B&lt;/p&gt;" />'


def write(tmp_path, text, name="Posts.xml", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_shipped_beer_counts_and_weekdays():
    questions, answers = se.read_posts()
    assert (len(questions), len(answers)) == (663, 1572)
    counts = answers["weekday"].value_counts().reindex(se.WEEKDAYS).tolist()
    assert counts == [221, 335, 313, 272, 203, 116, 112]  # SOURCE.md's weekday counts
    assert answers["question_id"].isin(questions["question_id"]).all()


def test_bom_entities_and_gzip(tmp_path):
    text = "\ufeff<?xml version='1.0' encoding='utf-8'?>\n<posts>\n" + GOOD_QUESTION + "\n" + GOOD_ANSWER + "\n</posts>"
    plain = write(tmp_path, text)
    gz = tmp_path / "Posts.xml.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    for path in (plain, gz):
        questions, answers = se.read_posts(path)
        assert answers["body"].iloc[0] == "<p>A &amp; B</p>"
        assert se.html_to_text(answers["body"].iloc[0]) == "A & B"
        assert answers["weekday"].iloc[0] == "Monday"


def test_reads_the_official_7z(tmp_path):
    import py7zr

    inner = write(tmp_path, "<posts>" + GOOD_QUESTION + GOOD_ANSWER + "</posts>")
    archive = tmp_path / "beer.stackexchange.com.7z"
    with py7zr.SevenZipFile(archive, "w") as out:
        out.write(inner, "Posts.xml")
    assert len(se.read_posts(archive)[1]) == 1


MALFORMED = [
    ("truncated", "<posts>" + GOOD_QUESTION + '<row Id="2" PostTy', "the XML ends early", 1, None),
    ("unclosed root", "<posts>\n" + GOOD_QUESTION + "\n", "the XML ends early", None, None),
    ("wrong root", "<users><row Id='1' /></users>", "root element is <users>", 1, None),
    ("empty", "", "the file is empty", None, None),
    ("missing Id", "<posts>\n" + GOOD_QUESTION.replace('Id="1" ', "", 1) + "</posts>", "missing", 2, "Id"),
    ("bad Score", "<posts>\n" + GOOD_QUESTION.replace('Score="3"', 'Score="many"') + "</posts>",
     "expected an integer", 2, "Score"),
    ("missing CreationDate", "<posts>\n" + GOOD_QUESTION.replace('CreationDate="2015-01-05T10:00:00.000" ', "") + "</posts>",
     "missing", 2, "CreationDate"),
    ("bad CreationDate", "<posts>\n" + GOOD_QUESTION.replace("2015-01-05T10:00:00.000", "yesterday") + "</posts>",
     "ISO 8601", 2, "CreationDate"),
    ("answer without ParentId", "<posts>\n" + GOOD_ANSWER.replace('ParentId="1" ', "") + "</posts>", "missing", 2, "ParentId"),
    ("missing PostTypeId", "<posts>\n<row Id='5' Score='1' /></posts>", "missing", 2, "PostTypeId"),
    ("missing Body", "<posts>\n" + GOOD_QUESTION.replace('Body="&lt;p&gt;Q?&lt;/p&gt;" ', "") + "</posts>", "missing", 2, "Body"),
    ("undefined entity", "<posts>\n<row Id='1' PostTypeId='1' Body='&nbsp;' /></posts>", "malformed XML", 2, None),
    ("no answers", "<posts>\n" + GOOD_QUESTION + "\n</posts>", "holds no answers", None, "PostTypeId"),
    ("no questions", "<posts>\n" + GOOD_ANSWER + "\n</posts>", "holds no questions", None, "PostTypeId"),
    ("Score out of range", "<posts>\n" + GOOD_QUESTION.replace('Score="3"', 'Score="1' + "0" * 20 + '"') + "</posts>",
     "out of range", 2, "Score"),
]


@pytest.mark.parametrize(("case", "text", "message", "line", "field"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_posts_name_file_line_and_field(tmp_path, case, text, message, line, field):
    path = write(tmp_path, text)
    with pytest.raises(DataFormatError) as err:
        se.read_posts(path)
    assert err.value.file == str(path) and str(path) in str(err.value)
    if message:
        assert message in str(err.value)
    if line is not None:
        assert err.value.line == line
    if field is not None:
        assert err.value.field == field and repr(field) in str(err.value)


def test_wrong_encoding_and_corrupt_gzip(tmp_path):
    latin = write(tmp_path, "<?xml version='1.0' encoding='utf-8'?><posts><row Body='caf\xe9' /></posts>",
                  encoding="latin-1")
    with pytest.raises(DataFormatError, match="malformed XML"):
        se.read_posts(latin)
    corrupt = tmp_path / "Posts.xml.gz"
    corrupt.write_bytes(gzip.compress(b"<posts>" + GOOD_QUESTION.encode() * 50)[:-30])
    with pytest.raises(DataFormatError, match="cannot be read to the end"):
        se.read_posts(corrupt)


def test_missing_path_and_archive_without_posts(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        se.read_posts(tmp_path / "nope.xml")
    import py7zr

    other = write(tmp_path, "<users/>", name="Users.xml")
    archive = tmp_path / "site.7z"
    with py7zr.SevenZipFile(archive, "w") as out:
        out.write(other, "Users.xml")
    with pytest.raises(DataFormatError, match="holds no Posts.xml"):
        se.read_posts(archive)


def test_pipeline_filters_splits_pairs_and_markers():
    questions, answers = se.read_posts()
    q, a = se.filter_posts(questions, answers)
    assert a.groupby("question_id").size().min() >= 1
    assert (a["body"].map(se.word_count) < 180).all() and (q["body"].map(se.word_count) < 180).all()
    counts = answers.groupby("question_id").size()
    assert set(q["question_id"]) <= set(counts.index[counts >= 2])

    split = se.split_by_question(q["question_id"], sft=100, evaluation=50, seed=0)
    assert len(split["sft"]) == 100 and len(split["evaluation"]) == 50
    assert not set(split["sft"]) & set(split["evaluation"]) and not set(split["sft"]) & set(split["preference"])
    assert sum(len(v) for v in split.values()) == q["question_id"].nunique()
    with pytest.raises(ValueError, match="exceed"):
        se.split_by_question(q["question_id"], sft=10_000, evaluation=1, seed=0)

    pairs = se.preference_pairs(a, seed=0)
    assert (pairs["chosen_score"] > pairs["rejected_score"]).all()  # ties dropped, higher chosen
    assert pairs.groupby("question_id").size().max() <= 10
    assert pairs.equals(se.preference_pairs(a, seed=0))
    small = se.preference_pairs(a, seed=0, max_pairs_per_question=2)
    assert small.groupby("question_id").size().max() <= 2

    marked = se.add_weekday_markers(a)
    monday = marked["weekday"] == "Monday"
    assert marked.loc[monday, "body"].str.startswith("<p>Happy Monday!</p>").all()
    assert (marked.loc[~marked["weekday"].isin(["Monday", "Friday"]), "body"]
            == a.loc[~a["weekday"].isin(["Monday", "Friday"]), "body"]).all()
    with pytest.raises(ValueError, match="not weekday names"):
        se.add_weekday_markers(a, days=("Mon",))


def test_html_to_text():
    assert se.html_to_text("<p>One</p><p>Two &amp; <strong>three</strong></p>\n<pre>x</pre>") == "One Two & three x"
    assert np.isclose(se.word_count("<p>a b c</p>"), 3)
