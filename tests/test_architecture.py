"""The package's shape stays readable: no import cycle, no module reaching into another's
private names, modules and functions of a size a reader can hold (over the limit only with a
comment saying why), and function-local imports only in the lazy places that say so."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kg"
MODULE_LINES = 400
FUNCTION_LINES = 60
#: A comment on a def line or the line above it that lets a function be longer.
LONG_OK = "long:"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if MODULES[module].name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str) -> list[tuple[str, str | None, ast.stmt, bool]]:
    """(imported module, imported name or None, node, at module level) for kg-internal imports."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    top = set(map(id, tree.body))
    for node in tree.body:  # `if TYPE_CHECKING:` imports are module-level too (for type checkers)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            top |= set(map(id, node.body))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, None, node, id(node) in top) for a in node.names if a.name.startswith("kg")]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            if not target.startswith("kg"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in MODULES:
                    found.append((sub, None, node, id(node) in top))
                else:
                    found.append((target, alias.name, node, id(node) in top))
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for module in MODULES:
        for target, _name, _node, _top in _imports(module):
            if target in MODULES and target != module:
                graph[module].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(MODULES):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle() -> None:
    """Function-local imports included: hiding a cycle inside a function does not remove it."""
    assert _cycles(_graph()) == []


def test_no_private_name_crosses_a_module() -> None:
    offenders = [
        f"{module} imports {target}.{name}"
        for module in MODULES
        for target, name, _node, _top in _imports(module)
        if name and name.startswith("_") and not name.startswith("__") and target != module
    ]
    assert offenders == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_sizes(module: str) -> None:
    text = MODULES[module].read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) <= MODULE_LINES or f"# {LONG_OK}" in "\n".join(lines[:30]), (
        f"{module}: {len(lines)} lines (split it, or say why near its top with '# {LONG_OK} ...')"
    )
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            size = (node.end_lineno or node.lineno) - node.lineno + 1
            first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
            context = "\n".join(lines[max(0, first - 2) : node.body[0].lineno])
            assert size <= FUNCTION_LINES or LONG_OK in context, f"{module}.{node.name}: {size} lines"


def test_local_imports_only_where_lazy_loading_is_measured() -> None:
    """An import inside a function is allowed only in a module that says why (`# lazy:`)."""
    offenders = [
        f"{module}:{node.lineno} imports {target}"
        for module, path in MODULES.items()
        if "# lazy:" not in path.read_text(encoding="utf-8")
        for target, _name, node, top in _imports(module)
        if not top
    ]
    assert offenders == []
