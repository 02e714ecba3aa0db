"""The poller: fetch due feeds politely, parse them off the event loop, enqueue new articles.

One aiohttp ClientSession per poller; conditional GET with the ETag / Last-Modified kept in
Redis, guarded by a hash of the last body and an unconditional fetch every Nth poll; feedparser in
a process pool; one Celery task per feed poll with the batch of new entries. Several pollers can
run: each claims due feeds atomically with a lease, and per-host politeness is enforced through
Redis across all of them (``pipeline.politeness``). Every poll ends in one of the fixed statuses
of ``pipeline.core.outcomes``; the schedule arithmetic is ``pipeline.core.schedule``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import os
import random
import socket
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import structlog
from celery import Celery

from pipeline import __version__, telemetry
from pipeline.coalesce import Coalescer
from pipeline.config import Config
from pipeline.core import outcomes as oc
from pipeline.core import websub as ws
from pipeline.core.feeds import FeedSpec
from pipeline.core.parse import ParsedFeed
from pipeline.core.schedule import (
    Bounds,
    base_interval,
    bounds_for,
    cache_max_age,
    next_poll,
    observed_rate,
    parse_retry_after,
    rate_from_dates,
    sy_interval,
    ttl_interval,
)
from pipeline.core.urls import host_of
from pipeline.feed_store import AsyncFeedOps
from pipeline.fetch import (
    FetchError,
    FetchResult,
    Limits,
    StaticResolver,
    accept_encoding,
    fetch,
    parse_resolve_table,
    start_trace,
)
from pipeline.parse_pool import parse_pool, parse_positional
from pipeline.politeness import HostGate, async_twin
from pipeline.queueing import send_articles
from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.websub import WebSubStore, subscribe

log = structlog.get_logger("newsmon.poller")

#: Publication times kept per feed to learn its rate (newest first).
RECENT_TIMES_KEPT = 50
#: A feed answering 410 is not polled again until its URL changes in feeds.yaml.
GONE_PARK_SECONDS = 365 * 24 * 3600.0
#: Seconds between looks at the `articles` queue for backpressure.
BACKPRESSURE_CHECK_SECONDS = 5.0
#: Bodies larger than this are hashed in a worker thread, not on the event loop.
HASH_IN_THREAD = 256 * 1024

_SOFT_REASONS = frozenset({"dns", "connect", "tls", "timeout", "reset", "empty", "internal"})

#: A polled feed to release: id, next due time, changed state fields, and what adds the poll's
#: metrics (None for a feed handed back unpolled).
Release = tuple[str, float, dict[str, Any], Callable[[Any], None] | None]


class _MetricSums:
    """Stands in for a Redis pipeline in ``telemetry``'s recording calls and sums them: the
    metrics of a batch of polls become a few commands (one per series touched)."""

    def __init__(self) -> None:
        self._hash_ints: dict[tuple[str, str], int] = {}
        self._hash_floats: dict[tuple[str, str], float] = {}
        self._ints: dict[str, int] = {}
        self._expiries: dict[str, int] = {}

    def hincrby(self, key: str, name: str, amount: int = 1) -> None:
        self._hash_ints[key, name] = self._hash_ints.get((key, name), 0) + amount

    def hincrbyfloat(self, key: str, name: str, amount: float = 1.0) -> None:
        self._hash_floats[key, name] = self._hash_floats.get((key, name), 0.0) + amount

    def incrby(self, key: str, amount: int = 1) -> None:
        self._ints[key] = self._ints.get(key, 0) + amount

    def expire(self, key: str, seconds: int) -> None:
        self._expiries[key] = seconds

    def replay(self, pipe: Any) -> int:
        """Add the summed commands to ``pipe``; how many."""
        for (key, name), amount in self._hash_ints.items():
            pipe.hincrby(key, name, amount)
        for (key, name), value in self._hash_floats.items():
            pipe.hincrbyfloat(key, name, round(value, 6))
        for key, amount in self._ints.items():
            pipe.incrby(key, amount)
        for key, seconds in self._expiries.items():
            pipe.expire(key, seconds)
        return len(self._hash_ints) + len(self._hash_floats) + len(self._ints) + len(self._expiries)


@dataclass(slots=True)
class PollOutcome:
    feed_id: str
    #: one of pipeline.core.outcomes.STATUSES
    status: str
    reason: str = ""
    http_status: int = 0
    new_articles: int = 0
    error: str = ""
    retry_after: float | None = None
    #: State fields to store with the outcome (validators, hints, moves, offered feed link).
    state: dict[str, Any] = field(default_factory=dict)
    #: Publication times seen in the document (for the rate), when it was parsed.
    published_times: list[float] | None = None
    conditional: bool = False
    #: End of the feed's active WebSub lease: pushes bring its news, polling is a safety net.
    websub_until: float | None = None


def user_agent(settings: Settings) -> str:
    return f"newsmon/{__version__} (+{settings.user_agent_contact})"


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _error_status(reason: str) -> str:
    return oc.SOFT_ERROR if reason in _SOFT_REASONS else oc.HARD_ERROR


async def _body_hash(body: bytes) -> str:
    """SHA-256 of the body; of a large one in a worker thread (hashlib releases the GIL), so a
    10 MB body does not hold up the other feeds for the tens of milliseconds it takes."""
    if len(body) > HASH_IN_THREAD:
        return await asyncio.to_thread(lambda: hashlib.sha256(body).hexdigest())
    return hashlib.sha256(body).hexdigest()


def _looks_like_html(body: bytes, content_type: str) -> bool:
    head = body[:2048].lstrip().lower()
    return "html" in content_type.lower() or head.startswith((b"<!doctype html", b"<html"))


class Poller:
    def __init__(self, settings: Settings, config: Config, store: Store, celery: Celery) -> None:
        self.settings = settings
        self.config = config
        self.store = store
        self.celery = celery
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self.limits = Limits(
            total_timeout=settings.fetch_timeout,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            max_compressed=settings.max_compressed_bytes,
            max_body=settings.max_body_bytes,
            max_redirects=settings.max_redirects,
        )
        self._aredis = async_twin(store.r)
        self.ops = AsyncFeedOps(self._aredis)
        self.websub = WebSubStore(self._aredis)
        self.gate = HostGate(
            self._aredis,
            max_in_flight=settings.host_max_in_flight,
            min_spacing=settings.host_min_spacing,
            hold_seconds=settings.fetch_timeout + 5,
            max_wait=settings.host_max_wait,
            start_within=settings.connect_timeout + 1,
        )
        self.agency_bounds = Bounds(settings.agency_min_interval, settings.agency_max_interval)
        self.other_bounds = Bounds(settings.feed_min_interval, settings.feed_max_interval)
        self.backpressured = False
        self._feeds = {f.id: f for f in config.feeds}
        self._claimed_states: dict[str, dict[str, str]] = {}
        #: Polled feeds are released in batches: one round trip for all that finish together.
        self._releases: Coalescer[Release, None] = Coalescer(self._send_releases)
        self._pool: ProcessPoolExecutor | None = None
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Poller:
        self._pool = parse_pool(self.settings.parse_processes)
        table = parse_resolve_table(self.settings.poll_resolve)
        resolver = StaticResolver(table) if table else None
        self._session = aiohttp.ClientSession(
            headers={"User-Agent": user_agent(self.settings), "Accept-Encoding": accept_encoding()},
            connector=aiohttp.TCPConnector(
                limit=self.settings.poll_concurrency * 2,
                limit_per_host=self.settings.host_max_in_flight,
                resolver=resolver,
                ttl_dns_cache=300,
            ),
            auto_decompress=False,
            trace_configs=[start_trace()],
        )
        await asyncio.to_thread(
            self.store.feeds.sync_feeds,
            [(f.id, f.name, f.url) for f in self.config.feeds if f.enabled],
            time.time(),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session:
            await self._session.close()
        await self._aredis.aclose()
        if self._pool:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def bounds(self, feed: FeedSpec) -> Bounds:
        return bounds_for(feed.tags, feed.interval, self.agency_bounds, self.other_bounds)

    # --- the loop -------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Poll due feeds until ``stop`` is set; finishes the feeds in flight before returning."""
        in_flight: set[asyncio.Task[PollOutcome | None]] = set()
        slot_freed = asyncio.Event()

        def finished(task: asyncio.Task[PollOutcome | None]) -> None:
            in_flight.discard(task)
            slot_freed.set()

        next_pressure_check = 0.0
        while not stop.is_set():
            slot_freed.clear()
            now = time.monotonic()
            if now >= next_pressure_check:
                next_pressure_check = now + BACKPRESSURE_CHECK_SECONDS
                await self._check_backpressure()
            free = self.settings.poll_concurrency - len(in_flight)
            if self.backpressured:
                free = min(free, self.settings.backpressure_claims)
            claimed: list[str] = []
            if free > 0:
                claimed = await self._claim(free)
                for feed_id in claimed:
                    task = asyncio.create_task(self.poll_feed(feed_id))
                    in_flight.add(task)
                    task.add_done_callback(finished)
            # A full batch means more may be due: look again as soon as a slot frees.
            if claimed and len(claimed) == free and not self.backpressured:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.settings.poll_tick):
                        await slot_freed.wait()
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.settings.poll_tick)
        if in_flight:
            await asyncio.gather(*in_flight, return_exceptions=True)

    async def run_once(self) -> list[PollOutcome]:
        """Poll every feed that is due now, once, and return the outcomes (waiting as long as
        politeness requires)."""
        outcomes: list[PollOutcome] = []
        claimed = await self._claim(len(self.config.feeds) or 1)
        sem = asyncio.Semaphore(self.settings.poll_concurrency)

        async def one(feed_id: str) -> None:
            async with sem:
                outcome = await self.poll_feed(feed_id, max_wait=math.inf)
                if outcome is not None:
                    outcomes.append(outcome)

        await asyncio.gather(*(one(f) for f in claimed))
        return outcomes

    async def _claim(self, limit: int) -> list[str]:
        """Claim up to ``limit`` due feeds; their states come in the same round trip."""
        claimed = await self.ops.claim_due_feeds(
            self.owner, time.time(), limit, self.settings.poll_lease_seconds
        )
        ids = []
        for feed_id, state in claimed:
            if feed_id in self._feeds:
                self._claimed_states[feed_id] = state
                ids.append(feed_id)
        return ids

    async def _check_backpressure(self) -> None:
        try:
            stats = await asyncio.to_thread(self.store.queue_stats, time.time())
        except Exception:  # noqa: BLE001 - monitoring must not stop polling
            log.warning("backpressure_check_failed", exc_info=True)
            return
        age = float(stats.get("articles", {}).get("oldest_age_seconds", 0.0))
        limit = self.settings.backpressure_age
        if age > limit and not self.backpressured:
            self.backpressured = True
            log.warning("backpressure_on", oldest_job_age=age, limit=limit)
        elif self.backpressured and age <= limit / 2:
            self.backpressured = False
            log.info("backpressure_off", oldest_job_age=age)

    # --- one feed -------------------------------------------------------------------------------

    async def poll_feed(self, feed_id: str, max_wait: float | None = None) -> PollOutcome | None:
        """Poll one claimed feed and record the outcome; None when its host was busy for too
        long and the feed went back to the schedule unpolled."""
        feed = self._feeds[feed_id]
        try:
            state = self._claimed_states.pop(feed_id, None)
            if state is None:
                state = await self.ops.feed_state(feed_id)
            url = state.get("url") or feed.url
            host = host_of(url)
            token = await self.gate.acquire(host, max_wait)
        except Exception:  # noqa: BLE001 - Redis trouble: the lease expires, the feed comes back
            log.exception("poll_not_started", feed=feed_id)
            return None
        if token is None:
            retry = time.time() + self.settings.host_min_spacing * (1 + random.random())
            await self._releases.submit((feed_id, retry, {}, None))
            return None
        started = time.time()
        try:
            outcome = await self._poll(feed, state, url, started, token, host)
        except Exception as exc:  # noqa: BLE001 - one feed's failure must not stop the others
            log.exception("poll_failed", feed=feed_id)
            outcome = PollOutcome(feed_id, oc.SOFT_ERROR, "internal", error=repr(exc)[:300])
            await self.gate.release(host, token)
        if self.settings.public_url and outcome.status in oc.SUCCESSES:
            try:
                outcome.websub_until = await self._websub(feed, state, outcome, max_wait)
            except Exception:  # noqa: BLE001 - push is a bonus: polling goes on regardless
                log.exception("websub_failed", feed=feed_id)
        await self._record(feed, state, outcome, started)
        return outcome

    async def _websub(
        self, feed: FeedSpec, state: dict[str, str], outcome: PollOutcome, max_wait: float | None
    ) -> float | None:
        """Subscribe to, or renew with, the hub the feed advertises; the end of the active
        lease, if any. The topic is the feed's self URL (WebSub 0.4 §4)."""
        hub = str(outcome.state.get("hub", state.get("hub", "")) or "")
        topic = str(outcome.state.get("self_url", state.get("self_url", "")) or "")
        if not hub.startswith(("http://", "https://")) or not topic:
            return None
        now = time.time()
        sub = await self.websub.get(feed.id)
        if ws.subscribe_action(sub, hub, topic, now, self.settings.websub_renew_margin):
            assert self._session is not None
            hub_host = host_of(hub)
            token = await self.gate.acquire(hub_host, max_wait)
            if token is None:  # the hub is busy with our other feeds: next poll
                return ws.push_until(sub, hub, topic, now)
            try:
                # Counted from here: the subscribe request is written a moment later.
                self.gate.started(hub_host, token)
                sub = await subscribe(
                    self._session,
                    self.websub,
                    feed_id=feed.id,
                    hub=hub,
                    topic=topic,
                    public_url=self.settings.public_url,
                    lease_seconds=self.settings.websub_lease_seconds,
                    timeout=self.settings.fetch_timeout,
                    now=now,
                )
            finally:
                await self.gate.release(hub_host, token)
        return ws.push_until(sub, hub, topic, time.time())

    def _request_headers(self, state: dict[str, str]) -> tuple[dict[str, str], bool]:
        headers = {
            "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
            "text/xml;q=0.8, */*;q=0.5"
        }
        since_unconditional = int(state.get("polls_since_unconditional") or 0)
        conditional = since_unconditional + 1 < self.settings.unconditional_every
        if conditional:
            if state.get("etag"):
                headers["If-None-Match"] = state["etag"]
            if state.get("last_modified"):
                headers["If-Modified-Since"] = state["last_modified"]
        return headers, conditional

    async def _poll(
        self,
        feed: FeedSpec,
        state: dict[str, str],
        url: str,
        started: float,
        token: str,
        host: str,
    ) -> PollOutcome:
        assert self._session is not None
        headers, conditional = self._request_headers(state)
        try:
            result = await fetch(
                self._session,
                url,
                headers,
                self.limits,
                on_start=lambda: self.gate.started(host, token),
            )
        except FetchError as exc:
            return PollOutcome(
                feed.id,
                _error_status(exc.reason),
                exc.reason,
                error=exc.message[:300],
                conditional="If-None-Match" in headers or "If-Modified-Since" in headers,
            )
        finally:
            await self.gate.release(host, token)
        sent_validators = "If-None-Match" in headers or "If-Modified-Since" in headers
        offers_validators = bool(result.headers.get("ETag") or result.headers.get("Last-Modified"))
        # The body-hash guard applies to conditional polls (a server whose validators lie), to
        # servers without validators, and to the forced unconditional polls; not when our own
        # state lacks the validators a server offers (it was lost: parse and start over).
        guard = sent_validators or not offers_validators or not conditional
        outcome = await self._interpret(feed, state, url, result, started, guard)
        outcome.conditional = sent_validators
        return outcome

    async def _interpret(
        self,
        feed: FeedSpec,
        state: dict[str, str],
        url: str,
        result: FetchResult,
        started: float,
        hash_guard: bool = True,
    ) -> PollOutcome:
        keep: dict[str, Any] = {"cache_max_age": cache_max_age(result.headers.get("Cache-Control"))}
        for header, name in (("ETag", "etag"), ("Last-Modified", "last_modified")):
            if result.headers.get(header):
                keep[name] = result.headers[header]
        retry_header = result.headers.get("Retry-After")
        http = oc.classify_http_status(result.status, bool(retry_header))
        if http is not None:
            status, reason = http
            retry = parse_retry_after(retry_header, started)
            if status == oc.NOT_MODIFIED:
                return PollOutcome(feed.id, status, reason, result.status, state=keep)
            error = f"HTTP {result.status}"
            if status == oc.GONE:
                error = "HTTP 410 Gone: feed disabled until its URL changes in feeds.yaml"
            return PollOutcome(
                feed.id,
                status,
                reason,
                result.status,
                error=error,
                retry_after=retry,
                state={"cache_max_age": keep["cache_max_age"]},
            )
        if result.status != 200 or not result.body.strip():
            return PollOutcome(feed.id, oc.SOFT_ERROR, "empty", result.status, error="empty body")

        body_hash = await _body_hash(result.body)
        keep["body_hash"] = body_hash
        moved_to = result.permanent_url
        if moved_to:
            code = next(c for c, _ in result.redirects)
            keep.update(
                {"url": moved_to, "moved_from": url, "moved_to": moved_to, "moved_at": started}
            )
            log.warning("feed_moved", feed=feed.id, old=url, new=moved_to, http_status=code)
        if hash_guard and body_hash == state.get("body_hash") and not moved_to:
            return PollOutcome(feed.id, oc.NOT_MODIFIED, "unchanged_body", 200, state=keep)

        content_type = result.headers.get("Content-Type", "")
        parsed: ParsedFeed = await asyncio.get_running_loop().run_in_executor(
            self._pool,
            parse_positional,
            result.body,
            feed.id,
            feed.language,
            content_type,
            result.url,
            started,
            self.settings.max_entries_per_feed,
        )
        if not parsed.is_feed:
            offered = {"feed_link": parsed.feed_link} if parsed.feed_link else {}
            if _looks_like_html(result.body, content_type):
                error = "an HTML page, not a feed"
                if parsed.feed_link:
                    error += f"; it links to the feed {parsed.feed_link}"
                return PollOutcome(
                    feed.id, oc.HARD_ERROR, "not_a_feed", 200, error=error, state=offered
                )
            return PollOutcome(
                feed.id, oc.HARD_ERROR, "parse_error", 200, error=parsed.error, state=offered
            )
        new = await asyncio.to_thread(self._enqueue_new, feed.id, parsed, started)
        keep.update(
            {
                "ttl_seconds": ttl_interval(parsed.ttl),
                "sy_seconds": sy_interval(parsed.update_period, parsed.update_frequency),
                "hub": parsed.hub,
                "self_url": parsed.self_url,
                "feed_link": "",
                "entries": len(parsed.articles),
            }
        )
        status, reason = oc.OK, ""
        if moved_to:
            status, reason = oc.MOVED, oc.http_reason(result.redirects[0][0])
        return PollOutcome(
            feed.id,
            status,
            reason,
            200,
            new_articles=new,
            error=parsed.error,
            state=keep,
            published_times=parsed.published_times,
        )

    def _enqueue_new(self, feed_id: str, parsed: ParsedFeed, now: float) -> int:
        """Send unseen entries as one task, then remember them (after sending: a crash in
        between re-sends them, and the worker's dedupe absorbs the repeat)."""
        articles = parsed.articles
        unseen = self.store.feeds.unseen(feed_id, [a.id for a in articles])
        new = [a for a, fresh in zip(articles, unseen, strict=True) if fresh]
        if new:
            send_articles(self.celery, feed_id, [a.to_dict() for a in new])
            self.store.feeds.mark_seen(
                feed_id, [a.id for a in new], now, self.settings.seen_per_feed
            )
        return len(new)

    # --- recording and scheduling ---------------------------------------------------------------

    def plan(
        self, feed: FeedSpec, state: dict[str, str], outcome: PollOutcome, started: float
    ) -> tuple[float, dict[str, Any]]:
        """The next due time and the state fields to store for this outcome."""
        failures = oc.consecutive_failures(int(state.get("failures") or 0), outcome.status)
        update: dict[str, Any] = {
            "last_status": outcome.status,
            "last_reason": outcome.reason,
            "last_http_status": outcome.http_status,
            "last_poll": started,
            "failures": failures,
            "last_error": outcome.error,
            "new_articles": outcome.new_articles,
            "polls_since_unconditional": (
                int(state.get("polls_since_unconditional") or 0) + 1 if outcome.conditional else 0
            ),
        }
        update.update({k: ("" if v is None else v) for k, v in outcome.state.items()})

        # What the feed publishes: dated entries first, else what each poll found new.
        recent = [float(t) for t in (state.get("recent_published") or "").split(",") if t]
        if outcome.published_times:
            recent = sorted(set(recent) | set(outcome.published_times), reverse=True)
            recent = recent[:RECENT_TIMES_KEPT]
            update["recent_published"] = ",".join(str(int(t)) for t in recent)
        seen_rate = _float(state.get("seen_rate"))
        last_ok = _float(state.get("last_ok"))
        if outcome.status in oc.SUCCESSES:
            update["last_ok"] = started
            if last_ok is not None:  # the first poll finds everything new: not a rate
                seen_rate = observed_rate(seen_rate, outcome.new_articles, started - last_ok)
                update["seen_rate"] = seen_rate
        rate = rate_from_dates(recent, started)
        if rate is None:
            rate = seen_rate
        if outcome.new_articles > 0:
            update["last_new_entry"] = started
            if rate:
                update["learned_gap"] = 1.0 / rate
        update["rate_per_day"] = round(rate * 86400, 2) if rate is not None else ""

        bounds = self.bounds(feed)
        hints = (
            _float(update.get("ttl_seconds", state.get("ttl_seconds"))),
            _float(update.get("sy_seconds", state.get("sy_seconds"))),
            _float(update.get("cache_max_age", state.get("cache_max_age"))),
        )
        interval = base_interval(bounds, rate, feed.interval, hints)
        update["interval"] = round(interval, 1)
        if outcome.status == oc.GONE:
            due = started + GONE_PARK_SECONDS
            update["gone_at"] = started
        else:
            due = next_poll(
                started,
                interval,
                failures,
                outcome.retry_after,
                random.random(),
                max_interval=bounds.max_interval,
                unhealthy_after=self.settings.unhealthy_after,
                max_retry_after=self.settings.max_retry_after,
            )
        if outcome.websub_until is not None and outcome.status != oc.GONE:
            # Pushes bring the news: poll at the long interval as a safety net, and in time to
            # renew the lease before it ends.
            renew_at = outcome.websub_until - self.settings.websub_renew_margin
            due = max(due, started + bounds.max_interval)
            due = min(due, max(renew_at, started + bounds.min_interval))
            update["websub_until"] = outcome.websub_until
        else:
            update["websub_until"] = ""
        update["next_poll"] = due
        return due, update

    async def _record(
        self, feed: FeedSpec, state: dict[str, str], outcome: PollOutcome, started: float
    ) -> None:
        due, update = self.plan(feed, state, outcome, started)
        # Write only what changed: most polls change a handful of the fields.
        changed = {k: v for k, v in update.items() if state.get(k) != str(v)}
        # The articles were sent just before this: the time since the fetch began is the
        # fetch-to-enqueue latency.
        enqueue_latency = time.time() - started if outcome.new_articles else None

        def metrics(pipe: Any) -> None:
            telemetry.add_poll(
                pipe, feed.id, outcome.status, outcome.new_articles, started, enqueue_latency
            )

        await self._releases.submit((feed.id, due, changed, metrics))
        log.info(
            "polled",
            feed=feed.id,
            status=outcome.status,
            reason=outcome.reason,
            new=outcome.new_articles,
            next_in=round(due - started, 1),
            error=outcome.error or None,
        )

    async def _send_releases(self, batch: list[Release]) -> list[None]:
        """Release a batch of feeds (state, next poll, lease) in one script call, with the sum
        of their polls' metrics alongside."""
        sums = _MetricSums()
        for *_, metrics in batch:
            if metrics is not None:
                metrics(sums)
        pipe = self._aredis.pipeline(transaction=False)
        if sums.replay(pipe):
            await asyncio.gather(
                self.ops.release_feeds([release[:3] for release in batch]), pipe.execute()
            )
        else:
            await self.ops.release_feeds([release[:3] for release in batch])
        return [None] * len(batch)
