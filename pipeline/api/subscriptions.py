"""Subscription routes: create, read, update, delete subscriptions; their alerts (a page with a
cursor, or a live Server-Sent Events stream) and their delivery log."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web
from pydantic import ValidationError

from pipeline import keys
from pipeline.api.base import CONFIG, SETTINGS, STORE, bearer, error, is_admin
from pipeline.core.alerts import iso_utc
from pipeline.core.subscriptions import Subscription, SubscriptionSpec
from pipeline.subscribing import create, problems, update

ASYNC_REDIS = web.AppKey("async_redis", aioredis.Redis)
SSE_KEEPALIVE_MS = 15_000
_CURSOR = re.compile(r"^\d+-\d+$")


async def _authorise(request: web.Request, sub_id: str) -> Subscription:
    """The subscription, if the caller is the admin or holds its token."""
    store = request.app[STORE]
    token = bearer(request)
    if not token:
        raise error(web.HTTPUnauthorized, "missing bearer token")
    if not is_admin(request):
        owner = await asyncio.to_thread(store.subscription_for_token, token)
        if owner is None:
            raise error(web.HTTPUnauthorized, "unknown token")
        if owner != sub_id:
            raise error(web.HTTPForbidden, "this token does not own that subscription")
    sub = await asyncio.to_thread(store.subscription, sub_id)
    if sub is None:
        raise error(web.HTTPNotFound, f"no subscription {sub_id!r}")
    return sub


def _public(sub: Subscription) -> dict[str, Any]:
    return sub.model_dump(exclude={"token_sha256"})


def _validation_message(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: " + e["msg"].removeprefix("Value error, ")
        for e in exc.errors()
    )


async def _spec_from_body(
    request: web.Request, base: dict[str, Any] | None = None
) -> SubscriptionSpec:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise error(web.HTTPBadRequest, f"body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise error(web.HTTPUnprocessableEntity, "body: expected a JSON object")
    try:
        spec = SubscriptionSpec.model_validate({**(base or {}), **body})
    except ValidationError as exc:
        raise error(web.HTTPUnprocessableEntity, _validation_message(exc)) from None
    found = await asyncio.to_thread(
        problems,
        spec,
        (t.id for t in request.app[CONFIG].topics),
        request.app[SETTINGS].allow_private_targets,
    )
    if found:
        raise error(web.HTTPUnprocessableEntity, "; ".join(found))
    return spec


async def healthz(request: web.Request) -> web.Response:
    ok = await asyncio.to_thread(request.app[STORE].ping)
    return web.json_response({"ok": ok, "redis": ok}, status=200 if ok else 503)


async def topics(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "topics": [
                {"id": t.id, "label": t.label, "threshold": t.threshold}
                for t in request.app[CONFIG].topics
            ]
        }
    )


async def create_subscription(request: web.Request) -> web.Response:
    if request.app[SETTINGS].admin_token and not is_admin(request):
        raise error(web.HTTPUnauthorized, "creating subscriptions needs the admin token")
    spec = await _spec_from_body(request)
    sub, token = await asyncio.to_thread(create, request.app[STORE], spec, time.time())
    return web.json_response({**_public(sub), "token": token}, status=201)


async def get_subscription(request: web.Request) -> web.Response:
    sub = await _authorise(request, request.match_info["sub_id"])
    return web.json_response(_public(sub))


async def replace_subscription(request: web.Request) -> web.Response:
    sub = await _authorise(request, request.match_info["sub_id"])
    spec = await _spec_from_body(request)
    changed = await asyncio.to_thread(update, request.app[STORE], sub, spec)
    return web.json_response(_public(changed))


async def patch_subscription(request: web.Request) -> web.Response:
    sub = await _authorise(request, request.match_info["sub_id"])
    base = sub.model_dump(exclude={"id", "created_at", "token_sha256"})
    spec = await _spec_from_body(request, base)
    changed = await asyncio.to_thread(update, request.app[STORE], sub, spec)
    return web.json_response(_public(changed))


async def list_subscriptions(request: web.Request) -> web.Response:
    if not is_admin(request):
        raise error(web.HTTPUnauthorized, "listing subscriptions needs the admin token")
    subs = await asyncio.to_thread(request.app[STORE].subscriptions)
    return web.json_response({"subscriptions": [_public(s) for s in subs]})


async def delete_subscription(request: web.Request) -> web.Response:
    sub = await _authorise(request, request.match_info["sub_id"])
    await asyncio.to_thread(request.app[STORE].delete_subscription, sub.id)
    return web.json_response({"deleted": sub.id})


def _cursor(value: str, name: str) -> str:
    if value in ("", "-", "0") or _CURSOR.match(value):
        return value or "-"
    raise error(web.HTTPBadRequest, f"{name} must be a cursor returned by this API")


async def list_alerts(request: web.Request) -> web.Response:
    sub = await _authorise(request, request.match_info["sub_id"])
    after = _cursor(request.query.get("after", "-"), "after")
    try:
        limit = int(request.query.get("limit", "100"))
    except ValueError:
        raise error(web.HTTPBadRequest, "limit must be an integer") from None
    if not 1 <= limit <= 1000:
        raise error(web.HTTPBadRequest, "limit must be between 1 and 1000")
    entries = await asyncio.to_thread(request.app[STORE].alerts, sub.id, after, limit)
    cursor = entries[-1][0] if entries else after
    return web.json_response({"alerts": [a for _, a in entries], "next": cursor})


async def stream_alerts(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: each alert as ``event: alert`` with its cursor as the event id;
    reconnecting with Last-Event-ID (or ?after=) resumes without loss."""
    sub = await _authorise(request, request.match_info["sub_id"])
    store = request.app[STORE]
    after = _cursor(
        request.headers.get("Last-Event-ID") or request.query.get("after", ""), "Last-Event-ID"
    )
    if after in ("-", "0"):
        after = "0-0"
    elif after == "":
        after = await asyncio.to_thread(store.last_alert_id, sub.id) or "0-0"
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    await response.write(b": newsmon alert stream\n\n")
    client = request.app[ASYNC_REDIS]
    stream = keys.alerts(sub.id)
    with contextlib.suppress(ConnectionResetError, asyncio.CancelledError):
        while True:
            reply = await client.xread({stream: after}, count=100, block=SSE_KEEPALIVE_MS)
            if not reply:
                await response.write(b": keepalive\n\n")
                continue
            entries = [(eid, json.loads(f["alert"])) for _, items in reply for eid, f in items]
            entries = await asyncio.to_thread(store.with_current_sources, entries)
            for entry_id, alert in entries:
                data = json.dumps(alert, ensure_ascii=False)
                await response.write(f"id: {entry_id}\nevent: alert\ndata: {data}\n\n".encode())
                after = entry_id
    return response


