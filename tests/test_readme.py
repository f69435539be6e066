"""The README's Python examples, run the way a user would run them.

Every ```python block of README.md carries a marker on the line just before its fence (see
docs/development.md, "README examples"):

- ``<!-- readme-test: pytest -->``: a test module. Written to a temporary directory, beside the
  README's ``conftest`` block, and run with pytest in a subprocess on the suite's settings
  (``tests.settings``); every test in it must pass.
- ``<!-- readme-test: conftest -->``: the ``conftest.py`` of those runs.
- ``<!-- readme-test: settings -->``: a settings (or urls.py) snippet. Executed, then every
  ``UPSCOPE`` it assigns must pass the library's system checks with no error, every app it
  names must be importable and every ``REST_FRAMEWORK`` throttle rate must reach our throttle.
- ``<!-- readme-test: django -->``: code for a Django shell. Executed in a test with a database.
- ``<!-- readme-test: client -->``: client calls. Executed with ``client`` pointed at the
  embedded fake (the ``upscope_fake`` fixture), which has the visitor ``ABCD1234`` (Joe Smith,
  joe@example.com) with one past session by the agent ``ext-123``.
- ``<!-- readme-test: skip: <reason> -->``: not run, for the reason given.

A python block without a marker fails the suite, and so does a change in how many blocks
of each kind there are (EXPECTED), so an example cannot stop running silently.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest
from django.contrib import admin
from django.core.checks import ERROR
from django.test import override_settings
from django.urls import include, path

from django_upscope.checks import check_settings

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MARKER = re.compile(
    r"^<!-- readme-test: (?P<kind>pytest|conftest|settings|django|client|skip)(?P<rest>.*) -->$"
)

# How many python blocks of each kind the README has. Update it with the README.
EXPECTED = {"pytest": 1, "conftest": 1, "settings": 10, "django": 7, "client": 8, "skip": 10}


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, 1-based
    kind: str
    note: str
    code: str

    def __str__(self) -> str:
        return f"README.md:{self.line} ({self.kind})"


def readme_blocks() -> list[Block]:
    """Every ```python block of the README, with its marker; a missing marker is an error."""
    lines = README.read_text(encoding="utf-8").splitlines()
    blocks, problems = [], []
    for number, line in enumerate(lines):
        if MARKER.match(line) and not lines[number + 1].startswith("```python"):
            problems.append(
                f"README.md:{number + 1}: a readme-test marker not before a python block"
            )
        if not line.startswith("```python"):
            continue
        end = next(i for i in range(number + 1, len(lines)) if lines[i].startswith("```"))
        marker = MARKER.match(lines[number - 1]) if number else None
        if marker is None:
            problems.append(f"README.md:{number + 1}: a python block without a readme-test marker")
            continue
        note = marker.group("rest").strip().removeprefix(":").strip()
        if marker.group("kind") == "skip" and not note:
            problems.append(f"README.md:{number + 1}: 'readme-test: skip' needs a reason")
        blocks.append(
            Block(number + 1, marker.group("kind"), note, "\n".join(lines[number + 1 : end]) + "\n")
        )
    assert not problems, "\n".join(problems)
    return blocks


BLOCKS = readme_blocks()


def of_kind(kind: str) -> list[Block]:
    return [b for b in BLOCKS if b.kind == kind]


def test_every_python_block_is_marked_and_none_disappeared():
    counts = {kind: len(of_kind(kind)) for kind in EXPECTED}
    assert counts == EXPECTED
    assert len(BLOCKS) == sum(EXPECTED.values())


