"""The HTTP API (aiohttp): the application, its error handling and bearer-token helpers.

Bearer tokens: ``NEWSMON_ADMIN_TOKEN`` manages everything; a subscription's own token (printed
once at creation) reads and deletes that subscription only. With no admin token configured, the
API is meant for one machine (it binds 127.0.0.1 by default) and anyone may create subscriptions.
Errors are JSON ``{"error": message}`` with a 4xx status; bad input never yields a 500.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

import redis
import structlog
from aiohttp import web

from pipeline.config import Config
from pipeline.settings import Settings
from pipeline.store import Store

log = structlog.get_logger("newsmon.api")

STORE = web.AppKey("store", Store)
SETTINGS = web.AppKey("settings", Settings)
CONFIG = web.AppKey("config", Config)


def error(status: type[web.HTTPException], message: str) -> web.HTTPException:
    return status(text=json.dumps({"error": message}), content_type="application/json")


@web.middleware
async def json_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.content_type == "application/json" or exc.status < 400:
            raise
        message = exc.text if exc.status == 413 and exc.text else exc.reason
        return web.json_response({"error": message}, status=exc.status)
    except redis.RedisError as exc:
        log.warning("redis_unavailable", path=request.path, error=str(exc))
        return web.json_response({"error": "storage unavailable, try again"}, status=503)


def bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def is_admin(request: web.Request) -> bool:
    admin = request.app[SETTINGS].admin_token
    token = bearer(request)
    return bool(admin and token and hmac.compare_digest(admin, token))
