"""Print the built website into one PDF for printing and offline reading: ``make pdf``.

    .venv/bin/python scripts/pdf.py [--html _build/html] [--out _build/html/dclm-book.pdf]

Each page of ``_toc.yml``, in order, is opened in the headless Chromium the site checks use
(scripts/sitecheck.py), with its equations typeset by the site's own MathJax and its figures
loaded, printed with the theme's print style (no sidebars), and the pages are joined into one
file with a bookmark per page and a footer (the page's title, page numbers running through
the book) laid over it (pypdf). Links between pages point at the local server that
printed them, so they are turned into plain text; links to the outside world stay. The PDF
lands inside the site (``_build/html/dclm-book.pdf``), so the intro's link to it works online
and offline. Needs ``make book`` first.
"""

from __future__ import annotations

import argparse
import bisect
import importlib.util
import io
import os
import sys
from html import escape
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PDF_NAME = "dclm-book.pdf"

_spec = importlib.util.spec_from_file_location("sitecheck", ROOT / "scripts" / "sitecheck.py")
sitecheck = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sitecheck)

# Ready to print: MathJax has typeset every equation, web fonts and images have loaded, and no
# link points back at the local server.
_PREPARE = """async () => {
    for (const img of document.images) img.loading = 'eager';
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
    await document.fonts.ready;
    await Promise.all(Array.from(document.images).filter(img => !img.complete)
        .map(img => new Promise(done => { img.onload = img.onerror = done; })));
    for (const a of document.querySelectorAll('a[href]')) {
        if (new URL(a.href, location.href).origin === location.origin) a.removeAttribute('href');
    }
    return document.querySelectorAll('mjx-container').length;
}"""

# Chromium numbers each printed page on its own, so the footer (the page's title, and page
# numbers running through the whole book) is printed once for the whole file and laid over
# its pages, which are printed with an empty bottom margin for it.
FOOTERS = """<!DOCTYPE html><html><head><meta charset="utf-8"><style>
@page {{ size: A4; margin: 0 }}
body {{ margin: 0 }}
.page {{ height: 296mm; position: relative; break-after: page }}
.footer {{ position: absolute; left: 12mm; right: 12mm; bottom: 7mm; display: flex;
          justify-content: space-between; gap: 8mm; font: 7pt sans-serif; color: #666 }}
</style></head><body>{pages}</body></html>"""


def toc_pages(root: Path = ROOT) -> list[str]:
    """The book's pages in reading order, as ``book/<name>`` (what ``_toc.yml`` lists)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(entries) -> None:
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return [page.removesuffix(".md").removesuffix(".ipynb") for page in pages]


def build_pdf(html: Path, out: Path, pages: list[str] | None = None) -> dict:
    """Print ``pages`` (default: the table of contents) of the site in ``html`` into ``out``.

    Returns ``{"pages": PDF pages, "equations": typeset equations, "sections": [(title, first page)]}``.
    ``out`` is written whole or not at all.
    """
    from pypdf import PdfReader, PdfWriter

    pages = pages or toc_pages()
    missing = [page for page in pages if not (html / f"{page}.html").exists()]
    if missing:
        raise FileNotFoundError(f"{html} lacks {', '.join(missing)}.html: run `make book` first")
    writer = PdfWriter()
    sections, equations = [], 0
    tmp = out.with_name(out.name + ".part")
    with sitecheck.serve(html) as base, sitecheck.browser() as chromium:
        context = chromium.new_context(viewport={"width": 1100, "height": 1400})
        for number, page in enumerate(pages, 1):
            tab = context.new_page()
            tab.goto(f"{base}{page}.html", wait_until="networkidle")
            equations += tab.evaluate(_PREPARE)
            title = tab.title().split("—")[0].split("|")[0].strip() or page
            printed = tab.pdf(format="A4", print_background=True,
                              margin={"top": "14mm", "bottom": "16mm", "left": "12mm", "right": "12mm"})
            tab.close()
            tmp.write_bytes(printed)
            first = len(writer.pages)
            writer.append(PdfReader(tmp), outline_item=title)
            sections.append((title, first + 1))
            print(f"[{number}/{len(pages)}] {page}: {len(writer.pages) - first} page(s)", flush=True)
        _add_footers(context, writer, sections)
        context.close()
    writer.add_metadata({"/Title": _book_title(), "/Creator": "dclm scripts/pdf.py (Chromium)"})
    with open(tmp, "wb") as handle:
        writer.write(handle)
    os.replace(tmp, out)
    return {"pages": len(writer.pages), "equations": equations, "sections": sections}


def _add_footers(context, writer, sections: list[tuple[str, int]]) -> None:
    """Lay "section title ... n / N" over every page of ``writer``, counting through the whole book."""
    from pypdf import PdfReader

    total = len(writer.pages)
    starts = [first for _, first in sections]
    footers = []
    for number in range(1, total + 1):
        title = sections[bisect.bisect_right(starts, number) - 1][0]
        footers.append(f'<div class="page"><div class="footer"><span>{escape(title)}</span>'
                       f"<span>{number} / {total}</span></div></div>")
    tab = context.new_page()
    tab.set_content(FOOTERS.format(pages="".join(footers)))
    overlay = PdfReader(io.BytesIO(tab.pdf(format="A4", print_background=False, prefer_css_page_size=True)))
    tab.close()
    if len(overlay.pages) != total:
        raise RuntimeError(f"the footers came out on {len(overlay.pages)} pages for a {total}-page book")
    for page, footer in zip(writer.pages, overlay.pages, strict=True):
        page.merge_page(footer)


def _book_title() -> str:
    return str(yaml.safe_load((ROOT / "_config.yml").read_text()).get("title", "dclm"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", default=str(ROOT / "_build" / "html"))
    parser.add_argument("--out", default=None, help=f"default: HTML/{PDF_NAME}")
    parser.add_argument("--skip-without-browser", action="store_true",
                        help="exit 0 with a note when no Chromium is installed (make site outside CI)")
    args = parser.parse_args()
    if sitecheck.find_chromium() is None:
        message = f"no Chromium to print the PDF with; install it with: {sitecheck.INSTALL_HINT}"
        if args.skip_without_browser and os.environ.get("CI") != "true":
            print(f"{message} (PDF skipped)")
            return 0
        print(message, file=sys.stderr)
        return 2
    html = Path(args.html)
    out = Path(args.out) if args.out else html / PDF_NAME
    try:
        report = build_pdf(html, out)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"wrote {out}: {report['pages']} pages, {report['equations']} typeset equations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
