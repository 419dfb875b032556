"""notebooks/ is generated from book/: in sync, output-free, plain nbformat 4."""

import importlib.util
import json
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("notebooks_script", ROOT / "scripts" / "notebooks.py")
notebooks_script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(notebooks_script)


def test_notebooks_match_book():
    assert notebooks_script.check() == [], "run `make notebooks`"


def test_every_chapter_has_a_plain_output_free_notebook():
    stems = [p.stem for p in notebooks_script.chapters()]
    assert "01-confounding" in stems
    for stem in stems:
        path = ROOT / "notebooks" / f"{stem}.ipynb"
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert nb.nbformat == 4
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), f"{path.name} has outputs"
        install = code[0]
        assert "colab-install" in install.metadata.get("tags", [])
        assert 'if "google.colab" in sys.modules' in install.source
        pip_lines = [line for line in install.source.splitlines() if "pip install" in line]
        assert pip_lines and not any("torch" in line for line in pip_lines)  # Colab keeps its torch
        assert "dclm[colab]" in install.source


def test_check_detects_drift(tmp_path, monkeypatch):
    monkeypatch.setattr(notebooks_script, "NOTEBOOKS", tmp_path)
    source = notebooks_script.chapters()[0]
    assert f"notebooks/{source.stem}.ipynb is missing" in notebooks_script.check()
    stale = json.loads((ROOT / "notebooks" / f"{source.stem}.ipynb").read_text())
    stale["cells"][-1]["source"] = "edited by hand"
    (tmp_path / f"{source.stem}.ipynb").write_text(json.dumps(stale))
    assert any("differs from" in p for p in notebooks_script.check())


def test_practice_notebooks_have_blanks_not_solutions_and_an_install_cell():
    sources = notebooks_script.practice_sources()
    assert sources, "no practice/NN-slug.md"
    for source in sources:
        nb = nbformat.read(ROOT / "notebooks" / "practice" / f"{source.stem}.ipynb", as_version=4)
        nbformat.validate(nb)
        text = "\n".join(c.source for c in nb.cells)
        assert "### BEGIN SOLUTION" not in text and "### BLANK" not in text, source.name
        assert "= None  # your turn" in text
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code)
        assert "colab-install" in code[0].metadata.get("tags", [])
        assert "accelerator" not in nb.metadata, f"practice/{source.name} is CPU-only and must not ask for a GPU"
    solved = notebooks_script.practice_notebook(sources[0], solutions=True)
    assert "### BEGIN SOLUTION" not in "\n".join(c.source for c in solved.cells)
    assert "= None  # your turn" not in "\n".join(c.source for c in solved.cells)


def test_a_practice_source_without_a_check_after_its_your_turn_cell_is_an_error(tmp_path, monkeypatch):
    broken = tmp_path / "01-broken.md"
    broken.write_text(notebooks_script.practice_sources()[0].read_text().replace(":tags: [check]", ""))
    monkeypatch.setattr(notebooks_script, "ROOT", tmp_path)
    with pytest.raises(SystemExit, match="must be followed by a code cell tagged check"):
        notebooks_script.practice_notebook(broken)


GPU_CHAPTERS = ("03-monday-effect", "04-upworthy", "05-deconfoundlm", "06-diagnose")


def test_gpu_chapters_ask_colab_for_a_gpu_and_the_others_do_not():
    for stem in (p.stem for p in notebooks_script.chapters()):
        metadata = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4).metadata
        if stem in GPU_CHAPTERS:
            assert metadata.get("accelerator") == "GPU", stem
            assert metadata["colab"]["gpuType"] == "T4"
        else:
            assert "accelerator" not in metadata, f"{stem} asks for a GPU it does not use"


def test_only_the_main_run_of_a_gpu_chapter_follows_the_page_profile():
    """With the colab profile a side run or an exercise at colab size would take hours on a T4."""
    import re

    for stem in GPU_CHAPTERS:
        text = (ROOT / "book" / f"{stem}.md").read_text()
        calls = re.findall(r"\brun\(\"\w+\"[^)\n]*", text)
        assert calls, stem
        assert "PROFILE = page_profile()" in text.split(calls[0])[0], f"{stem}: no profile cell above the main run"
        assert "profile=PROFILE" in calls[0], f"{stem}: main run ignores the page's profile: {calls[0]}"
        for call in calls[1:]:
            assert 'profile="tiny"' in call, f"{stem}: a side run without profile=\"tiny\": {call}"


def test_install_cells_restart_a_stale_runtime_right_after_pip():
    for stem in (p.stem for p in notebooks_script.chapters()):
        install = next(c for c in nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4).cells
                       if c.cell_type == "code")
        lines = install.source.splitlines()
        pip = next(i for i, line in enumerate(lines) if "%pip install" in line)
        assert lines[pip + 1:pip + 3] == ["    from dclm.env import restart_if_stale", "    restart_if_stale()"], stem


def test_check_detects_a_hand_edited_or_stray_practice_notebook(tmp_path, monkeypatch):
    import shutil

    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    monkeypatch.setattr(notebooks_script, "NOTEBOOKS", tmp_path / "notebooks")
    assert notebooks_script.check() == []
    source = notebooks_script.practice_sources()[0]
    edited = tmp_path / "notebooks" / "practice" / f"{source.stem}.ipynb"
    stale = json.loads(edited.read_text())
    stale["cells"][-1]["source"] = "the solution, typed into the generated notebook"
    edited.write_text(json.dumps(stale))
    (tmp_path / "notebooks" / "practice" / "00-setup.ipynb").write_text("{}")
    problems = notebooks_script.check()
    assert f"notebooks/practice/{source.stem}.ipynb differs from practice/{source.name}" in problems
    assert "notebooks/practice/00-setup.ipynb has no practice/00-setup.md" in problems
