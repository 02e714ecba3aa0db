"""Offline demo feeds: live RSS 2.0 feeds of invented news, served over HTTP by aiohttp.

`DemoFeeds` is the model: the stories in ``stories.yaml`` and a release schedule. When it is made,
the first ``initial`` stories are already published; after that one more story is released every
``every`` seconds, in file order, and once the file runs out fresh stories are generated from its
templates forever (with a seeded ``random.Random``, so a run is reproducible). Each feed keeps its
newest ``MAX_ITEMS`` items. Time comes from an injectable ``clock``.

`make_demo_app` / `start_demo_server` serve the model: ``GET /`` lists the feeds (JSON),
``GET /feeds/{id}.xml`` is the feed (ETag, Last-Modified, 304 on a match) and
``GET /articles/{id}/{n}`` is a small article page. ``python -m pipeline.demo.server`` runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import html
import json
import math
import random
import string
import threading
import time
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from importlib.resources import files
from typing import Any

import yaml
from aiohttp import web

MAX_ITEMS = 50  # items kept per feed
INITIAL = 6  # stories already published when the model is made
MAX_CATCH_UP = 2000  # stories generated at most in one step after a long pause (bounded work)
ATOM_NS = "http://www.w3.org/2005/Atom"
MONTHS = tuple(  # English month names whatever the locale
    "January February March April May June July August September October November December".split()
)


@dataclass(frozen=True)
class DemoFeed:
    """One demo feed as described in stories.yaml."""

    id: str
    name: str
    language: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Story:
    """A story ready to publish on one feed."""

    feed: str
    title: str
    summary: str


@dataclass(frozen=True)
class Release:
    """A story published as item number ``n`` at ``at`` (unix seconds)."""

    n: int
    at: float
    story: Story


@dataclass(frozen=True)
class Template:
    """A generator of endless stories with varying figures, places and dates."""

    id: str
    feed: str
    titles: tuple[str, ...]
    summaries: tuple[str, ...]
    numbers: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    weight: float = 1.0
    republish_feed: str = ""
    republish_prefix: str = ""

    def generate(self, rng: random.Random, at: float) -> Story:
        """One story for release time ``at``."""
        values = _date_values(at)
        for name, spec in self.numbers.items():
            decimals = int(spec.get("decimals", 0))
            if decimals:
                values[name] = f"{rng.uniform(spec['min'], spec['max']):.{decimals}f}"
            else:
                number = rng.randint(int(spec["min"]), int(spec["max"]))
                values[name] = f"{number:,}" if spec.get("grouping") else str(number)
        used: set[str] = set()
        for name, options in self.choices.items():
            fresh = [o for o in options if o not in used] or list(options)
            values[name] = rng.choice(fresh)
            used.add(values[name])
        title = rng.choice(self.titles).format_map(values)
        summary = rng.choice(self.summaries).format_map(values)
        return Story(self.feed, title, summary)


def _date_values(at: float) -> dict[str, str]:
    """Date placeholders for a release time: the day and the seven days before it."""
    day = datetime.fromtimestamp(at, UTC)
    first, last = day - timedelta(days=7), day - timedelta(days=1)
    month_first, month_last = MONTHS[first.month - 1], MONTHS[last.month - 1]
    week = (
        f"{first.day}-{last.day} {month_last}"
        if first.month == last.month
        else f"{first.day} {month_first}-{last.day} {month_last}"
    )
    return {
        "date": f"{day.day} {MONTHS[day.month - 1]} {day.year}",
        "date_num": f"{day:%d.%m.%Y}",
        "week": week,
        "week_num": f"{first:%d.%m}-{last:%d.%m.%Y}",
    }


def _texts(value: Any) -> tuple[str, ...]:
    texts = (value,) if isinstance(value, str) else tuple(value or ())
    if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
        raise ValueError(f"expected a text or a list of texts, got {value!r}")
    return tuple(" ".join(t.split()) for t in texts)


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def load_stories(
    text: str | None = None,
) -> tuple[list[DemoFeed], list[Story], list[Template]]:
    """Parse stories.yaml (the packaged one by default) and check it is consistent."""
    if text is None:
        text = (files("pipeline.demo") / "stories.yaml").read_text(encoding="utf-8")
    doc = yaml.safe_load(text) or {}
    feeds = [
        DemoFeed(str(f["id"]), str(f["name"]), str(f["language"]), tuple(f.get("tags") or ()))
        for f in doc.get("feeds") or []
    ]
    ids = {f.id for f in feeds}
    if len(ids) != len(feeds):
        raise ValueError("stories.yaml: duplicate feed id")

    def known(feed_id: str, where: str) -> str:
        if feed_id not in ids:
            raise ValueError(f"stories.yaml: {where} uses unknown feed {feed_id!r}")
        return feed_id

    stories = [
        Story(
            known(str(s["feed"]), f"story {i}"),
            _texts(s["title"])[0],
            str(s.get("prefix") or "") + _texts(s["summary"])[0],
        )
        for i, s in enumerate(doc.get("stories") or [])
    ]
    templates = []
    for t in doc.get("templates") or []:
        republish = t.get("republish") or {}
        template = Template(
            id=str(t["id"]),
            feed=known(str(t["feed"]), f"template {t['id']}"),
            titles=_texts(t["title"]),
            summaries=_texts(t["summary"]),
            numbers={str(k): dict(v) for k, v in (t.get("numbers") or {}).items()},
            choices={str(k): tuple(map(str, v)) for k, v in (t.get("choices") or {}).items()},
            weight=float(t.get("weight", 1.0)),
            republish_feed=(
                known(str(republish["feed"]), f"template {t['id']}") if republish else ""
            ),
            republish_prefix=str(republish.get("prefix") or ""),
        )
        defined = set(template.numbers) | set(template.choices) | set(_date_values(0.0))
        for text_ in template.titles + template.summaries:
            missing = _placeholders(text_) - defined
            if missing:
                raise ValueError(f"stories.yaml: template {template.id} lacks {sorted(missing)}")
        templates.append(template)
    return feeds, stories, templates


class DemoFeeds:
    """The demo feeds and their release schedule; render() gives a feed's RSS as of clock()."""

    def __init__(
        self,
        every: float = 4.0,
        clock: Callable[[], float] = time.time,
        seed: int = 7,
        *,
        initial: int = INITIAL,
        stories_yaml: str | None = None,
    ) -> None:
        if not every > 0:
            raise ValueError("every must be a positive number of seconds")
        self.every = float(every)
        self.clock = clock
        self.initial = max(0, initial)
        self._feeds, self._stories, self._templates = load_stories(stories_yaml)
        self._by_id = {f.id: f for f in self._feeds}
        self._rng = random.Random(seed)
        self._pending: deque[Story] = deque()  # republished copies waiting for their slot
        self._recent: deque[tuple[str, str]] = deque(maxlen=1000)  # generated, to avoid repeats
        self._items: dict[str, deque[Release]] = {
            f.id: deque(maxlen=MAX_ITEMS) for f in self._feeds
        }
        self._lock = threading.Lock()
        self._start = clock()
        self._next = 0  # the next story number to release

    def feeds(self) -> list[dict]:
        """The feeds as feeds.yaml entries: id, name, language, tags."""
        return [
            {"id": f.id, "name": f.name, "language": f.language, "tags": list(f.tags)}
            for f in self._feeds
        ]

    def released_at(self, n: int) -> float:
        """When story number ``n`` is (or was) released; the first ``initial`` are back-dated."""
        return self._start + (n - self.initial + 1) * self.every

    def items(self, feed_id: str) -> list[Release] | None:
        """The feed's published items, newest first; None if the feed is unknown."""
        if feed_id not in self._by_id:
            return None
        with self._lock:
            self._advance()
            return list(reversed(self._items[feed_id]))

    def article(self, feed_id: str, n: int) -> Release | None:
        """Item ``n`` of a feed while it is still in the feed, else None."""
        return next((r for r in self.items(feed_id) or [] if r.n == n), None)

    def render(self, feed_id: str, base_url: str) -> bytes | None:
        """The feed as RSS 2.0 bytes with links under ``base_url``; None if the feed is unknown."""
        snapshot = self.snapshot(feed_id, base_url)
        return snapshot[0] if snapshot else None

    def snapshot(self, feed_id: str, base_url: str) -> tuple[bytes, float] | None:
        """The feed's RSS bytes and when it last changed (the start time while it is empty)."""
        items = self.items(feed_id)
        if items is None:
            return None
        updated = items[0].at if items else self._start
        return _rss(self._by_id[feed_id], items, base_url.rstrip("/"), updated), updated

    def _advance(self) -> None:
        elapsed = (self.clock() - self._start) / self.every
        due = self.initial + math.floor(elapsed + 1e-9)
        if due - self._next > MAX_CATCH_UP:
            self._pending.clear()
            self._next = due - MAX_CATCH_UP
        while self._next < due:
            n = self._next
            story = self._story(n)
            if story is not None:
                self._items[story.feed].append(Release(n, self.released_at(n), story))
            self._next += 1

    def _story(self, n: int) -> Story | None:
        if n < len(self._stories):
            return self._stories[n]
        if self._pending:
            return self._pending.popleft()
        if not self._templates:
            return None
        template = self._rng.choices(self._templates, [t.weight for t in self._templates])[0]
        for _ in range(20):
            story = template.generate(self._rng, self.released_at(n))
            if (story.title, story.summary) not in self._recent:
                break
        self._recent.append((story.title, story.summary))
        if template.republish_feed:
            copy = Story(
                template.republish_feed, story.title, template.republish_prefix + story.summary
            )
            self._pending.append(copy)
        return story


