"""django_upscope has no import cycle, counting imports inside functions.

A cycle hidden by a deferred import is still a cycle: the modules cannot be
understood (or loaded) one without the other. The graph is read with ``ast``,
so nothing is imported to build it. Imports under ``if TYPE_CHECKING:`` are left
out: they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import django_upscope

PACKAGE_DIR = Path(django_upscope.__file__).resolve().parent


def module_names(package_dir: Path) -> dict[str, Path]:
    """Every module of the package, by dotted name (a package by its ``__init__``)."""
    names = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Imports(ast.NodeVisitor):
    """The dotted names a module imports, anywhere in it (relative ones resolved)."""

    def __init__(self, package: str) -> None:
        self.package = package
        self.names: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for statement in node.orelse:
                self.visit(statement)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.names.update(alias.name for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            parts = self.package.split(".")
            base = ".".join(parts[: len(parts) - node.level + 1])
            source = f"{base}.{node.module}" if node.module else base
        else:
            source = node.module or ""
        self.names.add(source)
        # ``from . import views`` imports the module ``views``, not a name of ``.``.
        self.names.update(f"{source}.{alias.name}" for alias in node.names)


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports."""
    modules = module_names(package_dir)
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        visitor = _Imports(package)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        graph[name] = {target for target in visitor.names if target in modules} - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph (``[a, b, ..., a]``), or None (a depth-first search)."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for target in sorted(graph[node]):
            if target in on_path:
                return [*path[path.index(target) :], target]
            if target not in done:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def test_django_upscope_has_no_import_cycle():
    graph = import_graph(PACKAGE_DIR)
    # The graph is real: the API's layers are in it, in their one direction.
    assert "django_upscope.api.serializers" in graph["django_upscope.api.docs"]
    assert "django_upscope.api.views" in graph["django_upscope.api.openapi"]
    assert "django_upscope.fake.seeding" in graph["django_upscope.fake.state"]
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "pkg"


def test_a_cycle_through_a_deferred_relative_import_is_found(tmp_path):
    package = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from .sub import b\n",
            "pkg/sub/__init__.py": "",
            # Deferred and relative, two levels up: the kind of edge that hides a cycle.
            "pkg/sub/b.py": "def later():\n    from ..a import thing\n    return thing\n",
        },
    )
    assert find_cycle(import_graph(package)) == ["pkg.a", "pkg.sub.b", "pkg.a"]


def test_type_checking_imports_do_not_count(tmp_path):
    files = {
        "pkg/__init__.py": "",
        "pkg/a.py": "import pkg.b\n",
        "pkg/b.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from . import a\n"
            "else:\n    from . import c\n"
        ),
        "pkg/c.py": "",
    }
    graph = import_graph(_write(tmp_path, files))
    assert graph["pkg.a"] == {"pkg.b"}
    assert graph["pkg.b"] == {"pkg", "pkg.c"}  # the else branch runs, so it counts
    assert find_cycle(graph) is None


def test_the_fake_never_reads_the_products_statement_of_upscope():
    # The fake is the tests' model of Upscope: it keeps its own (django_upscope.fake.spec).
    graph = import_graph(PACKAGE_DIR)
    product = {"django_upscope.vocabulary", "django_upscope.client", "django_upscope.resources"}
    fake = {
        name: targets for name, targets in graph.items() if name.startswith("django_upscope.fake")
    }
    assert "django_upscope.fake.spec" in fake["django_upscope.fake.views"]
    assert {name: targets & product for name, targets in fake.items() if targets & product} == {}
    # Positive control: the same edges are seen where they do exist.
    assert "django_upscope.vocabulary" in graph["django_upscope.api.serializers"]
