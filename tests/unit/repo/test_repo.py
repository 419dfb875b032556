"""The repository's own contracts: what CI runs, what the book build reads, the pins."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]


def test_ci_runs_exactly_make_test():
    lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[-1] == "exec make test"


def test_book_excludes_every_top_level_folder_that_is_not_the_book():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    excluded = set(config["exclude_patterns"])
    folders = {p.name for p in ROOT.iterdir() if p.is_dir()} - {"book"}
    missing = sorted(f for f in folders if f not in excluded and not f.endswith(".egg-info"))
    assert not missing, f"add {missing} to exclude_patterns in _config.yml"
    assert config["execute"]["timeout"] >= 900


def test_environment_yml_uses_the_same_pins_as_ci():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d for d in env["dependencies"] if isinstance(d, dict))["pip"]
    assert "-r requirements/lock.txt" in pip_section
    lock = (ROOT / "requirements" / "lock.txt").read_text()
    assert "\ntorch==2.13.0\n" in lock and "\njupyter-book==1." in lock
    makefile = (ROOT / "Makefile").read_text()
    assert "-c requirements/lock.txt torch==2.13.0" in makefile


def test_data_appendix_includes_every_card():
    from dclm.data.registry import REGISTRY

    page = (ROOT / "book" / "data.md").read_text()
    for card in {d.card for d in REGISTRY.values()}:
        assert f"{{include}} ../dclm/data/cards/{card}" in page, f"add {card} to book/data.md"


def test_bibliography_parses_and_every_citation_has_an_entry():
    # A broken .bib stops the book build only after the whole experiment stage; catch it here.
    import re

    from pybtex.database import parse_file

    entries = parse_file(str(ROOT / "book" / "references.bib")).entries
    cited = {key.strip() for page in (ROOT / "book").glob("*.md")
             for keys in re.findall(r"\{cite(?::[pt])?\}`([^`]+)`", page.read_text()) for key in keys.split(",")}
    assert cited - set(entries) == set(), "cited keys without a bibliography entry"


# A paragraph that gives a number from a source outside this run names where it comes from.
_SOURCE_WORDS = re.compile(r"arXiv v1|\bv1's|paper reports|paper's (?:number|value|formula|result)|"
                           r"re-run's (?:Table|model|DPO)|later analysis's rows", re.I)
_SOURCE_TAGS = re.compile(r"secondary summary|via a summary|\{cite|job-market|ICLR|review|notes on the paper|"
                          r"\(reported", re.I)


def untagged_source_paragraphs(markdown: str) -> list[str]:
    """Prose paragraphs (code, glued values and maths left out) that quote a number from the paper
    or the re-run without a source tag (the secondary summary, a citation, the reviews)."""
    text = re.sub(r"```.*?```", "", markdown, flags=re.S)
    text = re.sub(r"\{glue:\w+\}`[^`]*`", "", text)
    found = []
    for paragraph in re.split(r"\n\s*\n", text):
        flat = " ".join(paragraph.split())
        has_number = re.search(r"\d", re.sub(r"\$[^$]*\$", "", flat))
        if _SOURCE_WORDS.search(flat) and has_number and not _SOURCE_TAGS.search(flat):
            found.append(flat[:160])
    return found


def test_the_attribution_check_bites():
    assert untagged_source_paragraphs("arXiv v1 reports 0.85 for the IV policy.")
    assert not untagged_source_paragraphs("arXiv v1 reports 0.85 (via the secondary summary).")
    assert not untagged_source_paragraphs("```python\narXiv v1 = 0.85\n```")


@pytest.mark.parametrize("page", sorted(p.name for p in (ROOT / "book").glob("*.md")))
def test_numbers_from_the_paper_or_the_rerun_name_their_source(page):
    assert untagged_source_paragraphs((ROOT / "book" / page).read_text()) == []
