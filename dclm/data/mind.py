"""MIND (Microsoft News Dataset) readers: news.tsv and behaviors.tsv.

MIND may not be redistributed, so nothing of it ships with dclm. Point ``DCLM_MIND_DIR`` (or
the ``root`` argument) at an unzipped split, or let :func:`dclm.data.synthetic.write_mind`
write a same-schema stand-in. Introduced in the DeconfoundLM chapter.
"""

from __future__ import annotations

import csv
import json
import os
from datetime import datetime
from pathlib import Path

import pandas as pd

from dclm.data.errors import DataFormatError, DataNotFoundError
from dclm.data.registry import get

MIND_DIR_ENV_VAR = "DCLM_MIND_DIR"
NEWS_COLUMNS = ("news_id", "category", "subcategory", "title", "abstract", "url", "title_entities",
                "abstract_entities")
BEHAVIOR_COLUMNS = ("impression_id", "user_id", "time", "history", "impressions")
TIME_FORMAT = "%m/%d/%Y %I:%M:%S %p"


def _rows(path: Path, n_columns: int):
    if not path.exists():
        raise DataNotFoundError(f"{path} does not exist. {get('mind-small-train').how_to_get}")
    line_number = 0
    try:
        # utf-8-sig: a byte-order mark (Windows editors add one) would otherwise stick to the first id.
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            for fields in reader:
                line_number = reader.line_num
                if len(fields) != n_columns:
                    raise DataFormatError(path, f"expected {n_columns} tab-separated columns, got {len(fields)}",
                                          line=line_number, fix="MIND files have no header and no quoting")
                yield line_number, fields
    except UnicodeDecodeError as err:
        raise DataFormatError(path, f"not UTF-8 text (byte {err.start})") from None
    except csv.Error as err:  # a field over csv's limit (131,072 characters), a NUL byte
        raise DataFormatError(path, f"unreadable row ({err})", line=line_number + 1,
                              fix="MIND fields are short tab-separated texts") from None


def _entities(value: str, path: Path, line: int, field: str) -> list:
    if value == "":
        return []
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as err:
        raise DataFormatError(path, f"not a JSON list ({err.msg})", line=line, field=field) from None
    except RecursionError:
        raise DataFormatError(path, "JSON nested too deeply", line=line, field=field) from None
    if not isinstance(parsed, list):
        raise DataFormatError(path, f"expected a JSON list, got {type(parsed).__name__}", line=line, field=field)
    for entity in parsed:
        if not isinstance(entity, dict):
            raise DataFormatError(path, f"expected a list of entity objects, got an item {entity!r:.60}",
                                  line=line, field=field)
        forms = entity.get("SurfaceForms", [])
        if not isinstance(forms, list) or not all(isinstance(f, str) for f in forms):
            raise DataFormatError(path, f"SurfaceForms must be a list of strings, got {forms!r:.60}",
                                  line=line, field=field)
        if not isinstance(entity.get("Type", ""), str):
            raise DataFormatError(path, f"Type must be a string, got {entity.get('Type')!r:.60}", line=line,
                                  field=field)
    return parsed


def read_news(path: str | Path) -> pd.DataFrame:
    """A MIND ``news.tsv``: one row per article, entity columns parsed from JSON."""
    path = Path(path)
    records = []
    for line, fields in _rows(path, len(NEWS_COLUMNS)):
        record = dict(zip(NEWS_COLUMNS, fields, strict=True))
        if not record["news_id"].startswith("N"):
            raise DataFormatError(path, f"expected an id like N12345, got {record['news_id']!r}", line=line,
                                  field="news_id")
        if not record["title"]:
            raise DataFormatError(path, "empty title", line=line, field="title")
        record["title_entities"] = _entities(record["title_entities"], path, line, "title_entities")
        record["abstract_entities"] = _entities(record["abstract_entities"], path, line, "abstract_entities")
        records.append(record)
    if not records:
        raise DataFormatError(path, "the file is empty")
    return pd.DataFrame.from_records(records, columns=list(NEWS_COLUMNS))


