"""Benchmark of the incremental, concurrent sync against an Upscope that is L ms away.

    .venv/bin/python bench/bench_sync_latency.py                 # SQLite and $PG_DATABASE_URL
    .venv/bin/python bench/bench_sync_latency.py --quick         # a smoke run

For each database (a fresh one, migrated) and each size N, ``bench/upstream_standin.py``
serves N visitors with 3 sessions each and adds L ms to every request (asyncio, no CPU
spent waiting). For each latency, ``sync_from_upscope`` (the code behind ``upscope_sync``:
one listing, then the details it needs) runs into an emptied mirror (first sync), then
again on unchanged data (re-sync), with 8 fetchers and with the sequential client
(concurrency 1) in the same run. Sequential runs whose estimated time (N x L) exceeds
``--sequential-budget`` seconds are not run: the table then gives the sequential limit,
1/L visitors/s, and says so. Detail requests are counted by the stand-in; statements are
every SQL statement of the syncing thread (all of a sync's database work happens there);
peak memory is Python's (tracemalloc, which slows the run).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import _common

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "upscope_bench_latency"
STANDIN = Path(__file__).resolve().parent / "upstream_standin.py"


def parse_args() -> Any:
    parser = _common.parser(__doc__)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--latencies", default="0,50,150", help="ms, comma separated")
    parser.add_argument("--big-latencies", default="50", help="latencies run at the largest N")
    parser.add_argument("--sequential-budget", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--database-url", action="append", default=None)
    parser.add_argument("--json", action="store_true", help="one database, JSON out (internal)")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.latencies, args.big_latencies = "200", "0,20", "20"
        args.sequential_budget = 5.0
    return args


class Standin:
    def __init__(self, visitors: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(STANDIN), "--visitors", str(visitors), "--port", "0"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.proc.stdout.readline())}"
        import requests

        self.http = requests.Session()

    def post(self, path: str) -> dict[str, int]:
        answer = self.http.post(self.url + path, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def measure(standin: Standin, concurrency: int, batch_size: int, trace: bool) -> dict[str, Any]:
    from django.db import connection

    from django_upscope import mirror
    from django_upscope.client import UpscopeClient

    statements = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    def make() -> UpscopeClient:
        return UpscopeClient(api_key="bench", api_url=standin.url + "/v1.1", timeout=60)

    standin.post("/__bench__/reset")
    listing = make()
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        report = mirror.sync_from_upscope(
            listing, worker_client=make, concurrency=concurrency, batch_size=batch_size,
            usage=False,
        )  # fmt: skip
    wall = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    tracemalloc.stop()
    listing.close()
    stats = standin.post("/__bench__/stats")
    batches = max(1, -(-report.listed // batch_size))
    return {
        "summary": report.result.summary(), "wall": wall, "peak": peak,
        "listed": report.listed, "list_requests": stats["list"],
        "detail_requests": stats["detail"], "statements": statements,
        "per_batch": statements / batches,
    }  # fmt: skip


def empty_mirror() -> None:
    from django_upscope import models

    models.Visitor.objects.all().delete()
    models.Agent.objects.all().delete()


def run_database(args: Any, url: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as workdir:
        db_url = _common.prepare_database(url, DB_NAME, workdir)
        os.environ.update(DATABASE_URL=db_url, DJANGO_SETTINGS_MODULE="tests.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        sizes = [int(n) for n in args.sizes.split(",")]
        rows = []
        for size in sizes:
            latencies = (
                args.latencies if size != max(sizes) or len(sizes) == 1 else args.big_latencies
            )
            standin = Standin(size)
            try:
                for latency in [float(x) for x in latencies.split(",")]:
                    standin.post(f"/__bench__/latency?ms={latency}")
                    for concurrency in (args.concurrency, 1):
                        row = {"visitors": size, "latency": latency, "concurrency": concurrency}
                        if concurrency == 1 and size * latency / 1000 > args.sequential_budget:
                            rows.append({**row, "skipped": True})
                            continue
                        empty_mirror()
                        # tracemalloc slows the CPU side: memory is traced at 0 ms only.
                        trace = latency == 0
                        row["first"] = measure(standin, concurrency, args.batch_size, trace)
                        row["resync"] = measure(standin, concurrency, args.batch_size, trace)
                        rows.append(row)
                        print(json.dumps(row), file=sys.stderr, flush=True)
            finally:
                standin.stop()
        vendor = connection.vendor
        version = (
            ".".join(map(str, connection.Database.sqlite_version_info))
            if vendor == "sqlite"
            else f"{connection.pg_version // 10000}.{connection.pg_version % 10000}"
        )
        connection.close()
        _common.drop_database(url, DB_NAME)
        return {"database": f"{vendor} {version}", "rows": rows}


def fmt(row: dict[str, Any], run: str) -> list[str]:
    latency = row["latency"]
    if row.get("skipped"):
        limit = f"≤ {1000 / latency:.1f} (1/L: not run)" if latency else "not run"
        return [limit, "-", "-", "-"]
    r = row[run]
    rate = r["listed"] / r["wall"]
    return [
        f"{rate:.0f}", f"{r['list_requests']} + {r['detail_requests']}",
        f"{r['per_batch']:.1f}", "-" if r["peak"] is None else f"{r['peak'] / 2**20:.1f} MiB",
    ]  # fmt: skip


def table(results: list[dict[str, Any]], concurrency: int) -> str:
    headers = [
        "database", "visitors", "latency", "run", "fetchers", "visitors/s",
        "list + detail requests", "statements / batch", "peak memory", "vs sequential",
    ]  # fmt: skip
    lines = []
    for res in results:
        rows = {(r["visitors"], r["latency"], r["concurrency"]): r for r in res["rows"]}
        for (size, latency, conc), row in rows.items():
            if conc != concurrency:
                continue
            seq = rows.get((size, latency, 1))
            for run, name in (("first", "first sync"), ("resync", "unchanged re-sync")):
                for which in (row, seq):
                    if which is None:
                        continue
                    ratio = ""
                    if which is row and seq is not None and run == "first":
                        rate = row[run]["listed"] / row[run]["wall"]
                        if seq.get("skipped"):
                            ratio = f"{rate * latency / 1000:.1f}x the limit" if latency else ""
                        else:
                            ratio = f"{rate / (seq[run]['listed'] / seq[run]['wall']):.1f}x"
                    lines.append([res["database"], f"{size:,}", f"{latency:g} ms", name,
                                  str(which["concurrency"]), *fmt(which, run), ratio])  # fmt: skip
    return _common.table(headers, lines, align="lllllrrrrr")


def main() -> None:
    args = parse_args()
    if args.json:
        print(json.dumps(run_database(args, args.database_url[0])))
        return
    results = []
    for url in _common.database_urls(args.database_url):
        cmd = [sys.executable, __file__, "--json", "--database-url", url, "--sizes", args.sizes,
               "--latencies", args.latencies, "--big-latencies", args.big_latencies,
               "--sequential-budget", str(args.sequential_budget), "--concurrency",
               str(args.concurrency), "--batch-size", str(args.batch_size)]  # fmt: skip
        out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    print(_common.machine())
    print(f"batch size {args.batch_size}, 3 sessions per visitor, stand-in upstream\n")
    print(table(results, args.concurrency))


if __name__ == "__main__":
    main()
