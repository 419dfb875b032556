"""Stack Exchange data dumps: a streaming Posts.xml reader and the Monday-experiment pipeline.

``iter_posts`` streams rows with expat (flat memory, byte-order mark and HTML entities handled,
``.xml``, ``.xml.gz`` and the official ``.7z``); ``read_posts`` builds question and answer
tables; the remaining functions are the author's later re-run pipeline with its choices as
parameters (more than one answer, under 180 words, a split by question, score-preference
pairs, weekday markers). Introduced in the Monday chapter.
"""

from __future__ import annotations

import contextlib
import gzip
import html
import re
import tempfile
import xml.parsers.expat
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd

from dclm.data.errors import DataFormatError, DataNotFoundError
from dclm.data.registry import vendored_path

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
QUESTION, ANSWER = "1", "2"
CHUNK = 1 << 16


@contextlib.contextmanager
def _open_posts(path: Path) -> Iterator:
    """A binary stream of Posts.xml from .xml, .xml.gz or a dump .7z."""
    if not path.exists():
        raise DataNotFoundError(f"{path} does not exist; pass the path of a Posts.xml, Posts.xml.gz "
                                "or a site's .7z from the Stack Exchange data dump")
    if path.suffix == ".7z":
        import py7zr

        with tempfile.TemporaryDirectory() as tmp:
            try:
                with py7zr.SevenZipFile(path) as archive:
                    names = [n for n in archive.getnames() if n.split("/")[-1] == "Posts.xml"]
                    if not names:
                        raise DataFormatError(path, "the archive holds no Posts.xml",
                                              fix="pass a site dump such as academia.stackexchange.com.7z")
                    archive.extract(path=tmp, targets=names[:1])
            except py7zr.exceptions.ArchiveError as err:
                raise DataFormatError(path, f"not a readable 7z archive ({err})") from err
            with open(Path(tmp) / names[0], "rb") as handle:
                yield handle
    elif path.suffix == ".gz":
        with gzip.open(path, "rb") as handle:
            yield handle
    else:
        with open(path, "rb") as handle:
            yield handle


