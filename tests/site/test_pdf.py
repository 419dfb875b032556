"""The PDF of the book (`make pdf`, scripts/pdf.py): read back, and shown to fail when MathJax does not run.

`make site` prints it before these tests run. Without a Chromium they are skipped with the
install command, except under CI=true, where they must run.
"""

import importlib.util
import os
import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
spec = importlib.util.spec_from_file_location("pdf", ROOT / "scripts" / "pdf.py")
pdf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pdf)
PDF = HTML / pdf.PDF_NAME
# TeX that MathJax failed to typeset would reach the paper as text.
TEX_SOURCE = re.compile(r"\\\(|\\\[|\\(?:varepsilon|frac|hat|mathbb|operatorname)\b")


@pytest.fixture(scope="module", autouse=True)
def chromium():
    if pdf.sitecheck.find_chromium() is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and no Chromium: the PDF must be built here; {pdf.sitecheck.INSTALL_HINT}")
        pytest.skip(f"no Chromium to print the PDF; install it: {pdf.sitecheck.INSTALL_HINT}")
    if not PDF.exists():
        pytest.fail(f"no {PDF.relative_to(ROOT)}: run `make book` and `make pdf` first")


@pytest.fixture(scope="module")
def reader():
    return PdfReader(PDF)


def mathjax_fonts(page) -> set[str]:
    """Names of the MathJax web fonts a PDF page draws with (Chromium embeds them as Type 3)."""
    fonts = page.get("/Resources", {}).get("/Font", {})
    names = set()
    for font in fonts.values():
        descriptor = font.get_object().get("/FontDescriptor")
        name = str(descriptor.get_object().get("/FontName", "")) if descriptor else ""
        if "MathJax" in name:
            names.add(name.split("+")[-1])
    return names


def test_one_section_per_page_of_the_book_in_reading_order(reader):
    pages = pdf.toc_pages()
    titles = [item["/Title"] for item in reader.outline]
    assert len(titles) == len(pages)
    assert titles[0].startswith("Aligning language models") and titles[-1] == "Execution status"
    assert "Upworthy" in " ".join(titles)
    # Each page of the site is at least one sheet; the whole book stays a printable size.
    assert len(pages) <= len(reader.pages) <= 40 * len(pages)
    firsts = [reader.get_destination_page_number(item) for item in reader.outline]
    assert firsts == sorted(firsts) and len(set(firsts)) == len(firsts)


def test_every_page_carries_its_title_and_a_page_number_through_the_book(reader):
    total = len(reader.pages)
    starts = {reader.get_destination_page_number(item): item["/Title"] for item in reader.outline}
    title = None
    for index, page in enumerate(reader.pages):
        title = starts.get(index, title)
        text = page.extract_text()
        assert f"{index + 1} / {total}" in text, f"PDF page {index + 1} lacks its page number"
        assert title in text, f"PDF page {index + 1} lacks its section's title {title!r}"


def test_equations_are_typeset_not_printed_as_tex(reader):
    intro = reader.pages[0]
    assert "Loghmani" in intro.extract_text(), "the first page is not the intro"
    assert {"MathJax_Math-Italic", "MathJax_Main-Regular"} <= mathjax_fonts(intro)
    with_math = sum(bool(mathjax_fonts(page)) for page in reader.pages)
    assert with_math >= 10, f"only {with_math} pages draw MathJax glyphs"
    leaked = [i + 1 for i, page in enumerate(reader.pages) if TEX_SOURCE.search(page.extract_text() or "")]
    assert not leaked, f"TeX source printed instead of equations on PDF page(s) {leaked}"


def test_no_link_points_at_the_server_that_printed_it(reader):
    uris = [annotation.get_object().get("/A", {}).get("/URI", "")
            for page in reader.pages for annotation in page.get("/Annots", []) or []]
    assert not [u for u in uris if "127.0.0.1" in u or "localhost" in u]
    assert any(u.startswith("https://") for u in uris), "links to the outside world are kept"


def test_the_intro_links_the_pdf():
    intro = (HTML / "book" / "intro.html").read_text()
    link = re.search(r'href="([^"]*dclm-book\.pdf)"', intro).group(1)
    assert (HTML / "book" / link).resolve() == PDF.resolve()


def test_without_mathjax_the_check_fails(tmp_path):
    site = tmp_path / "html"
    shutil.copytree(HTML, site, ignore=shutil.ignore_patterns("mathjax", "*.pdf", "_images", "_sources"))
    page = site / "book" / "intro.html"
    page.write_text(re.sub(r'<script[^>]*mathjax/tex-mml-chtml\.js[^>]*></script>', "", page.read_text()))
    out = tmp_path / "intro.pdf"
    report = pdf.build_pdf(site, out, pages=["book/intro"])
    broken = PdfReader(out)
    assert report["equations"] == 0 and report["pages"] == len(broken.pages)
    assert not mathjax_fonts(broken.pages[0])
    assert TEX_SOURCE.search(broken.pages[0].extract_text())
