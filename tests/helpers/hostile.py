"""A hostile feed server on 127.0.0.1: one path per misbehaviour a poller meets in the wild, plus
well-behaved feeds, and per-host accounting of what the clients did (request starts, requests in
flight) so tests can check politeness.

Paths (see ``HOSTILE``): /ok/{name} (a feed with ETag and 304), /not-modified (always 304),
/429 (Retry-After), /500, /503 (Retry-After), /slow (headers after the timeout), /drip (one byte
at a time), /huge (200 MB), /gzip-bomb, /deflate-bomb, /br-bomb, /lol (billion laughs), /xxe
(external entity naming a local file), /loop/a <-> /loop/b, /old (301 to /ok/new-home), /gone
(410), /html (a page linking to its feed), /charset (windows-1251 bytes declared utf-8), /empty,
/reset (connection dropped mid-answer), /farm/{n} (generated feeds for load tests).

Run it on its own (benchmarks use a separate process, so the server does not share the poller's
CPU): ``python -m tests.helpers.hostile --port 0`` prints the port on its first line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import socket
import struct
import sys
import threading
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from email.utils import formatdate
from gzip import compress as gzip_compress
from xml.sax.saxutils import escape

from aiohttp import web

SECRET_MARKER = "NEWSMON-XXE-SECRET-91c2"
BIG = 200 * 1024 * 1024
BOMB_SIZE = 64 * 1024 * 1024  # 64 MiB of zeros once inflated (about 1000:1)


def rss_feed(name: str, entries: int, start: int = 0, *, base: str = "http://feeds.test") -> bytes:
    now = time.time()
    parts = [
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>',
        f"<title>{escape(name)}</title><link>{base}/</link><description>d</description>",
    ]
    for i in range(start, start + entries):
        url = f"{base}/{name}/{i}"
        parts.append(
            f"<item><title>{escape(name)} story {i} about the harbour</title><link>{url}</link>"
            f"<guid>{url}</guid><description>Report number {i} from {escape(name)}: the port "
            "reopened after repairs and ships queued at the entrance.</description>"
            f"<pubDate>{formatdate(now - 60 * (start + entries - i), usegmt=True)}</pubDate></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def _zeros_compressed(kind: str, size: int) -> bytes:
    if kind == "br":
        import brotli

        return brotli.compress(b"\0" * (16 * 1024 * 1024), quality=5) if size else b""
    comp = (
        zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        if kind == "gzip"
        else zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS)
    )
    block = b"\0" * (1024 * 1024)
    out = [comp.compress(b'<?xml version="1.0"?><rss version="2.0"><channel><title>')]
    for _ in range(size // len(block)):
        out.append(comp.compress(block))
    out.append(comp.flush())
    return b"".join(out)


@dataclass
class HostStats:
    starts: list[float] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    def min_gap(self) -> float:
        s = sorted(self.starts)
        return min((b - a for a, b in zip(s, s[1:], strict=False)), default=float("inf"))


class HostileServer:
    def __init__(self, secret_path: str = "/etc/hostname", slow_seconds: float = 30.0) -> None:
        self.secret_path = secret_path
        self.slow_seconds = slow_seconds
        self.feeds: dict[str, bytes] = {}
        self.hits: dict[str, int] = defaultdict(int)
        #: Monotonic times of every request per path.
        self.times: dict[str, list[float]] = defaultdict(list)
        self.not_modified: dict[str, int] = defaultdict(int)
        self.hosts: dict[str, HostStats] = defaultdict(HostStats)
        self.farm_entries = 20
        self.farm_generation = 0
        self._farm_cache: dict[int, tuple[bytes, str]] = {}
        self._bombs: dict[str, bytes] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- addresses ----------------------------------------------------------------------------

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    # --- bookkeeping --------------------------------------------------------------------------

    @web.middleware
    async def _count(self, request: web.Request, handler):  # noqa: ANN001, ANN202
        host = request.host.rsplit(":", 1)[0]
        stats = self.hosts[host]
        now = time.monotonic()
        stats.starts.append(now)
        self.times[request.path].append(now)
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        self.hits[request.path] += 1
        try:
            return await handler(request)
        finally:
            stats.in_flight -= 1

    # --- well-behaved ---------------------------------------------------------------------------

    def _conditional(self, request: web.Request, body: bytes, tag: str | None = None):  # noqa: ANN202
        tag = tag or '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == tag:
            self.not_modified[request.path] += 1
            return web.Response(status=304, headers={"ETag": tag})
        return web.Response(
            body=body, headers={"ETag": tag, "Content-Type": "application/rss+xml; charset=utf-8"}
        )

    async def ok(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        body = self.feeds.get(name)
        if body is None:
            body = self.feeds[name] = rss_feed(name, 5)
        return self._conditional(request, body)

    async def farm(self, request: web.Request) -> web.StreamResponse:
        n = int(request.match_info["n"])
        cached = self._farm_cache.get(n)
        if cached is None or cached[1] != str(self.farm_generation):
            body = rss_feed(f"farm{n}", self.farm_entries, self.farm_generation)
            cached = self._farm_cache[n] = (body, str(self.farm_generation))
        body = cached[0]
        return self._conditional(request, body, f'"{n}-{self.farm_generation}"')

    # --- hostile --------------------------------------------------------------------------------

    async def always_304(self, request: web.Request) -> web.StreamResponse:
        return web.Response(status=304)

    async def too_many(self, request: web.Request) -> web.StreamResponse:
        return web.Response(status=429, headers={"Retry-After": "3600"}, text="slow down")

    async def error500(self, request: web.Request) -> web.StreamResponse:
        return web.Response(status=500, text="boom")

    async def unavailable(self, request: web.Request) -> web.StreamResponse:
        return web.Response(status=503, headers={"Retry-After": "120"}, text="maintenance")

    async def slow(self, request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(self.slow_seconds)
        return web.Response(body=rss_feed("slow", 1))

    async def drip(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await resp.prepare(request)
        body = rss_feed("drip", 50)
        for i in range(len(body)):
            await resp.write(body[i : i + 1])
            await asyncio.sleep(0.2)
        return resp

    async def huge(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await resp.prepare(request)
        await resp.write(b'<?xml version="1.0"?><rss version="2.0"><channel><title>')
        block = b"x" * (1024 * 1024)
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            for _ in range(BIG // len(block)):
                await resp.write(block)
        return resp

    def _bomb(self, kind: str) -> bytes:
        if kind not in self._bombs:
            self._bombs[kind] = _zeros_compressed(kind, BOMB_SIZE if kind != "br" else 1)
        return self._bombs[kind]

    async def bomb(self, request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        encoding = {"gzip": "gzip", "deflate": "deflate", "br": "br"}[kind]
        body = self._bomb(kind)  # brotli: one 16 MiB bomb, over the default 10 MB limit
        return web.Response(
            body=body,
            headers={"Content-Encoding": encoding, "Content-Type": "application/rss+xml"},
        )

    async def compressed(self, request: web.Request) -> web.StreamResponse:
        """A good feed, compressed as asked: gzip, deflate (zlib), raw-deflate or br."""
        kind = request.match_info["kind"]
        body = rss_feed(f"compressed-{kind}", 5)
        if kind == "gzip":
            data = gzip_compress(body)
        elif kind == "deflate":
            data = zlib.compress(body)
        elif kind == "raw-deflate":
            c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
            data = c.compress(body) + c.flush()
        else:
            import brotli

            data = brotli.compress(body)
        encoding = "deflate" if kind == "raw-deflate" else kind
        return web.Response(
            body=data, headers={"Content-Encoding": encoding, "Content-Type": "application/rss+xml"}
        )

    async def lol(self, request: web.Request) -> web.StreamResponse:
        decls = ['<!ENTITY lol "lol">'] + [
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
            for i in range(1, 10)
        ]
        body = (
            '<?xml version="1.0"?><!DOCTYPE rss [' + "".join(decls) + ']><rss version="2.0">'
            "<channel><title>lol</title><link>http://lol.test/</link>"
            "<item><title>&lol9;</title><link>http://lol.test/1</link>"
            "<description>&lol9;</description></item></channel></rss>"
        )
        return web.Response(body=body.encode(), content_type="application/rss+xml")

    async def xxe(self, request: web.Request) -> web.StreamResponse:
        body = (
            f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{self.secret_path}">'
            ']><rss version="2.0"><channel><title>xxe &xxe;</title><link>http://x.test/</link>'
            "<item><title>Leak &xxe; here</title><link>http://x.test/1</link>"
            "<description>Body &xxe;</description></item></channel></rss>"
        )
        return web.Response(body=body.encode(), content_type="application/rss+xml")

    async def loop(self, request: web.Request) -> web.StreamResponse:
        other = "b" if request.match_info["side"] == "a" else "a"
        raise web.HTTPFound(f"/loop/{other}")

    async def old(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPMovedPermanently("/ok/new-home")

    async def gone(self, request: web.Request) -> web.StreamResponse:
        return web.Response(status=410, text="gone")

    async def html(self, request: web.Request) -> web.StreamResponse:
        page = (
            "<!doctype html><html><head><title>News</title>"
            '<link rel="alternate" type="application/rss+xml" href="/ok/from-html">'
            "</head><body><h1>Latest news</h1></body></html>"
        )
        return web.Response(text=page, content_type="text/html")

    async def charset(self, request: web.Request) -> web.StreamResponse:
        body = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Новости'
            "</title><link>http://ru.test/</link><item><title>Минёры очистили поле</title>"
            "<link>http://ru.test/1</link><description>Сапёры нашли мины.</description></item>"
            "</channel></rss>"
        ).encode("windows-1251")
        return web.Response(
            body=body, headers={"Content-Type": "application/rss+xml; charset=utf-8"}
        )

    async def empty(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"", content_type="application/rss+xml")

    async def reset(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        resp.content_length = 100_000
        await resp.prepare(request)
        await resp.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
        await asyncio.sleep(0.1)  # the client is reading the body when the reset comes
        transport = request.transport
        assert transport is not None
        sock = transport.get_extra_info("socket")
        if sock is not None:  # close with RST, not FIN: a real "connection reset by peer"
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
        return resp

    # --- lifecycle ------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._count])
        r = app.router
        r.add_get("/ok/{name}", self.ok)
        r.add_get("/farm/{n}", self.farm)
        r.add_get("/not-modified", self.always_304)
        r.add_get("/429", self.too_many)
        r.add_get("/500", self.error500)
        r.add_get("/503", self.unavailable)
        r.add_get("/slow", self.slow)
        r.add_get("/drip", self.drip)
        r.add_get("/huge", self.huge)
        r.add_get("/{kind:gzip|deflate|br}-bomb", self.bomb)
        r.add_get("/compressed/{kind}", self.compressed)
        r.add_get("/lol", self.lol)
        r.add_get("/xxe", self.xxe)
        r.add_get("/loop/{side}", self.loop)
        r.add_get("/old", self.old)
        r.add_get("/gone", self.gone)
        r.add_get("/html", self.html)
        r.add_get("/charset", self.charset)
        r.add_get("/empty", self.empty)
        r.add_get("/reset", self.reset)
        return app

    async def _start(self, port: int = 0) -> None:
        self._runner = web.AppRunner(self.app(), handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port, backlog=1024)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def start(self) -> HostileServer:
        for kind in ("gzip", "deflate", "br"):  # made now: making one would stall the server
            self._bomb(kind)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            fut = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
            with contextlib.suppress(Exception):
                fut.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


HOSTILE = {
    # path: (expected status, expected reason)
    "/not-modified": ("not_modified", "http_304"),
    "/429": ("rate_limited", "http_429"),
    "/500": ("soft_error", "http_500"),
    "/503": ("rate_limited", "http_503"),
    "/slow": ("soft_error", "timeout"),
    "/drip": ("soft_error", "timeout"),
    "/huge": ("hard_error", "too_large"),
    "/gzip-bomb": ("hard_error", "too_large"),
    "/deflate-bomb": ("hard_error", "too_large"),
    "/br-bomb": ("hard_error", "too_large"),
    "/lol": ("ok", ""),
    "/xxe": ("ok", ""),
    "/loop/a": ("hard_error", "redirects"),
    "/old": ("moved", "http_301"),
    "/gone": ("gone", "http_410"),
    "/html": ("hard_error", "not_a_feed"),
    "/charset": ("ok", ""),
    "/empty": ("soft_error", "empty"),
    "/reset": ("soft_error", "reset"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--farm-entries", type=int, default=50)
    args = parser.parse_args()
    server = HostileServer()
    server.farm_entries = args.farm_entries
    loop = asyncio.new_event_loop()
    loop.run_until_complete(server._start(args.port))
    print(server.port, flush=True)

    async def control() -> None:
        # One line on stdin per command: "generation N" changes every farm feed.
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := await reader.readline():
            words = line.decode().split()
            if words[:1] == ["generation"]:
                server.farm_generation = int(words[1])
                print("ok", flush=True)
        loop.stop()

    task = loop.create_task(control())
    try:
        loop.run_forever()
    finally:  # stdin closed or the loop stopped otherwise: end the reader cleanly
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(task)


if __name__ == "__main__":
    main()
