"""The monitoring numbers on a real Redis, and the terminal face of them (`newsmon queue`)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console

from pipeline import keys, telemetry
from pipeline.config import load_config
from pipeline.core.subscriptions import SubscriptionSpec
from pipeline.monitor import (
    dashboard_stats,
    feed_status_counts,
    latest_alerts,
    percentile,
    queue_snapshot,
    queue_table,
    worker_heartbeats,
)
from pipeline.store import Store


def alert(sub_id: str, story: str, title: str, topics: dict[str, float], at: str) -> dict:
    return {
        "alert_id": f"{sub_id}-{story}",
        "subscription_id": sub_id,
        "created_at": at,
        "topics": topics,
        "matched": {t: ["term"] for t in topics},
        "article": {
            "id": story,
            "url": f"http://agency.test/{story}",
            "title": title,
            "summary": "",
            "source": "trend-en",
            "language": "en",
            "published": "",
        },
        "story": {"id": story, "sources": ["trend-en"]},
    }


def test_percentile() -> None:
    assert percentile([], 0.5) == 0.0
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([float(i) for i in range(101)], 0.99) == 99.0


def test_snapshot_counts_rates_workers_and_latency(store: Store) -> None:
    now = 1_700_000_010.0  # half way through a minute (1_699_999_980 is a whole one)
    store.count("articles", 40, now - 60)
    store.count("articles", 10, now)
    store.count("alerts", 4, now)
    store.record_latencies([0.5, 1.0, 2.0, 4.0])
    store.heartbeat("fresh@host", now - 2)
    store.heartbeat("stale@host", now - 120)
    store.heartbeat("ancient@host", now - 7200)

    snap = queue_snapshot(store, now)
    assert snap["queues"] == {
        "articles": {"depth": 0, "oldest_age_seconds": 0.0},
        "deliveries": {"depth": 0, "oldest_age_seconds": 0.0},
    }
    assert snap["rates_per_minute"]["articles"] == 30.0  # 10 now + half of the previous 40
    assert snap["articles_last_minute"] == 30
    assert snap["alerts_last_minute"] == 4
    assert snap["workers"] == ["fresh@host"]
    assert [(w["name"], w["alive"]) for w in snap["worker_heartbeats"]] == [
        ("fresh@host", True),
        ("stale@host", False),
    ]
    assert snap["fetch_to_alert_seconds"] == {"p50": 2.0, "p95": 4.0, "p99": 4.0, "samples": 4}
    json.dumps(snap)  # `newsmon queue --json` prints it as is


def test_snapshot_samples_the_queue_history(store: Store) -> None:
    now = time.time()
    store.r.lpush(keys.ARTICLES_QUEUE, json.dumps({"headers": {"enqueued_at": now - 5}}))
    queue_snapshot(store, now)
    hist = telemetry.queue_history(store.r, keys.QUEUES, now, 1)
    assert hist["articles"]["depth"] == [1.0]
    assert hist["articles"]["oldest_age_seconds"][0] >= 5


def test_worker_heartbeats_are_newest_first(store: Store) -> None:
    now = time.time()
    store.heartbeat("b@host", now - 10)
    store.heartbeat("a@host", now - 1)
    assert [w["name"] for w in worker_heartbeats(store, now)] == ["a@host", "b@host"]


def test_feed_statuses_from_config_or_schedule(store: Store, config_dir: Path) -> None:
    (config_dir / "feeds.yaml").write_text(
        "feeds:\n"
        + "".join(
            f"  - id: {i}\n    name: {i}\n    url: http://agency.test/{i}.xml\n    language: en\n"
            for i in ("a", "b", "c")
        )
    )
    store.r.hset(keys.feed_state("a"), mapping={"last_status": "ok"})
    store.r.hset(keys.feed_state("b"), mapping={"last_status": "hard_error"})
    assert feed_status_counts(store, load_config(config_dir)) == {
        "hard_error": 1,
        "ok": 1,
        "pending": 1,
    }
    store.r.zadd(keys.feeds_due(), {"a": 0, "b": 0})
    assert feed_status_counts(store) == {"hard_error": 1, "ok": 1}


def test_latest_alerts_per_topic_one_entry_per_story(store: Store) -> None:
    now = time.time()
    one, _ = store.create_subscription(SubscriptionSpec(topics=["demining"]), now)
    two, _ = store.create_subscription(SubscriptionSpec(topics=["demining", "climate"]), now)
    store.route(
        [
            (
                one.id,
                "s1",
                alert(one.id, "s1", "Mines cleared", {"demining": 6.0}, "2024-01-11T09:00:00Z"),
            ),
            (
                two.id,
                "s1",
                alert(two.id, "s1", "Mines cleared", {"demining": 6.0}, "2024-01-11T09:00:01Z"),
            ),
            (
                two.id,
                "s2",
                alert(
                    two.id,
                    "s2",
                    "COP29 and mines",
                    {"demining": 5.0, "climate": 4.0},
                    "2024-01-11T09:05:00Z",
                ),
            ),
        ],
        3600,
        100,
    )
    latest = latest_alerts(store)
    assert [a["title"] for a in latest["demining"]] == ["COP29 and mines", "Mines cleared"]
    assert [a["title"] for a in latest["climate"]] == ["COP29 and mines"]
    assert latest["demining"][1]["created_at"] == "2024-01-11T09:00:00Z"
    assert "subscription_id" not in latest["demining"][0]


def test_dashboard_stats_has_an_hour_of_history(store: Store, config_dir: Path) -> None:
    now = time.time()
    store.count("articles", 5, now)
    stats = dashboard_stats(store, now, load_config(config_dir))
    assert len(stats["history"]["minutes"]) == 60
    assert stats["history"]["articles"][-1] == 5
    assert len(stats["history"]["queues"]["articles"]["depth"]) == 60
    assert stats["topics"]["demining"]
    assert "totals" not in stats
    json.dumps(stats)


def test_queue_table_shows_queues_workers_and_rates(store: Store) -> None:
    now = time.time()
    store.heartbeat("w1@host", now)
    store.count("alerts", 3, now)
    out = io.StringIO()
    Console(file=out, width=120).print(queue_table(queue_snapshot(store, now)))
    text = out.getvalue()
    for expected in ("articles", "deliveries", "w1@host", "alive", "alerts/min", "p95"):
        assert expected in text


def test_cli_queue_json_and_table(store: Store, redis_url: str, config_dir: Path) -> None:
    store.heartbeat("w1@host", time.time())
    env = {**os.environ, "REDIS_URL": redis_url, "NEWSMON_CONFIG_DIR": str(config_dir)}
    run = [str(Path(sys.executable).parent / "newsmon"), "queue"]
    result = subprocess.run(run + ["--json"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    snap = json.loads(result.stdout)
    assert snap["workers"] == ["w1@host"]
    assert set(snap["queues"]) == {"articles", "deliveries"}
    result = subprocess.run(run, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "w1@host" in result.stdout and "oldest job age" in result.stdout
