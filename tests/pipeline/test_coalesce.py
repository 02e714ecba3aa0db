"""The Coalescer: calls made in one turn of the event loop travel as one batch."""

from __future__ import annotations

import asyncio

import pytest

from pipeline.coalesce import Coalescer


class Recorder:
    """A ``send`` that records each batch and answers item * 10 (or fails on demand)."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.fail_on = fail_on

    async def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        await asyncio.sleep(0.01)  # a round trip: the next batch gathers meanwhile
        if self.fail_on is not None and self.fail_on in items:
            raise ConnectionError("redis went away")
        return [item * 10 for item in items]


def test_calls_of_one_turn_form_one_batch_and_get_their_own_results() -> None:
    async def scenario() -> tuple[list[int], list[list[int]]]:
        send = Recorder()
        coalescer = Coalescer(send)
        results = await asyncio.gather(*(coalescer.submit(i) for i in range(5)))
        return results, send.batches

    results, batches = asyncio.run(scenario())
    assert results == [0, 10, 20, 30, 40]
    assert batches == [[0, 1, 2, 3, 4]]


def test_calls_made_while_a_batch_is_in_flight_gather_into_the_next() -> None:
    async def scenario() -> list[list[int]]:
        send = Recorder()
        coalescer = Coalescer(send)
        first = [coalescer.submit(i) for i in range(3)]
        await asyncio.sleep(0.003)  # the first batch is on the wire now
        second = [coalescer.submit(i) for i in range(3, 6)]
        assert await asyncio.gather(*first, *second) == [0, 10, 20, 30, 40, 50]
        return send.batches

    assert asyncio.run(scenario()) == [[0, 1, 2], [3, 4, 5]]


def test_batches_are_capped_and_sent_in_submission_order() -> None:
    async def scenario() -> list[list[int]]:
        send = Recorder()
        coalescer = Coalescer(send, max_batch=4)
        assert await asyncio.gather(*(coalescer.submit(i) for i in range(10))) == [
            i * 10 for i in range(10)
        ]
        return send.batches

    assert asyncio.run(scenario()) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_a_failed_batch_fails_its_callers_only() -> None:
    async def scenario() -> None:
        send = Recorder(fail_on=1)
        coalescer = Coalescer(send, max_batch=2)
        futures = [coalescer.submit(i) for i in range(4)]
        for future in futures[:2]:
            with pytest.raises(ConnectionError, match="redis went away"):
                await future
        assert await asyncio.gather(*futures[2:]) == [20, 30]
        assert await coalescer.submit(7) == 70  # the coalescer still works afterwards

    asyncio.run(scenario())


def test_a_caller_that_gave_up_does_not_break_the_others() -> None:
    async def scenario() -> None:
        coalescer = Coalescer(Recorder())
        futures = [coalescer.submit(i) for i in range(3)]
        futures[1].cancel()
        assert await futures[0] == 0
        assert await futures[2] == 20

    asyncio.run(scenario())
