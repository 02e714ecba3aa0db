"""The operations routes on a real aiohttp server and a real Redis: the dashboard page and its
assets, /api/stats, its live event stream, /metrics, and who may read them."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from pipeline import keys, telemetry
from pipeline.api import make_app
from pipeline.config import load_config
from pipeline.settings import Settings
from pipeline.store import Store

ADMIN = "admin-secret"


def call(store: Store, config_dir: Path, scenario, **settings: object) -> None:
    settings.setdefault("admin_token", ADMIN)
    settings.setdefault("dashboard_refresh_seconds", 0.2)
    settings.setdefault("metrics_sample_seconds", 0.1)
    s = Settings(config_dir=config_dir, **settings)

    async def main() -> None:
        app = make_app(s, load_config(config_dir), store)
        async with TestClient(TestServer(app)) as client:
            await scenario(client)

    asyncio.run(main())


def test_dashboard_page_and_assets_are_local(store: Store, config_dir: Path) -> None:
    async def scenario(client: TestClient) -> None:
        resp = await client.get("/")
        assert resp.status == 200
        assert resp.content_type == "text/html"
        page = await resp.text()
        assert "/dashboard/dashboard.js" in page and "/dashboard/dashboard.css" in page
        assert "http://" not in page.replace('"http://www.w3.org', "") and "https://" not in page
        for asset, kind in (("dashboard.js", "javascript"), ("dashboard.css", "text/css")):
            resp = await client.get(f"/dashboard/{asset}")
            assert resp.status == 200 and kind in resp.content_type
        script = await (await client.get("/dashboard/dashboard.js")).text()
        assert "innerHTML" not in script  # feed titles are untrusted: text only

    call(store, config_dir, scenario)


def test_stats_json(store: Store, config_dir: Path) -> None:
    now = time.time()
    store.count("articles", 12, now)
    store.heartbeat("w1@host", now)

    async def scenario(client: TestClient) -> None:
        resp = await client.get("/api/stats")
        assert resp.status == 200
        stats = await resp.json()
        assert stats["workers"] == ["w1@host"]
        assert stats["history"]["articles"][-1] == 12
        assert set(stats["queues"]) == {"articles", "deliveries"}
        assert {"p50", "p95", "p99"} <= set(stats["fetch_to_alert_seconds"])
        assert set(stats["topics"]) == {"climate", "child_rights", "demining"}

    call(store, config_dir, scenario)


def test_stats_stream_pushes_updates(store: Store, config_dir: Path) -> None:
    async def scenario(client: TestClient) -> None:
        resp = await client.get("/api/stats/stream")
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        seen: list[dict] = []
        buffer = ""
        deadline = time.time() + 10
        while len(seen) < 2 and time.time() < deadline:
            chunk = await asyncio.wait_for(resp.content.readany(), 5)
            buffer += chunk.decode()
            while "\n\n" in buffer:
                event, buffer = buffer.split("\n\n", 1)
                lines = dict(line.split(": ", 1) for line in event.splitlines() if ": " in line)
                if lines.get("event") == "stats":
                    seen.append(json.loads(lines["data"]))
                    store.count("articles", 5, time.time())
        assert len(seen) == 2
        assert seen[1]["history"]["articles"][-1] > seen[0]["history"]["articles"][-1]
        resp.close()

    call(store, config_dir, scenario)


def test_metrics_endpoint(store: Store, config_dir: Path) -> None:
    pipe = store.r.pipeline(transaction=False)
    telemetry.count(pipe, "articles_fetched", 3, now=time.time(), feed="trend-en")
    pipe.execute()

    async def scenario(client: TestClient) -> None:
        resp = await client.get("/metrics")
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        names = {f.name for f in text_string_to_metric_families(await resp.text())}
        assert {"newsmon_queue_depth", "newsmon_articles_fetched", "newsmon_deliveries"} <= names

    call(store, config_dir, scenario)


def test_api_samples_queue_history_while_running(store: Store, config_dir: Path) -> None:
    store.r.lpush(keys.ARTICLES_QUEUE, json.dumps({"headers": {"enqueued_at": time.time()}}))

    async def scenario(client: TestClient) -> None:
        await asyncio.sleep(0.5)

    call(store, config_dir, scenario)
    hist = telemetry.queue_history(store.r, keys.QUEUES, time.time(), 2)
    assert 1.0 in hist["articles"]["depth"]


def test_open_by_default_even_with_an_admin_token(store: Store, config_dir: Path) -> None:
    async def scenario(client: TestClient) -> None:
        for path in ("/", "/api/stats", "/metrics"):
            assert (await client.get(path)).status == 200, path

    call(store, config_dir, scenario)


def test_ops_can_require_the_admin_token(store: Store, config_dir: Path) -> None:
    async def scenario(client: TestClient) -> None:
        for path in ("/", "/api/stats", "/api/stats/stream", "/metrics"):
            resp = await client.get(path)
            assert resp.status == 401, path
            assert "admin token" in (await resp.json())["error"]
        bad = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert bad.status == 401
        ok = await client.get("/metrics", headers={"Authorization": f"Bearer {ADMIN}"})
        assert ok.status == 200
        assert (await client.get(f"/?token={ADMIN}")).status == 200
        assert (await client.get(f"/api/stats?token={ADMIN}")).status == 200

    call(store, config_dir, scenario, ops_public=False)


def test_closed_without_any_admin_token_says_why(store: Store, config_dir: Path) -> None:
    async def scenario(client: TestClient) -> None:
        resp = await client.get("/metrics")
        assert resp.status == 403
        assert "NEWSMON_OPS_PUBLIC" in (await resp.json())["error"]

    call(store, config_dir, scenario, ops_public=False, admin_token=None)
