"""Push delivery with real receivers: a webhook server verifying every signature, an SMTP
server (aiosmtpd), an Apprise json:// target; retries, dead letters, replay, SIGKILL, digests."""

from __future__ import annotations

import os
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import keys
from pipeline.core.identity import new_article
from pipeline.core.subscriptions import SubscriptionSpec
from pipeline.queueing import client_app, send_articles
from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.subscribing import create
from tests.helpers.processes import BIN, worker_env
from tests.helpers.receivers import Behaviour, SmtpServer, WebhookReceiver
from tests.integration.test_pipeline_e2e import wait_for

pytestmark = pytest.mark.slow
SECRET = "s3cret-for-tests"
FAST_RETRIES = {
    "NEWSMON_DELIVERY_BACKOFF_BASE": "0.2",
    "NEWSMON_DELIVERY_BACKOFF_CAP": "0.5",
    "NEWSMON_DELIVERY_MAX_ATTEMPTS": "3",
}


def story(n: int) -> dict:
    """Team-written, each a different demining story."""
    title = f"Deminers clear minefield number {n} near village {n * 7}"
    summary = (
        f"Sappers of the mine action agency removed {n * 3} anti-personnel mines from "
        f"field {n} on day {n}, the agency said."
    )
    url = f"https://agency.test/story/{n}"
    return new_article(
        "agency", url, title, summary, guid=url, language="en", fetched_at=time.time()
    ).to_dict()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver(secret=SECRET).start()
    try:
        yield hook
    finally:
        hook.stop()


def webhook_sub(store: Store, url: str, **extra) -> str:
    spec = SubscriptionSpec(
        topics=["demining"], channels=[{"type": "webhook", "url": url, "secret": SECRET}], **extra
    )
    return create(store, spec, time.time())[0].id


def send(redis_url: str, *numbers: int) -> None:
    app = client_app(Settings(redis_url=redis_url), redis_url)
    send_articles(app, "agency", [story(n) for n in numbers])


def test_fails_twice_then_succeeds_gets_exactly_one_delivery(
    store: Store, redis_url: str, receiver: WebhookReceiver, worker_factory
) -> None:
    receiver.behaviour = Behaviour(fail_times=2, fail_status=503, retry_after="0")
    sub = webhook_sub(store, receiver.url)
    worker_factory(**FAST_RETRIES)
    send(redis_url, 1)
    wait_for(lambda: receiver.received)
    time.sleep(1.5)  # nothing more may arrive
    assert receiver.attempts == 3
    assert len(receiver.received) == 1 and receiver.received[0].signature_ok
    body = receiver.received[0].body
    assert body["subscription_id"] == sub and "demining" in body["topics"]
    log = store.deliveries.log_entries(sub)
    assert [e["outcome"] for e in reversed(log)] == ["retry", "retry", "delivered"]


