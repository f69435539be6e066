"""Screen-share overhead: the admin page and the DRF watch-url endpoint vs a bare watch_url call.

    .venv/bin/python bench/bench_screenshare.py                # 300 requests of each kind
    .venv/bin/python bench/bench_screenshare.py --quick        # 20 of each
    .venv/bin/python bench/bench_screenshare.py --database-url postgres://...
    .venv/bin/python bench/bench_screenshare.py --upstream-delay 100  # the fake 100 ms away

Two gunicorn servers (gthread, keep-alive) on 127.0.0.1, on one fresh database: the fake
Upscope, and the project of ``bench/_settings.py`` whose client points at that fake. One
visitor is seeded in the fake and mirrored locally (so the page needs no read-through), and
a staff superuser logs in. Then, interleaved (one of each kind per round, the order rotating
so drifting machine load hits every kind alike), after a warm-up:

- **admin page**: ``GET upscope/visitors/<id>/screenshare/`` (renders the page with the
  iframe; includes the server's own ``POST watch_url.json`` to the fake and the audit row);
- **DRF**: ``POST upscope/api/visitors/<id>/watch-url/`` with ``{}`` (same, JSON answer);
- **bare, keep-alive**: ``requests.Session().post`` of ``visitors/<id>/watch_url.json``
  straight to the fake, with the same key and the exact JSON body our layer sent (copied
  from the fake's request log);
- **bare, requests.post**: the same with ``requests.post`` (a new connection each time).

Every mint joins the visitor's one session in the fake, so the fake does the same work for
every kind. The ratio is (our layer + the upstream call) / (the upstream call alone).
``--upstream-delay`` holds every answer of the fake's watch_url endpoint (its ``delay``
fault, kept on), as a model of Upscope across the internet. Without ``--database-url``:
``$PG_DATABASE_URL`` if set, else SQLite.
Prints a markdown table.
"""

from __future__ import annotations

import tempfile
import time
from typing import Any

import _common as c

DB_NAME = "upscope_bench_screenshare"


def main() -> None:
    parser = c.parser(__doc__)
    parser.add_argument("--requests", type=int, default=None, help="per kind (default 300)")
    parser.add_argument("--warmup", type=int, default=None, help="per kind (default 20)")
    parser.add_argument("--database-url", default=None, help="'sqlite' or a postgres:// URL")
    parser.add_argument(
        "--upstream-delay", type=float, default=0.0, metavar="MS",
        help="hold every watch_url answer of the fake this long (models Upscope's distance)",
    )  # fmt: skip
    args = parser.parse_args()
    count = args.requests or (20 if args.quick else 300)
    warmup = args.warmup if args.warmup is not None else (5 if args.quick else 20)
    url = c.preferred_database(args.database_url)

    with tempfile.TemporaryDirectory() as workdir:
        db_url = c.prepare_database(url, DB_NAME, workdir)
        fake_port = c.free_port()
        env = c.bench_env(db_url, f"http://127.0.0.1:{fake_port}/__upscope__")
        c.setup_django(env)
        try:
            result = run(env, fake_port, count, warmup, args.upstream_delay)
        finally:
            from django.db import connections

            connections.close_all()
            c.drop_database(url, DB_NAME)
    print(report(result, count, warmup))


