"""A real HTTP server on 127.0.0.1 serving feeds whose content and behaviour tests control."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from email.utils import formatdate
from xml.sax.saxutils import escape

from aiohttp import web

from tests.helpers.threaded import ThreadedServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    #: Answer 304 when the client's If-None-Match equals our ETag.
    etag: bool = True
    hits: int = 0
    not_modified: int = 0


def rss(items: list[dict[str, str]], language: str = "en", title: str = "Test feed") -> bytes:
    """An RSS 2.0 document from dicts with title, link, guid, description, pubDate."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>http://example.test/</link>",
        f"<description>test</description><language>{language}</language>",
    ]
    for item in items:
        parts.append("<item>")
        for tag in ("title", "link", "guid", "description"):
            if item.get(tag):
                parts.append(f"<{tag}>{escape(item[tag])}</{tag}>")
        parts.append(f"<pubDate>{item.get('pubDate') or formatdate(usegmt=True)}</pubDate>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


class FeedServer(ThreadedServer):
    """Serves the feeds in ``routes``; ``url(path)`` gives a route's address."""

    def __init__(self) -> None:
        super().__init__()
        self.routes: dict[str, Route] = {}

    def set(self, path: str, route: Route) -> Route:
        self.routes[path] = route
        return route

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        route = self.routes.get(request.path)
        if route is None:
            return web.Response(status=404, text="no such feed")
        route.hits += 1
        headers = dict(route.headers)
        if route.etag and route.status == 200:
            tag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
            headers["ETag"] = tag
            if request.headers.get("If-None-Match") == tag:
                route.not_modified += 1
                return web.Response(status=304, headers=headers)
        headers.setdefault("Content-Type", route.content_type)
        return web.Response(status=route.status, body=route.body, headers=headers)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        return app
