"""The import graph of the whole repository: no cycle between modules, and what the config modules load.

`lint-imports` (setup.cfg) checks who may import whom inside the packages; grimp cannot read the two
top-level modules celeryconfig.py and flowerconfig.py, and import-linter's cycle contract only sees
cycles inside one package, so this test adds both and looks for cycles across the whole graph. Imports
inside functions and under TYPE_CHECKING count: hiding an import does not break a cycle.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable
from pathlib import Path

import grimp

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("switchboard", "webapp", "tasks", "localdev")
TOP_LEVEL_MODULES = ("celeryconfig", "flowerconfig")

Graph = dict[str, set[str]]


def _imports_of_file(path: Path, known: set[str]) -> set[str]:
    """The repository's modules a top-level module imports: the deepest known module each import names."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            for end in range(len(parts), 0, -1):
                if ".".join(parts[:end]) in known:
                    found.add(".".join(parts[:end]))
                    break
    return found


def build_import_graph() -> Graph:
    """Every module of the repository's packages and top-level modules, with the modules it imports."""
    packages = grimp.build_graph(*PACKAGES, cache_dir=None)
    graph = {module: set(packages.find_modules_directly_imported_by(module)) for module in packages.modules}
    known = set(graph) | set(TOP_LEVEL_MODULES)
    for module in TOP_LEVEL_MODULES:
        graph[module] = _imports_of_file(REPO_ROOT / f"{module}.py", known)
    return graph


def strongly_connected(graph: Graph) -> list[set[str]]:
    """Tarjan's algorithm, iterative: the groups of two or more modules that import each other in a ring."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, imported = work[-1]
            child = next(imported, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == module:
                        break
                if len(group) > 1:
                    groups.append(group)
    return groups


def shortest_cycle(graph: Graph, group: set[str]) -> list[str]:
    """One shortest ring through the group's first module, as module names ending where they start."""
    start = min(group)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        module = queue.popleft()
        for child in sorted(graph[module] & group):
            if child == start:
                ring = [module]
                while ring[-1] != start:
                    ring.append(came_from[ring[-1]])
                return [*reversed(ring), start]
            if child not in came_from:
                came_from[child] = module
                queue.append(child)
    raise AssertionError(f"{sorted(group)} is not strongly connected")


def loaded_by(graph: Graph, module: str) -> set[str]:
    """What importing `module` runs: its imports, transitively, and the package __init__ above each."""
    seen: set[str] = set()
    pending = [module]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        parents = [current.rsplit(".", depth)[0] for depth in range(1, current.count(".") + 1)]
        pending.extend(graph.get(current, set()) | set(parents))
    return seen - {module}


def _in(modules: Iterable[str], package: str) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(package + "."))


def test_no_module_is_part_of_an_import_cycle() -> None:
    graph = build_import_graph()
    cycles = [" -> ".join(shortest_cycle(graph, group)) for group in strongly_connected(graph)]
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_cycle_finder_reports_a_ring_it_is_given() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert [shortest_cycle(graph, group) for group in strongly_connected(graph)] == [["a", "b", "c", "a"]]


def test_the_config_modules_load_no_local_development_code() -> None:
    graph = build_import_graph()
    for module in TOP_LEVEL_MODULES:
        assert _in(loaded_by(graph, module), "localdev") == [], module


def test_celeryconfig_does_not_load_the_app_it_configures() -> None:
    # tasks/celery.py reads celeryconfig by name (config_from_object), so celeryconfig loading the app
    # is a cycle no import statement shows.
    loaded = loaded_by(build_import_graph(), "celeryconfig")
    assert "tasks.celery" not in loaded, f"celeryconfig loads {_in(loaded, 'tasks')}"
