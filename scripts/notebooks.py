"""Generate notebooks/NN-slug.ipynb and notebooks/practice/NN-slug.ipynb from book/NN-slug.md.

The practice notebooks keep the code, the section headings and the exercises' statements, and
drop the prose and the solutions: a student re-types or completes them cell by cell.

    python scripts/notebooks.py write   # what `make notebooks` runs
    python scripts/notebooks.py check   # exit 1 and list the drift

Each chapter's Colab install cell installs dclm from the repository named in _config.yml
(repository.url at repository.branch); `write` brings the chapters' cells in line with that
one setting first. Notebooks carry no outputs.
"""

from __future__ import annotations

import hashlib
import re
import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK, NOTEBOOKS = ROOT / "book", ROOT / "notebooks"
PRACTICE = "practice"
INSTALL = re.compile(r'%pip install -q "dclm\[colab\] @ git\+[^"]*"')
# Right after the install: restart the runtime if it upgraded a package already imported.
RESTART = "    from dclm.env import restart_if_stale\n    restart_if_stale()"
CHAPTER_GLOB = "[0-9][0-9]-*.md"
# A chapter whose main run follows dclm.profiles.page_profile() runs the colab profile on a
# Colab GPU, so its notebook asks Colab for one (the free tier's T4).
GPU_MARKER = "page_profile()"
COLAB_GPU_METADATA = {"accelerator": "GPU", "colab": {"gpuType": "T4", "provenance": []}}


def chapters() -> list[Path]:
    """Every chapter source, in reading order."""
    return sorted(BOOK.glob(CHAPTER_GLOB))


def install_command(config_path: Path = ROOT / "_config.yml") -> str:
    """The Colab install line built from _config.yml's repository setting."""
    repo = yaml.safe_load(config_path.read_text())["repository"]
    return f'%pip install -q "dclm[colab] @ git+{repo["url"].rstrip("/")}@{repo.get("branch", "main")}"'


def with_install_command(text: str, command: str, source: Path) -> str:
    """``text`` with its install cell's command replaced; a chapter without one is an error."""
    if not INSTALL.search(text):
        raise SystemExit(f"{source.relative_to(ROOT)}: no Colab install cell "
                         f"(a cell tagged colab-install containing {command!r})")
    text = INSTALL.sub(lambda _: command, text)
    if RESTART not in text:
        text = text.replace(command, f"{command}\n{RESTART}", 1)
    return text


def _ask_for_a_gpu(notebook, source: Path) -> None:
    if GPU_MARKER in source.read_text():
        notebook.metadata.update(COLAB_GPU_METADATA)


def render(source: Path, out_dir: Path) -> Path:
    """Convert one chapter to ``out_dir/<stem>.ipynb`` (no outputs) and return its path."""
    notebook = jupytext.read(source)
    _ask_for_a_gpu(notebook, source)
    for index, cell in enumerate(notebook.cells):
        # Ids from position and content (nbformat draws random ones), so output is reproducible.
        cell.id = hashlib.sha1(f"{index}:{cell.source}".encode()).hexdigest()[:8]
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    notebook.metadata.pop("jupytext", None)
    target = out_dir / f"{source.stem}.ipynb"
    jupytext.write(notebook, target, fmt="ipynb")
    return target


def _practice_markdown(text: str) -> str:
    """Headings and exercise statements of a markdown cell; the prose and the rest go."""
    kept, in_exercise = [], False
    for line in text.splitlines():
        if line.startswith("```{exercise}"):
            in_exercise = True
            kept.append("**Exercise.**")
        elif in_exercise and line.startswith("```"):
            in_exercise = False
        elif in_exercise and not line.startswith(":"):
            kept.append(line)
        elif line.startswith("#") and not line.startswith("#|"):
            kept.append(line)
    return "\n".join(kept).strip()


