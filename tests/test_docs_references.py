"""Every test that the documentation names as proof exists, so a promise cannot outlive its test."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = re.compile(r"(tests/[\w/]+\.py)::(\w+)")
DOCUMENTS = ["docs/security.md"]


def references(text: str) -> list[tuple[str, str]]:
    return REFERENCE.findall(text)


def missing(text: str, root: Path) -> list[str]:
    gone = []
    for path, name in references(text):
        source = root / path
        if not source.is_file() or not re.search(rf"^\s*def {name}\(", source.read_text(), re.M):
            gone.append(f"{path}::{name}")
    return gone


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_named_test_exists(document):
    text = (ROOT / document).read_text()
    assert len(references(text)) >= 10  # the document does name its tests
    assert missing(text, ROOT) == []


def test_a_renamed_or_moved_test_is_reported(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("def test_kept():\n    pass\n")
    text = "- `tests/test_a.py::test_kept`\n- `tests/test_a.py::test_gone`\n- `tests/b.py::test_x`"
    assert missing(text, tmp_path) == ["tests/test_a.py::test_gone", "tests/b.py::test_x"]
