"""Benchmark of ``upscope_sync``: N visitors with 3 sessions each, from the fake, over HTTP.

    .venv/bin/python bench/bench_sync.py --visitors 10000
    .venv/bin/python bench/bench_sync.py --visitors 10000 \\
        --database-url sqlite --database-url postgres://postgres@127.0.0.1:54400/postgres

For each database: a fresh database is created (SQLite: a temporary file;
PostgreSQL: the database ``upscope_bench_sync`` on the given server, dropped and
re-created), migrated, and the fake's tables are seeded in-process
(``state.seed`` then exactly ``--sessions`` sessions per visitor). The fake is
served by gunicorn (``_common.Server``) in a separate process on the same database, and
``django_upscope.sync.sync_from_upscope`` runs here through the real
``UpscopeClient`` over HTTP, upserting in batches of ``--batch-size``. The fake, like Upscope, caps
``list.json`` at 100 visitors and has no pagination, so the benchmark passes the
seeded short_ids to ``sync_from_upscope(short_ids=...)``: exactly what
``upscope_sync`` does after its listing (one ``GET visitors/:id.json`` per
visitor, upserts per batch), without the listing. It runs twice: the first sync
(empty mirror) and a re-sync of unchanged data.

Measured in this process only (the fake's own queries and memory are in the
server process and not counted): every SQL statement on the mirror's connection,
wall time of the whole run including HTTP, and peak Python memory (tracemalloc,
which slows the run down). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from _common import Server

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "upscope_bench_sync"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=1_000)  # make bench stays short
    parser.add_argument("--sessions", type=int, default=3, help="sessions per visitor")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument(
        "--database-url", action="append", default=None,
        help="'sqlite' (a temporary file; the default) or a postgres:// URL; repeatable",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 300 visitors")
    args = parser.parse_args()
    if args.quick:
        args.visitors = 300
    return args


def prepare_database(url: str, workdir: str) -> str:
    """A fresh, empty database; returns its DATABASE_URL."""
    if url == "sqlite":
        path = Path(workdir) / "bench.sqlite3"
        # WAL and IMMEDIATE transactions: the fake's server process writes its request
        # log to the same file while the sync writes the mirror.
        options = (
            "timeout=60&init_command=PRAGMA%20journal_mode%3DWAL%3BPRAGMA%20synchronous%3DNORMAL"
        )
        import django

        if django.VERSION >= (5, 1):
            options += "&transaction_mode=IMMEDIATE"
        return f"sqlite:///{path}?{options}"
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")
    base, _, _ = url.rpartition("/")
    return f"{base}/{BENCH_DB}"


def seed_fake(visitors: int, sessions: int, seed: int) -> tuple[list[str], int]:
    """Seed the fake's tables; every visitor gets exactly ``sessions`` ended sessions."""
    import datetime as dt
    import random

    from django.db import transaction

    from django_upscope.fake import state
    from django_upscope.fake.models import FakeAgent, FakeSession, FakeSessionAgent, FakeVisitor

    state.reset()
    short_ids = state.seed(visitors=visitors, seed=seed)
    rng = random.Random(seed)
    agents = list(FakeAgent.objects.all()) or [FakeAgent.objects.create(name="Sam Agent")]
    with transaction.atomic():
        FakeSession.objects.all().delete()
        rows = list(FakeVisitor.objects.values_list("short_id", "last_seen_at"))
        for start in range(0, len(rows), 500):
            made = []
            for short_id, last_seen in rows[start : start + 500]:
                for _ in range(sessions):
                    began = last_seen - dt.timedelta(minutes=rng.randint(5, 60 * 24 * 30))
                    length = rng.randint(30, 2400)
                    made.append(
                        FakeSession(
                            visitor_id=short_id, started_at=began,
                            ended_at=began + dt.timedelta(seconds=length),
                            length_seconds=length, went_live=True,
                            features_used=sorted(rng.sample(["click", "draw", "scroll"], 2)),
                            metadata={"ticket": f"T-{rng.randint(1000, 99999)}"},
                        )
                    )  # fmt: skip
            FakeSession.objects.bulk_create(made)
            FakeSessionAgent.objects.bulk_create(
                [FakeSessionAgent(session=s, agent=rng.choice(agents)) for s in made]
            )
    return short_ids, FakeSession.objects.count()


