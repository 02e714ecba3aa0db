"""Politeness per host, shared by every poller through Redis.

At most ``max_in_flight`` requests to one host at once and at least ``min_spacing`` seconds
between two request starts, whichever poller makes them. One Lua script decides atomically, on
Redis's clock (so pollers on machines with skewed clocks agree): it either grants a slot and
returns 0, or returns how long to wait. A slot is a member of the host's in-flight set with an
expiry, so a poller that dies mid-request frees its slot when the expiry passes.

A request's start is the moment it is written to the socket, not the moment it was granted:
between the two lies the grant's way back from Redis, the wait for the event loop and the
connection, which on a busy poller can take longer than the spacing margin. So a grant also
marks the host "unsent" (no other grant until it clears), and the poller reports the start
(``started``) just before the request is written; the script then records the start on
Redis's clock, after the request went out. The next grant comes at least the spacing after
that: the gap between two requests' writes is at least the spacing whatever the delays in
between. A request that never goes out clears the mark when its slot is released; the mark
also expires after ``start_within`` seconds (the poller passes its connect timeout plus a
second: a request not written by then has failed to connect), so a poller that dies in between
holds the host up that long at most. A request written later than that (a poller stalled for
seconds) may come less than the spacing after another one granted meanwhile.
"""

from __future__ import annotations

import asyncio
import uuid

import redis
import redis.asyncio

from pipeline import keys
from pipeline.coalesce import Coalescer

# One call for a batch of requests, in order. KEYS: each request's in-flight, last-start and
# unsent keys. ARGV: max in flight, spacing, hold seconds, unsent seconds (how long a grant may
# take to go out), then each request's op and token:
# "a" acquire: "0" once the slot is taken (the host is then marked unsent), else seconds to wait;
# "s" started: the request holding the token is going out: its start is now;
# "r" release: the token leaves the in-flight set (and the unsent mark, if it still holds it).
_GATE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local max_in_flight = tonumber(ARGV[1])
local spacing = tonumber(ARGV[2])
local hold = tonumber(ARGV[3])
local unsent_ms = math.ceil(tonumber(ARGV[4]) * 1000)
local busy = math.max(0.05, math.min(spacing, 0.25))
local stamp = string.format('%.6f', now)
local out = {}
for i = 1, #KEYS / 3 do
  local in_flight, last_start, unsent = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local op, token = ARGV[3 + 2 * i], ARGV[4 + 2 * i]
  local wait = 0
  if op == 'a' then
    redis.call('ZREMRANGEBYSCORE', in_flight, '-inf', now)
    if redis.call('ZCARD', in_flight) >= max_in_flight then
      wait = busy
    elseif spacing > 0 and redis.call('EXISTS', unsent) == 1 then
      wait = spacing  -- the granted request's start, and so the next grant, is yet to come
    else
      local last = tonumber(redis.call('GET', last_start) or '0')
      if spacing > 0 and now - last < spacing then
        wait = spacing - (now - last)
      else
        redis.call('ZADD', in_flight, now + hold, token)
        redis.call('EXPIRE', in_flight, math.ceil(hold) + 1)
        if spacing > 0 then
          redis.call('SET', last_start, stamp, 'PX', math.ceil(spacing * 1000) + 1000)
          redis.call('SET', unsent, token, 'PX', unsent_ms)
        end
      end
    end
  else
    if redis.call('GET', unsent) == token then
      redis.call('DEL', unsent)
      if op == 's' then
        redis.call('SET', last_start, stamp, 'PX', math.ceil(spacing * 1000) + 1000)
      end
    end
    if op == 'r' then
      redis.call('ZREM', in_flight, token)
    end
  end
  out[i] = tostring(wait)