def test_the_marker_convention_catches_an_unmarked_block(tmp_path, monkeypatch):
    # Positive control for the test above: an unmarked block is reported.
    readme = tmp_path / "README.md"
    readme.write_text(
        "# x\n\n<!-- readme-test: django -->\n```python\n1\n```\n\n```python\n2\n```\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "README", readme)
    with pytest.raises(AssertionError, match=r"README.md:8: a python block without"):
        readme_blocks()


# -- pytest examples -----------------------------------------------------------------------


@pytest.mark.parametrize("block", of_kind("pytest"), ids=str)
def test_pytest_example_passes(block, tmp_path):
    (conftest,) = of_kind("conftest")
    (tmp_path / "conftest.py").write_text(conftest.code)
    (tmp_path / "test_readme_example.py").write_text(block.code)
    (tmp_path / "pytest.ini").write_text("[pytest]\nDJANGO_SETTINGS_MODULE = tests.settings\n")
    tests = [
        node.name
        for node in ast.parse(block.code).body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(  # noqa: S603 - our own interpreter and pytest
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert tests, "a pytest example without tests"
    assert f"{len(tests)} passed" in result.stdout


# -- settings snippets ---------------------------------------------------------------------


class Assignments(dict):
    """The locals of a snippet, recording every value each name was given."""

    def __init__(self, initial: dict[str, Any]) -> None:
        super().__init__(initial)
        self.history: dict[str, list[Any]] = {}

    def __setitem__(self, name: str, value: Any) -> None:
        self.history.setdefault(name, []).append(value)
        super().__setitem__(name, value)


def run_settings(code: str) -> Assignments:
    # What a settings.py or urls.py being extended already has.
    names = Assignments(
        {
            "os": os,
            "admin": admin,
            "include": include,
            "path": path,
            "INSTALLED_APPS": ["django.contrib.admin", "django.contrib.auth"],
            "urlpatterns": [],
        }
    )
    exec(compile(code, "README.md", "exec"), {"__builtins__": __builtins__}, names)  # noqa: S102
    return names


def upscope_errors(value: Any) -> list[str]:
    with override_settings(UPSCOPE=value):
        return [f"{m.id}: {m.msg}" for m in check_settings() if m.level >= ERROR]


@pytest.mark.drf  # drives the DRF API or the example project (which installs DRF)
@pytest.mark.parametrize("block", of_kind("settings"), ids=str)
def test_settings_example_is_valid(block, monkeypatch):
    monkeypatch.setenv("UPSCOPE_API_KEY", "readme-api-key")
    monkeypatch.setenv("UPSCOPE_REST_KEY", "readme-rest-key")
    names = run_settings(block.code)
    checked = 0
    for value in names.history.get("UPSCOPE", []):
        assert upscope_errors(value) == [], value
        checked += 1
    for app in names.get("INSTALLED_APPS", []):
        if isinstance(app, str):  # the README writes "..." for the reader's own apps
            assert find_spec(app) is not None, app
    for value in names.history.get("REST_FRAMEWORK", []):
        checked += check_rest_framework(value)
    assert checked or set(names.history) & {"INSTALLED_APPS", "urlpatterns"}, block


def check_rest_framework(value: dict[str, Any]) -> int:
    from django_upscope.api.throttling import WatchURLRateThrottle

    rates = value["DEFAULT_THROTTLE_RATES"]
    with override_settings(REST_FRAMEWORK=value):
        throttle = WatchURLRateThrottle()
        assert throttle.get_rate() == rates[throttle.scope]
        assert throttle.parse_rate(throttle.get_rate()) != (None, None)
    return 1


def test_settings_check_catches_a_bad_example():
    # Positive control: the checks the settings examples go through do refuse a bad one.
    names = run_settings('UPSCOPE = {"API_KEY": "k", "BASE_ENDPOINT": "https://x.example.com"}')
    assert [e.split(":")[0] for e in upscope_errors(names["UPSCOPE"])] == ["django_upscope.E001"]


# -- Django shell examples -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("block", of_kind("django"), ids=str)
def test_django_example_runs(block):
    exec(compile(block.code, "README.md", "exec"), {"__name__": "readme"})  # noqa: S102


# -- client examples, against the embedded fake --------------------------------------------


@pytest.mark.parametrize("block", of_kind("client"), ids=str)
def test_client_example_runs(block, upscope_fake):
    from django_upscope.fake import state

    upscope_fake.add_visitor(
        short_id="ABCD1234", identities=["Joe Smith", "joe@example.com"], tags=["#customer"]
    )
    state.add_session("ABCD1234", agent_name="Joe's agent", agent_identifier="ext-123")
    exec(compile(block.code, "README.md", "exec"), {"client": upscope_fake.client()})  # noqa: S102
    assert upscope_fake.requests(), "the example sent nothing to Upscope"
