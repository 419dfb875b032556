"""The import rules of dclm (docs/architecture.md), checked on the source without importing it.

    python scripts/check_architecture.py [ROOT]     # prints each violation; exit 1 if any

Rules:

1. Layers: a module imports only modules of its own layer or a lower one (``LAYERS``), at
   module level or inside a function alike.
2. No import circle between modules.
3. No private name across modules: neither ``from dclm.a import _b`` nor ``a._b`` on an
   imported dclm module, unless it is the module's own.
4. transformers, trl and peft are imported only under ``dclm/train/`` (an API rename is one fix).

``tests/unit/test_architecture.py`` runs it on the package and on planted violations.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

# Module prefix -> layer; the longest matching prefix decides. Lower layers know nothing of
# higher ones, so what two experiments share moves down a layer under a public name.
LAYERS: dict[str, int] = {
    "dclm": 0, "dclm.profiles": 0, "dclm.stats": 0,
    "dclm.config": 1, "dclm.env": 1, "dclm.cache": 1, "dclm.claims": 1,
    "dclm.causal": 2, "dclm.data": 2, "dclm.eval": 2,
    "dclm.train": 3,
    "dclm.models": 4,
    "dclm.viz": 5, "dclm.widgets": 5,
    "dclm.experiments": 6,
    # Applications: the command line, the practice checks, the book's helpers, and the GPU
    # check, which exercises training, embeddings and the sentiment scorer together.
    "dclm.cli": 7, "dclm.__main__": 7, "dclm.practice": 7, "dclm.book": 7, "dclm.train.gpu_check": 7,
}
HF_LIBRARIES = ("transformers", "trl", "peft")


def layer(module: str) -> int:
    """The layer of ``module``: its longest prefix in :data:`LAYERS`."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in LAYERS:
            return LAYERS[prefix]
    raise KeyError(f"{module} is in no layer of LAYERS; add its package there")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def scan(root: Path) -> tuple[dict[str, set[str]], list[str]]:
    """Every module's dclm imports (as modules), and the private-name and HF-library violations."""
    modules = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    imports: dict[str, set[str]] = {name: set() for name in modules}
    problems: list[str] = []
    for name, path in modules.items():
        where = path.relative_to(root.parent)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        aliases: dict[str, str] = {}  # local name -> dclm module it is bound to
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative import: resolve against this module's package
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                    + ([node.module] if node.module else []))
                if base.split(".")[0] in HF_LIBRARIES and not name.startswith("dclm.train"):
                    problems.append(f"{where}:{node.lineno}: imports {base} outside dclm/train")
                if not base.startswith("dclm"):
                    continue
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    if submodule in modules:
                        imports[name].add(submodule)
                        aliases[alias.asname or alias.name] = submodule
                    else:
                        imports[name].add(base)
                        if alias.name.startswith("_") and base != name:
                            problems.append(f"{where}:{node.lineno}: imports the private name {alias.name} of {base}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    top = alias.name.split(".")[0]
                    if top in HF_LIBRARIES and not name.startswith("dclm.train"):
                        problems.append(f"{where}:{node.lineno}: imports {alias.name} outside dclm/train")
                    if top == "dclm":
                        imports[name].add(alias.name)
                        if alias.asname:
                            aliases[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and node.attr.startswith("_") and not node.attr.startswith("__")
                    and aliases[node.value.id] != name):
                problems.append(f"{where}:{node.lineno}: uses the private name {node.attr} of "
                                f"{aliases[node.value.id]}")
    for name in imports:
        imports[name].discard(name)
    return imports, problems


def cycles(imports: dict[str, set[str]]) -> list[list[str]]:
    """Import circles between modules (each found once, as the path that closes it)."""
    found, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for target in sorted(imports.get(node, ())):
            if state.get(target) == "open":
                found.append([*path[path.index(target):], target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = "done"

    for node in sorted(imports):
        if node not in state:
            visit(node, [node])
    return found


def violations(root: Path) -> list[str]:
    """Every broken rule in the package at ``root`` (a folder named ``dclm``), one line each."""
    imports, problems = scan(root)
    for name, targets in sorted(imports.items()):
        for target in sorted(targets):
            if layer(target) > layer(name):
                problems.append(f"{name} (layer {layer(name)}) imports {target} (layer {layer(target)}): "
                                "a lower layer must not know a higher one")
    # A package importing its own subpackages' names is not a circle of two modules.
    for circle in cycles({n: {t for t in ts if not n.startswith(t + ".")} for n, ts in imports.items()}):
        problems.append("import circle: " + " -> ".join(circle))
    return problems


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "dclm"
    found = violations(root)
    print("\n".join(found) if found else f"{root}: import rules hold")
    sys.exit(1 if found else 0)
