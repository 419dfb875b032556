"""Publishing contracts: the GitHub workflows, the licences, the citation, a build without npm."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
WORKFLOWS = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent


def lint(tool: str, *args: str) -> subprocess.CompletedProcess:
    executable = BIN / tool if (BIN / tool).exists() else shutil.which(tool)
    assert executable, f"{tool} is not installed: pip install -c requirements/lock.txt -e '.[dev]'"
    return subprocess.run([str(executable), *args], capture_output=True, text=True, timeout=120)


def schema_check(*paths: Path) -> subprocess.CompletedProcess:
    return lint("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, paths))


def zizmor(folder: Path) -> subprocess.CompletedProcess:
    return lint("zizmor", "--offline", "--no-progress", "--quiet", str(folder))


def workflow(name: str) -> dict:
    loaded = yaml.safe_load((WORKFLOWS / name).read_text())
    loaded["on"] = loaded.pop(True, loaded.get("on"))  # YAML 1.1 reads the key `on` as True
    return loaded


def steps(job: dict) -> list[dict]:
    return job["steps"]


# ----------------------------------------------------------------------------- workflows

def test_the_workflows_pass_both_linters():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} == {"test.yml", "weekly.yml"}
    checked = schema_check(*files)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    audited = zizmor(WORKFLOWS)
    assert audited.returncode == 0, audited.stdout + audited.stderr


BREAKS = {
    # what breaks, how, and which linter must see it
    "misspelled event": (lambda t: t.replace("  pull_request:", "  pull_requests:"), "schema"),
    "unknown job key": (lambda t: t.replace("    runs-on: ubuntu-latest", "    runs-onn: ubuntu-latest", 1), "both"),
    "action on a moving tag": (lambda t: re.sub(r"actions/checkout@[0-9a-f]{40}", "actions/checkout@main", t),
                               "zizmor"),
    "credentials left in the checkout": (lambda t: t.replace("        with:\n          persist-credentials: false\n", "", 1),
                                         "zizmor"),
}


@pytest.mark.parametrize("name", list(BREAKS))
def test_a_broken_workflow_fails_the_lint(tmp_path, name):
    breaker, which = BREAKS[name]
    text = (WORKFLOWS / "test.yml").read_text()
    broken = breaker(text)
    assert broken != text, f"the {name!r} break did not apply"
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "test.yml").write_text(broken)
    if which in ("schema", "both"):
        assert schema_check(folder / "test.yml").returncode != 0
    if which in ("zizmor", "both"):
        assert zizmor(folder).returncode != 0


def test_every_push_and_pull_request_runs_make_test_and_main_is_published():
    flow = workflow("test.yml")
    assert "push" in flow["on"] and "pull_request" in flow["on"]
    test, deploy = flow["jobs"]["test"], flow["jobs"]["deploy"]
    assert [s["run"] for s in steps(test) if "run" in s] == ["make test"]
    lock_python = re.search(r"on Python (\d+\.\d+)", (ROOT / "requirements" / "lock.txt").read_text()).group(1)
    assert test["container"].startswith(f"python:{lock_python}-"), "CI must run the Python the lock was made on"
    upload = next(s for s in steps(test) if "upload-pages-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "_build/html"
    main_only = "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert upload["if"] == main_only and deploy["if"] == main_only
    assert deploy["needs"] == ["test", "repository"], "only a site that passed make test, whose badges open a real " \
                                                      "repository, is published"
    assert any("actions/deploy-pages@" in s.get("uses", "") for s in steps(deploy))
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}


def test_the_repository_check_reads_the_url_the_badges_use():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    run = next(s["run"] for s in steps(workflow("test.yml")["jobs"]["repository"]) if "run" in s)
    assert "git ls-remote --exit-code --heads" in run
    # The step's own lines that read _config.yml, run here: they must find the setting.
    reads = "\n".join(line for line in run.splitlines() if line.startswith(("url=", "branch=")))
    found = subprocess.run(["bash", "-c", reads + '\necho "$url $branch"'], cwd=ROOT, capture_output=True, text=True)
    assert found.stdout.split() == [config["url"], config["branch"]]


def test_weekly_run_uses_the_newest_releases_not_the_lock():
    flow = workflow("weekly.yml")
    assert flow["on"]["schedule"][0]["cron"]
    job = flow["jobs"]["newest"]
    install = next(s["run"] for s in steps(job) if s.get("name", "").startswith("Install"))
    assert "--upgrade" in install and "lock.txt" not in install and '-e ".[dev]"' in install
    stamp = re.search(r"^STAMP\s*:=\s*\$\(VENV\)/(\S+)", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert f"touch .venv/{stamp}" in install, "make would reinstall the lock over the newest releases"
    assert any(s.get("run") == "make test" for s in steps(job))


# ----------------------------------------------------------------------------- licences, citation

def test_code_text_and_data_licences_are_stated():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert re.search(r'^license = \{ text = "MIT" \}$', (ROOT / "pyproject.toml").read_text(), re.M)
    text_licence = (ROOT / "LICENSE-CC-BY-4.0.txt").read_text()
    assert "Creative Commons Attribution 4.0 International Public License" in text_licence
    footer = yaml.safe_load((ROOT / "_config.yml").read_text())["html"]["extra_footer"]
    assert "CC BY 4.0" in footer and "MIT" in footer and "creativecommons.org/licenses/by/4.0" in footer
    readme = (ROOT / "README.md").read_text()
    assert "LICENSE-CC-BY-4.0.txt" in readme and "CITATION.cff" in readme


def test_citation_matches_the_package_the_repository_and_the_paper():
    import dclm

    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0"
    assert citation["version"] == dclm.__version__
    assert citation["repository-code"] == yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    assert set(citation["license"]) == {"MIT", "CC-BY-4.0"}
    bib = (ROOT / "book" / "references.bib").read_text()
    eprint = re.search(r"@misc\{loghmani2025aligning,.*?eprint\s*=\s*\{([^}]+)\}", bib, re.S).group(1)
    (paper,) = [r for r in citation["references"] if "Loghmani" in str(r["authors"])]
    assert eprint in paper["url"] and f"arXiv:{eprint}" in str(paper["identifiers"])


def test_the_intro_cites_the_paper_exactly_as_the_bibliography_does():
    bib = (ROOT / "book" / "references.bib").read_text()
    entry = re.search(r"@misc\{loghmani2025aligning,.*?\n\}", bib, re.S).group(0)
    intro = (ROOT / "book" / "intro.md").read_text()
    block = re.search(r"```bibtex\n(.*?)```", intro, re.S).group(1)
    assert [line.strip() for line in block.strip().splitlines()] == [line.strip() for line in entry.splitlines()]
    assert 'href="../dclm-book.pdf"' in intro, "the intro links the PDF (make pdf writes _build/html/dclm-book.pdf)"


# ----------------------------------------------------------------------------- Python and make only

def test_the_book_build_needs_no_npm():
    recipes = [line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("\t")]
    assert not [line for line in recipes if re.search(r"\bnpm\b", line)], "a make recipe calls npm"
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        import offline_assets
    finally:
        sys.path.remove(str(ROOT / "book" / "_ext"))
    source = offline_assets.mathjax_source()
    assert source is not None, "django-static-mathjax (MathJax from PyPI) is not installed"
    assert (source / offline_assets.MATHJAX_COMPONENT).stat().st_size > 500_000
    for folder in offline_assets.MATHJAX_RUNTIME:
        assert (source / folder).is_dir(), f"MathJax's {folder}/ is missing from the package"
    assert (source / "output" / "chtml" / "fonts" / "woff-v2").is_dir(), "the equations' fonts are missing"