def _rss(feed: DemoFeed, items: list[Release], base_url: str, updated: float) -> bytes:
    """RSS 2.0 document for a feed; the body depends only on the items, so ETags are stable."""
    rss = ET.Element("rss", {"version": "2.0", "xmlns:atom": ATOM_NS})
    channel = ET.SubElement(rss, "channel")
    feed_url = f"{base_url}/feeds/{feed.id}.xml"
    for tag, text in (
        ("title", feed.name),
        ("link", f"{base_url}/"),
        ("description", f"{feed.name}: invented news served by the newsmon demo server."),
        ("language", feed.language),
        ("lastBuildDate", formatdate(updated, usegmt=True)),
        ("generator", "newsmon demo"),
    ):
        ET.SubElement(channel, tag).text = text
    ET.SubElement(
        channel, "atom:link", {"href": feed_url, "rel": "self", "type": "application/rss+xml"}
    )
    for release in items:
        link = f"{base_url}/articles/{feed.id}/{release.n}"
        item = ET.SubElement(channel, "item")
        ET.SubElement(item, "title").text = release.story.title
        ET.SubElement(item, "link").text = link
        ET.SubElement(item, "guid", {"isPermaLink": "true"}).text = link
        ET.SubElement(item, "description").text = release.story.summary
        ET.SubElement(item, "pubDate").text = formatdate(release.at, usegmt=True)
    ET.indent(rss)
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True) + b"\n"


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _etag_matches(header: str, etag: str) -> bool:
    """Weak comparison of an If-None-Match header against our ETag (RFC 9110 13.1.2)."""
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