async def delivery_log(request: web.Request) -> web.Response:
    sub = await _authorise(request, request.match_info["sub_id"])
    try:
        limit = min(1000, max(1, int(request.query.get("limit", "100"))))
    except ValueError:
        raise error(web.HTTPBadRequest, "limit must be an integer") from None
    rows = await asyncio.to_thread(request.app[STORE].deliveries.log_entries, sub.id, limit)
    return web.json_response({"deliveries": rows})


async def story(request: web.Request) -> web.Response:
    """A story's lineage: every feed that carried it, first carrier first, with times. Open to
    the admin and to any subscription's token (story ids are not secrets, tokens are)."""
    store = request.app[STORE]
    token = bearer(request)
    if not token:
        raise error(web.HTTPUnauthorized, "missing bearer token")
    if (
        not is_admin(request)
        and await asyncio.to_thread(store.subscription_for_token, token) is None
    ):
        raise error(web.HTTPUnauthorized, "unknown token")
    story_id = request.match_info["story_id"]
    if not re.fullmatch(r"[0-9a-f]{16}", story_id):
        raise error(web.HTTPBadRequest, "a story id is 16 hexadecimal characters")
    lineage = await asyncio.to_thread(store.stories.lineage, story_id, time.time())
    if not lineage:
        raise error(web.HTTPNotFound, f"no story {story_id!r} in the dedupe window")
    return web.json_response(
        {
            "id": story_id,
            "sources": [entry["source"] for entry in lineage],
            "lineage": [{"source": e["source"], "at": iso_utc(float(e["at"]))} for e in lineage],
        }
    )


async def _open_async_redis(app: web.Application) -> Any:
    sync = app[STORE].r.connection_pool.connection_kwargs
    common = {k: sync[k] for k in ("db", "username", "password") if sync.get(k) is not None}
    if sync.get("path"):
        common["unix_socket_path"] = sync["path"]
    else:
        common.update(host=sync.get("host", "127.0.0.1"), port=sync.get("port", 6379))
    app[ASYNC_REDIS] = aioredis.Redis(decode_responses=True, **common)
    yield
    await app[ASYNC_REDIS].aclose()


def add_routes(app: web.Application) -> None:
    app.cleanup_ctx.append(_open_async_redis)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/topics", topics)
    app.router.add_post("/api/subscriptions", create_subscription)
    app.router.add_get("/api/subscriptions", list_subscriptions)
    app.router.add_get("/api/subscriptions/{sub_id}", get_subscription)
    app.router.add_put("/api/subscriptions/{sub_id}", replace_subscription)
    app.router.add_patch("/api/subscriptions/{sub_id}", patch_subscription)
    app.router.add_delete("/api/subscriptions/{sub_id}", delete_subscription)
    app.router.add_get("/api/subscriptions/{sub_id}/alerts", list_alerts)
    app.router.add_get("/api/subscriptions/{sub_id}/stream", stream_alerts)
    app.router.add_get("/api/subscriptions/{sub_id}/deliveries", delivery_log)
    app.router.add_get("/api/stories/{story_id}", story)
