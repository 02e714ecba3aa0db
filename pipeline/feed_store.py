"""Redis operations for feeds: the shared poll schedule, leases, poll state, seen entries.

Key names come from ``pipeline.keys``. Used by the pollers and by `newsmon feeds`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import redis
import redis.asyncio

from pipeline import keys

# Claim due feeds atomically: each claimed feed's due time moves to the end of its lease, so no
# other poller sees it as due while it is polled, and if this poller dies the feed falls due
# again when the lease runs out and another poller takes it.
_CLAIM = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local until_ = tonumber(ARGV[1]) + tonumber(ARGV[3])
for _, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], until_, id)
  redis.call('SET', ARGV[5] .. id, ARGV[4], 'EX', tonumber(ARGV[3]))
end
return ids
"""

#: State fields cleared when the operator changes a feed's URL in feeds.yaml.
_URL_BOUND_FIELDS = (
    "etag",
    "last_modified",
    "body_hash",
    "moved_from",
    "moved_to",
    "moved_at",
    "gone_at",
    "failures",
)


class FeedStore:
    def __init__(self, client: redis.Redis) -> None:
        self.r = client
        self._claim = client.register_script(_CLAIM)

    def sync_feeds(self, feeds: Iterable[tuple[str, str, str]], now: float) -> None:
        """Schedule configured feeds (id, name, url): new ones due now; drop removed ones.

        A feed whose URL the operator changed starts afresh at the new URL (this is also how a
        feed disabled by a 410 is brought back); a URL that moved by a permanent redirect stays
        moved while feeds.yaml still names the old one.
        """
        feeds = list(feeds)
        wanted = {feed_id for feed_id, _, _ in feeds}
        scheduled = set(self.r.zrange(keys.feeds_due(), 0, -1))
        read = self.r.pipeline(transaction=False)
        for feed_id, _, _ in feeds:
            read.hget(keys.feed_state(feed_id), "config_url")
        previous = read.execute()
        pipe = self.r.pipeline(transaction=False)
        for (feed_id, name, url), old_url in zip(feeds, previous, strict=True):
            state_key = keys.feed_state(feed_id)
            if old_url is not None and old_url != url:
                pipe.hdel(state_key, *_URL_BOUND_FIELDS)
                pipe.hset(state_key, "url", url)
                pipe.zadd(keys.feeds_due(), {feed_id: now})
            else:
                pipe.zadd(keys.feeds_due(), {feed_id: now}, nx=True)
            pipe.hset(state_key, mapping={"name": name, "config_url": url})
            pipe.hsetnx(state_key, "url", url)
        for feed_id in scheduled - wanted:
            pipe.zrem(keys.feeds_due(), feed_id)
        pipe.execute()

    def claim_due_feeds(self, owner: str, now: float, limit: int, lease_seconds: int) -> list[str]:
        """Feeds due by ``now`` that this poller now holds a lease on (at most ``limit``)."""
        if limit <= 0:
            return []
        return list(
            self._claim(
                keys=[keys.feeds_due()],
                args=[now, limit, lease_seconds, owner, keys.feed_lease_prefix()],
            )
        )

    def release_feed(self, feed_id: str, next_due: float, state: dict[str, Any]) -> None:
        pipe = self.r.pipeline(transaction=True)
        pipe.zadd(keys.feeds_due(), {feed_id: next_due}, xx=True)
        if state:
            pipe.hset(keys.feed_state(feed_id), mapping={k: str(v) for k, v in state.items()})
        pipe.delete(keys.feed_lease(feed_id))
        pipe.execute()

    def lease_owner(self, feed_id: str) -> str | None:
        return self.r.get(keys.feed_lease(feed_id))

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


# The asyncio twin of _CLAIM that also returns each claimed feed's state: id, then the state's
# fields and values, for each feed (ARGV[6] is the state key prefix).
_CLAIM_WITH_STATES = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local until_ = tonumber(ARGV[1]) + tonumber(ARGV[3])
local out = {}
for _, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], until_, id)
  redis.call('SET', ARGV[5] .. id, ARGV[4], 'EX', tonumber(ARGV[3]))
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGETALL', ARGV[6] .. id)
end
return out
"""

# Release a batch of polled feeds, each atomically (the script runs as one): store the changed
# state fields, schedule the next poll (only if the feed is still scheduled) and drop the lease.
# ARGV: state key prefix, lease key prefix, then per feed: id, next due, number of fields, then
# that many field/value pairs.
_RELEASE = """
local state_prefix, lease_prefix = ARGV[1], ARGV[2]
local i = 3
while i <= #ARGV do
  local id, n = ARGV[i], tonumber(ARGV[i + 2])
  redis.call('ZADD', KEYS[1], 'XX', ARGV[i + 1], id)
  if n > 0 then
    redis.call('HSET', state_prefix .. id, unpack(ARGV, i + 3, i + 2 + 2 * n))
  end
  redis.call('DEL', lease_prefix .. id)
  i = i + 3 + 2 * n
end
return 0
"""


class AsyncFeedOps:
    """The poller's per-feed hot path on an asyncio Redis client: claim (with the claimed feeds'
    states) and release, each one script call for a whole batch of feeds.

    Same keys and semantics as ``FeedStore``; no thread hand-off per call.
    """

    def __init__(self, client: redis.asyncio.Redis) -> None:
        self.r = client
        self._claim = client.register_script(_CLAIM_WITH_STATES)
        self._release = client.register_script(_RELEASE)

    async def claim_due_feeds(
        self, owner: str, now: float, limit: int, lease_seconds: int
    ) -> list[tuple[str, dict[str, str]]]:
        """Feeds due by ``now`` that this poller now holds a lease on (at most ``limit``), each
        with its state."""
        if limit <= 0:
            return []
        out = await self._claim(
            keys=[keys.feeds_due()],
            args=[
                now,
                limit,
                lease_seconds,
                owner,
                keys.feed_lease_prefix(),
                keys.feed_state_prefix(),
            ],
        )
        claimed = []
        for i in range(0, len(out), 2):
            flat = out[i + 1]
            claimed.append((_text(out[i]), {_text(k): _text(v) for k, v in _pairs(flat)}))
        return claimed

    async def feed_state(self, feed_id: str) -> dict[str, str]:
        return await self.r.hgetall(keys.feed_state(feed_id))

    async def release_feeds(self, feeds: Sequence[tuple[str, float, dict[str, Any]]]) -> None:
        """Store each feed's state, schedule its next poll and drop its lease: (id, next due,
        changed state fields) per feed, one round trip for all."""
        args: list[str | float | int] = [keys.feed_state_prefix(), keys.feed_lease_prefix()]
        for feed_id, next_due, state in feeds:
            args += (feed_id, next_due, len(state))
            for name, value in state.items():
                args += (name, str(value))
        await self._release(keys=[keys.feeds_due()], args=args)


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _pairs(flat: list[Any]) -> Iterable[tuple[Any, Any]]:
    it = iter(flat)
    return zip(it, it, strict=False)
