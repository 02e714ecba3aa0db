"""WebSub subscriptions in Redis and the subscribe request to a hub.

One hash per feed (``keys.websub``) holds the subscription: ``hub``, ``topic`` (the feed's self
URL), ``secret`` (random, for the HMAC of pushes), ``token`` (random, the last part of the
callback URL), ``state`` (``pipeline.core.websub``: pending, active, denied, failed),
``requested_at``, ``lease_seconds``, ``lease_expires``, ``verified_at``, ``error``, and the push
counters ``pushes``, ``pushed_articles``, ``bad_signatures``, ``bad_pushes``, ``last_push``.

The poller subscribes and renews (``subscribe``); the API's callback routes verify intent and
take pushes (``pipeline.api.websub``).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import aiohttp
import redis.asyncio
import structlog

from pipeline import keys
from pipeline.core import websub as ws

log = structlog.get_logger("newsmon.websub")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class WebSubStore:
    """The subscriptions, on an asyncio Redis client (the poller's, or the API's)."""

    def __init__(self, client: redis.asyncio.Redis) -> None:
        self.r = client

    async def get(self, feed_id: str) -> dict[str, str]:
        raw = await self.r.hgetall(keys.websub(feed_id))
        return {_text(k): _text(v) for k, v in raw.items()}

    async def update(self, feed_id: str, fields: dict[str, Any]) -> None:
        await self.r.hset(keys.websub(feed_id), mapping={k: str(v) for k, v in fields.items()})

    async def count(self, feed_id: str, field: str, by: int = 1) -> None:
        await self.r.hincrby(keys.websub(feed_id), field, by)

    async def activate(self, feed_id: str, lease_seconds: int, now: float) -> None:
        await self.update(
            feed_id,
            {
                "state": ws.ACTIVE,
                "lease_seconds": lease_seconds,
                "lease_expires": now + lease_seconds,
                "verified_at": now,
                "error": "",
            },
        )

    async def record_push(self, feed_id: str, new_articles: int, now: float) -> None:
        pipe = self.r.pipeline(transaction=False)
        pipe.hincrby(keys.websub(feed_id), "pushes", 1)
        pipe.hincrby(keys.websub(feed_id), "pushed_articles", new_articles)
        pipe.hset(keys.websub(feed_id), "last_push", str(now))
        if new_articles:
            pipe.hset(keys.feed_state(feed_id), "last_new_entry", str(now))
        await pipe.execute()


async def subscribe(
    session: aiohttp.ClientSession,
    subs: WebSubStore,
    *,
    feed_id: str,
    hub: str,
    topic: str,
    public_url: str,
    lease_seconds: int,
    timeout: float,
    now: float | None = None,
) -> dict[str, str]:
    """Ask ``hub`` to push ``topic`` to this feed's callback; returns the subscription as
    stored afterwards. The pending state is written before the request, so a hub that verifies
    intent before it answers finds it. A renewal keeps the token and secret (and the active
    state until the lease ends); a new hub or topic gets new ones."""
    now = time.time() if now is None else now
    sub = await subs.get(feed_id)
    same = sub.get("hub") == hub and sub.get("topic") == topic and sub.get("token")
    token = sub["token"] if same else secrets.token_urlsafe(24)
    secret = sub["secret"] if same and sub.get("secret") else secrets.token_hex(32)
    fields: dict[str, Any] = {
        "hub": hub,
        "topic": topic,
        "token": token,
        "secret": secret,
        "requested_at": now,
        "requested_lease": lease_seconds,
    }
    renewing = same and sub.get("state") == ws.ACTIVE
    if not renewing:
        fields.update(state=ws.PENDING, lease_expires="", verified_at="")
    await subs.update(feed_id, fields)
    form = {
        "hub.mode": "subscribe",
        "hub.topic": topic,
        "hub.callback": ws.callback_url(public_url, feed_id, token),
        "hub.lease_seconds": str(lease_seconds),
        "hub.secret": secret,
    }
    error = ""
    try:
        async with session.post(
            hub, data=form, timeout=aiohttp.ClientTimeout(total=timeout), allow_redirects=False
        ) as resp:
            if not 200 <= resp.status < 300:
                text = (await resp.content.read(300)).decode("utf-8", "replace")
                error = f"hub answered HTTP {resp.status}: {text}".strip()
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        error = f"hub unreachable: {exc!r}"
    if error:
        error = error[:300]
        log.warning("websub_subscribe_failed", feed=feed_id, hub=hub, error=error)
        update: dict[str, Any] = {"error": error}
        current = await subs.get(feed_id)
        if current.get("state") != ws.ACTIVE:
            update["state"] = ws.FAILED
        await subs.update(feed_id, update)
    else:
        log.info("websub_subscribe_requested", feed=feed_id, hub=hub, renew=renewing)
    return await subs.get(feed_id)
