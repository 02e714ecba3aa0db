"""The HTTP API on a real aiohttp server and a real Redis."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from pipeline.api import make_app
from pipeline.config import load_config
from pipeline.core.subscriptions import SubscriptionSpec
from pipeline.settings import Settings
from pipeline.store import Store

ADMIN = "admin-secret"


def call(store: Store, config_dir: Path, scenario, admin_token: str | None = ADMIN) -> None:
    settings = Settings(admin_token=admin_token, config_dir=config_dir, api_max_body_bytes=2048)

    async def main() -> None:
        app = make_app(settings, load_config(config_dir), store)
        async with TestClient(TestServer(app)) as client:
            await scenario(client)

    asyncio.run(main())


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_health_and_topics(store: Store, config_dir: Path) -> None:
    async def scenario(client: TestClient) -> None:
        resp = await client.get("/healthz")
        assert resp.status == 200 and (await resp.json())["ok"] is True
        topics = (await (await client.get("/api/topics")).json())["topics"]
        assert {t["id"] for t in topics} == {"climate", "child_rights", "demining"}

    call(store, config_dir, scenario)


def test_subscription_lifecycle_and_tokens(store: Store, config_dir: Path) -> None:
    async def scenario(client: TestClient) -> None:
        resp = await client.post("/api/subscriptions", json={"topics": ["demining"]})
        assert resp.status == 401
        resp = await client.post(
            "/api/subscriptions", json={"topics": ["demining"]}, headers=auth(ADMIN)
        )
        assert resp.status == 201
        created = await resp.json()
        sub_id, token = created["id"], created["token"]
        assert "token_sha256" not in created

        other = await (
            await client.post(
                "/api/subscriptions", json={"topics": ["climate"]}, headers=auth(ADMIN)
            )
        ).json()
        resp = await client.get(f"/api/subscriptions/{sub_id}/alerts", headers=auth(token))
        assert resp.status == 200 and (await resp.json())["alerts"] == []
        resp = await client.get(f"/api/subscriptions/{other['id']}/alerts", headers=auth(token))
        assert resp.status == 403
        resp = await client.get(f"/api/subscriptions/{sub_id}/alerts", headers=auth("nope"))
        assert resp.status == 401
        resp = await client.get(f"/api/subscriptions/{sub_id}/alerts")
        assert resp.status == 401
        resp = await client.get("/api/subscriptions/ffff/alerts", headers=auth(ADMIN))
        assert resp.status == 404
        listed = await (await client.get("/api/subscriptions", headers=auth(ADMIN))).json()
        assert {s["id"] for s in listed["subscriptions"]} == {sub_id, other["id"]}

        resp = await client.delete(f"/api/subscriptions/{sub_id}", headers=auth(token))
        assert resp.status == 200
        resp = await client.get(f"/api/subscriptions/{sub_id}", headers=auth(ADMIN))
        assert resp.status == 404

    call(store, config_dir, scenario)


def test_alerts_are_listed_with_a_cursor(store: Store, config_dir: Path) -> None:
    sub, token = store.create_subscription(SubscriptionSpec(topics=["demining"]), time.time())
    alerts = [
        (sub.id, f"story{i}", {"alert_id": f"a{i}", "story": {"id": f"story{i}", "sources": []}})
        for i in range(5)
    ]
    assert store.route(alerts, 60, 100) == [True] * 5

    async def scenario(client: TestClient) -> None:
        url = f"/api/subscriptions/{sub.id}/alerts"
        page = await (await client.get(url, params={"limit": "3"}, headers=auth(token))).json()
        assert [a["alert_id"] for a in page["alerts"]] == ["a0", "a1", "a2"]
        page = await (
            await client.get(url, params={"after": page["next"]}, headers=auth(token))
        ).json()
        assert [a["alert_id"] for a in page["alerts"]] == ["a3", "a4"]
        for bad in ({"limit": "x"}, {"limit": "0"}, {"after": "zz"}):
            resp = await client.get(url, params=bad, headers=auth(token))
            assert resp.status == 400 and "error" in await resp.json()

    call(store, config_dir, scenario)


def test_bad_requests_get_clear_4xx(store: Store, config_dir: Path) -> None:
    async def scenario(client: TestClient) -> None:
        post = "/api/subscriptions"
        resp = await client.post(post, data="{not json", headers=auth(ADMIN))
        assert resp.status == 400 and "not JSON" in (await resp.json())["error"]
        resp = await client.post(post, json={"topics": []}, headers=auth(ADMIN))
        assert resp.status == 422 and "topics" in (await resp.json())["error"]
        resp = await client.post(post, json={"topics": ["sport"]}, headers=auth(ADMIN))
        assert resp.status == 422 and "unknown topic" in (await resp.json())["error"]
        resp = await client.post(
            post, json={"topics": ["demining"], "keywords": '"open'}, headers=auth(ADMIN)
        )
        assert resp.status == 422
        resp = await client.post(
            post, json={"topics": ["demining"], "bogus": 1}, headers=auth(ADMIN)
        )
        assert resp.status == 422
        big = json.dumps({"topics": ["demining"], "name": "x" * 5000})
        resp = await client.post(post, data=big, headers=auth(ADMIN))
        assert resp.status == 413 and "error" in await resp.json()
        resp = await client.get("/no/such/page")
        assert resp.status == 404 and "error" in await resp.json()

    call(store, config_dir, scenario)


def test_open_creation_without_admin_token(store: Store, config_dir: Path) -> None:
    async def scenario(client: TestClient) -> None:
        resp = await client.post("/api/subscriptions", json={"topics": ["climate"]})
        assert resp.status == 201

    call(store, config_dir, scenario, admin_token=None)


def test_update_subscription_put_and_patch(store: Store, config_dir: Path) -> None:
    sub, token = store.create_subscription(SubscriptionSpec(topics=["demining"]), time.time())

    async def scenario(client: TestClient) -> None:
        url = f"/api/subscriptions/{sub.id}"
        resp = await client.patch(
            url, json={"min_score": 5, "keywords": "mine OR uxo"}, headers=auth(token)
        )
        assert resp.status == 200
        changed = await resp.json()
        assert changed["min_score"] == 5 and changed["topics"] == ["demining"]
        resp = await client.put(
            url,
            json={
                "topics": ["climate"],
                "mode": "daily",
                "digest_at": "07:30",
                "timezone": "Asia/Baku",
            },
            headers=auth(token),
        )
        assert resp.status == 200 and (await resp.json())["mode"] == "daily"
        for bad in (
            {"timezone": "Mars/Olympus"},
            {"digest_at": "25:00"},
            {"keywords": "(mine"},
            {"channels": [{"type": "fax"}]},
            {"channels": [{"type": "webhook", "url": "http://127.0.0.1:9/x"}]},
        ):
            resp = await client.patch(url, json=bad, headers=auth(token))
            assert resp.status == 422, bad
            assert "error" in await resp.json()
        assert store.subscription(sub.id).topics == ["climate"]

    call(store, config_dir, scenario)


def test_sse_stream_delivers_new_alerts_and_resumes(store: Store, config_dir: Path) -> None:
    sub, token = store.create_subscription(SubscriptionSpec(topics=["demining"]), time.time())

    def alert(n: int) -> tuple[str, str, dict]:
        return (sub.id, f"st{n}", {"alert_id": f"a{n}", "story": {"id": f"st{n}", "sources": []}})

    async def read_event(resp) -> tuple[str, dict]:
        event_id, data = "", None
        while data is None:
            line = (await asyncio.wait_for(resp.content.readline(), 10)).decode().strip()
            if line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
        return event_id, data

    async def scenario(client: TestClient) -> None:
        url = f"/api/subscriptions/{sub.id}/stream"
        resp = await client.get(url, headers=auth(token))
        assert resp.status == 200 and resp.headers["Content-Type"] == "text/event-stream"
        await asyncio.sleep(0.3)
        await asyncio.to_thread(store.route, [alert(1)], 60, 100)
        first_id, first = await read_event(resp)
        assert first["alert_id"] == "a1"
        resp.close()
        await asyncio.to_thread(store.route, [alert(2), alert(3)], 60, 100)
        # Reconnecting with Last-Event-ID resumes after the last alert seen.
        resp = await client.get(url, headers={**auth(token), "Last-Event-ID": first_id})
        assert [(await read_event(resp))[1]["alert_id"] for _ in range(2)] == ["a2", "a3"]
        resp.close()
        resp = await client.get(url, headers={**auth(token), "Last-Event-ID": "bogus"})
        assert resp.status == 400

    call(store, config_dir, scenario)


def test_story_lineage_endpoint(store: Store, config_dir: Path) -> None:
    sub, token = store.create_subscription(SubscriptionSpec(topics=["demining"]), time.time())
    story_id = "0123456789abcdef"
    store.stories.add_sources(
        [(story_id, "trend-en", 1_704_960_000), (story_id, "menafn-en", 1_704_963_600)], time.time()
    )

    async def scenario(client: TestClient) -> None:
        resp = await client.get(f"/api/stories/{story_id}", headers=auth(token))
        assert resp.status == 200
        body = await resp.json()
        assert body["sources"] == ["trend-en", "menafn-en"]
        assert body["lineage"][1] == {"source": "menafn-en", "at": "2024-01-11T09:00:00Z"}
        assert (await client.get(f"/api/stories/{story_id}")).status == 401
        assert (await client.get("/api/stories/xyz", headers=auth(token))).status == 400
        resp = await client.get("/api/stories/ffffffffffffffff", headers=auth(token))
        assert resp.status == 404

    call(store, config_dir, scenario)


def test_redis_away_gives_503_with_a_message(config_dir: Path) -> None:
    import socket

    from pipeline.store import connect

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dead = Store(connect(f"redis://127.0.0.1:{port}/0"))

    async def scenario(client: TestClient) -> None:
        assert (await client.get("/healthz")).status == 503
        resp = await client.get("/api/subscriptions/0123456789abcdef/alerts", headers=auth(ADMIN))
        assert resp.status == 503 and "storage unavailable" in (await resp.json())["error"]

    call(dead, config_dir, scenario)