def read_behaviors(path: str | Path) -> pd.DataFrame:
    """A MIND ``behaviors.tsv``: ``history`` and ``impressions`` become lists.

    ``impressions`` is a list of ``(news_id, clicked)`` with ``clicked`` None in the test split.
    """
    path = Path(path)
    records = []
    for line, fields in _rows(path, len(BEHAVIOR_COLUMNS)):
        impression_id, user_id, time, history, impressions = fields
        try:
            when = datetime.strptime(time, TIME_FORMAT)
        except ValueError:
            raise DataFormatError(path, f"expected a time like 11/12/2019 2:14:46 PM, got {time!r}",
                                  line=line, field="time") from None
        items = []
        for token in impressions.split():
            news_id, dash, label = token.partition("-")
            if dash and label not in ("0", "1"):
                raise DataFormatError(path, f"expected N123-0 or N123-1, got {token!r}", line=line,
                                      field="impressions")
            items.append((news_id, (label == "1") if dash else None))
        if not items:
            raise DataFormatError(path, "no impressions", line=line, field="impressions")
        try:
            impression = int(impression_id)
        except ValueError:
            raise DataFormatError(path, f"expected an integer, got {impression_id!r}", line=line,
                                  field="impression_id") from None
        records.append((impression, user_id, when, history.split(), items))
    if not records:
        raise DataFormatError(path, "the file is empty")
    return pd.DataFrame.from_records(records, columns=list(BEHAVIOR_COLUMNS))


def mind_dir(root: str | Path | None = None) -> Path:
    """The folder of a user's MIND split: ``root`` or ``$DCLM_MIND_DIR``; a clear error otherwise."""
    chosen = root if root is not None else os.environ.get(MIND_DIR_ENV_VAR)
    if not chosen:
        raise DataNotFoundError(
            f"no MIND folder given: set {MIND_DIR_ENV_VAR} or pass root. "
            f"{get('mind-small-train').how_to_get}. Without MIND, dclm.data.synthetic.write_mind writes a "
            "same-schema stand-in")
    folder = Path(chosen)
    if not (folder / "news.tsv").exists():
        raise DataNotFoundError(f"{folder} holds no news.tsv; point {MIND_DIR_ENV_VAR} at an unzipped MIND split")
    return folder


def unpack_zip(zip_path: str | Path, dest: str | Path) -> Path:
    """Extract ``news.tsv`` and ``behaviors.tsv`` of an official MIND zip into ``dest``; return it.

    Use with ``dclm.data.registry.fetch("mind-small-train")`` after accepting the licence.
    Each file is written to a temporary name and renamed, so an interrupted extraction leaves
    nothing that looks complete.
    """
    import shutil
    import zipfile

    zip_path, dest = Path(zip_path), Path(dest)
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, FileNotFoundError) as err:
        raise DataFormatError(zip_path, f"not a readable zip ({err})", fix="re-download the MIND zip") from None
    with archive:
        members = {Path(n).name: n for n in archive.namelist()}
        missing = [f for f in ("news.tsv", "behaviors.tsv") if f not in members]
        if missing:
            raise DataFormatError(zip_path, f"the zip holds no {missing}", fix="pass an official MIND zip")
        dest.mkdir(parents=True, exist_ok=True)
        for name in ("news.tsv", "behaviors.tsv"):
            tmp = dest / f".{name}.part"
            with archive.open(members[name]) as source, open(tmp, "wb") as target:
                shutil.copyfileobj(source, target)
            tmp.replace(dest / name)
    return dest


def load_mind(root: str | Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(news, behaviors)`` of the MIND split in ``root`` (or ``$DCLM_MIND_DIR``)."""
    folder = mind_dir(root)
    return read_news(folder / "news.tsv"), read_behaviors(folder / "behaviors.tsv")


def team_headlines(news: pd.DataFrame, min_headlines: int = 5) -> pd.DataFrame:
    """Titles with the team each names (``""`` for none): the corpus of the DeconfoundLM chapter.

    A team is the surface form of an organisation entity (``Type == "O"``) of a sports title
    that occurs in the title; teams named by fewer than ``min_headlines`` titles are dropped
    (those titles keep ``team = ""``). Returns columns ``news_id, title, team``.
    """
    teams = []
    for category, title, entities in zip(news["category"], news["title"], news["title_entities"], strict=True):
        team = ""
        if category == "sports":
            for entity in entities:
                forms = [f for f in entity.get("SurfaceForms", []) if f and f in title]
                if entity.get("Type") == "O" and forms:
                    team = forms[0]
                    break
        teams.append(team)
    out = pd.DataFrame({"news_id": news["news_id"], "title": news["title"], "team": teams})
    counts = out.loc[out["team"] != "", "team"].value_counts()
    out.loc[out["team"].isin(counts[counts < min_headlines].index), "team"] = ""
    return out.reset_index(drop=True)
