"""Sphinx extension: an "Open in Colab" badge under the title of every numbered chapter.

The badge opens ``notebooks/<same stem>.ipynb`` in the repository named once in _config.yml
(``repository.url`` and ``repository.branch``). The badge image is served from the book's own
``_static/`` so the site works offline. A chapter whose notebook is missing is a warning,
which fails the ``-W`` build.

A chapter with a practice notebook (``notebooks/practice/<stem>.ipynb``, blanks to fill in)
gets a second line under the badge that opens it in Colab, and the role
``{practice}`<stem>``` links it from any page (the instructor guide).
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


PRACTICE = "notebooks/practice"


def colab_url(repository_url: str, branch: str, stem: str, folder: str = "notebooks") -> str:
    """The Colab URL of ``<folder>/<stem>.ipynb`` in a GitHub repository."""
    match = re.match(r"^https://github\.com/(?P<path>[^/]+/[^/]+?)/?$", repository_url or "")
    if not match:
        raise ValueError(
            f"repository.url in _config.yml must be https://github.com/OWNER/REPO, got {repository_url!r}"
        )
    return f"https://colab.research.google.com/github/{match['path']}/blob/{branch}/{folder}/{stem}.ipynb"


def _repository(config) -> tuple[str, str]:
    options = config.html_theme_options
    return options.get("repository_url", ""), options.get("repository_branch", "main")


def practice_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``{practice}`02-instrumental-variables``` -> a link opening that practice notebook in Colab."""
    env = inliner.document.settings.env
    stem = text.strip()
    if not (Path(env.app.confdir) / PRACTICE / f"{stem}.ipynb").exists():
        message = inliner.reporter.error(f"{PRACTICE}/{stem}.ipynb does not exist", line=lineno)
        return [inliner.problematic(rawtext, rawtext, message)], [message]
    repository_url, branch = _repository(env.config)
    url = colab_url(repository_url, branch, stem, PRACTICE)
    return [nodes.reference(rawtext, "open in Colab", refuri=url)], []


def _insert_badge(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    match = CHAPTER.match(docname)
    if not match or app.builder.format != "html":
        return
    stem = match["stem"]
    if not (Path(app.confdir) / "notebooks" / f"{stem}.ipynb").exists():
        logger.warning(f"notebooks/{stem}.ipynb is missing: run `make notebooks`", location=docname)
    repository_url, branch = _repository(app.config)
    url = colab_url(repository_url, branch, stem)
    image = relative_uri(app.builder.get_target_uri(docname), BADGE)
    html = (f'<p class="colab-badge"><a href="{url}" target="_blank" rel="noopener">'
            f'<img src="{image}" alt="Open in Colab" width="117" height="20"></a></p>')
    if (Path(app.confdir) / PRACTICE / f"{stem}.ipynb").exists():
        practice = colab_url(repository_url, branch, stem, PRACTICE)
        html += (f'<p class="practice-badge">Practice notebook, with blanks for you to fill in and '
                 f'checks that say what is wrong: <a href="{practice}" target="_blank" rel="noopener">'
                 f'<img src="{image}" alt="Open the practice notebook in Colab" width="117" height="20">'
                 f'</a></p>')
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not section.children:
        logger.warning("chapter has no title to put the Colab badge under", location=docname)
        return
    section.insert(1, nodes.raw("", html, format="html"))


def setup(app: Sphinx) -> dict:
    app.connect("doctree-resolved", _insert_badge)
    app.add_role("practice", practice_role)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