def test_always_failing_receiver_ends_in_dead_letters_and_replay_delivers_once(
    store: Store, redis_url: str, config_dir: Path, receiver: WebhookReceiver, worker_factory
) -> None:
    receiver.behaviour = Behaviour(fail_times=10**6, fail_status=500)
    sub = webhook_sub(store, receiver.url)
    worker_factory(**FAST_RETRIES)
    send(redis_url, 2)
    wait_for(lambda: store.deliveries.dead_letters())
    [dead] = store.deliveries.dead_letters()
    assert dead["reason"] == "HTTP 500 (after 3 attempts)" and dead["attempts"] == 3
    shown = subprocess.run(
        [str(BIN / "newsmon"), "deliveries", "--failed"],
        env={**os.environ, "REDIS_URL": redis_url, "NEWSMON_CONFIG_DIR": str(config_dir)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "HTTP 500 (after 3 attempts)" in shown.stdout and sub in shown.stdout

    receiver.behaviour = Behaviour()  # the receiver recovers
    replay = subprocess.run(
        [str(BIN / "newsmon"), "deliveries", "replay"],
        env={**os.environ, "REDIS_URL": redis_url, "NEWSMON_CONFIG_DIR": str(config_dir)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "replayed 1 delivery" in replay.stdout, replay.stderr
    wait_for(lambda: receiver.received)
    time.sleep(1)
    assert len(receiver.received) == 1 and receiver.received[0].signature_ok
    assert store.deliveries.dead_letters() == []


def test_email_and_apprise_channels(
    store: Store, redis_url: str, receiver: WebhookReceiver, worker_factory
) -> None:
    smtp = SmtpServer().start()
    try:
        spec = SubscriptionSpec(
            topics=["demining"],
            channels=[
                {"type": "email", "to": "analyst@example.org"},
                {"type": "apprise", "url": f"json://127.0.0.1:{receiver.port}/apprise"},
            ],
        )
        create(store, spec, time.time())
        worker_factory(
            NEWSMON_SMTP_HOST="127.0.0.1",
            NEWSMON_SMTP_PORT=str(smtp.port),
            NEWSMON_SMTP_FROM="newsmon <alerts@example.org>",
        )
        send(redis_url, 3)
        wait_for(lambda: smtp.messages and receiver.attempts)
        message = smtp.messages[0]
        assert message["To"] == "analyst@example.org"
        assert "Deminers clear minefield number 3" in message["Subject"]
        kinds = {part.get_content_type() for part in message.walk()}
        assert {"text/plain", "text/html"} <= kinds
        assert receiver.attempts == 1  # Apprise posted its JSON message
    finally:
        smtp.stop()


def test_private_targets_are_refused_without_the_setting(
    store: Store, redis_url: str, config_dir: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NEWSMON_ALLOW_PRIVATE_TARGETS"}
    env.update({"REDIS_URL": redis_url, "NEWSMON_CONFIG_DIR": str(config_dir)})
    result = subprocess.run(
        [
            str(BIN / "newsmon"),
            "subscribe",
            "--topic",
            "demining",
            "--webhook",
            "http://127.0.0.1:9/hook",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "loopback/private address; refused" in result.stderr


def test_sigkill_mid_batch_and_mid_delivery_delivers_every_alert_once(
    store: Store, redis_url: str, receiver: WebhookReceiver, worker_factory
) -> None:
    receiver.behaviour = Behaviour(delay=0.4)  # slow: deliveries are in flight when killed
    webhook_sub(store, receiver.url)
    env = {**FAST_RETRIES, "NEWSMON_VISIBILITY_TIMEOUT": "4"}
    worker = worker_factory(**env)
    numbers = list(range(100, 130))
    send(redis_url, *numbers)
    wait_for(lambda: receiver.attempts >= 3, timeout=60)
    worker.kill()  # mid-delivery (and the batch's message may not be acked yet)
    killed_at = len(receiver.received)
    assert killed_at < len(numbers)
    worker_factory(**env)
    wait_for(lambda: len(set(receiver.accepted_keys())) >= len(numbers), timeout=120)
    time.sleep(2)
    keys_seen = Counter(receiver.accepted_keys())
    assert len(keys_seen) == len(numbers)  # every alert delivered
    repeats = sum(c - 1 for c in keys_seen.values())
    # A push cut off after the receiver took it is sent again with the same Idempotency-Key,
    # which is how a receiver drops it; there can be at most one such repeat per push in flight.
    assert repeats <= 2, keys_seen
    urls = {r.body["article"]["url"] for r in receiver.received}
    assert urls == {f"https://agency.test/story/{n}" for n in numbers}
    assert all(r.signature_ok for r in receiver.received)


def test_hourly_digest_with_every_story_once_per_period(
    store: Store,
    redis_url: str,
    config_dir: Path,
    receiver: WebhookReceiver,
    worker_factory,
    tmp_path: Path,
) -> None:
    period = 4.0
    env = {"NEWSMON_DIGEST_HOUR_SECONDS": str(period), "NEWSMON_DIGEST_TICK_SECONDS": "0.5"}
    webhook_sub(store, receiver.url, mode="hourly")
    worker_factory(**env)
    beat_log = open(tmp_path / "beat.log", "wb")  # noqa: SIM115
    beat = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "workers",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(tmp_path / "beat-schedule"),
        ],
        env=worker_env(redis_url, config_dir, **env),
        stdout=beat_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    sub_id = store.subscriptions()[0].id
    stream = keys.alerts(sub_id)
    try:
        # Publish three stories early in a period; the digest of that period carries them.
        time.sleep(period - (time.time() % period) + 0.3)
        send(redis_url, 201, 202)
        send(redis_url, 203)
        wait_for(lambda: store.r.xlen(stream) >= 3, timeout=30)
        wait_for(lambda: receiver.received, timeout=30)
        time.sleep(period * 2)  # later periods: nothing new, so no digest
        before = len(receiver.received)
        send(redis_url, 204)
        wait_for(lambda: len(receiver.received) > before, timeout=30)
        time.sleep(period + 1)
    finally:
        beat.terminate()
        beat.wait(10)
    digests = [r.body for r in receiver.received]
    assert all(d["type"] == "digest" and d["count"] > 0 for d in digests)  # never an empty one
    assert len({d["period"] for d in digests}) == len(digests)  # one per period at most
    titles = [a["article"]["title"] for d in digests for a in d["topics"]["demining"]]
    assert sorted(titles) == sorted(  # every story, each once
        f"Deminers clear minefield number {n} near village {n * 7}" for n in (201, 202, 203, 204)
    )
    # A digest goes out at the first beat tick after a boundary with what came since the last
    # one, so stories routed just after a boundary but before that tick ride in its digest.
    assert len(digests) in (2, 3)
    assert digests[-1]["count"] == 1  # the story published alone, in a later period
    assert store.r.llen(keys.DELIVERIES_QUEUE) == 0


def test_rate_cap_sends_the_excess_in_the_next_hourly_digest(
    store: Store, redis_url: str, receiver: WebhookReceiver, worker_factory
) -> None:
    period = 3.0
    webhook_sub(store, receiver.url, rate_cap=2)
    worker_factory(NEWSMON_DIGEST_HOUR_SECONDS=str(period))
    send(redis_url, 301, 302, 303, 304, 305)
    wait_for(lambda: len(receiver.received) >= 2)
    time.sleep(1)
    assert len(receiver.received) == 2  # the cap: two instant pushes this hour
    assert len(store.deliveries.peek_overflow(store.subscriptions()[0].id)) == 3
    # The next hourly tick (what beat runs) sends the other three as one digest.
    from pipeline.deliver import due_digests
    from pipeline.queueing import send_delivery

    settings = Settings(redis_url=redis_url, digest_hour_seconds=period)
    app = client_app(settings, redis_url)
    for item in due_digests(store, settings, time.time()):
        send_delivery(app, item)
    wait_for(lambda: len(receiver.received) >= 3)
    digest = receiver.received[2].body
    assert digest["type"] == "digest" and digest["count"] == 3
    instant = {r.body["article"]["url"] for r in receiver.received[:2]}
    digested = {a["article"]["url"] for a in digest["topics"]["demining"]}
    assert instant | digested == {f"https://agency.test/story/{n}" for n in range(301, 306)}
    assert not instant & digested
    assert store.deliveries.peek_overflow(store.subscriptions()[0].id) == []
    # A second tick in the same period sends nothing more.
    assert due_digests(store, settings, time.time()) == []


def test_sigkill_mid_batch_still_pushes_every_alert_once(
    store: Store, redis_url: str, receiver: WebhookReceiver, worker_factory
) -> None:
    """The batch is killed after its alerts are routed or while routing: the redelivered batch
    finds its alerts already there and still enqueues their pushes (idempotent by key)."""
    webhook_sub(store, receiver.url)
    env = {**FAST_RETRIES, "NEWSMON_VISIBILITY_TIMEOUT": "4"}
    worker = worker_factory(**env)
    send(redis_url, *range(1000, 1050))
    send(redis_url, *range(2000, 5000))
    wait_for(lambda: len(receiver.received) >= 1)  # the first batch's pushes are flowing
    wait_for(lambda: store.r.hlen("unacked") > 0, interval=0.01)
    time.sleep(0.5)
    worker.kill()
    assert store.r.xlen(keys.alerts(store.subscriptions()[0].id)) < 3050  # mid-batch
    worker_factory(**env)
    wait_for(lambda: len(set(receiver.accepted_keys())) >= 3050, timeout=240)
    time.sleep(2)
    counted = Counter(receiver.accepted_keys())
    assert len(counted) == 3050
    assert sum(c - 1 for c in counted.values()) <= 2, "at most the pushes cut off in flight"