def _base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def make_demo_app(demo: DemoFeeds) -> web.Application:
    """The aiohttp application serving ``demo``."""

    async def index(request: web.Request) -> web.Response:
        base = _base_url(request)
        listing = [{**f, "url": f"{base}/feeds/{f['id']}.xml"} for f in demo.feeds()]
        return web.json_response({"feeds": listing}, dumps=lambda o: json.dumps(o, indent=2))

    async def feed(request: web.Request) -> web.Response:
        feed_id = request.match_info["feed_id"]
        snapshot = demo.snapshot(feed_id, _base_url(request))
        if snapshot is None:
            raise web.HTTPNotFound(text=f"no demo feed {feed_id!r}\n")
        body, updated = snapshot
        etag = _etag(body)
        headers = {"ETag": etag, "Last-Modified": formatdate(updated, usegmt=True)}
        inm = request.headers.get("If-None-Match")
        ims = request.if_modified_since
        if (inm is not None and _etag_matches(inm, etag)) or (
            inm is None and ims is not None and int(updated) <= ims.timestamp()
        ):
            return web.Response(status=304, headers=headers)
        return web.Response(
            body=body, headers=headers, content_type="application/rss+xml", charset="utf-8"
        )

    async def article(request: web.Request) -> web.Response:
        feed_id = request.match_info["feed_id"]
        release = demo.article(feed_id, int(request.match_info["n"]))
        if release is None:
            raise web.HTTPNotFound(text="no such demo article (or it has left the feed)\n")
        title, summary = html.escape(release.story.title), html.escape(release.story.summary)
        page = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><h1>{title}</h1><p><small>{formatdate(release.at, usegmt=True)}</small></p>"
            f"<p>{summary}</p></body></html>\n"
        )
        return web.Response(text=page, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/feeds/{feed_id}.xml", feed)
    app.router.add_get(r"/articles/{feed_id}/{n:\d+}", article)
    return app


async def start_demo_server(
    demo: DemoFeeds, host: str = "127.0.0.1", port: int = 0
) -> tuple[web.AppRunner, str]:
    """Serve ``demo`` on host:port (0 picks a free port); returns the runner and the base URL."""
    runner = web.AppRunner(make_demo_app(demo), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_port = runner.addresses[0][1]
    url_host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    if ":" in url_host:
        url_host = f"[{url_host}]"
    return runner, f"http://{url_host}:{bound_port}"


def demo_feeds_yaml(demo: DemoFeeds, base_url: str, interval: float) -> str:
    """A feeds.yaml text listing the demo feeds served at ``base_url``."""
    base = base_url.rstrip("/")
    entries = [
        {
            "id": f["id"],
            "name": f["name"],
            "url": f"{base}/feeds/{f['id']}.xml",
            "language": f["language"],
            "tags": f["tags"],
            "interval": interval,
        }
        for f in demo.feeds()
    ]
    header = f"# Demo feeds served by pipeline.demo.server at {base}; generated, not for editing.\n"
    return header + yaml.safe_dump(
        {"feeds": entries}, sort_keys=False, allow_unicode=True, default_flow_style=False
    )


async def _serve(args: argparse.Namespace) -> None:
    demo = DemoFeeds(every=args.every, seed=args.seed)
    runner, base_url = await start_demo_server(demo, args.host, args.port)
    try:
        print(base_url, flush=True)
        if args.feeds_yaml:
            print(demo_feeds_yaml(demo, base_url, args.every), end="", flush=True)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    """Run the demo server until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.demo.server", description="Serve newsmon's offline demo feeds."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--every", type=float, default=4.0, help="seconds between new stories")
    parser.add_argument("--seed", type=int, default=7, help="seed for generated stories")
    parser.add_argument(
        "--feeds-yaml", action="store_true", help="also print a feeds.yaml for these feeds"
    )
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
