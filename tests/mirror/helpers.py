"""Helpers for the mirror tests: payload builders and query inspection."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_upscope import resources
from django_upscope.testing.factories import session_payload, visitor_payload

WRITE_RE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
TABLE_RE = re.compile(
    r'^\s*(SELECT|INSERT|UPDATE|DELETE)\b.*?(?:FROM|INTO|UPDATE)\s+"?(\w+)"?',
    re.IGNORECASE | re.DOTALL,
)


def visitor(short_id: str = "ABCD1234", **kwargs: Any) -> resources.VisitorData:
    return resources.VisitorData.from_payload(visitor_payload(short_id, **kwargs))


def visitors(
    n: int, *, sessions: int = 3, prefix: str = "V", base: int = 0, **kwargs: Any
) -> list[resources.VisitorData]:
    """n visitors with `sessions` ended sessions each (ids unique across visitors), each
    session with the visitor's own agent, so every batch meets new agents (the worst case)."""
    result = []
    for i in range(n):
        short_id = f"{prefix}{i:05d}"
        agent = {
            "id": 10_000_000 + base + i,
            "name": f"Agent {i}",
            "agent_identifier": f"ext-{i}",
            "_type": "external_agent",
        }
        payloads = [
            session_payload(
                1 + base * 100 + i * 100 + j,
                short_id,
                agents=[agent],
                started_at=dt.datetime(2024, 7, 5, 10, tzinfo=dt.timezone.utc)
                + dt.timedelta(days=j),
            )
            for j in range(sessions)
        ]
        result.append(visitor(short_id, sessions=payloads, **kwargs))
    return result


def writes(ctx: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if WRITE_RE.match(q["sql"])]


def statement_kinds(ctx: CaptureQueriesContext) -> Counter[tuple[str, str]]:
    """(verb, table) -> count, for the SELECT/INSERT/UPDATE/DELETE statements captured."""
    kinds: Counter[tuple[str, str]] = Counter()
    for q in ctx.captured_queries:
        match = TABLE_RE.match(q["sql"])
        if match:
            kinds[(match.group(1).upper(), match.group(2).lower())] += 1
    return kinds


def statements_needed(model: Any, rows: int) -> int:
    """How many INSERT statements Django needs for `rows` rows of `model` on this database
    (SQLite caps parameters per statement, so Django splits bulk inserts)."""
    fields = list(model._meta.concrete_fields)
    size = connection.ops.bulk_batch_size(fields, [None] * rows)
    return math.ceil(rows / size)


__all__ = ["session_payload", "visitor_payload"]