def iter_posts(path: str | Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line, attributes)`` for every ``<row>`` of a Posts.xml, in file order.

    Streams with expat in 64 KiB chunks, so memory stays flat however large the file. Raises
    :class:`DataFormatError` with the line for malformed or truncated XML, a wrong root element
    or an encoding error.
    """
    path = Path(path)
    pending: list[tuple[int, dict[str, str]]] = []
    parser = xml.parsers.expat.ParserCreate()
    state = {"depth": 0, "root": None}

    def start(name: str, attrs: dict[str, str]) -> None:
        state["depth"] += 1
        if state["depth"] == 1:
            state["root"] = name
            if name != "posts":
                raise DataFormatError(path, f"root element is <{name}>, expected <posts>",
                                      line=parser.CurrentLineNumber, fix="is this a Stack Exchange Posts.xml?")
        elif name == "row" and state["depth"] == 2:
            pending.append((parser.CurrentLineNumber, attrs))

    def end(name: str) -> None:
        state["depth"] -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    read_any = False
    try:
        with _open_posts(path) as stream:
            while True:
                try:
                    chunk = stream.read(CHUNK)
                except (OSError, EOFError) as err:  # truncated gzip, bad archive member
                    raise DataFormatError(path, f"the file cannot be read to the end ({err})",
                                          line=parser.CurrentLineNumber) from err
                if not chunk and not read_any:
                    raise DataFormatError(path, "the file is empty", fix="re-download or re-extract the dump")
                read_any = True
                parser.Parse(chunk, not chunk)
                yield from pending
                pending.clear()
                if not chunk:
                    break
    except xml.parsers.expat.ExpatError as err:
        problem = "the XML ends early (truncated file?)" if "no element found" in str(err) or \
            "unclosed token" in str(err) else f"malformed XML: {xml.parsers.expat.errors.messages[err.code]}"
        raise DataFormatError(path, problem, line=err.lineno,
                              fix="re-download or re-extract the dump") from None


def _int(value: str | None, path: Path, line: int, field: str, required: bool = True) -> int | None:
    if value is None or value == "":
        if required:
            raise DataFormatError(path, "missing", line=line, field=field,
                                  fix="every question and answer row needs it")
        return None
    try:
        number = int(value)
    except ValueError:
        raise DataFormatError(path, f"expected an integer, got {value!r}", line=line, field=field) from None
    if not -(2**63) <= number < 2**63:
        raise DataFormatError(path, f"integer out of range (|value| < 2**63), got {value!r}", line=line, field=field)
    return number


def _date(value: str | None, path: Path, line: int) -> pd.Timestamp:
    if not value:
        raise DataFormatError(path, "missing", line=line, field="CreationDate")
    try:
        return pd.Timestamp(value)
    except ValueError:
        raise DataFormatError(path, f"expected an ISO 8601 timestamp, got {value!r}", line=line,
                              field="CreationDate") from None


def read_posts(path: str | Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Questions and answers of a Posts.xml (default: the shipped beer.stackexchange.com file).

    Returns ``(questions, answers)``. Questions: ``question_id, created_at, title, body, tags,
    score, view_count, answer_count``. Answers: ``answer_id, question_id, created_at, weekday,
    body, score``. Bodies stay HTML (see :func:`html_to_text`); ``weekday`` is the day name of
    ``created_at`` (UTC). Other post types (tag wikis, ...) are skipped.
    """
    path = Path(path) if path is not None else vendored_path("stackexchange-beer")
    questions, answers = [], []
    for line, row in iter_posts(path):
        kind = row.get("PostTypeId")
        if kind not in (QUESTION, ANSWER):
            if kind is None:
                raise DataFormatError(path, "missing", line=line, field="PostTypeId")
            continue
        post_id = _int(row.get("Id"), path, line, "Id")
        created = _date(row.get("CreationDate"), path, line)
        score = _int(row.get("Score"), path, line, "Score")
        body = row.get("Body")
        if body is None:
            raise DataFormatError(path, "missing", line=line, field="Body")
        if kind == QUESTION:
            questions.append((post_id, created, row.get("Title", ""), body, row.get("Tags", ""), score,
                              _int(row.get("ViewCount"), path, line, "ViewCount", required=False),
                              _int(row.get("AnswerCount"), path, line, "AnswerCount", required=False)))
        else:
            parent = _int(row.get("ParentId"), path, line, "ParentId")
            answers.append((post_id, parent, created, body, score))
    for rows, kind, what in ((questions, QUESTION, "questions"), (answers, ANSWER, "answers")):
        if not rows:
            raise DataFormatError(path, f"the file holds no {what} (rows with PostTypeId={kind})",
                                  field="PostTypeId", fix="pass a site's full Posts.xml")
    q = pd.DataFrame(questions, columns=["question_id", "created_at", "title", "body", "tags", "score",
                                         "view_count", "answer_count"])
    a = pd.DataFrame(answers, columns=["answer_id", "question_id", "created_at", "body", "score"])
    a.insert(3, "weekday", pd.Categorical(a["created_at"].dt.day_name(), categories=WEEKDAYS))
    return q, a


