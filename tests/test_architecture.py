"""The package's structure: no import cycle, counting imports inside functions.

import-linter (``python3 dev.py -s lint``) checks the layers and the forbidden imports; it
does not see a cycle closed by an import inside a function, which is the kind that creeps
in. This test reads every module's imports with :mod:`ast` (type-checking-only imports
left out, as they never run) and fails on any strongly connected group of modules.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src"
#: The longest a module may grow before it is split along the seam its code shows.
MAX_LINES = 650
#: Known debts, each a ratchet: it may shrink or go, never grow.
KNOWN_CYCLES: list[list[str]] = []
#: Modules still over MAX_LINES, with the most lines they may have until they are split.
KNOWN_LONG: dict[str, int] = {}


def _modules() -> dict[str, Path]:
    found = {}
    for path in (SOURCE / "archivist").rglob("*.py"):
        parts = list(path.relative_to(SOURCE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _runtime_nodes(tree: ast.Module) -> Iterator[ast.AST]:
    """Every node except those under ``if TYPE_CHECKING:``."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    edges: dict[str, set[str]] = {}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets: set[str | None] = set()
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(resolve(alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, *([base] if base else [])])
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.add(resolve(full if full in modules else base))
        edges[module] = {t for t in targets if t is not None and t != module}
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
    return groups


def test_no_import_cycle_counting_imports_inside_functions() -> None:
    cycles = [group for group in _cycles(_imports(_modules())) if group not in KNOWN_CYCLES]
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(group) for group in cycles)


def test_the_cycle_finder_finds_a_planted_cycle(tmp_path: Path) -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(edges) == [["a", "b", "c"]]


@pytest.mark.parametrize("module", sorted(_modules()))
def test_modules_stay_small_enough_to_hold_in_your_head(module: str) -> None:
    lines = len(_modules()[module].read_text(encoding="utf-8").splitlines())
    bound = KNOWN_LONG.get(module, MAX_LINES)
    assert lines <= bound, f"{module} has {lines} lines (at most {bound}): split it along its seams"


def _design_layers() -> list[list[str]]:
    """The layers of docs/design.md's table, top first: the modules each row names."""
    text = (SOURCE.parent / "docs" / "design.md").read_text(encoding="utf-8")
    lines = text.split("## The pieces", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| where |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return [re.findall(r"`(archivist(?:\.[\w]+)*)`", row.split(" | ", 1)[0]) for row in rows]


def _layer_of(module: str, layers: list[list[str]]) -> int | None:
    best: tuple[int, int] | None = None
    for i, names in enumerate(layers):
        for name in names:
            if (module == name or module.startswith(name + ".")) and (
                best is None or len(name) > best[1]
            ):
                best = (i, len(name))
    return None if best is None else best[0]


def test_imports_point_down_the_layers_design_md_draws() -> None:
    layers = _design_layers()
    assert len(layers) >= 10 and ["archivist.errors", "archivist._warn"] in layers
    modules = _modules()
    unplaced = [m for m in modules if _layer_of(m, layers) is None]
    assert not unplaced, f"modules in no layer of docs/design.md: {unplaced}"
    upward = [
        f"{module} -> {target}"
        for module, targets in _imports(modules).items()
        for target in targets
        if _layer_of(target, layers) < _layer_of(module, layers)  # type: ignore[operator]
    ]
    assert not upward, "imports that run back up a layer:\n" + "\n".join(sorted(upward))
