"""Every practice notebook runs both ways: reference solutions filled in (every check passes) and
blanks as committed (every check fails with its message; nothing crashes)."""

import importlib.util
import os
import time
from pathlib import Path

import nbclient
import nbformat
import pytest

from dclm import practice

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("notebooks_script", ROOT / "scripts" / "notebooks.py")
notebooks_script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(notebooks_script)

SOURCES = notebooks_script.practice_sources()
# Chapter 0 is set-up; chapters 1-6 have practice notebooks (issue 17). A later chapter adds its
# own practice/NN-slug.md, and from then on the tests below hold it to the same rules.
REQUIRED_PRACTICE = ("01-confounding", "02-instrumental-variables", "03-monday-effect", "04-upworthy",
                     "05-deconfoundlm", "06-diagnose")
# Practice notebooks are cheap by design: small data, no training.
SECONDS_PER_NOTEBOOK = 60


def test_chapters_1_to_6_have_a_practice_notebook_with_three_your_turn_cells():
    stems = [p.stem for p in SOURCES]
    assert set(REQUIRED_PRACTICE) <= set(stems)
    assert set(stems) <= {p.stem for p in notebooks_script.chapters()}, "a practice source without its chapter"
    for source in SOURCES:
        notebook = notebooks_script.practice_notebook(source)
        turns = [c for c in notebook.cells if notebooks_script.YOUR_TURN in c.metadata.get("tags", [])]
        assert len(turns) >= 3, f"{source.name}: {len(turns)} your-turn cells"
        for cell in turns:
            assert "# your turn" in cell.source and notebooks_script.BEGIN not in cell.source
            assert notebooks_script.BLANK not in cell.source


def _check_outputs(notebook) -> list[str]:
    """The text each check cell displayed (one verdict per check cell)."""
    verdicts = []
    for cell in notebook.cells:
        if notebooks_script.CHECK not in cell.metadata.get("tags", []):
            continue
        text = "".join(o.get("data", {}).get("text/plain", "") + o.get("text", "") for o in cell.outputs)
        verdicts.append(text.strip())
    return verdicts


def _execute(notebook, tmp_path: Path):
    started = time.perf_counter()
    nbclient.NotebookClient(notebook, timeout=SECONDS_PER_NOTEBOOK, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    return time.perf_counter() - started


@pytest.mark.parametrize("solutions", [True, False], ids=["solutions", "blanks"])
@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_practice_notebook_runs(source, solutions, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    if solutions:
        notebook = notebooks_script.practice_notebook(source, solutions=True)
    else:  # the students' notebook exactly as committed
        notebook = nbformat.read(ROOT / "notebooks" / "practice" / f"{source.stem}.ipynb", as_version=4)
    seconds = _execute(notebook, tmp_path)  # raises CellExecutionError if any cell crashes
    assert seconds < SECONDS_PER_NOTEBOOK
    verdicts = _check_outputs(notebook)
    assert len(verdicts) >= 3
    for verdict in verdicts:
        if solutions:
            assert verdict.startswith(practice.PASS), verdict
        else:
            assert verdict.startswith(practice.FAIL) and "still None" in verdict, verdict


def test_instructor_guide_maps_every_exercise_and_practice_question():
    """The objectives tables stay in step with the chapters that have practice notebooks: a new
    exercise or practice question must be mapped to an objective, and a mapped one must exist."""
    import re

    guide = (ROOT / "book" / "instructor.md").read_text()
    practised = {p.stem for p in SOURCES}
    labels = {label for chapter in notebooks_script.chapters() if chapter.stem in practised
              for label in re.findall(r"^:label: (ex-[\w-]+)$", chapter.read_text(), flags=re.M)}
    every_label = {label for chapter in notebooks_script.chapters()
                   for label in re.findall(r"^:label: (ex-[\w-]+)$", chapter.read_text(), flags=re.M)}
    referenced = set(re.findall(r"<(ex-[\w-]+)>", guide))
    own = set(re.findall(r"^:label: (ex-[\w-]+)$", guide, flags=re.M))
    assert labels - referenced == set(), "exercises the instructor guide does not map"
    assert referenced - every_label - own == set(), "the instructor guide maps exercises that do not exist"
    for source in SOURCES:
        assert f"{{practice}}`{source.stem}`" in guide, source.stem
    turns = {int(p.stem[:2]): sum(notebooks_script.YOUR_TURN in c.metadata.get("tags", [])
                                  for c in notebooks_script.practice_notebook(p).cells) for p in SOURCES}
    mapped = {n: set() for n in turns}
    for number, questions in re.findall(r"practice (\d), questions? ([\d, and]+)", guide):
        mapped[int(number)] |= {int(q) for q in re.findall(r"\d", questions)}
    for number, count in turns.items():
        assert mapped[number] == set(range(1, count + 1)), f"practice {number}: mapped {sorted(mapped[number])}"
