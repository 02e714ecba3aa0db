"""The process pool that parses feeds off the event loop (poller, WebSub pushes).

Its workers ask Linux to kill them when their parent dies, so a poller killed with SIGKILL
leaves no parser processes behind. SIGKILL, not SIGTERM: forked workers inherit the poller's
asyncio signal handling, which turns SIGTERM into a note to an event loop they do not run.
"""

from __future__ import annotations

import contextlib
import ctypes
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
    return ProcessPoolExecutor(max_workers=processes, initializer=_die_with_parent)


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
