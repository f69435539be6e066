"""The fake's visitor ids: 8 upper-case letters and digits, like Upscope's ``short_id``.

One generator serves both :func:`django_upscope.fake.state.create_visitor` (random)
and :mod:`django_upscope.fake.seeding` (deterministic for a seed), which differ
only in where their choices come from.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Container, Sequence

SHORT_ID_ALPHABET = string.ascii_uppercase + string.digits
SHORT_ID_LENGTH = 8


def new_short_ids(
    count: int,
    *,
    taken: Container[str] = (),
    choose: Callable[[Sequence[str]], str] = secrets.choice,
) -> list[str]:
    """``count`` distinct short_ids, none of them in ``taken``.

    ``choose`` picks one character of the alphabet: :func:`secrets.choice` by
    default, a seeded ``random.Random().choice`` for reproducible ids.
    """
    chosen: list[str] = []
    seen: set[str] = set()
    while len(chosen) < count:
        candidate = "".join(choose(SHORT_ID_ALPHABET) for _ in range(SHORT_ID_LENGTH))
        if candidate not in seen and candidate not in taken:
            seen.add(candidate)
            chosen.append(candidate)
    return chosen
