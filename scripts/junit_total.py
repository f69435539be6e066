"""Add up the JUnit XML reports of the pytest stages run by scripts/run_tests.sh.

Usage: python scripts/junit_total.py JUNIT_DIR STAGE...

Prints one line per stage, a line that counts what the stages ran without double counting
(test functions, and cases: one function parametrized ten ways is ten cases; the SQLite and
PostgreSQL stages run the same cases on two databases), and a closing total line
"total: N passed, N failed, N skipped" that adds up every run of every case.
"""

from __future__ import annotations

import sys
from pathlib import Path
from xml.etree import ElementTree

FILES = {"sqlite": "sqlite.xml", "pg": "postgres.xml", "browser": "browser.xml"}


def case_ids(path: Path) -> set[tuple[str, str]]:
    """(module.class, test name with its parameters) of every case in a report."""
    root = ElementTree.parse(path).getroot()  # noqa: S314 - our own pytest's report
    return {(case.get("classname", ""), case.get("name", "")) for case in root.iter("testcase")}


def function_of(case: tuple[str, str]) -> tuple[str, str]:
    classname, name = case
    return classname, name.split("[", 1)[0]


def counts(path: Path) -> tuple[int, int, int]:
    root = ElementTree.parse(path).getroot()  # noqa: S314 - our own pytest's report
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    tests = failed = skipped = 0
    for suite in suites:
        tests += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    return tests - failed - skipped, failed, skipped


def main(argv: list[str]) -> int:
    junit_dir = Path(argv[0])
    total = [0, 0, 0]
    seen = False
    cases: set[tuple[str, str]] = set()
    for stage in argv[1:]:
        name = FILES.get(stage)
        if name is None:
            continue
        path = junit_dir / name
        if not path.exists():
            print(f"    {stage:<11} no report")
            continue
        passed, failed, skipped = counts(path)
        cases |= case_ids(path)
        seen = True
        print(f"    {stage:<11} {passed} passed, {failed} failed, {skipped} skipped")
        total = [total[0] + passed, total[1] + failed, total[2] + skipped]
    if seen:
        functions = {function_of(case) for case in cases}
        print(f"distinct: {len(functions)} test functions, {len(cases)} cases")
        print(f"total: {total[0]} passed, {total[1]} failed, {total[2]} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
