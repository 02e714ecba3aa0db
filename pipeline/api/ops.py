"""Operations routes: the dashboard at ``/``, ``/api/stats`` (JSON, and a live event stream) and
``/metrics`` for Prometheus. Every number comes from ``pipeline.monitor``.

Access: these routes are read-only and show aggregate numbers, feed health and the titles of
the latest public news articles that alerted; no subscription ids, tokens, channels or targets.
They are open by default, like /healthz, so Prometheus can scrape and an operator can open the
page without handling a secret (the API binds 127.0.0.1 unless told otherwise). Set
``NEWSMON_OPS_PUBLIC=false`` to require ``NEWSMON_ADMIN_TOKEN`` for them as well: a Bearer
header (Prometheus's ``authorization`` setting) or, for the page in a browser, ``?token=`` in
its address, which the page passes on to the stats stream.

While the API runs, it samples queue depth every ``NEWSMON_METRICS_SAMPLE_SECONDS`` into the
one-hour history behind the dashboard's chart, so the chart has no gaps when nobody watches.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import structlog
from aiohttp import web

from pipeline import monitor, telemetry
from pipeline.api.base import CONFIG, SETTINGS, STORE, bearer, error

log = structlog.get_logger("newsmon.api.ops")

DASHBOARD_DIR = Path(__file__).resolve().parent.parent / "dashboard"
SAMPLER = web.AppKey("ops_sampler", asyncio.Task)
#: Set when the API begins to stop, so open event streams end instead of holding shutdown up.
STOPPING = web.AppKey("ops_stopping", asyncio.Event)


def _allowed(request: web.Request) -> None:
    settings = request.app[SETTINGS]
    if settings.ops_public:
        return
    admin = settings.admin_token
    token = bearer(request) or request.query.get("token", "")
    if not admin:
        raise error(web.HTTPForbidden, "NEWSMON_OPS_PUBLIC is false but no admin token is set")
    if not token or not hmac.compare_digest(admin, token):
        raise error(web.HTTPUnauthorized, "the dashboard and metrics need the admin token")


async def dashboard(request: web.Request) -> web.FileResponse:
    _allowed(request)
    response = web.FileResponse(DASHBOARD_DIR / "index.html")
    response.headers["Cache-Control"] = "no-cache"
    return response


async def stats(request: web.Request) -> web.Response:
    _allowed(request)
    data = await asyncio.to_thread(
        monitor.dashboard_stats, request.app[STORE], time.time(), request.app[CONFIG]
    )
    return web.json_response(data, headers={"Cache-Control": "no-store"})


async def stats_stream(request: web.Request) -> web.StreamResponse:
    """Server-sent events: one ``stats`` event with the /api/stats document every refresh."""
    _allowed(request)
    store, config, stopping = request.app[STORE], request.app[CONFIG], request.app[STOPPING]
    interval = request.app[SETTINGS].dashboard_refresh_seconds
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    await response.write(f"retry: {int(interval * 1000)}\n\n".encode())
    with contextlib.suppress(ConnectionResetError):  # the page went away
        while not stopping.is_set():
            data = await asyncio.to_thread(monitor.dashboard_stats, store, time.time(), config)
            await response.write(f"event: stats\ndata: {json.dumps(data)}\n\n".encode())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=interval)
    return response


async def metrics(request: web.Request) -> web.Response:
    _allowed(request)
    snapshot = await asyncio.to_thread(
        monitor.queue_snapshot, request.app[STORE], time.time(), request.app[CONFIG]
    )
    return web.Response(
        body=telemetry.render_metrics(snapshot).encode(),
        headers={"Content-Type": telemetry.CONTENT_TYPE},
    )


async def _sample_forever(app: web.Application) -> None:
    store, interval = app[STORE], app[SETTINGS].metrics_sample_seconds
    while True:
        try:
            now = time.time()
            queues = await asyncio.to_thread(store.queue_stats, now)
            await asyncio.to_thread(telemetry.sample_queues, store.r, queues, now)
        except Exception:  # noqa: BLE001 - Redis away for a moment must not stop the API
            log.warning("queue_sample_failed", exc_info=True)
        await asyncio.sleep(interval)


async def _sampler(app: web.Application) -> AsyncIterator[None]:
    app[SAMPLER] = asyncio.create_task(_sample_forever(app))
    yield
    app[SAMPLER].cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await app[SAMPLER]


async def _stopping(app: web.Application) -> None:
    app[STOPPING].set()


def add_routes(app: web.Application) -> None:
    app[STOPPING] = asyncio.Event()
    app.on_shutdown.append(_stopping)
    app.router.add_get("/", dashboard)
    app.router.add_static("/dashboard/", DASHBOARD_DIR, append_version=False)
    app.router.add_get("/api/stats", stats)
    app.router.add_get("/api/stats/stream", stats_stream)
    app.router.add_get("/metrics", metrics)
    app.cleanup_ctx.append(_sampler)