class _TextExtractor(HTMLParser):
    BLOCKS = {"p", "br", "li", "pre", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "div", "tr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data):
        self.parts.append(data)


def html_to_text(body: str) -> str:
    """Plain text of an HTML post body: tags dropped, entities decoded, whitespace collapsed."""
    extractor = _TextExtractor()
    extractor.feed(body)
    extractor.close()
    return re.sub(r"\s+", " ", html.unescape("".join(extractor.parts))).strip()


def word_count(body: str) -> int:
    """Words in the plain text of an HTML body."""
    return len(html_to_text(body).split())


def filter_posts(questions: pd.DataFrame, answers: pd.DataFrame, min_answers: int = 2,
                 max_words: int = 180) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The re-run's filters: questions with at least ``min_answers`` answers, then questions and
    answers under ``max_words`` words (of plain text). Returns the filtered tables."""
    counts = answers.groupby("question_id").size()
    keep = counts.index[counts >= min_answers]
    q = questions[questions["question_id"].isin(keep)]
    a = answers[answers["question_id"].isin(keep)]
    q = q[q["body"].map(word_count) < max_words]
    a = a[a["body"].map(word_count) < max_words]
    a = a[a["question_id"].isin(q["question_id"])]
    return q.reset_index(drop=True), a.reset_index(drop=True)


def split_by_question(question_ids, sft: int, evaluation: int, seed: int) -> dict[str, np.ndarray]:
    """Disjoint question-id sets: ``sft`` and ``evaluation`` of the given sizes, ``preference`` the rest.

    The paper profile uses 5,000 / 3,000 / rest; smaller data sets scale down (see profiles).
    """
    ids = np.array(sorted(set(question_ids)))
    if sft + evaluation > len(ids):
        raise ValueError(f"sft ({sft}) + evaluation ({evaluation}) exceed the {len(ids)} questions available")
    order = np.random.default_rng(seed).permutation(len(ids))
    return {"sft": ids[order[:sft]], "evaluation": ids[order[sft:sft + evaluation]],
            "preference": ids[order[sft + evaluation:]]}


def fit_split_sizes(n_questions: int, sft: int, evaluation: int, max_share: float = 0.6) -> tuple[int, int]:
    """SFT and evaluation sizes scaled down (in proportion) so they use at most ``max_share``
    of ``n_questions``, leaving the rest for preference pairs; unchanged when they fit.
    A small site such as the shipped beer data gets smaller splits, a profile's sizes stay."""
    budget = int(max_share * n_questions)
    if sft + evaluation <= budget:
        return sft, evaluation
    scale = budget / (sft + evaluation)
    return max(1, int(sft * scale)), max(1, int(evaluation * scale))


def preference_pairs(answers: pd.DataFrame, seed: int, max_pairs_per_question: int = 10,
                     score: str = "score", min_margin: float = 0.0) -> pd.DataFrame:
    """Chosen/rejected answer pairs within each question: the higher ``score`` is chosen.

    Pairs whose scores differ by ``min_margin`` or less are ties and dropped (0: exact ties,
    right for raw integer votes). For adjusted scores use a margin such as 0.5: integer votes
    cannot resolve smaller differences, and without it the estimation error of the
    adjustment alone would decide every tie, always in the same direction. At most
    ``max_pairs_per_question`` pairs per question, drawn with ``seed`` (deterministic).
    Columns: ``question_id, chosen_id, rejected_id, chosen_score, rejected_score``.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for question_id, group in answers.sort_values("answer_id").groupby("question_id", sort=True):
        ids, scores = group["answer_id"].to_numpy(), group[score].to_numpy()
        i, j = np.triu_indices(len(ids), k=1)
        differ = np.abs(scores[i] - scores[j]) > min_margin
        i, j = i[differ], j[differ]
        if len(i) > max_pairs_per_question:
            pick = np.sort(rng.choice(len(i), size=max_pairs_per_question, replace=False))
            i, j = i[pick], j[pick]
        first_wins = scores[i] > scores[j]
        chosen = np.where(first_wins, i, j)
        rejected = np.where(first_wins, j, i)
        for c, r in zip(chosen, rejected, strict=True):
            rows.append((question_id, ids[c], ids[r], scores[c], scores[r]))
    return pd.DataFrame(rows, columns=["question_id", "chosen_id", "rejected_id", "chosen_score",
                                       "rejected_score"])


def add_weekday_markers(answers: pd.DataFrame, days=("Monday", "Friday"),
                        template: str = "<p>Happy {day}!</p>") -> pd.DataFrame:
    """A copy of ``answers`` with ``template`` prepended to the bodies of answers posted on ``days``.

    Adds a ``marker`` column (the day whose marker was added, or empty).
    """
    unknown = [d for d in days if d not in WEEKDAYS]
    if unknown:
        raise ValueError(f"days: {unknown} are not weekday names; use {WEEKDAYS}")
    marked = answers.copy()
    hit = marked["weekday"].astype(str).isin(days)
    marked["marker"] = np.where(hit, marked["weekday"].astype(str), "")
    marked.loc[hit, "body"] = [template.format(day=day) + body
                               for day, body in zip(marked.loc[hit, "weekday"].astype(str),
                                                    marked.loc[hit, "body"], strict=True)]
    return marked
