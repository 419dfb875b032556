"""Pages without plumbing: a cell that only feeds numbers to the prose (`glue`) is hidden."""

from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
HIDDEN = {"remove-input", "remove-cell"}
PAGES = sorted(ROOT.glob("book/*.md"))


def visible_glue_cells(nb: nbformat.NotebookNode) -> list[int]:
    """Indices of code cells that call glue but show their source on the page."""
    return [i for i, cell in enumerate(nb.cells)
            if cell.cell_type == "code" and "glue(" in cell.source
            and not HIDDEN & set(cell.metadata.get("tags", []))]


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_glue_cells_are_hidden(page):
    assert visible_glue_cells(jupytext.read(page)) == [], f"{page.name}: tag these cells remove-input"


def test_a_visible_glue_cell_is_found():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("glue('x', 1)", metadata={"tags": ["remove-input"]}),
        nbformat.v4.new_code_cell("result = run('iv')\nglue('y', 2)"),
    ])
    assert visible_glue_cells(nb) == [1]
