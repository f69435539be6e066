"""An Upscope stand-in for the sync benchmarks: N visitors, a chosen added latency.

    .venv/bin/python bench/upstream_standin.py --visitors 1000 --latency-ms 50 --port 0

Not a benchmark itself (``scripts/bench.sh`` runs only ``bench/bench_*.py``). One asyncio
process on 127.0.0.1, HTTP/1.1 keep-alive, no Django, no database: it answers
``GET /v1.1/list.json`` with every visitor (no sessions, as a listing entry) and
``GET /v1.1/visitors/<id>.json`` with the visitor and 3 ended sessions, each after
``--latency-ms`` of ``asyncio.sleep`` (a non-blocking wait: many requests wait at once and no
CPU is spent waiting). The payloads are built once at start. ``GET /__bench__/stats`` counts
the list and detail requests and connections; ``POST /__bench__/reset`` zeroes them;
``POST /__bench__/latency?ms=L`` sets the latency; ``POST /__bench__/touch?n=K`` changes
the ``last_url`` of the first K visitors. The chosen port is printed on the first line.

The embedded Django fake is CPU-bound on a 2-core machine (it renders every payload from its
database per request), so a benchmark against it measures the fake, not the sync.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit


def short_id(i: int) -> str:
    return f"BV{i:07d}"


def visitor(i: int, sessions: int) -> dict[str, Any]:
    sid = short_id(i)
    seen = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=i)
    payload: dict[str, Any] = {
        "api_key": "public", "browser_name": "Firefox 120", "device_name": None,
        "device_type": "desktop", "first_seen_at": "2026-01-01T00:00:00.000Z",
        "identities": [f"Visitor {i}", f"v{i}@example.com"], "integration": None,
        "ip_address": f"10.0.{i // 256 % 256}.{i % 256}", "is_in_session": False,
        "is_online": i % 3 == 0, "js_configuration": True,
        "last_seen_at": seen.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "last_url": f"https://www.example.com/p/{i}", "location_city": "Lyon",
        "location_country": "FR", "location_country_name": "france", "lookup_code": f"{i:04d}",
        "short_id": sid, "tags": ["#customer"] if i % 2 else [], "unique_id": f"u-{i}",
        "_type": "visitor",
    }  # fmt: skip
    made = []
    for j in range(sessions):
        began = seen - dt.timedelta(days=j + 1)
        made.append({
            "id": i * 10 + j + 1, "length_seconds": 300, "formatted_length": "5 minutes",
            "call_length_seconds": 0, "formatted_call_length": "-",
            "started_at": began.isoformat(timespec="milliseconds"),
            "ended_at": (began + dt.timedelta(minutes=5)).isoformat(timespec="milliseconds"),
            "went_live": True, "features_used": ["click", "scroll"], "visitor_id": sid,
            "team": {"id": 1, "domain": "example.com", "_type": "team"},
            "agents": [{"id": 100 + (i + j) % 20, "name": f"Agent {(i + j) % 20}",
                        "_type": "agent"}],
            "metadata": {"ticket": f"T-{i}-{j}"}, "_type": "session",
        })  # fmt: skip
    payload["sessions"] = made
    return payload


class Standin:
    def __init__(self, visitors: int, sessions: int, latency: float) -> None:
        self.latency = latency
        self.sessions = sessions
        self.visitors = {short_id(i): visitor(i, sessions) for i in range(visitors)}
        self.stats = {"list": 0, "detail": 0, "connections": 0}
        self._listing: bytes | None = None

    def listing(self) -> bytes:
        if self._listing is None:
            entries = [
                {k: v for k, v in p.items() if k != "sessions"} for p in self.visitors.values()
            ]
            self._listing = json.dumps({"status": "ok", "visitors": entries}).encode()
        return self._listing

    async def answer(self, method: str, target: str) -> tuple[int, bytes]:
        parts = urlsplit(target)
        path = parts.path
        if path == "/__bench__/stats":
            return 200, json.dumps(self.stats).encode()
        if path == "/__bench__/reset":
            self.stats.update(list=0, detail=0, connections=0)
            return 200, b"{}"
        if path == "/__bench__/latency":
            self.latency = float(parse_qs(parts.query).get("ms", ["0"])[0]) / 1000
            return 200, b"{}"
        if path == "/__bench__/touch":
            count = int(parse_qs(parts.query).get("n", ["0"])[0])
            for payload in list(self.visitors.values())[:count]:
                payload["last_url"] += "?again"
            self._listing = None
            return 200, b"{}"
        if path == "/v1.1/list.json":
            self.stats["list"] += 1
            await asyncio.sleep(self.latency)
            return 200, self.listing()
        if path.startswith("/v1.1/visitors/") and path.endswith(".json"):
            self.stats["detail"] += 1
            await asyncio.sleep(self.latency)
            found = self.visitors.get(path[len("/v1.1/visitors/") : -len(".json")])
            if found is None:
                return 404, b'{"status": "error", "error": "not_found"}'
            return 200, json.dumps({"status": "ok", "visitor": found}).encode()
        return 404, b'{"status": "error", "error": "not_found"}'

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats["connections"] += 1
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method, target, _ = line.decode("latin-1").split(" ", 2)
                length = 0
                while True:
                    header = await reader.readline()
                    if header in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = header.decode("latin-1").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                if length:
                    await reader.readexactly(length)
                status, body = await self.answer(method, target)
                reason = "OK" if status == 200 else "Not Found"
                writer.write(
                    f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            return
        finally:
            writer.close()


async def main(args: argparse.Namespace) -> None:
    standin = Standin(args.visitors, args.sessions, args.latency_ms / 1000)
    standin.listing()
    server = await asyncio.start_server(standin.serve, "127.0.0.1", args.port, backlog=512)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(main(parser.parse_args()))
