"""Connection reuse: sequential ``get_client()`` calls share one TCP connection.

    .venv/bin/python bench/bench_connections.py             # 50 calls per scenario
    .venv/bin/python bench/bench_connections.py --quick     # 12

The fake Upscope runs under gunicorn (``gthread`` worker, HTTP/1.1 keep-alive, 5 s idle
limit) wrapped in a WSGI counter that records the client address and port of every request
(``_common.ConnectionCounter``): distinct ports are distinct TCP connections, counted at the
server, not by the client. Scenarios:

1. ``get_client()`` called afresh before each of N mixed operations (usage, search, latest,
   get, get with history, watch URL, stop session, delete) in one thread: expect 1.
2. The control: N bare ``requests.get(usage.json)`` calls (no session): expect N, which shows
   the counter sees new connections.
3. Through the project: N sequential live DRF reads (``GET upscope/api/visitors/<id>/``) to
   the project served by gunicorn with 1 worker x T threads: the server's client is one per
   thread, so expect at most T connections to the fake, whatever N.
Prints a markdown table.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any

import _common as c

DB_NAME = "upscope_bench_connections"


def main() -> None:
    parser = c.parser(__doc__)
    parser.add_argument("--calls", type=int, default=None, help="per scenario (default 50)")
    parser.add_argument("--threads", type=int, default=4, help="project server threads")
    parser.add_argument("--database-url", default="sqlite", help="'sqlite' or a postgres:// URL")
    args = parser.parse_args()
    calls = args.calls or (12 if args.quick else 50)
    with tempfile.TemporaryDirectory() as workdir:
        db_url = c.prepare_database(args.database_url, DB_NAME, workdir)
        fake_port = c.free_port()
        env = c.bench_env(db_url, f"http://127.0.0.1:{fake_port}/__upscope__")
        c.setup_django(env)
        try:
            rows = run(env, fake_port, calls, args.threads)
        finally:
            from django.db import connections

            connections.close_all()
            c.drop_database(args.database_url, DB_NAME)
    print(f"Connection reuse: TCP connections counted by the fake's server ({calls} calls each)")
    print(f"Machine: {c.machine()}\n")
    print(c.table(["scenario", "requests seen", "TCP connections", "expected"], rows, "lrrl"))


def operations(short_ids: list[str], calls: int) -> list[Callable[[], Any]]:
    from django_upscope.client import get_client

    keep, doomed = short_ids[0], short_ids[1:]
    mixed: list[Callable[[], Any]] = [
        lambda: get_client().get_usage(),
        lambda: get_client().search_visitors("a"),
        lambda: get_client().latest_visitors(),
        lambda: get_client().get_visitor(keep),
        lambda: get_client().get_visitor(keep, with_history=True),
        lambda: get_client().create_watch_url(keep, agent_id="7", agent_name="Bench Agent"),
        lambda: get_client().stop_session(keep),
    ]
    ops = [mixed[i % len(mixed)] for i in range(calls)]
    # Every eighth operation deletes a visitor (each one once).
    for i in range(7, calls, 8):
        victim = doomed.pop()
        ops[i] = lambda victim=victim: get_client().delete_visitor(victim)
    return ops


def run(env: dict[str, str], fake_port: int, calls: int, threads: int) -> list[list[Any]]:
    import requests
    from django.db import connection

    from django_upscope import sync
    from django_upscope.client import get_client
    from django_upscope.fake import state

    state.reset()
    short_ids = state.seed(visitors=calls // 8 + 2, seed=0)
    c.staff_user()
    connection.close()
    rows: list[list[Any]] = []
    with c.Server(env, port=fake_port, workers=1, threads=4) as fake:
        ops = operations(short_ids, calls)
        fake.reset_connections()
        for op in ops:
            op()
        seen = fake.connections()
        rows.append(
            [f"{calls} x get_client() then a mixed operation, one thread", seen["requests"],
             seen["connections"], "1"]
        )  # fmt: skip

        fake.reset_connections()
        usage = f"{fake.url}/__upscope__/v1.1/usage.json"
        for _ in range(calls):
            requests.get(usage, headers={"X-Api-Key": "fake_bench_key"}, timeout=30)
        seen = fake.connections()
        rows.append(
            [f"{calls} x bare requests.get (control)", seen["requests"], seen["connections"],
             str(calls)]
        )  # fmt: skip

        sync.upsert_visitor(get_client().get_visitor(short_ids[0]))
        connection.close()
        with c.Server(env, workers=1, threads=threads) as app:
            agent = c.logged_in_session(app.url)
            fake.reset_connections()
            detail = f"{app.url}/upscope/api/visitors/{short_ids[0]}/"
            for _ in range(calls):
                agent.get(detail, timeout=30).raise_for_status()
            seen = fake.connections()
            rows.append(
                [f"{calls} x DRF live read via {app.describe()}", seen["requests"],
                 seen["connections"], f"<= {threads}"]
            )  # fmt: skip
    return rows


if __name__ == "__main__":
    main()