def run(
    env: dict[str, str], fake_port: int, count: int, warmup: int, delay_ms: float
) -> dict[str, Any]:
    import requests
    from django.db import connection

    from django_upscope import sync
    from django_upscope.client import get_client
    from django_upscope.fake import state
    from django_upscope.fake.models import FakeRequest

    state.reset()
    short_id = state.seed(visitors=3, seed=0)[0]
    if delay_ms:
        # The fake's delay fault, kept for every watch_url call: the same for all kinds.
        state.inject_fault("watch_url", delay=delay_ms / 1000, times=None)
    c.staff_user()
    database = c.db_description()
    connection.close()
    with c.Server(env, port=fake_port) as fake, c.Server(env) as app:
        sync.upsert_visitor(get_client().get_visitor(short_id))
        connection.close()
        agent = c.logged_in_session(app.url)
        page_url = f"{app.url}/upscope/visitors/{short_id}/screenshare/"
        api_url = f"{app.url}/upscope/api/visitors/{short_id}/watch-url/"
        upstream = f"{fake.url}/__upscope__/v1.1/visitors/{short_id}/watch_url.json"

        # The exact body our layer sends, from the fake's log of the first mint.
        first = agent.post(api_url, json={}, timeout=30)
        if first.status_code != 201:
            raise RuntimeError(f"DRF watch-url answered {first.status_code}: {first.text[:200]}")
        logged = FakeRequest.objects.filter(endpoint="watch_url").order_by("-pk").first()
        if logged is None or not isinstance(logged.json_body, dict):
            raise RuntimeError("the fake did not log the watch_url body")
        body = logged.json_body
        connection.close()
        headers = {"X-Api-Key": "fake_bench_key", "Accept": "application/json"}
        bare = requests.Session()

        kinds: dict[str, tuple[Any, int]] = {
            "admin page (GET screenshare/)": (lambda: agent.get(page_url, timeout=30), 200),
            "DRF POST watch-url/": (lambda: agent.post(api_url, json={}, timeout=30), 201),
            "bare watch_url.json, keep-alive Session": (
                lambda: bare.post(upstream, json=body, headers=headers, timeout=30),
                200,
            ),
            "bare watch_url.json, requests.post": (
                lambda: requests.post(upstream, json=body, headers=headers, timeout=30),
                200,
            ),
        }
        timings: dict[str, list[float]] = {name: [] for name in kinds}
        errors: dict[str, int] = dict.fromkeys(kinds, 0)
        names = list(kinds)
        for round_ in range(warmup + count):
            shift = round_ % len(names)
            for name in names[shift:] + names[:shift]:
                call, expected = kinds[name]
                started = time.perf_counter()
                response = call()
                _ = response.content
                elapsed = time.perf_counter() - started
                if response.status_code != expected or b"watch" not in response.content:
                    errors[name] += 1
                if round_ >= warmup:
                    timings[name].append(elapsed)
        return {
            "database": database,
            "server": app.describe(),
            "timings": timings,
            "errors": errors,
            "minted": FakeRequest.objects.filter(endpoint="watch_url").count(),
            "delay_ms": delay_ms,
        }


def report(result: dict[str, Any], count: int, warmup: int) -> str:
    stats = {name: c.summary_ms(values) for name, values in result["timings"].items()}
    names = list(stats)
    keep_alive, fresh = stats[names[2]], stats[names[3]]
    rows = []
    for name in names:
        s = stats[name]
        rows.append(
            [
                name,
                len(result["timings"][name]),
                result["errors"][name],
                f"{s['p50']:.1f}",
                f"{s['p95']:.1f}",
                f"{s['mean']:.1f}",
                f"{s['p50'] - keep_alive['p50']:+.1f}",
                f"{s['p50'] / keep_alive['p50']:.2f}x",
                f"{s['p50'] / fresh['p50']:.2f}x",
            ]
        )
    headers = [
        "request", "n", "errors", "p50 ms", "p95 ms", "mean ms", "p50 added ms",
        "p50 vs bare keep-alive", "p50 vs bare requests.post",
    ]  # fmt: skip
    overhead = stats[names[1]]["p50"] - keep_alive["p50"]
    return "\n".join(
        [
            f"Screen-share overhead: {count} requests of each kind after {warmup} warm-up, "
            f"interleaved; {result['database']}; both servers {result['server']}; "
            f"{result['minted']} watch URLs minted in all; fake's upstream delay "
            f"{result['delay_ms']:g} ms",
            f"Machine: {c.machine()}",
            "",
            c.table(headers, rows, "lrrrrrrrr"),
            "",
            f"DRF layer adds {overhead:.1f} ms at p50 over the bare keep-alive call.",
        ]
    )


if __name__ == "__main__":
    main()
