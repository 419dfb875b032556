"""Make the built site work with no internet: MathJax from _static, and each script once.

- MathJax comes from PyPI: ``django-static-mathjax`` (pinned in the ``book`` extra and the
  lock) is MathJax itself, built from its sources, with no dependencies, so Python and make
  are all the build needs (no npm, no CDN). This extension points Sphinx's ``mathjax_path``
  at ``_static/mathjax/tex-mml-chtml.js`` and copies there only the files MathJax loads at
  run time (the component, its fonts, TeX extensions, accessibility and menu code). Without
  the package the build warns (and ``-W`` fails) with the command to run.
- Jupyter Book 1 adds sphinx-thebe's inline configuration script twice, which throws
  "Identifier 'THEBE_JS_URL' has already been declared" on every page; duplicates are
  dropped from each written page (Sphinx renders that body-only script in two places).
- The site's root ``index.html`` is a redirect to the book's first page. sphinx-external-toc
  writes it as a bare ``<meta>`` line, so a browser asks for ``/favicon.ico`` (a 404 and a
  console error); it is written here instead as a whole page with the book's favicon.
"""

from __future__ import annotations

import html
import importlib.util
import json
import re
import shutil
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)
MATHJAX_VERSION = "3.2.2"
MATHJAX_COMPONENT = "tex-mml-chtml.js"
# What tex-mml-chtml.js may fetch after loading, relative to its folder.
MATHJAX_RUNTIME = ("input", "output/chtml", "a11y", "ui", "sre", "adaptors")


INSTALL_HINT = "pip install -c requirements/lock.txt -e '.[book]'   (or `make install`)"


def mathjax_source() -> Path | None:
    """MathJax's ``es5`` folder inside the installed ``django-static-mathjax``, when it is the pinned version."""
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        return None
    package = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax"
    try:
        version = json.loads((package / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None
    return package / "es5" if version == MATHJAX_VERSION and (package / "es5" / MATHJAX_COMPONENT).exists() else None


def _use_local_mathjax(app) -> None:
    if mathjax_source() is not None:
        app.config.mathjax_path = f"mathjax/{MATHJAX_COMPONENT}"
    else:
        logger.warning(f"MathJax {MATHJAX_VERSION} (the PyPI package django-static-mathjax) is not installed: "
                       f"pages would load it from a CDN and break offline; install it: {INSTALL_HINT}")


def _copy_mathjax(app, exception) -> None:
    source = mathjax_source()
    if exception is not None or app.builder.format != "html" or source is None:
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / MATHJAX_COMPONENT, target / MATHJAX_COMPONENT)
    shutil.copy2(source.parent / "LICENSE", target / "LICENSE")  # Apache 2.0 asks for it beside the copy
    for folder in MATHJAX_RUNTIME:
        if (source / folder).exists():
            shutil.copytree(source / folder, target / folder, dirs_exist_ok=True)


_INLINE_SCRIPT = re.compile(r"[ \t]*<script>(.*?)</script>\n?", re.S)


def _drop_duplicate_inline_scripts(app, exception) -> None:
    """Keep the first copy of each identical inline ``<script>`` block of every page."""
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        cleaned = _INLINE_SCRIPT.sub(_first_copy_only(set()), text)
        if cleaned != text:
            page.write_text(cleaned, encoding="utf-8")


def _first_copy_only(seen: set[str]):
    def replace(match: re.Match) -> str:
        if match.group(1) in seen:
            return ""
        seen.add(match.group(1))
        return match.group(0)

    return replace


REDIRECT_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<meta http-equiv="refresh" content="0; url={target}">
<link rel="canonical" href="{target}">
{icon}</head>
<body><p>The book starts at <a href="{target}">{target}</a>.</p></body>
</html>
"""


def _write_root_redirect(app, exception) -> None:
    """The root ``index.html``: a redirect to the first page that asks for nothing missing."""
    if exception is not None or app.builder.name != "html" or app.config.root_doc == "index":
        return
    favicon = app.config.html_favicon
    icon = f'<link rel="icon" href="_static/{Path(favicon).name}">\n' if favicon and "://" not in favicon else ""
    title = html.escape(app.config.html_title or app.config.project)
    page = REDIRECT_PAGE.format(title=title, target=f"{app.config.root_doc}.html", icon=icon)
    (Path(app.outdir) / "index.html").write_text(page, encoding="utf-8")


def setup(app):
    app.connect("builder-inited", _use_local_mathjax)
    app.connect("build-finished", _copy_mathjax)
    app.connect("build-finished", _drop_duplicate_inline_scripts)
    # Before sphinx-external-toc's own redirect (priority 500), which then leaves this one alone.
    app.connect("build-finished", _write_root_redirect, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
