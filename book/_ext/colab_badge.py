"""Sphinx extension: an "Open in Colab" badge under the title of every numbered chapter.

The badge opens ``notebooks/<same stem>.ipynb`` in the repository named once in _config.yml
(``repository.url`` and ``repository.branch``). The badge image is served from the book's own
``_static/`` so the site works offline. A chapter whose notebook is missing is a warning,
which fails the ``-W`` build.
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.osutil import relative_uri

logger = logging.getLogger(__name__)

CHAPTER = re.compile(r"^book/(?P<stem>\d\d-[a-z0-9-]+)$")
BADGE = "_static/colab-badge.svg"


def colab_url(repository_url: str, branch: str, stem: str) -> str:
    """The Colab URL of ``notebooks/<stem>.ipynb`` in a GitHub repository."""
    match = re.match(r"^https://github\.com/(?P<path>[^/]+/[^/]+?)/?$", repository_url or "")
    if not match:
        raise ValueError(
            f"repository.url in _config.yml must be https://github.com/OWNER/REPO, got {repository_url!r}"
        )
    return f"https://colab.research.google.com/github/{match['path']}/blob/{branch}/notebooks/{stem}.ipynb"


def _insert_badge(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    match = CHAPTER.match(docname)
    if not match or app.builder.format != "html":
        return
    stem = match["stem"]
    if not (Path(app.confdir) / "notebooks" / f"{stem}.ipynb").exists():
        logger.warning(f"notebooks/{stem}.ipynb is missing: run `make notebooks`", location=docname)
    options = app.config.html_theme_options
    url = colab_url(options.get("repository_url", ""), options.get("repository_branch", "main"), stem)
    image = relative_uri(app.builder.get_target_uri(docname), BADGE)
    html = (f'<p class="colab-badge"><a href="{url}" target="_blank" rel="noopener">'
            f'<img src="{image}" alt="Open in Colab" width="117" height="20"></a></p>')
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not section.children:
        logger.warning("chapter has no title to put the Colab badge under", location=docname)
        return
    section.insert(1, nodes.raw("", html, format="html"))


def setup(app: Sphinx) -> dict:
    app.connect("doctree-resolved", _insert_badge)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
