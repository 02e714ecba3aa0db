"""Subscription routes: create, read, delete subscriptions and list their alerts."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from pipeline.api.base import CONFIG, SETTINGS, STORE, bearer, error, is_admin
from pipeline.core.subscriptions import Subscription, SubscriptionSpec


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
    settings = request.app[SETTINGS]
    if settings.admin_token and not is_admin(request):
        raise error(web.HTTPUnauthorized, "creating subscriptions needs the admin token")
    try:
        body = await request.json()
    except json.JSONDecodeError as exc:
        raise error(web.HTTPBadRequest, f"body is not JSON: {exc.msg}") from None
    try:
        spec = SubscriptionSpec.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: "
            + e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        )
        raise error(web.HTTPUnprocessableEntity, problems) from None
    known = {t.id for t in request.app[CONFIG].topics}
    unknown = [t for t in spec.topics if t not in known]
    if unknown:
        raise error(
            web.HTTPUnprocessableEntity,
            f"unknown topic(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}",
        )
    sub, token = await asyncio.to_thread(request.app[STORE].create_subscription, spec, time.time())
    return web.json_response({**_public(sub), "token": token}, status=201)


async def get_subscription(request: web.Request) -> web.Response:
    sub = await _authorise(request, request.match_info["sub_id"])
    return web.json_response(_public(sub))


async def list_subscriptions(request: web.Request) -> web.Response:
    if not is_admin(request):
        raise error(web.HTTPUnauthorized, "listing subscriptions needs the admin token")
    subs = await asyncio.to_thread(request.app[STORE].subscriptions)
    return web.json_response({"subscriptions": [_public(s) for s in subs]})


async def delete_subscription(request: web.Request) -> web.Response:
    sub = await _authorise(request, request.match_info["sub_id"])
    await asyncio.to_thread(request.app[STORE].delete_subscription, sub.id)
    return web.json_response({"deleted": sub.id})


async def list_alerts(request: web.Request) -> web.Response:
    sub = await _authorise(request, request.match_info["sub_id"])
    after = request.query.get("after", "-")
    try:
        limit = int(request.query.get("limit", "100"))
    except ValueError:
        raise error(web.HTTPBadRequest, "limit must be an integer") from None
    if not 1 <= limit <= 1000:
        raise error(web.HTTPBadRequest, "limit must be between 1 and 1000")
    if after != "-" and not all(part.isdigit() for part in after.split("-", 1)):
        raise error(web.HTTPBadRequest, "after must be a cursor returned by this API")
    entries = await asyncio.to_thread(request.app[STORE].alerts, sub.id, after, limit)
    cursor = entries[-1][0] if entries else after
    return web.json_response({"alerts": [a for _, a in entries], "next": cursor})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/topics", topics)
    app.router.add_post("/api/subscriptions", create_subscription)
    app.router.add_get("/api/subscriptions", list_subscriptions)
    app.router.add_get("/api/subscriptions/{sub_id}", get_subscription)
    app.router.add_delete("/api/subscriptions/{sub_id}", delete_subscription)
    app.router.add_get("/api/subscriptions/{sub_id}/alerts", list_alerts)
