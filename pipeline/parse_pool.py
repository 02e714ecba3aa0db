"""The process pool that parses feeds off the event loop (poller, WebSub pushes).

Workers are started with "spawn", not "fork": a forked worker inherits every socket its parent
has open at that moment (connections to feed servers, to Redis, the API's listening socket) and
keeps them open after the parent closes them. A server that resets a connection then never
reaches the client, whose fetch runs into its timeout instead (this is what made the hostile
server's ``/reset`` end now and then as ``timeout``: the test server shares the test's process),
and a connection the poller drops stays open at the feed server's end. A spawned worker starts
a fresh interpreter with only the pipes it needs.

Workers ask Linux to kill them (SIGKILL) when their parent dies, so a poller killed with SIGKILL
leaves no parser processes behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import signal
import sys
from concurrent.futures import ProcessPoolExecutor

from pipeline.core.parse import ParsedFeed, parse_feed

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        # Without glibc the worker may outlive a killed parent: nothing worse.
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def parse_pool(processes: int) -> ProcessPoolExecutor:
    """The pool, its workers already starting (a spawned worker takes about half a second to
    import the parsers; meanwhile the first fetches go on)."""
    pool = ProcessPoolExecutor(
        max_workers=processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_die_with_parent,
    )
    for _ in range(processes):  # one worker is started per task submitted while none is idle
        pool.submit(int)
    return pool


def parse_positional(
    body: bytes,
    source: str,
    language: str,
    content_type: str,
    base_url: str,
    fetched_at: float,
    max_entries: int,
) -> ParsedFeed:
    """``parse_feed`` with positional arguments, as ``run_in_executor`` passes them."""
    return parse_feed(
        body,
        source=source,
        language=language,
        content_type=content_type,
        base_url=base_url,
        fetched_at=fetched_at,
        max_entries=max_entries,
    )
