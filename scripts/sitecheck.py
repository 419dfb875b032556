"""Check the built website in a real browser: what a reader on a classroom network would meet.

    .venv/bin/python scripts/sitecheck.py [--html _build/html] [--screenshots _build/screenshots]
    .venv/bin/python scripts/sitecheck.py --readme-shot docs/chapter-1.png

Serves the site on 127.0.0.1, opens every page in headless Chromium (Debian's ``chromium``,
found on PATH or through ``$DCLM_CHROMIUM``; Playwright's own browser as a fallback) and
reports, per page: requests that leave 127.0.0.1 (blocked), console errors and uncaught
exceptions, requests the server answers with an error (a missing font), pages without a favicon,
images that do not load, internal links to files that do not exist, content wider than the
text column (a table running under the sidebar), Colab badges that do not open this
chapter's notebook, exercise solutions visible before a click (or still hidden after one),
and chapters without their ``fig-<slug>-lesson`` figure. Every HTML file is checked, redirect
pages included: a redirect is checked as it stands (its refresh held back, so what it asks
for is seen) and its target must exist. It also searches for a word of each chapter's title
and expects the chapter among the results, and saves a screenshot of each page.
``tests/site`` runs it; exit status 1 when anything is wrong.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import os
import re
import shutil
import sys
import threading
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ENV_VAR = "DCLM_CHROMIUM"
INSTALL_HINT = "sudo apt-get install -y chromium   (Debian/Ubuntu; or set DCLM_CHROMIUM to a Chrome binary)"
CHAPTER = re.compile(r"^book/(\d\d-[\w-]+)\.html$")
REDIRECT = re.compile(r"""<meta\s+http-equiv=["']?refresh["']?\s+content=["']?\d+\s*;\s*url=([^"'>\s]+)["']?\s*/?>""",
                      re.I)
ICON = re.compile(r"""<link\s[^>]*rel=["']?(?:shortcut )?icon["']?[^>]*>""", re.I)
HREF = re.compile(r"""href=["']?([^"'>\s]+)""", re.I)


def find_chromium() -> str | None:
    """A Chromium binary: ``$DCLM_CHROMIUM``, else the first of chromium/chromium-browser/chrome on PATH."""
    configured = os.environ.get(CHROMIUM_ENV_VAR)
    if configured:
        return configured
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # one line per request would drown the test output
        pass


def pages_of(html: Path) -> list[str]:
    """Every HTML page of the site, relative to its root (sources and static files excluded)."""
    return sorted(str(p.relative_to(html)) for p in html.rglob("*.html")
                  if not str(p.relative_to(html)).startswith(("_static", "_sources", "_images")))


@contextlib.contextmanager
def browser() -> Iterator[object]:
    """A headless Chromium through Playwright (system Chromium preferred)."""
    from playwright.sync_api import sync_playwright

    executable = find_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            yield launched
        finally:
            launched.close()


_SOLUTIONS_STATE = """() => Array.from(document.querySelectorAll('.solution')).map(el => {
    const body = el.querySelector('section, .solution-content');
    return body !== null && body.getClientRects().length > 0 && getComputedStyle(body).visibility !== 'hidden';
})"""

_BROKEN_IMAGES = """() => Array.from(document.images)
    .filter(img => !(img.complete && img.naturalWidth > 0))
    .map(img => img.getAttribute('src'))"""

_LINKS = """() => Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))"""

# What sticks out of the text column's right edge: any table (inside a scroll box too: a
# sideways scroll hides its last columns), and the outermost other elements that no scrolling
# or clipping box holds.
_TOO_WIDE = """() => {
    const column = document.querySelector('article.bd-article') || document.querySelector('main');
    if (column === null) return [];
    // The content box's right edge (the column's padding is not text), plus sub-pixel slack.
    const edge = column.getBoundingClientRect().right - parseFloat(getComputedStyle(column).paddingRight) + 2;
    const name = el => {
        const cls = typeof el.className === 'string' && el.className.trim() ?
            '.' + el.className.trim().split(/\\s+/).join('.') : '';
        return `<${el.tagName.toLowerCase()}${cls}>`;
    };
    const over = el => Math.round(el.getBoundingClientRect().right - edge);
    const tables = Array.from(column.querySelectorAll('table')).filter(t => over(t) > 0);
    const out = tables.map(t => `${name(t)} by ${over(t)} px`);
    if (column.scrollWidth > column.clientWidth + 1) {
        const clipped = el => {
            for (let a = el.parentElement; a !== null && a !== column; a = a.parentElement) {
                if (getComputedStyle(a).overflowX !== 'visible') return true;
            }
            return false;
        };
        for (const el of column.querySelectorAll('*')) {
            if (over(el) > 0 && !clipped(el) && !tables.some(t => t.contains(el)) &&
                    !(el.parentElement !== column && over(el.parentElement) > 0)) {
                out.push(`${name(el)} by ${over(el)} px`);
            }
        }
    }
    return out.slice(0, 5);
}"""


# Each website slider (dclm.widgets.static_slider), moved one step: its figure must change.
_MOVE_SLIDERS = """() => {
    const out = [];
    document.querySelectorAll('.dclm-slider').forEach((slider, n) => {
        const figure = slider.querySelector('img.dclm-slider-figure');
        slider.querySelectorAll('input[type=range]').forEach((input) => {
            const before = figure.src, start = input.value;
            input.value = String((Number(input.value) + 1) % (Number(input.max) + 1));
            input.dispatchEvent(new Event('input'));
            if (figure.src === before) {
                out.push(`slider ${n + 1}: moving ${input.getAttribute('aria-label')} does not change its figure`);
            }
            input.value = start;
            input.dispatchEvent(new Event('input'));
        });
    });
    return out;
}"""


def _internal_target(html: Path, base: str, page_url: str, href: str) -> Path | None:
    """The file an internal link points to (resolved against the page's final URL)."""
    if urlparse(href).scheme or href.startswith(("#", "mailto:", "javascript:", "//")):
        return None
    absolute = urljoin(page_url, href)
    if not absolute.startswith(base):
        return None
    path = unquote(urlparse(absolute).path).lstrip("/")
    target = html / path
    return target / "index.html" if not path or path.endswith("/") else target


def check_page(context, base: str, html: Path, page: str, repo_root: Path,
               screenshots: Path | None = None) -> list[str]:
    """Every problem one page has, as readable lines."""
    problems: list[str] = []
    text = (html / page).read_text(encoding="utf-8", errors="replace")
    redirect = REDIRECT.search(text)
    if redirect:
        target = _internal_target(html, base, base + page, unescape(redirect.group(1)))
        if target is not None and not target.exists():
            problems.append(f"redirect to a missing file: {redirect.group(1)}")
    # Checked in the file, not the browser: Chromium asks for a missing icon once per session
    # and not at all from a page it leaves at once, so a console error would come and go.
    icon = ICON.search(text)
    icon_href = HREF.search(icon.group(0)) if icon else None
    if icon_href is None and not (html / "favicon.ico").exists():
        problems.append("no <link rel=\"icon\">: browsers then ask for /favicon.ico, which is missing "
                        "(a 404 in the console)")
    elif icon_href is not None:
        target = _internal_target(html, base, base + page, unescape(icon_href.group(1)))
        if target is not None and not target.exists():
            problems.append(f"favicon is a missing file: {icon_href.group(1)}")
    tab = context.new_page()
    tab.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append(f"uncaught exception: {e}"))
    tab.on("response", lambda r: problems.append(f"HTTP {r.status} for {r.url.removeprefix(base)}")
           if r.status >= 400 else None)

    def route(r):
        host = urlparse(r.request.url).hostname
        if host not in ("127.0.0.1", None):
            problems.append(f"request leaves 127.0.0.1: {r.request.url}")
            return r.abort()
        if redirect and r.request.url == base + page:
            # Held on the redirect page itself: a browser leaving at once would cancel what
            # the page asks for, and its errors would come and go with timing.
            return r.fulfill(status=200, content_type="text/html", body=REDIRECT.sub("", text))
        return r.continue_()

    tab.route("**/*", route)
    tab.goto(base + page, wait_until="networkidle")
    tab.wait_for_timeout(300)  # MathJax typesets after the load event
    problems += [f"image does not load: {src}" for src in tab.evaluate(_BROKEN_IMAGES)]
    problems += [f"wider than the text column: {el}" for el in tab.evaluate(_TOO_WIDE)]
    problems += tab.evaluate(_MOVE_SLIDERS)
    for href in tab.evaluate(_LINKS):
        target = _internal_target(html, base, tab.url, href)
        if target is not None and not target.exists():
            problems.append(f"internal link to a missing file: {href}")

    chapter = CHAPTER.match(page)
    if chapter:
        stem = chapter.group(1)
        badges = tab.locator("p.colab-badge a")
        if badges.count() != 1:
            problems.append(f"expected one Colab badge, found {badges.count()}")
        else:
            href = badges.first.get_attribute("href") or ""
            if not href.startswith("https://colab.research.google.com/github/") or \
                    not href.endswith(f"/notebooks/{stem}.ipynb"):
                problems.append(f"Colab badge opens {href}, not notebooks/{stem}.ipynb")
            if not (repo_root / "notebooks" / f"{stem}.ipynb").exists():
                problems.append(f"notebooks/{stem}.ipynb does not exist")
        number, slug = stem.split("-", 1)
        lesson = tab.locator(f"#fig-{slug}-lesson img")
        if int(number) > 0 and lesson.count() == 0:  # chapter 0 is set-up, without a lesson
            problems.append(f"no lesson figure #fig-{slug}-lesson")
        visible = tab.evaluate(_SOLUTIONS_STATE)
        if any(visible):
            problems.append(f"{sum(visible)} of {len(visible)} solutions are visible before a click")
        elif visible:
            tab.locator(".solution").first.locator("summary, .admonition-title, button").first.click()
            tab.wait_for_timeout(400)
            if not tab.evaluate(_SOLUTIONS_STATE)[0]:
                problems.append("a solution stays hidden after clicking it")
    if screenshots is not None:
        screenshots.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(screenshots / (page.replace("/", "__").removesuffix(".html") + ".png")))
    tab.close()
    return problems


