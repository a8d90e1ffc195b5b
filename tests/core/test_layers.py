"""The layers of docs/architecture.md hold: core imports no app, and no app reaches back to an app that imports it.

Read from the source (every module under src/fangkong/<app>/, migrations included), so a new
import that breaks a layer fails here with the modules that make it, before anyone runs the code.
"""

import ast
import itertools
from collections import defaultdict
from pathlib import Path

import fangkong

PACKAGE = Path(fangkong.__file__).parent

def _apps() -> list[str]:
    return sorted(path.name for path in PACKAGE.iterdir() if (path / "__init__.py").is_file())


def _targets(node) -> list[str]:
    """The fangkong modules an import statement names: `from fangkong import demo` names fangkong.demo."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom) or node.level or node.module is None:
        return []
    if node.module == "fangkong":
        return [f"fangkong.{alias.name}" for alias in node.names]
    return [node.module]


def _imports() -> list[tuple[str, str, str]]:
    """(importing app, imported fangkong module, 'module.py:line') for every import of a fangkong module by an app."""
    found = []
    for app in _apps():
        for path in sorted((PACKAGE / app).rglob("*.py")):
            where = path.relative_to(PACKAGE.parent).as_posix()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=where)):
                found.extend((app, target, f"{where}:{node.lineno}") for target in _targets(node)
                             if target.startswith("fangkong."))
    return found


def _app_edges() -> dict[tuple[str, str], list[str]]:
    """(importer, imported) between two different apps → the importing lines."""
    apps = set(_apps())
    edges = defaultdict(list)
    for app, target, where in _imports():
        imported = target.split(".")[1]
        if imported in apps and imported != app:
            edges[(app, imported)].append(f"{where} imports {target}")
    return edges


def _cycle(edges) -> list[str] | None:
    """Some cycle of apps (a → b → … → a), if there is one."""
    graph = defaultdict(set)
    for importer, imported in edges:
        graph[importer].add(imported)
    state = {}

    def visit(app, path):
        state[app] = "open"
        for nxt in sorted(graph[app]):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt, [*path, nxt])):
                return found
        state[app] = "done"
        return None

    for app in sorted(graph):
        if app not in state and (found := visit(app, [app])):
            return found
    return None


def test_core_imports_no_app_and_nothing_above_it():
    # When core's modules are read, then each fangkong import they make is of core itself
    outside = [f"{where} imports {target}" for app, target, where in _imports()
               if app == "core" and not (target == "fangkong.core" or target.startswith("fangkong.core."))]
    assert not outside, "core must not import the apps above it:\n" + "\n".join(outside)


def test_no_two_apps_import_each_other():
    # Given every app's imports (testing's use of zones among them: the whole source was read)
    edges = _app_edges()
    assert ("testing", "zones") in edges
    # Then no pair of apps imports each other
    pairs = sorted({tuple(sorted(edge)) for edge in edges if edge[::-1] in edges})
    report = "\n\n".join(f"{a} ⇄ {b}:\n  " + "\n  ".join(edges[(a, b)] + edges[(b, a)]) for a, b in pairs)
    assert not pairs, "these apps import each other both ways:\n" + report


def test_no_app_reaches_back_to_itself_through_others():
    # Given the imports between apps
    edges = _app_edges()
    # Then they form layers: no app imports, through others, an app that imports it
    cycle = _cycle(edges)
    assert cycle is None, "these apps import each other in a circle:\n" + "\n".join(
        f"{a} → {b}: {edges[(a, b)][0]}" for a, b in itertools.pairwise(cycle))


def _documented_imports() -> dict[str, set[str] | None]:
    """The layers table of docs/architecture.md: app → the apps it may import (None for "any app")."""
    text = (PACKAGE.parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = text.split("| app | holds | may import |", 1)[1].split("\n\n", 1)[0]
    allowed = {}
    for line in table.splitlines()[2:]:
        app, _holds, may_import = (cell.strip() for cell in line.strip().strip("|").rsplit("|", 2))
        allowed[app.strip("`")] = None if may_import == "any app" else {
            name.strip() for name in may_import.replace("nothing of fangkong but core", "").split(",") if name.strip()}
    return allowed


def test_every_app_imports_only_what_the_architecture_document_allows():
    # Given the layers table of docs/architecture.md, which names every app
    allowed = _documented_imports()
    assert set(allowed) == set(_apps())
    # When the imports between apps are read, then each is one the table allows
    beyond = [line for (importer, imported), lines in sorted(_app_edges().items())
              if allowed[importer] is not None and imported not in allowed[importer] for line in lines[:1]]
    assert not beyond, "docs/architecture.md does not allow:\n" + "\n".join(beyond)
