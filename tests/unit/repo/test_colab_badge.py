"""book/_ext/colab_badge.py in a two-page Sphinx build: the chapter's badges and the {practice} role."""

import io
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import colab_badge  # noqa: E402

REPO = "https://github.com/someone/dclm-fork"


def build(tmp_path: Path, with_practice: bool) -> tuple[str, str, str]:
    from sphinx.application import Sphinx

    (tmp_path / "book" / "_static").mkdir(parents=True)
    (tmp_path / "book" / "_static" / "colab-badge.svg").write_text((ROOT / "book/_static/colab-badge.svg").read_text())
    (tmp_path / "notebooks" / "practice").mkdir(parents=True)
    (tmp_path / "notebooks" / "01-story.ipynb").write_text("{}")
    if with_practice:
        (tmp_path / "notebooks" / "practice" / "01-story.ipynb").write_text("{}")
    (tmp_path / "conf.py").write_text(
        f"extensions = ['myst_parser', 'colab_badge']\nhtml_static_path = ['book/_static']\n"
        f"exclude_patterns = ['_build', 'notebooks']\n"
        f"html_theme_options = {{'repository_url': {REPO!r}, 'repository_branch': 'dev'}}\n")
    (tmp_path / "index.md").write_text("# Guide\n\nPractice: {practice}`01-story`.\n\n```{toctree}\nbook/01-story\n```\n")
    (tmp_path / "book" / "01-story.md").write_text("# A chapter\n\nText.\n")
    out = tmp_path / "_build"
    app = Sphinx(str(tmp_path), str(tmp_path), str(out), str(out / ".doctrees"), "html",
                 status=None, warning=(warnings := io.StringIO()), freshenv=True)
    app.build()
    return (out / "book" / "01-story.html").read_text(), (out / "index.html").read_text(), warnings.getvalue()


def test_chapter_gets_a_practice_badge_and_the_role_links_the_practice_notebook(tmp_path):
    chapter, index, warnings = build(tmp_path, with_practice=True)
    assert "does not exist" not in warnings
    practice = colab_badge.colab_url(REPO, "dev", "01-story", "notebooks/practice")
    assert practice == "https://colab.research.google.com/github/someone/dclm-fork/blob/dev/notebooks/practice/01-story.ipynb"
    assert chapter.count('class="colab-badge"') == 1  # the site checks count exactly one
    assert 'class="practice-badge"' in chapter and f'href="{practice}"' in chapter
    assert f'href="{practice}"' in index


def test_without_a_practice_notebook_there_is_no_practice_badge_and_the_role_is_an_error(tmp_path):
    chapter, index, warnings = build(tmp_path, with_practice=False)
    assert 'class="colab-badge"' in chapter and "practice-badge" not in chapter
    assert "notebooks/practice/01-story.ipynb" not in index
    assert "notebooks/practice/01-story.ipynb does not exist" in warnings


def test_repository_url_must_be_a_github_repository():
    with pytest.raises(ValueError, match="repository.url"):
        colab_badge.colab_url("https://gitlab.com/a/b", "main", "01-story", "notebooks/practice")
