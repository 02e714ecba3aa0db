"""Redis operations, batched: the only module that talks to Redis for newsmon's own data.

Key names come from ``pipeline.keys``. Hot paths (dedupe claims, story updates, routing) take a
whole batch and use one pipeline per step, never a round trip per article per key.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Sequence
from typing import Any

import redis

from pipeline import keys
from pipeline.core.alerts import iso_utc
from pipeline.core.subscriptions import Subscription, SubscriptionSpec
from pipeline.delivery_store import DeliveryStore
from pipeline.feed_store import FeedStore
from pipeline.settings import Settings, get_settings
from pipeline.story_index import StoryIndex

# Claim the (subscription, story) pair and append the alert in one atomic step, so a batch that
# is redelivered after a crash can neither alert twice nor lose an alert.
_ROUTE_SCRIPT = """
if redis.call('SET', KEYS[1], ARGV[4], 'NX', 'EX', ARGV[1]) then
  return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'alert', ARGV[3])
end
return false
"""


class NoRedisError(RuntimeError):
    """No Redis to talk to; the message says how to get one."""


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, decode_responses=True, socket_connect_timeout=5, health_check_interval=30
    )


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Store:
    def __init__(self, client: redis.Redis, settings: Settings | None = None) -> None:
        settings = settings or get_settings()
        self.r = client
        self._route = client.register_script(_ROUTE_SCRIPT)
        self.feeds = FeedStore(client)
        self.stories = StoryIndex(client, settings.dedupe_window, settings.dedupe_shards)
        self.deliveries = DeliveryStore(client)

    @classmethod
    def from_url(cls, url: str) -> Store:
        return cls(connect(url))

    def ping(self) -> bool:
        try:
            return bool(self.r.ping())
        except redis.RedisError:
            return False

    # --- stories -----------------------------------------------------------------------------

    def story_sources(self, story_ids: Sequence[str]) -> dict[str, list[str]]:
        return self.stories.sources(story_ids, time.time())

    # --- subscriptions ------------------------------------------------------------------------

    def create_subscription(self, spec: SubscriptionSpec, now: float) -> tuple[Subscription, str]:
        token = secrets.token_urlsafe(24)
        sub = Subscription(
            **spec.model_dump(),
            id=secrets.token_hex(8),
            created_at=iso_utc(now),
            token_sha256=token_sha256(token),
        )
        pipe = self.r.pipeline(transaction=True)
        pipe.set(keys.subscription(sub.id), sub.model_dump_json())
        pipe.set(keys.subscription_token(sub.token_sha256), sub.id)
        pipe.sadd(keys.subscriptions(), sub.id)
        pipe.execute()
        return sub, token

    def update_subscription(self, sub: Subscription) -> None:
        self.r.set(keys.subscription(sub.id), sub.model_dump_json(), xx=True)

    def subscription(self, sub_id: str) -> Subscription | None:
        raw = self.r.get(keys.subscription(sub_id))
        return Subscription.model_validate_json(raw) if raw else None

    def subscription_for_token(self, token: str) -> str | None:
        return self.r.get(keys.subscription_token(token_sha256(token)))

    def subscriptions(self) -> list[Subscription]:
        ids = sorted(self.r.smembers(keys.subscriptions()))
        if not ids:
            return []
        raws = self.r.mget([keys.subscription(i) for i in ids])
        return [Subscription.model_validate_json(raw) for raw in raws if raw]

    def delete_subscription(self, sub_id: str) -> bool:
        sub = self.subscription(sub_id)
        if sub is None:
            return False
        pipe = self.r.pipeline(transaction=True)
        pipe.delete(
            keys.subscription(sub_id),
            keys.alerts(sub_id),
            keys.delivery_log(sub_id),
            keys.digest_cursor(sub_id),
            keys.overflow(sub_id),
        )
        pipe.delete(keys.subscription_token(sub.token_sha256))
        pipe.srem(keys.subscriptions(), sub_id)
        pipe.execute()
        return True

    # --- alerts -------------------------------------------------------------------------------

    def route(
        self, alerts: Sequence[tuple[str, str, dict[str, Any]]], window: int, maxlen: int
    ) -> list[bool]:
        """Append alerts (subscription id, story id, alert); True for each one that was new."""
        if not alerts:
            return []
        pipe = self.r.pipeline(transaction=False)
        for sub_id, story_id, alert in alerts:
            self._route(
                keys=[keys.alerted(sub_id, story_id), keys.alerts(sub_id)],
                args=[window, maxlen, json.dumps(alert, ensure_ascii=False), alert["alert_id"]],
                client=pipe,
            )
        return [bool(result) for result in pipe.execute()]

    def alerts(self, sub_id: str, after: str = "-", count: int = 100) -> list[tuple[str, dict]]:
        """Alerts after stream id ``after`` (exclusive), oldest first, story sources refreshed."""
        start = "-" if after in ("", "-", "0") else f"({after}"
        entries = self.r.xrange(keys.alerts(sub_id), min=start, max="+", count=count)
        return self.with_current_sources([(eid, json.loads(f["alert"])) for eid, f in entries])

    def last_alert_id(self, sub_id: str) -> str | None:
        entries = self.r.xrevrange(keys.alerts(sub_id), count=1)
        return entries[0][0] if entries else None

    def wait_alerts(
        self, sub_id: str, after: str, block_ms: int, count: int = 100
    ) -> list[tuple[str, dict]]:
        """Block up to ``block_ms`` for alerts after stream id ``after`` ("$" for only new ones)."""
        reply = self.r.xread({keys.alerts(sub_id): after}, count=count, block=block_ms)
        entries = [(eid, json.loads(f["alert"])) for _, items in reply for eid, f in items]
        return self.with_current_sources(entries)

    def with_current_sources(self, entries: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
        if not entries:
            return entries
        story_ids = list(dict.fromkeys(alert["story"]["id"] for _, alert in entries))
        current = self.story_sources(story_ids)
        for _, alert in entries:
            sources = current.get(alert["story"]["id"])
            if sources:
                alert["story"]["sources"] = sources
        return entries

    # --- monitoring ---------------------------------------------------------------------------

    def count(self, counter: str, amount: int, now: float) -> None:
        key = keys.stat(counter, int(now // 60))
        pipe = self.r.pipeline(transaction=False)
        pipe.incrby(key, amount)
        pipe.expire(key, keys.STATS_TTL)
        pipe.execute()

    def counts_last_minutes(self, counter: str, now: float, minutes: int = 1) -> int:
        """The counter over the last ``minutes`` whole minutes plus the current one, pro rata."""
        current = int(now // 60)
        values = self.r.mget([keys.stat(counter, m) for m in range(current - minutes, current + 1)])
        return sum(int(v or 0) for v in values)

    def record_latencies(self, seconds: Sequence[float]) -> None:
        if not seconds:
            return
        pipe = self.r.pipeline(transaction=False)
        pipe.lpush(keys.fetch_to_alert_latency(), *[f"{s:.4f}" for s in seconds])
        pipe.ltrim(keys.fetch_to_alert_latency(), 0, keys.LATENCY_SAMPLES - 1)
        pipe.execute()

    def latencies(self) -> list[float]:
        return [float(v) for v in self.r.lrange(keys.fetch_to_alert_latency(), 0, -1)]

    def heartbeat(self, hostname: str, now: float) -> None:
        self.r.zadd(keys.workers(), {hostname: now})

    def workers_alive(self, now: float, within: float = 30.0) -> list[str]:
        self.r.zremrangebyscore(keys.workers(), "-inf", now - 24 * 3600)
        return list(self.r.zrangebyscore(keys.workers(), now - within, "+inf"))

    def queue_stats(self, now: float) -> dict[str, dict[str, float]]:
        """Depth and age of the oldest waiting job, per Celery queue."""
        pipe = self.r.pipeline(transaction=False)
        for queue in keys.QUEUES:
            pipe.llen(queue)
            pipe.lindex(queue, -1)  # kombu pushes on the left and pops on the right
        out = pipe.execute()
        stats = {}
        for i, queue in enumerate(keys.QUEUES):
            depth, oldest = out[2 * i], out[2 * i + 1]
            age = 0.0
            if oldest:
                try:
                    sent = float(json.loads(oldest)["headers"].get("enqueued_at") or now)
                    age = max(0.0, now - sent)
                except (ValueError, KeyError, TypeError):
                    age = 0.0
            stats[queue] = {"depth": depth, "oldest_age_seconds": round(age, 3)}
        return stats
