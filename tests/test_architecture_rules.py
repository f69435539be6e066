"""The package's structural rules (docs/architecture.md, "Rules"), checked on the source.

Each rule is a small function over source text, run on the shipped package and, as a positive
control, on a snippet that breaks it, so a checker that finds nothing cannot pass unnoticed.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "django_upscope"
MAX_FUNCTION_LINES = 80


def shipped_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def code_lines(node: ast.AST, source_lines: list[str]) -> int:
    """Lines of code in a function, its ``def`` line included: no blanks, comments or docstring."""
    body = getattr(node, "body", [])
    skip: set[int] = set()
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        if isinstance(body[0].value.value, str):
            skip.update(range(body[0].lineno, body[0].end_lineno + 1))
    count = 0
    for number in range(node.lineno, node.end_lineno + 1):
        text = source_lines[number - 1].strip()
        if number in skip or not text or text.startswith("#"):
            continue
        count += 1
    return count


def long_functions(source: str, name: str) -> list[str]:
    tree = ast.parse(source)
    lines = source.splitlines()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n = code_lines(node, lines)
            if n > MAX_FUNCTION_LINES:
                found.append(f"{name}:{node.lineno} {node.name} has {n} lines of code")
    return found


def imports_requests(source: str) -> bool:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import) and any(
            a.name == "requests" or a.name.startswith("requests.") for a in node.names
        ):
            return True
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "requests" or node.module.startswith("requests."):
                return True
    return False


UNSHIPPED_CITATION = re.compile(
    r"seeds?\s+0\d\d|seed\s*``0\d\d``|shared/UPSCOPE_API|shared/seeds|UPSCOPE_API\.md", re.I
)


def test_no_function_is_longer_than_80_lines_of_code():
    found = []
    for path in shipped_modules():
        found += long_functions(path.read_text(), str(path.relative_to(PACKAGE)))
    assert found == []


def test_the_length_rule_finds_a_long_function():
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES + 1))
    source = f'def f():\n    """Doc."""\n    # why\n\n{body}\n'
    # The ``def`` line counts; the docstring, the comment and the blank line do not.
    expected = MAX_FUNCTION_LINES + 2
    assert long_functions(source, "m.py") == [f"m.py:1 f has {expected} lines of code"]
    short = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES - 1))
    assert long_functions(f"def f():\n{short}\n", "m.py") == []


def test_only_the_client_package_speaks_http():
    users = sorted(
        str(p.relative_to(PACKAGE)) for p in shipped_modules() if imports_requests(p.read_text())
    )
    assert users, "the client must import requests (positive control)"
    assert all(u.startswith("client/") for u in users), users


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import requests\n", True),
        ("from requests.adapters import HTTPAdapter\n", True),
        ("def f():\n    import requests.exceptions\n", True),
        ("from .requests import x\n", False),
        ("import requests_toolbelt\n", False),
    ],
)
def test_the_http_rule_sees_every_import_form(source, expected):
    assert imports_requests(source) is expected


def test_shipped_code_cites_only_what_ships():
    found = []
    for path in shipped_modules():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if UNSHIPPED_CITATION.search(line):
                found.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert found == []
    assert (PACKAGE.parent / "docs" / "upscope-api.md").is_file()


@pytest.mark.parametrize(
    "line",
    [
        "# as seed 000 documents",
        "(seeds 000 and 002)",
        "see shared/UPSCOPE_API.md",
        "Field names follow the documentation (seed ``000``: cloud v1.1).",
    ],
)
def test_the_citation_rule_finds_unshipped_references(line):
    assert UNSHIPPED_CITATION.search(line)
    assert not UNSHIPPED_CITATION.search("see docs/upscope-api.md, 'Errors'; upscope_fake_seed")
