"""The package's layout rules (docs/architecture.md) hold, and the checker catches each kind of break."""

import importlib.util
import shutil
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dclm"
# Small enough to read in one sitting; data and generated files are not modules.
MAX_MODULE_LINES = 400

spec = importlib.util.spec_from_file_location("check_architecture", ROOT / "scripts" / "check_architecture.py")
rules = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rules)


def test_the_package_keeps_its_import_rules():
    assert rules.violations(PACKAGE) == []


def test_every_module_is_in_a_layer():
    for path in PACKAGE.rglob("*.py"):
        rules.layer(rules.module_name(path, PACKAGE))  # raises KeyError for a module in no layer


def test_no_module_is_over_the_line_limit():
    long = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}, f"split these into a package with files named for their steps: {long}"


@pytest.fixture
def planted(tmp_path):
    """A copy of the package, to plant one violation in."""
    copy = tmp_path / "dclm"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def plant(copy: Path, module: str, code: str) -> None:
    path = copy / module
    path.write_text(path.read_text(encoding="utf-8") + "\n\n" + textwrap.dedent(code))


@pytest.mark.parametrize(("module", "code", "expected"), [
    ("stats.py", "def f():\n    from dclm.experiments import run\n", "a lower layer must not know a higher one"),
    ("causal/iv.py", "from dclm.causal.linear import _solve_spd\n", "imports the private name _solve_spd"),
    ("experiments/iv/studies.py", "from dclm.causal import linear\n\nlinear._solve_spd\n", "uses the private name _solve_spd"),
    ("causal/linear.py", "def f():\n    from dclm.causal import iv\n", "import circle"),
    ("data/mind.py", "def f():\n    import transformers\n", "imports transformers outside dclm/train"),
])
def test_a_planted_violation_is_reported(planted, module, code, expected):
    plant(planted, module, code)
    found = rules.violations(planted)
    assert any(expected in line for line in found), found