def start_server(env: dict[str, str]) -> tuple[Server, str]:
    """The fake on gunicorn (gthread, keep-alive): runserver adds ~40 ms to every
    kept-alive request, which would measure runserver rather than the sync."""
    server = Server(env, workers=1, threads=4)
    return server, f"{server.url}/__upscope__"


def measure(short_ids: list[str], batch_size: int) -> dict[str, Any]:
    from django.db import connection

    from django_upscope import sync
    from django_upscope.client import UpscopeClient

    counts = {"SELECT": 0, "INSERT": 0, "UPDATE": 0, "DELETE": 0, "other": 0}

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        verb = sql.lstrip().split(None, 1)[0].upper()
        counts[verb if verb in counts else "other"] += 1
        return execute(sql, params, many, context)

    from django.conf import settings

    client = UpscopeClient(api_key=settings.UPSCOPE["API_KEY"], api_url=settings.UPSCOPE["API_URL"])
    tracemalloc.start()
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        report = sync.sync_from_upscope(
            client, short_ids=short_ids, batch_size=batch_size, usage=False
        )
    wall = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    client.close()
    return {
        "summary": report.result.summary(),
        "sessions_written": report.result.sessions_created + report.result.sessions_updated,
        "queries": sum(counts.values()),
        "counts": counts,
        "wall": wall,
        "peak": peak,
        "listed": report.listed,
    }


def run_one(args: argparse.Namespace, url: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as workdir:
        db_url = prepare_database(url, workdir)
        env = {
            **os.environ, "DATABASE_URL": db_url, "DJANGO_SETTINGS_MODULE": "tests.settings",
            "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        }  # fmt: skip
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection

        from django_upscope import sync

        call_command("migrate", verbosity=0)
        short_ids, seeded = seed_fake(args.visitors, args.sessions, args.seed)
        connection.close()  # the server process must see the committed seed
        server, fake_url = start_server(env)
        try:
            settings.UPSCOPE = {
                **settings.UPSCOPE, "API_KEY": "fake_bench", "API_URL": f"{fake_url}/v1.1",
                "TIMEOUT": 60.0,
            }  # fmt: skip
            batch_size = args.batch_size or sync.DEFAULT_BATCH_SIZE
            first = measure(short_ids, batch_size)
            resync = measure(short_ids, batch_size)
        finally:
            server.stop()
        return {
            "database": connection.vendor,
            "version": ".".join(map(str, connection.Database.sqlite_version_info))
            if connection.vendor == "sqlite"
            else f"{connection.pg_version // 10000}.{connection.pg_version % 10000}",
            "visitors": args.visitors,
            "sessions": seeded,
            "batch_size": batch_size,
            "runs": {"first sync": first, "re-sync (unchanged)": resync},
        }


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| database | run | result | queries | INSERT/UPDATE/DELETE | queries per 500 visitors "
        "| wall time | visitors/s | peak memory |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for res in results:
        for name, run in res["runs"].items():
            c = run["counts"]
            writes = c["INSERT"] + c["UPDATE"] + c["DELETE"]
            per500 = run["queries"] / max(res["visitors"], 1) * 500
            lines.append(
                f"| {res['database']} {res['version']} | {name} | {run['summary']} "
                f"| {run['queries']} | {writes} | {per500:.1f} | {run['wall']:.1f} s "
                f"| {res['visitors'] / run['wall']:.0f} | {run['peak'] / 2**20:.1f} MiB |"
            )
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    urls = args.database_url or ["sqlite"]
    if len(urls) == 1:
        result = run_one(args, urls[0])
        if args.json:
            print(json.dumps(result))
            return
        results = [result]
    else:
        # One process per database: Django is set up once per process.
        results = []
        for url in urls:
            cmd = [sys.executable, __file__, "--json", "--database-url", url,
                   "--visitors", str(args.visitors), "--sessions", str(args.sessions),
                   "--seed", str(args.seed)]  # fmt: skip
            if args.batch_size:
                cmd += ["--batch-size", str(args.batch_size)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            results.append(json.loads(out.strip().splitlines()[-1]))
    print(
        f"{args.visitors} visitors x {args.sessions} sessions, batch size "
        f"{results[0]['batch_size']}, fake served by gunicorn over HTTP\n"
    )
    print(table(results))


if __name__ == "__main__":
    main()
