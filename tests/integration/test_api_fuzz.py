"""Schema-driven fuzzing of the API with schemathesis, against its own OpenAPI document and a
real server on 127.0.0.1: whatever the request, never a 5xx, and every 4xx is a JSON message."""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
from collections.abc import Iterator

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings

from pipeline.api import make_app
from pipeline.api.openapi import document
from pipeline.config import load_config
from pipeline.core.subscriptions import SubscriptionSpec
from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.subscribing import create
from tests.conftest import REPO

pytestmark = pytest.mark.slow
ADMIN = "fuzz-admin-token"
schema = schemathesis.openapi.from_dict(document())
# Valid and invalid requests alike (bodies that break the schema, wrong types, missing fields).
schema.config.generation.update(modes=list(schemathesis.GenerationMode))


@pytest.fixture(scope="module")
def api_url(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    config_dir = tmp_path_factory.mktemp("config")
    shutil.copyfile(REPO / "config" / "topics.yaml", config_dir / "topics.yaml")
    (config_dir / "feeds.yaml").write_text("feeds: []\n")
    store = Store.from_url(redis_url)
    store.r.flushdb()
    sub, token = create(store, SubscriptionSpec(topics=["demining"]), time.time())
    app = make_app(
        Settings(admin_token=ADMIN, config_dir=config_dir), load_config(config_dir), store
    )
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        store.r.close()


@schema.exclude(path_regex=r".*/stream$").parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_server_errors(case, api_url: str) -> None:
    for headers in ({"Authorization": f"Bearer {ADMIN}"}, {"Authorization": "Bearer wrong"}, {}):
        response = case.call(base_url=api_url, headers=headers, timeout=10)
        assert response.status_code < 500, (case.method, case.path, response.text)
        if response.status_code >= 400:
            assert "error" in response.json(), response.text


def test_document_is_served(api_url: str) -> None:
    import requests

    served = requests.get(f"{api_url}/api/openapi.json", timeout=10).json()
    assert served["openapi"].startswith("3.") and "/api/subscriptions" in served["paths"]
