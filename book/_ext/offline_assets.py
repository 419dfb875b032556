"""Make the built site work with no internet: MathJax from _static, and each script once.

- MathJax: ``make vendor`` unpacks the ``mathjax`` npm package (version pinned in the
  Makefile) into ``_build/vendor/mathjax-<version>``; this extension points Sphinx's
  ``mathjax_path`` at ``_static/mathjax/tex-mml-chtml.js`` and copies the files MathJax loads
  at run time (the component, its fonts, TeX extensions, accessibility and menu code) there.
  Without the vendored copy the build warns (and ``-W`` fails) with the command to run.
- Jupyter Book 1 adds sphinx-thebe's inline configuration script twice, which throws
  "Identifier 'THEBE_JS_URL' has already been declared" on every page; duplicates are
  dropped from each written page (Sphinx renders that body-only script in two places).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)
MATHJAX_VERSION = "3.2.2"
MATHJAX_COMPONENT = "tex-mml-chtml.js"
# What tex-mml-chtml.js may fetch after loading, relative to its folder.
MATHJAX_RUNTIME = ("input", "output/chtml", "a11y", "ui", "sre", "adaptors")


def _vendored(app) -> Path:
    return Path(app.confdir) / "_build" / "vendor" / f"mathjax-{MATHJAX_VERSION}" / "es5"


def _use_local_mathjax(app) -> None:
    source = _vendored(app)
    if (source / MATHJAX_COMPONENT).exists():
        app.config.mathjax_path = f"mathjax/{MATHJAX_COMPONENT}"
    else:
        logger.warning(f"MathJax {MATHJAX_VERSION} is not vendored at {source}: pages would load it from a CDN "
                       "and break offline; run `make vendor` (needs npm)")


def _copy_mathjax(app, exception) -> None:
    source = _vendored(app)
    if exception is not None or app.builder.format != "html" or not (source / MATHJAX_COMPONENT).exists():
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / MATHJAX_COMPONENT, target / MATHJAX_COMPONENT)
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


def setup(app):
    app.connect("builder-inited", _use_local_mathjax)
    app.connect("build-finished", _copy_mathjax)
    app.connect("build-finished", _drop_duplicate_inline_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
