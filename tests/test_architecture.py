"""The house rules of docs/architecture.md, read off the source with `ast`.

Every import inside `src/promptyard/` counts, also the ones inside functions: a lazy import
hides a circle from the interpreter, not from the next reader.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "promptyard"
APP = Path(__file__).resolve().parent.parent / "app"
MAX_LINES = 400

# Parts from the top down: a part imports only parts after it (docs/architecture.md).
LAYERS = [
    "cli",
    "ui_support",
    "robustness",
    "finetune",
    "evals",
    "monitoring",
    "runs",
    "guardrails",
    "traces",
    "reading",
    "models",
    "ratings",
    "datasets",
    "prompts",
    "versioning",
    "storage",
    "team",
    "in_force",
    "stats",
    "csv_safety",
    "disk_errors",
    "plugin_points",
    "lazy_names",
    "threaded_server",
    "workspace",
    "errors",
    "_env",
]
# The package root (the public face) and `python -m promptyard` may import anything.
FACES = {"promptyard", "promptyard.__main__"}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, dotted
    target: str  # the imported module, dotted
    names: tuple[str, ...]  # the names taken from it (empty for `import x`)
    line: int

    @property
    def where(self) -> str:
        return f"{self.source.replace('.', '/')}.py line {self.line}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(source: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    is_package = MODULES[source].name == "__init__.py"
    base = source.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports() -> list[Import]:
    found: list[Import] = []
    for source, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("promptyard"):
                        found.append(Import(source, alias.name, (), node.lineno))
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(source, node)
                if not target.startswith("promptyard"):
                    continue
                names = tuple(a.name for a in node.names)
                # `from promptyard.runs import executor` imports the module runs.executor.
                submodules = [n for n in names if f"{target}.{n}" in MODULES]
                for name in submodules:
                    found.append(Import(source, f"{target}.{name}", (), node.lineno))
                rest = tuple(n for n in names if n not in submodules)
                if rest or not submodules:
                    found.append(Import(source, target, rest, node.lineno))
    return found


IMPORTS = _imports()


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else module


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_walker_sees_the_package() -> None:
    # The rules below mean nothing if the walk found no modules or no imports.
    assert "promptyard.runs" in MODULES and "promptyard.storage.db" in MODULES
    assert any(i.target == "promptyard.storage.db" for i in IMPORTS)
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


def test_no_import_circles() -> None:
    edges: dict[str, set[str]] = {}
    for imp in IMPORTS:
        if imp.target in MODULES and imp.target != imp.source:
            edges.setdefault(imp.source, set()).add(imp.target)
    assert _cycles(edges) == []


def test_no_private_names_across_parts() -> None:
    bad = [
        f"{imp.where}: {name} from {imp.target}"
        for imp in IMPORTS
        for name in imp.names
        if name.startswith("_")
        and not name.startswith("__")
        and _part(imp.source) != _part(imp.target)
    ]
    # Private modules count too: `promptyard.models._x` is private to models.
    bad += [
        f"{imp.where}: imports {imp.target}"
        for imp in IMPORTS
        if any(p.startswith("_") and not p.startswith("__") for p in imp.target.split(".")[2:])
        and _part(imp.source) != _part(imp.target)
    ]
    assert bad == []


def test_parts_import_only_parts_below_them() -> None:
    bad = []
    for imp in IMPORTS:
        if imp.source in FACES or imp.target in FACES and not imp.names:
            continue
        src, dst = _part(imp.source), _part(imp.target)
        if imp.target == "promptyard":
            bad.append(f"{imp.where}: imports the package root (use the part itself)")
        elif src != dst and LAYERS.index(dst) < LAYERS.index(src):
            bad.append(f"{imp.where}: {src} imports {dst}, which sits above it")
    assert bad == []


def test_every_module_belongs_to_a_known_part() -> None:
    unknown = {_part(m) for m in MODULES if m not in FACES} - set(LAYERS)
    assert unknown == set()


@pytest.mark.parametrize("root", [PACKAGE, APP], ids=["src", "app"])
def test_no_module_over_400_lines(root: Path) -> None:
    long = {
        str(p.relative_to(root.parent)): n
        for p in root.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_library_never_imports_streamlit() -> None:
    offenders = []
    for source, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n.split(".")[0] == "streamlit" for n in names):
                offenders.append(f"{source} line {node.lineno}")
    assert offenders == []


def test_pages_use_no_private_library_names_and_no_store() -> None:
    bad = []
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("promptyard"):
                for alias in node.names:
                    if alias.name.startswith("_") or alias.name == "Store":
                        bad.append(f"{path.relative_to(APP)} line {node.lineno}: {alias.name}")
    assert bad == []


def test_the_public_face_names_real_things_and_imports_them_lazily() -> None:
    import subprocess
    import sys

    code = (
        "import sys, promptyard\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('promptyard'))\n"
        "heavy = [m for m in ('litellm', 'pandas', 'sqlmodel', 'git', 'openai') if m in sys.modules]\n"
        "missing = [n for n in promptyard.__all__ if getattr(promptyard, n, None) is None]\n"
        "print(loaded, heavy, missing)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['promptyard', 'promptyard.errors', 'promptyard.workspace'] [] []"


def test_every_part_has_a_public_face() -> None:
    for part in LAYERS:
        path = PACKAGE / part / "__init__.py"
        if not path.exists():
            continue  # a module part (stats, workspace, errors) or one not built yet
        tree = ast.parse(path.read_text())
        names = [
            t.id
            for node in tree.body
            if isinstance(node, ast.Assign)
            for t in node.targets
            if isinstance(t, ast.Name)
        ]
        assert "__all__" in names or part == "cli", f"{part}/__init__.py has no __all__"
