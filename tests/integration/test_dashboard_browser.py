"""The dashboard in a real browser: headless Chromium (Debian's package) driven by Playwright
loads the page from a real `newsmon api` process while articles flow through a real worker, and
sees the numbers change live, without reloading. A screenshot is kept in artifacts/."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from pipeline.core.subscriptions import SubscriptionSpec
from pipeline.queueing import client_app, send_articles
from pipeline.settings import Settings
from pipeline.store import Store
from tests.conftest import REPO
from tests.helpers.processes import BIN, worker_env
from tests.integration.test_redelivery import demining_batch
from tests.integration.test_run_demo import free_port

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO / "artifacts"


def start_api(redis_url: str, config_dir: Path, log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = worker_env(
        redis_url,
        config_dir,
        NEWSMON_API_PORT=str(port),
        NEWSMON_DASHBOARD_REFRESH_SECONDS="0.5",
        NEWSMON_METRICS_SAMPLE_SECONDS="1",
    )
    log = open(log_path, "ab")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [str(BIN / "newsmon"), "api"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        assert proc.poll() is None, log_path.read_text()
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                return proc, base
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise AssertionError("the API did not come up:\n" + log_path.read_text())


@pytest.fixture
def api(redis_url: str, config_dir: Path, tmp_path: Path):
    proc, base = start_api(redis_url, config_dir, tmp_path / "api.log")
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(30)


def number(page, selector: str) -> float:
    text = page.locator(selector).inner_text().strip()
    return float(text) if text not in ("", "–") else -1.0


def test_dashboard_shows_articles_flowing(
    store: Store, redis_url: str, config_dir: Path, api: str, worker_factory
) -> None:
    if not CHROMIUM.exists():
        pytest.skip(
            "/usr/bin/chromium is missing: install Debian's chromium package "
            "(`apt-get install -y chromium`; `make test` does)"
        )
    from playwright.sync_api import expect, sync_playwright

    store.create_subscription(SubscriptionSpec(topics=["demining"]), time.time())
    sender = client_app(Settings(redis_url=redis_url), redis_url)
    ARTIFACTS.mkdir(exist_ok=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(api + "/")
            expect(page.locator("#connection")).to_have_text("live", timeout=15_000)
            assert number(page, "#articles-hour") == 0
            expect(page.locator("#workers")).to_contain_text("no worker is running")

            # A batch waits with no worker: the page shows the queue filling up and aging.
            send_articles(sender, "agency", demining_batch(0, 50))
            expect(page.locator("#queue-articles-depth")).to_have_text("1", timeout=10_000)

            # A worker starts and drains it; more batches flow; the page follows without reloads.
            worker = worker_factory()
            expect(page.locator("#workers")).to_contain_text(worker.hostname, timeout=15_000)
            expect(page.locator("#workers-alive")).to_have_text("1 alive")
            for start in range(50, 250, 50):
                send_articles(sender, "agency", demining_batch(start, 50))
                time.sleep(0.3)
            expect(page.locator("#articles-hour")).to_have_text("250", timeout=30_000)
            expect(page.locator("#alerts-hour")).to_have_text("250", timeout=10_000)
            expect(page.locator("#queue-articles-depth")).to_have_text("0", timeout=10_000)
            assert number(page, "#queue-articles-peak") >= 1  # the hour's chart kept the peak
            assert number(page, "#articles-per-minute") > 0
            assert number(page, "#alerts-per-minute") > 0
            expect(page.locator("#topic-demining li")).to_have_count(5)  # latest five stories
            expect(page.locator("#latency-p50")).not_to_have_text("–")
            assert page.locator("#throughput-chart svg rect").count() >= 1

            page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
            assert not errors, errors
        finally:
            browser.close()
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 10_000
    assert os.access(ARTIFACTS / "dashboard.png", os.R_OK)
