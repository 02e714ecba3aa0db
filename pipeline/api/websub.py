"""WebSub callback routes: ``/websub/{feed id}/{token}``.

- GET: the hub's verification of intent. The challenge is echoed only when the mode, the topic
  and the token match a subscription this newsmon asked for (pending, or active and being
  renewed); the lease it grants is recorded. Anything else is answered 404, as the spec asks.
  ``hub.mode=denied`` records the refusal.
- POST: content distribution. The raw body (at most ``NEWSMON_WEBSUB_MAX_BODY_BYTES``) must carry
  ``X-Hub-Signature``, the HMAC of the body with the subscription's secret; a push without a
  valid one is answered 2xx like any other (the spec: acknowledge, but ignore the content) and
  counted in ``bad_signatures``. A valid push is parsed off the event loop, its entries not seen
  before for the feed are sent to the ``articles`` queue at once and remembered as seen.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from typing import Any

import structlog
from aiohttp import web
from celery import Celery

from pipeline.api.base import CONFIG, SETTINGS, STORE, error
from pipeline.api.subscriptions import ASYNC_REDIS
from pipeline.config import ConfigError, load_config
from pipeline.core import websub as ws
from pipeline.core.feeds import FeedSpec
from pipeline.core.parse import ParsedFeed
from pipeline.parse_pool import parse_pool, parse_positional
from pipeline.queueing import client_app, send_articles
from pipeline.websub import WebSubStore

log = structlog.get_logger("newsmon.websub")

PARSE_POOL = web.AppKey("websub_parse_pool", dict)
CHUNK = 64 * 1024


def _subs(request: web.Request) -> WebSubStore:
    return WebSubStore(request.app[ASYNC_REDIS])


async def _subscription(request: web.Request) -> tuple[str, dict[str, str]]:
    """The feed id and its subscription, when the token in the path is that subscription's."""
    feed_id = request.match_info["feed_id"]
    token = request.match_info["token"]
    sub = await _subs(request).get(feed_id)
    if not sub.get("token") or not hmac.compare_digest(sub["token"], token):
        raise error(web.HTTPNotFound, "no such subscription")
    return feed_id, sub


async def verify(request: web.Request) -> web.Response:
    feed_id, sub = await _subscription(request)
    mode = request.query.get("hub.mode", "")
    topic = request.query.get("hub.topic", "")
    if topic != sub.get("topic"):
        raise error(web.HTTPNotFound, "not our topic")
    now = time.time()
    if mode == "denied":
        reason = request.query.get("hub.reason", "")[:300]
        await _subs(request).update(
            feed_id, {"state": ws.DENIED, "error": f"denied by the hub: {reason}".strip()}
        )
        log.warning("websub_denied", feed=feed_id, reason=reason)
        return web.Response(text="ok")
    challenge = request.query.get("hub.challenge", "")
    if mode != "subscribe" or sub.get("state") not in (ws.PENDING, ws.ACTIVE) or not challenge:
        raise error(web.HTTPNotFound, "no such intent")
    requested = int(sub.get("requested_lease") or request.app[SETTINGS].websub_lease_seconds)
    lease = ws.granted_lease(request.query.get("hub.lease_seconds"), requested)
    await _subs(request).activate(feed_id, lease, now)
    log.info("websub_verified", feed=feed_id, lease_seconds=lease)
    return web.Response(text=challenge, content_type="text/plain")


async def _read_limited(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(CHUNK):
        size += len(chunk)
        if size > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=size)
        chunks.append(chunk)
    return b"".join(chunks)


def _resources(app: web.Application) -> dict[str, Any]:
    """The parse pool and the Celery client, made on the first push (most API processes never
    receive one)."""
    res = app[PARSE_POOL]
    if "pool" not in res:
        res["pool"] = parse_pool(1)
        settings = app[SETTINGS]
        res["celery"] = client_app(settings, settings.redis_url or _redis_url(app))
    return res


async def _feed_spec(app: web.Application, feed_id: str) -> FeedSpec | None:
    """The feed from the configuration; feeds.yaml is read again for a feed added since the
    API started (the pollers read it on their own)."""
    feed = next((f for f in app[CONFIG].feeds if f.id == feed_id), None)
    if feed is not None:
        return feed
    try:
        config = await asyncio.to_thread(load_config, app[SETTINGS].config_dir)
    except ConfigError:
        log.warning("websub_config_unreadable", exc_info=True)
        return None
    return next((f for f in config.feeds if f.id == feed_id), None)


def _redis_url(app: web.Application) -> str:
    kw = app[STORE].r.connection_pool.connection_kwargs
    auth = f":{kw['password']}@" if kw.get("password") else ""
    if kw.get("path"):
        return f"unix://{auth}{kw['path']}?db={kw.get('db', 0)}"
    return f"redis://{auth}{kw.get('host', '127.0.0.1')}:{kw.get('port', 6379)}/{kw.get('db', 0)}"


async def receive(request: web.Request) -> web.Response:
    feed_id, sub = await _subscription(request)
    settings = request.app[SETTINGS]
    body = await _read_limited(request, settings.websub_max_body_bytes)
    subs = _subs(request)
    if not ws.signature_valid(sub.get("secret", ""), body, request.headers.get("X-Hub-Signature")):
        await subs.count(feed_id, "bad_signatures")
        log.warning("websub_bad_signature", feed=feed_id, bytes=len(body))
        return web.Response(status=202, text="accepted")
    feed = await _feed_spec(request.app, feed_id)
    if feed is None or not feed.enabled:
        raise error(web.HTTPGone, "this feed is no longer monitored")
    now = time.time()
    res = _resources(request.app)
    parsed: ParsedFeed = await asyncio.get_running_loop().run_in_executor(
        res["pool"],
        parse_positional,
        body,
        feed_id,
        feed.language,
        request.headers.get("Content-Type", ""),
        sub.get("topic", ""),
        now,
        settings.max_entries_per_feed,
    )
    if not parsed.is_feed:
        await subs.count(feed_id, "bad_pushes")
        log.warning("websub_not_a_feed", feed=feed_id, error=parsed.error)
        return web.Response(status=202, text="accepted")
    new = await asyncio.to_thread(
        _enqueue_new, request.app, res["celery"], feed_id, parsed, now, settings.seen_per_feed
    )
    await subs.record_push(feed_id, new, now)
    log.info("websub_push", feed=feed_id, entries=len(parsed.articles), new=new)
    return web.Response(status=202, text="accepted")


def _enqueue_new(
    app: web.Application, celery: Celery, feed_id: str, parsed: ParsedFeed, now: float, keep: int
) -> int:
    """As the poller does: send the unseen entries as one task, then remember them."""
    feeds = app[STORE].feeds
    unseen = feeds.unseen(feed_id, [a.id for a in parsed.articles])
    new = [a for a, fresh in zip(parsed.articles, unseen, strict=True) if fresh]
    if new:
        send_articles(celery, feed_id, [a.to_dict() for a in new])
        feeds.mark_seen(feed_id, [a.id for a in new], now, keep)
    return len(new)


async def _parse_pool(app: web.Application) -> Any:
    app[PARSE_POOL] = {}
    yield
    pool = app[PARSE_POOL].get("pool")
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


def add_routes(app: web.Application) -> None:
    """Needs the asyncio Redis client of ``pipeline.api.subscriptions`` (registered first)."""
    app.cleanup_ctx.append(_parse_pool)
    app.router.add_get("/websub/{feed_id}/{token}", verify)
    app.router.add_post("/websub/{feed_id}/{token}", receive)
