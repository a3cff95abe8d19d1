"""The workflow engine's imports go one way: parse (definition) → states → run state (interpreter).

Read from the source with ast, so an import hidden under `if TYPE_CHECKING:` or inside a function
counts as much as a top-level one: a cycle between modules is a cycle whatever imports it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import autotagger.workflow

PACKAGE = "autotagger.workflow"
PACKAGE_DIR = Path(autotagger.workflow.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    """The package's own modules (by short name) that the file imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                base = node.module or ""
            elif node.level == 0 and node.module is not None and (node.module + ".").startswith(PACKAGE + "."):
                base = node.module[len(PACKAGE) + 1:]
            else:
                continue
            if base:
                found.add(base.split(".")[0])
            else:  # `from . import states`
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE + "."):
                    found.add(alias.name[len(PACKAGE) + 1:].split(".")[0])
    return found


def _import_graph() -> dict[str, set[str]]:
    modules = {path.stem: path for path in PACKAGE_DIR.glob("*.py") if path.stem != "__init__"}
    return {name: _imported_modules(path) & set(modules) for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (as a path that ends where it starts), or None."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return path[path.index(name):] + [name]
        if name in done:
            return None
        for target in sorted(graph[name]):
            cycle = visit(target, path + [name])
            if cycle:
                return cycle
        done.add(name)
        return None

    for name in sorted(graph):
        cycle = visit(name, [])
        if cycle:
            return cycle
    return None


def test_the_reader_sees_the_engine_modules_and_their_imports():
    graph = _import_graph()
    assert {"definition", "states", "interpreter", "machine"} <= set(graph)
    assert "states" in graph["definition"]
    assert "interpreter" in graph["states"]


def test_the_run_state_never_imports_the_states_nor_the_parser():
    graph = _import_graph()
    assert not graph["interpreter"] & {"states", "definition", "machine"}, graph["interpreter"]


def test_the_workflow_modules_have_no_import_cycle():
    cycle = _cycle(_import_graph())
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_a_cycle_hidden_under_type_checking_is_found(tmp_path):
    (tmp_path / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import B\n")
    (tmp_path / "b.py").write_text("from autotagger.workflow.a import A\n")
    graph = {"a": _imported_modules(tmp_path / "a.py"), "b": _imported_modules(tmp_path / "b.py")}
    assert _cycle(graph) == ["a", "b", "a"]
