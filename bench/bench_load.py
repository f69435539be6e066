"""Under load: the DRF search endpoint on gunicorn and PostgreSQL, for 30 s, on loopback.

    .venv/bin/python bench/bench_load.py                     # PostgreSQL from $PG_DATABASE_URL
    .venv/bin/python bench/bench_load.py --database-url postgres://...
    .venv/bin/python bench/bench_load.py --quick             # 5 s, 4 clients

Without ``--database-url`` or ``$PG_DATABASE_URL`` a throwaway cluster is started with
``scripts/pg_cluster.sh`` and stopped at the end. On a fresh database: the fake Upscope is
seeded (``--visitors``, default 1000) and served by its own gunicorn (2 gthread workers x 4
threads); the project of ``bench/_settings.py`` is served by another gunicorn (``--workers``
gthread workers x ``--threads``, default 4 x 2) whose client calls the fake. A staff
superuser logs in once; ``--concurrency`` client threads (default 16), each with its own
keep-alive ``requests.Session`` carrying that session cookie, send
``GET upscope/api/visitors/?search=<query>`` back to back until ``--seconds`` have passed
(queries rotate over names, ``id:``, ``ip:``, lookup codes and ``online`` taken from the
seeded visitors). Every request is a live search: the project calls the fake's
``list.json`` and refreshes the mirror with what it answered (read-through). Only 127.0.0.1
is contacted. Reported: requests/s, p50/p90/p99/max latency, errors (any answer but 200, or
no answer). Prints a markdown table.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections import Counter
from typing import Any

import _common as c

DB_NAME = "upscope_bench_load"


def main() -> None:
    parser = c.parser(__doc__)
    parser.add_argument("--database-url", default=None, help="a postgres:// URL")
    parser.add_argument("--seconds", type=float, default=None, help="default 30")
    parser.add_argument("--concurrency", type=int, default=None, help="client threads (16)")
    parser.add_argument("--workers", type=int, default=4, help="project gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="threads per project worker")
    parser.add_argument("--visitors", type=int, default=1000, help="visitors in the fake")
    args = parser.parse_args()
    seconds = args.seconds or (5.0 if args.quick else 30.0)
    concurrency = args.concurrency or (4 if args.quick else 16)

    url = args.database_url or os.environ.get("PG_DATABASE_URL")
    cluster_name = None
    if not url:
        cluster_name = f"bench-load-{os.getpid()}"
        url = subprocess.run(
            [str(c.ROOT / "scripts" / "pg_cluster.sh"), "start"], check=True, text=True,
            capture_output=True, env={**os.environ, "UPSCOPE_PG_NAME": cluster_name},
        ).stdout.strip().splitlines()[-1]  # fmt: skip
    try:
        with tempfile.TemporaryDirectory() as workdir:
            db_url = c.prepare_database(url, DB_NAME, workdir)
            fake_port = c.free_port()
            env = c.bench_env(db_url, f"http://127.0.0.1:{fake_port}/__upscope__")
            c.setup_django(env)
            try:
                result = run(env, fake_port, args, seconds, concurrency)
            finally:
                from django.db import connections

                connections.close_all()
                c.drop_database(url, DB_NAME)
    finally:
        if cluster_name:
            subprocess.run(
                [str(c.ROOT / "scripts" / "pg_cluster.sh"), "stop"], check=False,
                capture_output=True, env={**os.environ, "UPSCOPE_PG_NAME": cluster_name},
            )  # fmt: skip
    print(report(result))


def search_queries(count: int = 40) -> list[str]:
    """Queries an agent would type, built from the seeded visitors."""
    from django_upscope.fake.models import FakeVisitor

    queries = []
    for n, visitor in enumerate(FakeVisitor.objects.order_by("short_id")[:count]):
        name = (visitor.identities or [""])[0].split(" ")[0]
        kind = n % 5
        if kind == 1 and visitor.unique_id:
            queries.append(f"id:{visitor.unique_id}")
        elif kind == 2 and visitor.ip_address:
            queries.append(f"ip:{visitor.ip_address}")
        elif kind == 3 and visitor.lookup_code:
            queries.append(visitor.lookup_code)
        elif name:
            queries.append(name)
    queries.append("online")
    return queries


def run(
    env: dict[str, str], fake_port: int, args: Any, seconds: float, concurrency: int
) -> dict[str, Any]:
    from django.db import connection

    from django_upscope.fake import state
    from django_upscope.fake.models import FakeRequest

    state.reset()
    state.seed(visitors=args.visitors, seed=0)
    queries = search_queries()
    c.staff_user()
    database = c.db_description()
    connection.close()
    with (
        c.Server(env, port=fake_port, workers=2, threads=4) as fake,
        c.Server(env, workers=args.workers, threads=args.threads) as app,
    ):
        login = c.logged_in_session(app.url)
        cookies = login.cookies.get_dict()
        endpoint = f"{app.url}/upscope/api/visitors/"
        # Warm-up: every worker imports, connects and fills the mirror once.
        for query in queries:
            login.get(endpoint, params={"search": query}, timeout=60)
        before = FakeRequest.objects.filter(endpoint="list").count()
        connection.close()
        outcome = drive(endpoint, cookies, queries, seconds, concurrency)
        outcome["fake_list_calls"] = FakeRequest.objects.filter(endpoint="list").count() - before
        outcome.update(
            database=database, app=app.describe(), fake=fake.describe(),
            concurrency=concurrency, queries=len(queries), visitors=args.visitors,
        )  # fmt: skip
    return outcome


def drive(
    endpoint: str, cookies: dict[str, str], queries: list[str], seconds: float, concurrency: int
) -> dict[str, Any]:
    """``concurrency`` threads send requests back to back until ``seconds`` have passed."""
    import requests

    latencies: list[float] = []
    by_kind: dict[str, list[tuple[float, int]]] = {}
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(concurrency + 1)
    deadline = [0.0]

    def client(index: int) -> None:
        session = requests.Session()
        session.cookies.update(cookies)
        mine: list[float] = []
        kinds: dict[str, list[tuple[float, int]]] = {}
        failed: Counter[str] = Counter()
        n = index
        start.wait()
        while time.perf_counter() < deadline[0]:
            query = queries[n % len(queries)]
            n += concurrency
            began = time.perf_counter()
            found = -1
            try:
                response = session.get(endpoint, params={"search": query}, timeout=60)
                _ = response.content
                if response.status_code != 200:
                    failed[f"HTTP {response.status_code}"] += 1
                else:
                    found = int(response.json()["count"])
            except requests.RequestException as exc:
                failed[type(exc).__name__] += 1
            took = time.perf_counter() - began
            mine.append(took)
            kinds.setdefault(query_kind(query), []).append((took, found))
        with lock:
            latencies.extend(mine)
            errors.update(failed)
            for kind, values in kinds.items():
                by_kind.setdefault(kind, []).extend(values)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return {"latencies": latencies, "by_kind": by_kind, "errors": dict(errors), "elapsed": elapsed}


def query_kind(query: str) -> str:
    if query == "online":
        return "online"
    if query.startswith(("id:", "ip:")):
        return query[:3]
    return "lookup code" if query.isdigit() else "name"


def report(result: dict[str, Any]) -> str:
    lat = result["latencies"]
    stats = c.summary_ms(lat)
    errors = sum(result["errors"].values())
    detail = ", ".join(f"{k}: {v}" for k, v in sorted(result["errors"].items())) or "none"
    row = [
        result["database"], f"{result['elapsed']:.1f}", result["concurrency"], len(lat),
        f"{len(lat) / result['elapsed']:.1f}", f"{stats['p50']:.0f}",
        f"{c.percentile(lat, 90) * 1000:.0f}", f"{stats['p99']:.0f}",
        f"{max(lat) * 1000 if lat else float('nan'):.0f}", errors,
    ]  # fmt: skip
    headers = ["database", "seconds", "clients", "requests", "requests/s", "p50 ms", "p90 ms",
               "p99 ms", "max ms", "errors"]  # fmt: skip
    kind_rows = []
    for kind, values in sorted(result["by_kind"].items()):
        times = [t for t, _ in values]
        found = [n for _, n in values if n >= 0]
        kind_rows.append(
            [kind, len(values), f"{sum(found) / max(len(found), 1):.1f}",
             f"{c.percentile(times, 50) * 1000:.0f}", f"{c.percentile(times, 99) * 1000:.0f}"]
        )  # fmt: skip
    kind_headers = ["query kind", "requests", "visitors per answer", "p50 ms", "p99 ms"]
    return "\n".join(
        [
            f"DRF live search under load: project on {result['app']}; fake on {result['fake']} "
            f"({result['visitors']} visitors); {result['queries']} queries rotating; "
            f"{result['fake_list_calls']} list.json calls reached the fake",
            f"Machine: {c.machine()}",
            "",
            c.table(headers, [row], "lrrrrrrrrr"),
            "",
            f"Errors: {detail}",
            "",
            c.table(kind_headers, kind_rows, "lrrrr"),
        ]
    )


if __name__ == "__main__":
    main()