def check_search(context, base: str, word: str, expected_page: str) -> list[str]:
    """Problems with the search page: ``word`` must find ``expected_page``."""
    tab = context.new_page()
    tab.goto(f"{base}search.html?q={word}", wait_until="networkidle")
    try:
        tab.wait_for_selector("#search-results li a, ul.search li a", timeout=15_000)
    except Exception:  # playwright's TimeoutError
        tab.close()
        return [f"search for {word!r} returned nothing"]
    hrefs = tab.evaluate("() => Array.from(document.querySelectorAll('#search-results li a, ul.search li a'))"
                         ".map(a => a.getAttribute('href'))")
    tab.close()
    stem = expected_page.removesuffix(".html")
    return [] if any(stem in (h or "") for h in hrefs) else [f"search for {word!r} does not list {expected_page}"]


def chapter_titles(html: Path) -> dict[str, str]:
    """Each chapter page and a distinctive word of its title (the longest)."""
    out = {}
    for page in pages_of(html):
        if CHAPTER.match(page):
            title = unescape(re.search(r"<title>(.*?)</title>", (html / page).read_text(), re.S).group(1))
            words = re.findall(r"[A-Za-z]{5,}", title.split("—")[0].split("|")[0])
            out[page] = max(words, key=len)
    return out


def check_site(html: Path, repo_root: Path = ROOT, screenshots: Path | None = None,
               pages: list[str] | None = None, search: bool = True) -> dict[str, list[str]]:
    """Problems per page (only pages with problems); ``"search.html?q=..."`` keys for search."""
    html = Path(html)
    report: dict[str, list[str]] = {}
    with serve(html) as base, browser() as chromium:
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        for page in pages or pages_of(html):
            problems = check_page(context, base, html, page, repo_root, screenshots)
            if problems:
                report[page] = problems
        if search:
            for page, word in chapter_titles(html).items():
                problems = check_search(context, base, word, page)
                if problems:
                    report[f"search.html?q={word}"] = problems
        context.close()
    return report


def readme_shot(html: Path, out: Path, page: str = "book/01-confounding.html") -> None:
    """The README's curated screenshot: the chapter 1 page, top of the page, light mode."""
    with serve(html) as base, browser() as chromium:
        tab = chromium.new_page(viewport={"width": 1280, "height": 860})
        tab.goto(base + page, wait_until="networkidle")
        tab.wait_for_timeout(500)
        out.parent.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(out))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", default=str(ROOT / "_build" / "html"))
    parser.add_argument("--screenshots", default=str(ROOT / "_build" / "screenshots"))
    parser.add_argument("--readme-shot", default=None, help="only write the README screenshot to this path")
    args = parser.parse_args()
    if find_chromium() is None:
        print(f"no Chromium found; install it with: {INSTALL_HINT}", file=sys.stderr)
        return 2
    if args.readme_shot:
        readme_shot(Path(args.html), Path(args.readme_shot))
        return 0
    report = check_site(Path(args.html), screenshots=Path(args.screenshots))
    for page, problems in report.items():
        for problem in problems:
            print(f"{page}: {problem}")
    print("site check:", "ok" if not report else f"{sum(map(len, report.values()))} problem(s)")
    return 1 if report else 0


if __name__ == "__main__":
    sys.exit(main())