end
return out
"""


def async_twin(client: redis.Redis, max_connections: int = 32) -> redis.asyncio.Redis:
    """An asyncio client for the same server as ``client`` (the event loop asks Redis itself
    instead of handing every small call to a thread); callers queue for one of
    ``max_connections`` connections instead of failing."""
    pool = client.connection_pool
    kw = pool.connection_kwargs
    names = ("db", "username", "password", "socket_timeout", "socket_connect_timeout")
    keep = {k: kw[k] for k in names if k in kw}
    keep["decode_responses"] = bool(kw.get("decode_responses", False))
    if "path" in kw:
        keep["path"] = kw["path"]
        keep["connection_class"] = redis.asyncio.UnixDomainSocketConnection
    else:
        keep["host"] = kw.get("host", "localhost")
        keep["port"] = kw.get("port", 6379)
        if issubclass(pool.connection_class, redis.SSLConnection):
            keep["connection_class"] = redis.asyncio.SSLConnection
    blocking = redis.asyncio.BlockingConnectionPool(
        max_connections=max_connections, timeout=None, **keep
    )
    return redis.asyncio.Redis(connection_pool=blocking)


#: Added to the spacing between request starts (on Redis's clock, between the moments the
#: pollers write the requests): what the host sees also carries each request's own way through
#: the network and the host's accept queue, which can differ by tens of milliseconds between two
#: requests on a loaded machine; the margin keeps the gap the host sees above the setting.
SPACING_MARGIN = 0.15


class HostGate:
    """``await gate.acquire(host)`` waits for the host's turn; ``release`` frees the slot.

    The calls of all the poller's feeds go to Redis together (``pipeline.coalesce``): one script
    call per batch.
    """

    def __init__(
        self,
        client: redis.asyncio.Redis,
        max_in_flight: int,
        min_spacing: float,
        hold_seconds: float,
        max_wait: float,
        start_within: float = 10.0,
    ) -> None:
        self.r = client
        self.max_in_flight = max_in_flight
        self.min_spacing = min_spacing
        self.hold_seconds = hold_seconds
        self.max_wait = max_wait
        self.start_within = start_within
        self._spacing = min_spacing + SPACING_MARGIN if min_spacing > 0 else 0.0
        self._script = client.register_script(_GATE)
        self._calls: Coalescer[tuple[str, str, str], float] = Coalescer(self._send)

    async def _send(self, requests: list[tuple[str, str, str]]) -> list[float]:
        names: list[str] = []
        args: list[str | float] = [
            self.max_in_flight,
            self._spacing,
            self.hold_seconds,
            self.start_within,
        ]
        for op, host, token in requests:
            names += (keys.host_in_flight(host), keys.host_last_start(host), keys.host_unsent(host))
            args += (op, token)
        return [float(wait) for wait in await self._script(keys=names, args=args)]

    async def try_acquire(self, host: str, token: str) -> float:
        """0.0 when the slot is taken for ``token``, else seconds to wait before trying again."""
        return await self._calls.submit(("a", host, token))

    def started(self, host: str, token: str) -> None:
        """The request holding ``token`` is being written now: the host's spacing counts from
        here. Sent with the next batch; not awaited (the request goes on meanwhile)."""
        if not self._spacing:  # no spacing, no unsent mark to clear
            return
        self._calls.submit(("s", host, token)).add_done_callback(_outcome_seen)

    async def release(self, host: str, token: str) -> None:
        await self._calls.submit(("r", host, token))

    async def acquire(self, host: str, max_wait: float | None = None) -> str | None:
        """A token once the host may be asked; None if that would take over ``max_wait``
        (default: the gate's)."""
        token = uuid.uuid4().hex
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.max_wait if max_wait is None else max_wait)
        while True:
            wait = await self.try_acquire(host, token)
            if wait <= 0:
                return token
            if loop.time() + wait > deadline:
                return None
            await asyncio.sleep(wait)


def _outcome_seen(future: asyncio.Future[float]) -> None:
    """A start report nobody awaits: if Redis failed, the host's unsent mark expires with the
    slot's hold (and the release, awaited, reports the failure)."""
    if not future.cancelled():
        future.exception()
