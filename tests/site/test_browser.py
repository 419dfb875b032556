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
    "table wider than the text column": (lambda t: t.replace("</article>", '<table style="width:1600px">'
                                                             "<tr><td>wide</td></tr></table></article>", 1),
                                         "wider than the text column: <table> by"),
    "missing stylesheet": (lambda t: t.replace("dclm.css", "no-such.css"), "HTTP 404 for _static/no-such.css"),
    "slider whose positions all show one figure": (lambda t: _one_frame(t), "does not change its figure"),
}


def _one_frame(text: str) -> str:
    import json
    import re

    # Every position shows the figure the page opens with: moving a slider changes nothing.
    shown = re.search(r'class="dclm-slider-figure"[^>]*src="([^"]+)"', text).group(1)

    def same(match):
        frames = json.loads(match.group(2))
        return match.group(1) + json.dumps(dict.fromkeys(frames, shown)) + match.group(3)

    return re.sub(r'(class="dclm-slider-frames">)(.*?)(</script>)', same, text, count=1, flags=re.S)


@pytest.mark.parametrize("name", list(BREAKS))
def test_a_broken_copy_of_the_site_fails(tmp_path, name):
    site = _copy_site(tmp_path)
    breaker, expected = BREAKS[name]
    page = site / PAGE
    original = page.read_text()
    broken = breaker(original)
    assert broken != original, f"the {name!r} break did not apply"
    page.write_text(broken)
    report = sitecheck.check_site(site, ROOT, pages=[PAGE], search=False)
    problems = report.get(PAGE, [])
    assert any(expected in p for p in problems), problems


def _copy_site(tmp_path) -> Path:
    site = tmp_path / "html"
    shutil.copytree(HTML, site, ignore=shutil.ignore_patterns("mathjax", "*.pdf"))
    shutil.copytree(HTML / "_static" / "mathjax", site / "_static" / "mathjax", dirs_exist_ok=True)
    return site


def test_a_wide_pandas_table_fits_the_text_column(tmp_path):
    # Chapters 4 and 5 print tables like this one (a two-level header, nine columns); the
    # book's stylesheet keeps them inside the column instead of behind a sideways scroll.
    import pandas as pd

    columns = pd.MultiIndex.from_product([["orthogonal", "entangled"],
                                          ["sentiment (ours)", "sentiment (v1, reported)", "team rate", "fluent"]])
    frame = pd.DataFrame([["0.123 (0.045)", "0.842", "0.12", "0.95"] * 2] * 5, columns=columns,
                         index=["naive (y)", "confounder as feature", "DeconfoundLM-IV", "invariance penalty",
                                "oracle (s(T))"])
    output = ('<div class="cell docutils container"><div class="cell_output docutils container">'
              f'<div class="output text_html">{frame._repr_html_()}</div></div></div>')
    site = _copy_site(tmp_path)
    page = site / PAGE
    page.write_text(page.read_text().replace("</article>", output + "</article>", 1))
    assert "wider than the text column" not in " ".join(sitecheck.check_site(site, ROOT, pages=[PAGE],
                                                                             search=False).get(PAGE, []))
    page.write_text(page.read_text().replace("dclm.css", "no-such.css"))
    problems = sitecheck.check_site(site, ROOT, pages=[PAGE], search=False)[PAGE]
    assert any("wider than the text column: <table.dataframe>" in p for p in problems), problems


REDIRECT_BREAKS = {
    "no favicon (the bare redirect sphinx-external-toc writes)":
        (lambda t: '<meta http-equiv="Refresh" content="0; url=book/intro.html" />\n', 'no <link rel="icon">'),
    "redirect to a missing page": (lambda t: t.replace("book/intro.html", "book/no-such-page.html"),
                                   "redirect to a missing file"),
    "console error before the redirect": (lambda t: t.replace("</head>", '<script>console.error("early")</script></head>'),
                                          "console error: early"),
}


@pytest.mark.parametrize("name", list(REDIRECT_BREAKS))
def test_a_broken_redirect_page_fails(tmp_path, name):
    site = _copy_site(tmp_path)
    breaker, expected = REDIRECT_BREAKS[name]
    index = site / "index.html"
    original = index.read_text()
    assert sitecheck.REDIRECT.search(original), "the root index.html is no longer a redirect"
    broken = breaker(original)
    assert broken != original, f"the {name!r} break did not apply"
    index.write_text(broken)
    problems = sitecheck.check_site(site, ROOT, pages=["index.html"], search=False).get("index.html", [])
    assert any(expected in p for p in problems), problems


def test_search_finds_a_chapter_by_a_word_of_its_title():
    with sitecheck.serve(HTML) as base, sitecheck.browser() as chromium:
        context = chromium.new_context()
        assert sitecheck.check_search(context, base, "Upworthy", "book/04-upworthy.html") == []
        assert sitecheck.check_search(context, base, "Upworthy", "book/01-confounding.html") != []
        context.close()
