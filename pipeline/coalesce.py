"""Calls from many coroutines sent to Redis together: one round trip per batch, not per call.

The poller runs hundreds of feed polls at once, and each needs a few small Redis calls (a host's
turn, a freed slot, the poll's state). Made one by one, the client's per-call cost (packing the
command, the connection pool, parsing the reply) is most of the poller's CPU. A ``Coalescer``
queues the calls made during one turn of the event loop and sends them as one batch (typically
one Lua script call that handles every item in order); while that batch is in flight, the next
one gathers. Batches grow with the load, and a lone call still costs one round trip.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Coalescer(Generic[Item, Result]):
    """``await coalescer.submit(item)`` gives ``send``'s result for that item.

    ``send(items)`` makes one round trip for up to ``max_batch`` items and returns one result per
    item, in order; batches are sent one at a time, in submission order. If ``send`` raises,
    every caller of that batch gets the exception.
    """

    def __init__(
        self, send: Callable[[list[Item]], Awaitable[Sequence[Result]]], max_batch: int = 256
    ) -> None:
        self._send = send
        self.max_batch = max_batch
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._flusher: asyncio.Task[None] | None = None

    def submit(self, item: Item) -> asyncio.Future[Result]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        self._pending.append((item, future))
        if self._flusher is None:
            # Starts on the loop's next turn: every call made during this one joins the batch.
            self._flusher = loop.create_task(self._flush())
        return future

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                try:
                    results = await self._send([item for item, _ in batch])
                except Exception as exc:  # noqa: BLE001 - handed to every caller of the batch
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                except BaseException:  # cancelled: nobody will answer these callers
                    for _, future in batch + self._pending:
                        future.cancel()
                    self._pending.clear()
                    raise
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():  # the caller may have been cancelled meanwhile
                        future.set_result(result)
        finally:
            self._flusher = None
