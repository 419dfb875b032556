"""Generate notebooks/NN-slug.ipynb from book/NN-slug.md, and notebooks/practice/NN-slug.ipynb
from practice/NN-slug.md.

A practice source is a short MyST notebook of "your turn" cells, each holding its reference
solution between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` and the student's starting
lines as ``### BLANK <code>``, and each followed by a check cell (:mod:`dclm.practice`). The
committed practice notebook has the blanks; tests/notebooks/test_practice_notebooks.py runs it both ways.

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
import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK, NOTEBOOKS = ROOT / "book", ROOT / "notebooks"
PRACTICE = "practice"
INSTALL = re.compile(r'%pip install -q "dclm\[colab\] @ git\+[^"]*"')
# Right after the install: restart the runtime if it upgraded a package already imported.
RESTART = "    from dclm.env import restart_if_stale\n    restart_if_stale()"
CHAPTER_GLOB = "[0-9][0-9]-*.md"
# A chapter whose main run follows dclm.env.page_profile() runs the colab profile on a
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


PRACTICE_SOURCES = ROOT / "practice"
YOUR_TURN, CHECK = "your-turn", "check"
BEGIN, END, BLANK = "### BEGIN SOLUTION", "### END SOLUTION", "### BLANK "


def practice_sources() -> list[Path]:
    """Every practice notebook's source, practice/NN-slug.md, in reading order."""
    return sorted(PRACTICE_SOURCES.glob(CHAPTER_GLOB))


def _tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def _fill(cell_source: str, solutions: bool, where: str) -> str:
    """A "your turn" cell with its reference solution (``solutions``) or with its blanks."""
    lines = cell_source.splitlines()
    stripped = [line.strip() for line in lines]
    if stripped.count(BEGIN) != 1 or stripped.count(END) != 1 or stripped.index(BEGIN) > stripped.index(END):
        raise SystemExit(f"{where}: a {YOUR_TURN} cell needs one {BEGIN!r} ... {END!r} block")
    if not any(s.startswith(BLANK) for s in stripped):
        raise SystemExit(f"{where}: a {YOUR_TURN} cell needs a {BLANK.strip()!r} line (what the student starts from)")
    begin, end = stripped.index(BEGIN), stripped.index(END)
    kept = []
    for i, line in enumerate(lines):
        if i in (begin, end) or (not solutions and begin < i < end):
            continue
        if stripped[i].startswith(BLANK):
            if not solutions:
                kept.append(line.replace(BLANK, "", 1))
            continue
        kept.append(line)
    return "\n".join(kept)


def practice_notebook(source: Path, solutions: bool = False):
    """The practice notebook of ``source``: blanks to fill in, or (``solutions``) the reference answers.

    A cell tagged ``your-turn`` holds the reference solution between ``### BEGIN SOLUTION`` and
    ``### END SOLUTION`` and the student's starting lines as ``### BLANK <code>`` comments; the
    next code cell must be tagged ``check`` (it calls :mod:`dclm.practice`).
    """
    notebook = jupytext.read(source)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    for index, cell in enumerate(code):
        where = f"{source.relative_to(ROOT)}, code cell {index + 1}"
        if YOUR_TURN in _tags(cell):
            following = code[index + 1] if index + 1 < len(code) else None
            if following is None or CHECK not in _tags(following):
                raise SystemExit(f"{where}: a {YOUR_TURN} cell must be followed by a code cell tagged {CHECK}")
            cell.source = _fill(cell.source, solutions, where)
        elif BEGIN in cell.source or BLANK in cell.source:
            raise SystemExit(f"{where}: solution markers outside a cell tagged {YOUR_TURN}")
    for index, cell in enumerate(notebook.cells):
        cell.id = hashlib.sha1(f"practice:{index}:{cell.source}".encode()).hexdigest()[:8]
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    notebook.metadata.pop("jupytext", None)
    return notebook


def render_practice(source: Path, out_dir: Path) -> Path:
    """Write the students' version (blanks) of ``source`` to ``out_dir/<stem>.ipynb``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{source.stem}.ipynb"
    jupytext.write(practice_notebook(source), target, fmt="ipynb")
    return target


def _update_install_cell(source: Path, command: str) -> None:
    text = source.read_text()
    fixed = with_install_command(text, command, source)
    if fixed != text:
        source.write_text(fixed)
        print(f"updated the install cell of {source.relative_to(ROOT)}")


def _remove_strays(folder: Path, sources: list[Path], origin: str) -> None:
    for stem in sorted({p.stem for p in folder.glob("*.ipynb")} - {p.stem for p in sources}):
        (folder / f"{stem}.ipynb").unlink()
        print(f"removed {(folder / stem).relative_to(ROOT)}.ipynb (no {origin}/{stem}.md)")


def write() -> None:
    command = install_command()
    NOTEBOOKS.mkdir(exist_ok=True)
    for source in chapters():
        _update_install_cell(source, command)
        render(source, NOTEBOOKS)
    for source in practice_sources():
        _update_install_cell(source, command)
        render_practice(source, NOTEBOOKS / PRACTICE)
    _remove_strays(NOTEBOOKS, chapters(), "book")
    _remove_strays(NOTEBOOKS / PRACTICE, practice_sources(), "practice")


def _install_problems(source: Path, command: str) -> list[str]:
    name, text = source.relative_to(ROOT), source.read_text()
    if command not in text:
        return [f"{name}: install cell does not run {command!r}"]
    if f"{command}\n{RESTART}" not in text:
        return [f"{name}: install cell does not restart a stale runtime ({RESTART.strip()!r})"]
    return []


def _drift(committed: Path, label: str, expected: str, source: Path) -> list[str]:
    if not committed.exists():
        return [f"{label} is missing"]
    if committed.read_text() != expected:
        return [f"{label} differs from {source.relative_to(ROOT)}"]
    return []


def check() -> list[str]:
    """Every way notebooks/ disagrees with book/, practice/ and _config.yml; empty when in sync."""
    problems = []
    command = install_command()
    with tempfile.TemporaryDirectory() as tmp:
        for source in chapters():
            problems += _install_problems(source, command)
            expected = render(source, Path(tmp)).read_text()
            problems += _drift(NOTEBOOKS / f"{source.stem}.ipynb", f"notebooks/{source.stem}.ipynb", expected, source)
        for source in practice_sources():
            problems += _install_problems(source, command)
            expected = render_practice(source, Path(tmp) / PRACTICE).read_text()
            problems += _drift(NOTEBOOKS / PRACTICE / f"{source.stem}.ipynb",
                               f"notebooks/{PRACTICE}/{source.stem}.ipynb", expected, source)
    for folder, sources, origin in ((NOTEBOOKS, chapters(), "book"),
                                    (NOTEBOOKS / PRACTICE, practice_sources(), "practice")):
        for stray in sorted({p.stem for p in folder.glob("*.ipynb")} - {p.stem for p in sources}):
            problems.append(f"notebooks/{folder.relative_to(NOTEBOOKS) / stray}.ipynb has no {origin}/{stray}.md")
    return problems


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else "check"
    if action == "write":
        write()
    elif action == "check":
        found = check()
        print("\n".join(found) or "notebooks/ is in sync with book/ and practice/")
        if found:
            print("fix: make notebooks", file=sys.stderr)
        sys.exit(1 if found else 0)
    else:
        sys.exit(f"usage: {sys.argv[0]} write|check")
