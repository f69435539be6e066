"""Mirror at scale: upsert throughput at 1k/10k/50k visitors, then the admin changelist and the
DRF local list on 1k vs 50k mirrored visitors.

    .venv/bin/python bench/bench_changelist.py                       # SQLite (+ $PG_DATABASE_URL)
    .venv/bin/python bench/bench_changelist.py --database-url sqlite --database-url postgres://...
    .venv/bin/python bench/bench_changelist.py --quick               # 200 / 1000 visitors

For each database (one subprocess each, on a fresh database) and each size, from an empty
mirror: visitors with 3 ended sessions each (5 agents between them), shaped like Upscope's
``visitors/:id.json`` payloads (``django_upscope.testing.factories.visitor_payload``, parsed
into ``resources.VisitorData``), are written by ``django_upscope.sync.upsert_visitors`` in
batches of 500 (what ``upscope_sync`` does after fetching; building the payloads is not timed, and
no HTTP is involved: ``bench/bench_sync.py`` measures the fetch). Then a re-sync of the same,
unchanged data. Reported: visitors/s and SQL statements per batch.

At the smallest and the largest size, the mirror is then read in-process with Django's test
client (full middleware stack, no HTTP server) as a logged-in superuser: the admin
changelist (``/admin/django_upscope/visitor/``, 50 per page) and the DRF local list
(``/upscope/api/visitors/?source=local``, 50 per page), page 1 and the last page: SQL
statements per request and p50 latency over repeated requests. Prints markdown tables.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import _common as c

DB_NAME = "upscope_bench_changelist"
BATCH = 500
AGENTS = [
    {"id": n, "name": f"Agent {n}", "agent_identifier": f"ext-{n}", "_type": "external_agent"}
    for n in range(1, 6)
]
COUNTRIES = [("US", "united states"), ("GB", "united kingdom"), ("DE", "germany"), ("BR", None)]
DEVICES = ["desktop", "mobile", "tablet"]


def main() -> None:
    parser = c.parser(__doc__)
    parser.add_argument(
        "--database-url", action="append", default=None,
        help="'sqlite' or a postgres:// URL; repeatable (default: SQLite and $PG_DATABASE_URL)",
    )  # fmt: skip
    parser.add_argument("--sizes", default=None, help="comma-separated (default 1000,10000,50000)")
    parser.add_argument("--repeat", type=int, default=None, help="requests per page (default 30)")
    parser.add_argument("--json", action="store_true", help=argparse_suppress())
    args = parser.parse_args()
    sizes = [
        int(s)
        for s in (args.sizes or ("200,1000" if args.quick else "1000,10000,50000")).split(",")
    ]
    repeat = args.repeat or (5 if args.quick else 30)
    urls = c.database_urls(args.database_url)
    if args.json:
        print(json.dumps(run_database(urls[0], sizes, repeat)))
        return
    results = []
    for url in urls:
        cmd = [sys.executable, __file__, "--json", "--database-url", url,
               "--sizes", ",".join(map(str, sizes)), "--repeat", str(repeat)]  # fmt: skip
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    print(report(results, repeat))


def argparse_suppress() -> str:
    import argparse

    return argparse.SUPPRESS


# -- payloads -------------------------------------------------------------------


def visitor_batches(size: int) -> Iterator[list[Any]]:
    """``resources.VisitorData`` objects, a batch at a time, each with 3 ended sessions."""
    from django_upscope import resources
    from django_upscope.testing.factories import session_payload, visitor_payload

    base = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    for start in range(0, size, BATCH):
        batch = []
        for n in range(start, min(start + BATCH, size)):
            seen = base + dt.timedelta(minutes=n)
            sessions = [
                session_payload(
                    3 * n + k + 1, f"V{n:07d}", started_at=seen - dt.timedelta(days=k + 1),
                    length_seconds=60 + (n * 7 + k) % 2400, agents=[AGENTS[(n + k) % 5]],
                    features_used=["click", "scroll"][: 1 + (n + k) % 2],
                    metadata={"ticket": f"T-{n}-{k}"},
                )
                for k in range(3)
            ]  # fmt: skip
            country, country_name = COUNTRIES[n % len(COUNTRIES)]
            payload = visitor_payload(
                f"V{n:07d}", sessions=sessions, identities=[f"Visitor {n}", f"v{n}@example.com"],
                unique_id=f"user-{n}", is_online=n % 3 == 0, device_type=DEVICES[n % 3],
                location_country=country, location_country_name=country_name,
                last_seen_at=seen.isoformat().replace("+00:00", "Z"),
                last_url=f"https://www.example.com/pricing?ref={n}",
                tags=["#customer"] if n % 2 else ["#trial", "#vip"],
            )  # fmt: skip
            batch.append(resources.VisitorData.from_payload(payload))
        yield batch


# -- one database ------------------------------------------------------------------


def run_database(url: str, sizes: list[int], repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as workdir:
        db_url = c.prepare_database(url, DB_NAME, workdir)
        c.setup_django(c.bench_env(db_url))
        try:
            user = c.staff_user()
            result: dict[str, Any] = {"database": c.db_description(), "sync": [], "reads": []}
            for size in sizes:
                clear_mirror()
                for run in ("first sync", "re-sync (unchanged)"):
                    result["sync"].append({"size": size, "run": run, **sync_once(size)})
                if size in (min(sizes), max(sizes)):
                    result["reads"] += measure_reads(user, size, repeat)
        finally:
            from django.db import connections

            connections.close_all()
            c.drop_database(url, DB_NAME)
    return result


def clear_mirror() -> None:
    """Empty the mirror between sizes (the benchmark's own database, not a sync)."""
    from django_upscope.models import Agent, Session, Visitor

    Session.objects.all().delete()
    Agent.objects.all().delete()
    Visitor.objects.all().delete()


def sync_once(size: int) -> dict[str, Any]:
    from django.db import connection

    from django_upscope import sync

    statements = 0
    writes = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal statements, writes
        statements += 1
        if sql.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes += 1
        return execute(sql, params, many, context)

    total = sync.SyncResult()
    seconds = 0.0
    batches = 0
    with connection.execute_wrapper(count):
        for batch in visitor_batches(size):
            started = time.perf_counter()
            total.merge(sync.upsert_visitors(batch))
            seconds += time.perf_counter() - started
            batches += 1
    return {
        "summary": total.summary(),
        "seconds": seconds,
        "statements": statements,
        "writes": writes,
        "batches": batches,
    }


def measure_reads(user: Any, size: int, repeat: int) -> list[dict[str, Any]]:
    from django.db import connection
    from django.test import Client

    client = Client()
    client.force_login(user)
    last = max(1, math.ceil(size / 50))
    pages = [
        ("admin changelist", "/admin/django_upscope/visitor/", "p"),
        ("DRF ?source=local", "/upscope/api/visitors/?source=local", "page"),
    ]
    rows = []
    for name, path, param in pages:
        for label, number in (("page 1", 1), (f"last page ({last})", last)):
            sep = "&" if "?" in path else "?"
            url = f"{path}{sep}{param}={number}"
            client.get(url)  # warm-up
            statements: list[str] = []

            def record(execute: Any, sql: str, *rest: Any, log: list[str] = statements) -> Any:
                log.append(sql)
                return execute(sql, *rest)

            with connection.execute_wrapper(record):
                response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")
            timings = []
            for _ in range(repeat):
                started = time.perf_counter()
                client.get(url)
                timings.append(time.perf_counter() - started)
            rows.append(
                {
                    "size": size,
                    "view": name,
                    "page": label,
                    "queries": len(statements),
                    **c.summary_ms(timings),
                }
            )
    return rows


# -- report ---------------------------------------------------------------------


def report(results: list[dict[str, Any]], repeat: int) -> str:
    sync_rows = []
    for res in results:
        for run in res["sync"]:
            per_batch = run["statements"] / max(run["batches"], 1)
            sync_rows.append(
                [
                    res["database"], f"{run['size']:,}", run["run"], run["summary"],
                    f"{run['seconds']:.1f}", f"{run['size'] / run['seconds']:,.0f}",
                    f"{run['seconds'] / run['size'] * 1e6:.0f}", run["statements"], run["writes"],
                    f"{per_batch:.1f}",
                ]
            )  # fmt: skip
    read_rows = []
    for res in results:
        for row in res["reads"]:
            read_rows.append(
                [res["database"], f"{row['size']:,}", row["view"], row["page"], row["queries"],
                 f"{row['p50']:.1f}", f"{row['p95']:.1f}"]
            )  # fmt: skip
    sync_headers = ["database", "visitors", "run", "result", "seconds", "visitors/s",
                    "µs per visitor", "statements", "writes", "statements per batch"]  # fmt: skip
    read_headers = ["database", "mirrored visitors", "view", "page", "SQL statements", "p50 ms",
                    "p95 ms"]  # fmt: skip
    return "\n".join(
        [
            f"Mirror upserts (sync.upsert_visitors, batches of {BATCH}, 3 sessions per visitor)",
            f"Machine: {c.machine()}",
            "",
            c.table(sync_headers, sync_rows, "lrllrrrrrr"),
            "",
            f"Reading the mirror (in-process test client, superuser, 50 per page, "
            f"p50/p95 of {repeat} requests)",
            "",
            c.table(read_headers, read_rows, "lrllrrr"),
        ]
    )


if __name__ == "__main__":
    main()
