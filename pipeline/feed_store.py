"""Redis operations for feeds: the shared poll schedule, leases, poll state, seen entries.

Key names come from ``pipeline.keys``. Used by the pollers and by `newsmon feeds`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import redis

from pipeline import keys


class FeedStore:
    def __init__(self, client: redis.Redis) -> None:
        self.r = client

    def sync_feeds(self, feeds: Iterable[tuple[str, str, str]], now: float) -> None:
        """Schedule configured feeds (id, name, url): new ones due now; drop removed ones."""
        feeds = list(feeds)
        wanted = {feed_id for feed_id, _, _ in feeds}
        scheduled = set(self.r.zrange(keys.feeds_due(), 0, -1))
        pipe = self.r.pipeline(transaction=False)
        for feed_id, name, url in feeds:
            pipe.zadd(keys.feeds_due(), {feed_id: now}, nx=True)
            pipe.hset(keys.feed_state(feed_id), mapping={"name": name, "config_url": url})
            pipe.hsetnx(keys.feed_state(feed_id), "url", url)
        for feed_id in scheduled - wanted:
            pipe.zrem(keys.feeds_due(), feed_id)
        pipe.execute()

    def claim_due_feeds(self, owner: str, now: float, limit: int, lease_seconds: int) -> list[str]:
        """Feeds due by ``now`` that this poller now holds a lease on (at most ``limit``)."""
        due = self.r.zrangebyscore(keys.feeds_due(), "-inf", now, start=0, num=limit * 4)
        if not due:
            return []
        pipe = self.r.pipeline(transaction=False)
        for feed_id in due:
            pipe.set(keys.feed_lease(feed_id), owner, nx=True, ex=lease_seconds)
        return [feed_id for feed_id, ok in zip(due, pipe.execute(), strict=True) if ok][:limit]

    def release_feed(self, feed_id: str, next_due: float, state: dict[str, Any]) -> None:
        pipe = self.r.pipeline(transaction=True)
        pipe.zadd(keys.feeds_due(), {feed_id: next_due}, xx=True)
        pipe.hset(keys.feed_state(feed_id), mapping={k: str(v) for k, v in state.items()})
        pipe.delete(keys.feed_lease(feed_id))
        pipe.execute()

    def feed_state(self, feed_id: str) -> dict[str, str]:
        return self.r.hgetall(keys.feed_state(feed_id))

    def feed_states(self, feed_ids: Sequence[str]) -> list[dict[str, str]]:
        pipe = self.r.pipeline(transaction=False)
        for feed_id in feed_ids:
            pipe.hgetall(keys.feed_state(feed_id))
            pipe.zscore(keys.feeds_due(), feed_id)
        out = pipe.execute()
        states = []
        for i in range(0, len(out), 2):
            state = dict(out[i])
            if out[i + 1] is not None:
                state["next_poll"] = str(out[i + 1])
            states.append(state)
        return states

    def unseen(self, feed_id: str, identities: Sequence[str]) -> list[bool]:
        if not identities:
            return []
        scores = self.r.zmscore(keys.feed_seen(feed_id), list(identities))
        return [score is None for score in scores]

    def mark_seen(self, feed_id: str, identities: Sequence[str], now: float, keep: int) -> None:
        if not identities:
            return
        pipe = self.r.pipeline(transaction=False)
        pipe.zadd(keys.feed_seen(feed_id), {i: now for i in identities}, nx=True)
        pipe.zremrangebyrank(keys.feed_seen(feed_id), 0, -keep - 1)
        pipe.execute()
