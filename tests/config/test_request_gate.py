"""The web process's request gate (config/asgi.py): a line per client, served
in turn; a request that waited too long goes ahead; a waiter that gives up
leaves no trace."""

from __future__ import annotations

import asyncio

from config.asgi import FairPermits


def test_a_burst_of_one_client_waits_behind_itself_not_in_front_of_another():
    async def scenario() -> list[tuple[bytes, int]]:
        permits = FairPermits(1)
        assert await permits.acquire(b"a.example", 5)
        served: list[tuple[bytes, int]] = []

        async def request(host: bytes, number: int) -> None:
            assert await permits.acquire(host, 5)
            served.append((host, number))
            await asyncio.sleep(0)
            permits.release()

        burst = [asyncio.create_task(request(b"a.example", n)) for n in range(5)]
        await asyncio.sleep(0)
        other = asyncio.create_task(request(b"b.example", 0))
        await asyncio.sleep(0)
        permits.release()
        await asyncio.gather(*burst, other)
        assert permits.free == 1 and not permits.lines and not permits.turns
        return served

    served = asyncio.run(scenario())
    # B arrived after A's five, and went second.
    assert served[:2] == [(b"a.example", 0), (b"b.example", 0)]
    assert [n for host, n in served if host == b"a.example"] == [0, 1, 2, 3, 4]


def test_a_waiter_that_times_out_or_leaves_gives_its_place_back():
    async def scenario() -> None:
        permits = FairPermits(1)
        assert await permits.acquire(b"a.example", 5)
        assert not await permits.acquire(b"b.example", 0.01)  # waited too long
        leaving = asyncio.create_task(permits.acquire(b"c.example", 5))
        await asyncio.sleep(0)
        leaving.cancel()  # the browser went away
        await asyncio.gather(leaving, return_exceptions=True)
        assert not permits.lines and not permits.turns
        permits.release()
        assert permits.free == 1

    asyncio.run(scenario())
