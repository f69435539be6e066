"""The system check of ``{% upscope_snippet %}`` (``django_upscope.W020``).

The tag renders nothing without ``UPSCOPE["PUBLIC_API_KEY"]`` and ``UPSCOPE["SNIPPET_URL"]``;
this check warns when a template of the project uses the tag while one is missing, so the
mistake shows at ``runserver`` rather than as a silent page.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.checks import CheckMessage, Tags, Warning, register
from django.template import engines
from django.template.backends.django import DjangoTemplates

from .conf import upscope_settings

TAG_NAME = "upscope_snippet"
#: Template files larger than this are not read (they are not hand-written templates).
MAX_TEMPLATE_BYTES = 1_000_000


def _template_dirs() -> Iterator[Path]:
    for engine in engines.all():
        if isinstance(engine, DjangoTemplates):
            for directory in engine.template_dirs:
                yield Path(directory)


def templates_using_tag() -> list[str]:
    """Template files (below the Django engines' directories) that use the tag."""
    found = []
    for directory in _template_dirs():
        if not directory.is_dir():
            continue
        for path in directory.rglob("*"):
            try:
                if not path.is_file() or path.stat().st_size > MAX_TEMPLATE_BYTES:
                    continue
                text = path.read_text(encoding="utf-8", errors="ignore")
            except OSError:
                continue
            if TAG_NAME in text and "{%" in text:
                found.append(str(path))
    return sorted(set(found))


@register(Tags.templates, "django_upscope")
def check_snippet_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W020: a template uses ``{% upscope_snippet %}`` without the settings it needs."""
    missing = [
        name for name in ("PUBLIC_API_KEY", "SNIPPET_URL") if not getattr(upscope_settings, name)
    ]
    if not missing:
        return []
    # The package's own templates document the tag; only the project's count.
    package = str(Path(__file__).resolve().parent) + "/"
    users = [path for path in templates_using_tag() if not path.startswith(package)]
    if not users:
        return []
    return [
        Warning(
            f"{{% {TAG_NAME} %}} is used (in {users[0]}"
            + (f" and {len(users) - 1} more" if len(users) > 1 else "")
            + f") but UPSCOPE[{missing[0]!r}] is not set: the tag renders nothing.",
            hint="Set UPSCOPE['PUBLIC_API_KEY'] (the public key, never the secret API_KEY) "
            "and UPSCOPE['SNIPPET_URL'] (the script URL of the installation code in "
            "Upscope's dashboard).",
            id="django_upscope.W020",
        )
    ]