def render_practice(source: Path, out_dir: Path) -> Path:
    """``out_dir/<stem>.ipynb``: code, headings and exercise statements, no prose, no solutions."""
    notebook = jupytext.read(source)
    cells, in_solution = [], False
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            start, end = cell.source.rfind("{solution-start}"), cell.source.rfind("{solution-end}")
            if start != end:  # the cell's last solution directive decides what follows it
                in_solution = start > end
            text = _practice_markdown(cell.source)
            if text:
                cells.append(nbformat.v4.new_markdown_cell(text))
        elif not in_solution:
            cells.append(cell)
    notebook.cells = cells
    notebook.cells.insert(1, nbformat.v4.new_markdown_cell(
        f"*Practice version of `{source.stem}`: the code and the exercises, without the explanations "
        f"and the solutions (those are in `notebooks/{source.stem}.ipynb` and on the website).*"))
    for index, cell in enumerate(notebook.cells):
        cell.id = hashlib.sha1(f"practice:{index}:{cell.source}".encode()).hexdigest()[:8]
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    notebook.metadata.pop("jupytext", None)
    _ask_for_a_gpu(notebook, source)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{source.stem}.ipynb"
    jupytext.write(notebook, target, fmt="ipynb")
    return target


def write() -> None:
    command = install_command()
    NOTEBOOKS.mkdir(exist_ok=True)
    for source in chapters():
        text = source.read_text()
        fixed = with_install_command(text, command, source)
        if fixed != text:
            source.write_text(fixed)
            print(f"updated the install cell of {source.relative_to(ROOT)}")
        render(source, NOTEBOOKS)
        render_practice(source, NOTEBOOKS / PRACTICE)
    for folder in (NOTEBOOKS, NOTEBOOKS / PRACTICE):
        for stem in sorted({p.stem for p in folder.glob("*.ipynb")} - {p.stem for p in chapters()}):
            (folder / f"{stem}.ipynb").unlink()
            print(f"removed {(folder / stem).relative_to(ROOT)}.ipynb (no book/{stem}.md)")


def check() -> list[str]:
    """Every way notebooks/ disagrees with book/ and _config.yml; empty when in sync."""
    problems = []
    command = install_command()
    with tempfile.TemporaryDirectory() as tmp:
        for source in chapters():
            name = source.relative_to(ROOT)
            if command not in source.read_text():
                problems.append(f"{name}: install cell does not run {command!r}")
            elif f"{command}\n{RESTART}" not in source.read_text():
                problems.append(f"{name}: install cell does not restart a stale runtime ({RESTART.strip()!r})")
            expected = render(source, Path(tmp)).read_text()
            committed = NOTEBOOKS / f"{source.stem}.ipynb"
            if not committed.exists():
                problems.append(f"notebooks/{committed.name} is missing")
            elif committed.read_text() != expected:
                problems.append(f"notebooks/{committed.name} differs from {name}")
            practice = NOTEBOOKS / PRACTICE / f"{source.stem}.ipynb"
            expected = render_practice(source, Path(tmp) / PRACTICE).read_text()
            if not practice.exists():
                problems.append(f"notebooks/{PRACTICE}/{practice.name} is missing")
            elif practice.read_text() != expected:
                problems.append(f"notebooks/{PRACTICE}/{practice.name} differs from {name}")
    for folder in (NOTEBOOKS, NOTEBOOKS / PRACTICE):
        for stray in sorted({p.stem for p in folder.glob("*.ipynb")} - {p.stem for p in chapters()}):
            problems.append(f"{(folder / stray).relative_to(ROOT)}.ipynb has no book/{stray}.md")
    return problems


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else "check"
    if action == "write":
        write()
    elif action == "check":
        found = check()
        print("\n".join(found) or "notebooks/ is in sync with book/")
        if found:
            print("fix: make notebooks", file=sys.stderr)
        sys.exit(1 if found else 0)
    else:
        sys.exit(f"usage: {sys.argv[0]} write|check")
