"""Set variables in the example project's ``.env`` file (used by ``make demo``).

``python -m example_project.demo_env FILE NAME=VALUE...`` sets each ``NAME`` in ``FILE``:
a line already setting it is replaced in place, others are appended, every other line (your
own variables, comments) is kept. ``example_project/settings.py`` reads the file, so
``manage.py`` commands run by hand after ``make demo DEMO_PORT=8123`` reach port 8123 too.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

HEADER = (
    "# The example project's settings (read by example_project/settings.py; the environment\n"
    "# wins over this file). `make demo` keeps UPSCOPE_FAKE_URL up to date.\n"
)
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def set_variables(path: Path, values: dict[str, str]) -> None:
    """Write ``values`` into the ``.env`` file at ``path``, keeping its other lines."""
    for name, value in values.items():
        if not _NAME.fullmatch(name):
            raise ValueError(f"not a variable name: {name!r}")
        if "\n" in value or "\r" in value:
            raise ValueError(f"the value of {name} spans lines")
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    pending = dict(values)
    out: list[str] = []
    for line in lines:
        match = _ASSIGNMENT.match(line)
        name = match.group("name") if match else None
        if name in values:
            if name in pending:
                out.append(f"{name}={pending.pop(name)}")
            continue  # a second line for the same name would override the first one
        out.append(line)
    out.extend(f"{name}={value}" for name, value in pending.items())
    text = "\n".join(out) + "\n"
    path.write_text(text if lines else HEADER + text, encoding="utf-8")


def main(argv: list[str]) -> int:
    """The command line: ``FILE NAME=VALUE...``."""
    if len(argv) < 2 or not all("=" in arg for arg in argv[1:]):
        print("usage: python -m example_project.demo_env FILE NAME=VALUE...", file=sys.stderr)
        return 2
    values = dict(arg.split("=", 1) for arg in argv[1:])
    set_variables(Path(argv[0]), values)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
