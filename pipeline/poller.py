"""The poller: fetch due feeds politely, parse them off the event loop, enqueue new articles.

One aiohttp ClientSession per poller; conditional GET with the ETag / Last-Modified kept in
Redis; feedparser in a process pool; one Celery task per feed poll with the batch of new entries.
Several pollers can run: each claims due feeds with a lease in Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import structlog
from celery import Celery

from pipeline import __version__
from pipeline.config import Config
from pipeline.core.feeds import FeedSpec
from pipeline.core.parse import ParsedFeed, parse_feed
from pipeline.core.schedule import next_poll, parse_retry_after
from pipeline.queueing import send_articles
from pipeline.settings import Settings
from pipeline.store import Store

log = structlog.get_logger("newsmon.poller")


class BodyTooLarge(Exception):
    pass


@dataclass(slots=True)
class PollOutcome:
    feed_id: str
    #: ok | not_modified | soft_error | hard_error | gone | rate_limited
    status: str
    reason: str = ""
    http_status: int = 0
    new_articles: int = 0
    error: str = ""
    retry_after: float | None = None
    headers: dict[str, str] = field(default_factory=dict)


def user_agent(settings: Settings) -> str:
    return f"newsmon/{__version__} (+{settings.user_agent_contact})"


class Poller:
    def __init__(self, settings: Settings, config: Config, store: Store, celery: Celery) -> None:
        self.settings = settings
        self.config = config
        self.store = store
        self.celery = celery
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self._pool: ProcessPoolExecutor | None = None
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Poller:
        self._pool = ProcessPoolExecutor(max_workers=self.settings.parse_processes)
        timeout = aiohttp.ClientTimeout(
            total=self.settings.fetch_timeout, sock_connect=self.settings.connect_timeout
        )
        self._session = aiohttp.ClientSession(
            timeout=timeout,
            headers={"User-Agent": user_agent(self.settings)},
            connector=aiohttp.TCPConnector(limit=self.settings.poll_concurrency * 2),
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
        if self._pool:
            self._pool.shutdown(wait=True, cancel_futures=True)

    # --- the loop -------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Poll due feeds until ``stop`` is set; finishes the feeds in flight before returning."""
        in_flight: set[asyncio.Task[PollOutcome]] = set()
        while not stop.is_set():
            free = self.settings.poll_concurrency - len(in_flight)
            if free > 0:
                for feed_id in await self._claim(free):
                    task = asyncio.create_task(self.poll_feed(feed_id))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.settings.poll_tick)
        if in_flight:
            await asyncio.gather(*in_flight, return_exceptions=True)

    async def run_once(self) -> list[PollOutcome]:
        """Poll every feed that is due now, once, and return the outcomes."""
        outcomes: list[PollOutcome] = []
        claimed = await self._claim(len(self.config.feeds) or 1)
        sem = asyncio.Semaphore(self.settings.poll_concurrency)

        async def one(feed_id: str) -> None:
            async with sem:
                outcomes.append(await self.poll_feed(feed_id))

        await asyncio.gather(*(one(f) for f in claimed))
        return outcomes

    async def _claim(self, limit: int) -> list[str]:
        claimed = await asyncio.to_thread(
            self.store.feeds.claim_due_feeds,
            self.owner,
            time.time(),
            limit,
            self.settings.poll_lease_seconds,
        )
        return [f for f in claimed if self.config.feed(f) is not None]

    # --- one feed -------------------------------------------------------------------------------

    async def poll_feed(self, feed_id: str) -> PollOutcome:
        feed = self.config.feed(feed_id)
        assert feed is not None
        state = await asyncio.to_thread(self.store.feeds.feed_state, feed_id)
        started = time.time()
        try:
            outcome = await self._fetch_and_enqueue(feed, state, started)
        except Exception as exc:  # noqa: BLE001 - one feed's failure must not stop the others
            log.exception("poll_failed", feed=feed_id)
            outcome = PollOutcome(feed_id, "soft_error", "internal", error=repr(exc)[:300])
        await self._record(feed, state, outcome, started)
        return outcome

    async def _fetch_and_enqueue(
        self, feed: FeedSpec, state: dict[str, str], started: float
    ) -> PollOutcome:
        assert self._session is not None
        url = state.get("url") or feed.url
        headers = {
            "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
            "text/xml;q=0.8, */*;q=0.5"
        }
        if state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state.get("last_modified"):
            headers["If-Modified-Since"] = state["last_modified"]
        try:
            async with self._session.get(url, headers=headers, max_redirects=5) as resp:
                if resp.status == 304:
                    return PollOutcome(feed.id, "not_modified", "http_304", 304)
                if resp.status in (429, 503):
                    retry = parse_retry_after(resp.headers.get("Retry-After"), started)
                    return PollOutcome(
                        feed.id,
                        "rate_limited",
                        f"http_{resp.status}",
                        resp.status,
                        error=f"HTTP {resp.status}",
                        retry_after=retry,
                    )
                if resp.status == 410:
                    return PollOutcome(feed.id, "gone", "http_410", 410, error="HTTP 410 Gone")
                if resp.status >= 400:
                    kind = "hard_error" if resp.status in (401, 403, 404) else "soft_error"
                    return PollOutcome(
                        feed.id,
                        kind,
                        f"http_{resp.status}",
                        resp.status,
                        error=f"HTTP {resp.status} {resp.reason or ''}".strip(),
                    )
                body = await self._read_capped(resp)
                keep = {
                    "etag": resp.headers.get("ETag", ""),
                    "last_modified": resp.headers.get("Last-Modified", ""),
                }
                content_type = resp.headers.get("Content-Type", "")
                final_url = str(resp.url)
                status = resp.status
        except BodyTooLarge as exc:
            return PollOutcome(feed.id, "hard_error", "too_large", error=str(exc))
        except TimeoutError:
            return PollOutcome(feed.id, "soft_error", "timeout", error="timed out")
        except aiohttp.ClientConnectorError as exc:
            reason = "dns" if isinstance(exc.os_error, socket.gaierror) else "connect"
            return PollOutcome(feed.id, "soft_error", reason, error=str(exc)[:300])
        except aiohttp.TooManyRedirects as exc:
            return PollOutcome(feed.id, "hard_error", "redirects", error=str(exc)[:300])
        except (aiohttp.ClientError, ValueError) as exc:
            return PollOutcome(feed.id, "soft_error", "http", error=repr(exc)[:300])

        parsed: ParsedFeed = await asyncio.get_running_loop().run_in_executor(
            self._pool,
            _parse,
            body,
            feed.id,
            feed.language,
            content_type,
            final_url,
            started,
            self.settings.max_entries_per_feed,
        )
        if not parsed.is_feed:
            return PollOutcome(feed.id, "hard_error", "not_a_feed", status, error=parsed.error)
        new = await asyncio.to_thread(self._enqueue_new, feed.id, parsed, started)
        return PollOutcome(
            feed.id, "ok", "", status, new_articles=new, error=parsed.error, headers=keep
        )

    async def _read_capped(self, resp: aiohttp.ClientResponse) -> bytes:
        cap = self.settings.max_body_bytes
        declared = resp.content_length
        if declared is not None and declared > cap:
            raise BodyTooLarge(f"body of {declared} bytes is over the {cap}-byte limit")
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > cap:
                raise BodyTooLarge(f"body is over the {cap}-byte limit")
            chunks.append(chunk)
        return b"".join(chunks)

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

    async def _record(
        self, feed: FeedSpec, state: dict[str, str], outcome: PollOutcome, started: float
    ) -> None:
        failing = outcome.status in ("soft_error", "hard_error", "rate_limited", "gone")
        failures = int(state.get("failures") or 0) + 1 if failing else 0
        interval = feed.interval or self.settings.poll_interval
        if outcome.status == "gone":
            due = started + 365 * 24 * 3600.0  # 410: stop polling until the operator acts
        else:
            due = next_poll(started, interval, failures, outcome.retry_after, random.random())
        update: dict[str, Any] = {
            "last_status": outcome.status,
            "last_reason": outcome.reason,
            "last_http_status": outcome.http_status,
            "last_poll": started,
            "failures": failures,
            "last_error": outcome.error,
            "new_articles": outcome.new_articles,
            "next_poll": due,
        }
        if outcome.status == "ok":
            update["last_ok"] = started
            update.update(outcome.headers)
        await asyncio.to_thread(self.store.feeds.release_feed, feed.id, due, update)
        log.info(
            "polled",
            feed=feed.id,
            status=outcome.status,
            reason=outcome.reason,
            new=outcome.new_articles,
            error=outcome.error or None,
        )


def _parse(
    body: bytes,
    source: str,
    language: str,
    content_type: str,
    base_url: str,
    fetched_at: float,
    max_entries: int,
) -> ParsedFeed:
    return parse_feed(
        body,
        source=source,
        language=language,
        content_type=content_type,
        base_url=base_url,
        fetched_at=fetched_at,
        max_entries=max_entries,
    )
