"""The built site in headless Chromium (scripts/sitecheck.py), and proof that each check bites.

Run after `make book`. Screenshots of every page go to _build/screenshots/. Without a
Chromium the checks are skipped with the install command, except under CI=true, where they
must run (`make site` installs Debian's chromium when it can).
"""

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
spec = importlib.util.spec_from_file_location("sitecheck", ROOT / "scripts" / "sitecheck.py")
sitecheck = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sitecheck)

PAGE = "book/01-confounding.html"


@pytest.fixture(scope="module", autouse=True)
def chromium():
    if sitecheck.find_chromium() is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and no Chromium: the browser checks must run here; {sitecheck.INSTALL_HINT}")
        pytest.skip(f"no Chromium for the browser checks; install it: {sitecheck.INSTALL_HINT}")
    if not (HTML / "index.html").exists():
        pytest.fail("no _build/html/index.html: run `make book` first")


def test_every_page_passes_in_a_real_browser():
    report = sitecheck.check_site(HTML, ROOT, screenshots=ROOT / "_build" / "screenshots")
    assert report == {}, "\n".join(f"{page}: {p}" for page, problems in report.items() for p in problems)
    assert (ROOT / "_build" / "screenshots" / "book__01-confounding.png").exists()


def _inject(text: str, snippet: str) -> str:
    return text.replace("</body>", snippet + "</body>", 1)


BREAKS = {
    "console error": (lambda t: _inject(t, '<script>console.error("injected")</script>'), "console error"),
    "broken image": (lambda t: t.replace('<img alt="', '<img src="../_images/no-such.png" alt="', 1)
                     if '<img alt="' in t else _inject(t, '<img src="no-such.png">'), "image does not load"),
    "broken internal link": (lambda t: _inject(t, '<a href="no-such-page.html">x</a>'),
                             "internal link to a missing file"),
    "badge to another notebook": (lambda t: t.replace("notebooks/01-confounding.ipynb",
                                                      "notebooks/02-instrumental-variables.ipynb"),
                                  "Colab badge opens"),
    "visible solutions": (lambda t: t.replace('class="solution dropdown admonition"', 'class="solution admonition"'),
                          "visible before a click"),
    "request to the internet": (lambda t: _inject(t, '<img src="https://example.com/pixel.png">'),
                                "request leaves 127.0.0.1"),
    "missing lesson figure": (lambda t: t.replace('id="fig-confounding-lesson"', 'id="fig-something-else"'),
                              "no lesson figure"),
}


@pytest.mark.parametrize("name", list(BREAKS))
def test_a_broken_copy_of_the_site_fails(tmp_path, name):
    site = tmp_path / "html"
    shutil.copytree(HTML, site, ignore=shutil.ignore_patterns("mathjax"))
    shutil.copytree(HTML / "_static" / "mathjax", site / "_static" / "mathjax", dirs_exist_ok=True)
    breaker, expected = BREAKS[name]
    page = site / PAGE
    original = page.read_text()
    broken = breaker(original)
    assert broken != original, f"the {name!r} break did not apply"
    page.write_text(broken)
    report = sitecheck.check_site(site, ROOT, pages=[PAGE], search=False)
    problems = report.get(PAGE, [])
    assert any(expected in p for p in problems), problems


def test_search_finds_a_chapter_by_a_word_of_its_title():
    with sitecheck.serve(HTML) as base, sitecheck.browser() as chromium:
        context = chromium.new_context()
        assert sitecheck.check_search(context, base, "Upworthy", "book/04-upworthy.html") == []
        assert sitecheck.check_search(context, base, "Upworthy", "book/01-confounding.html") != []
        context.close()
