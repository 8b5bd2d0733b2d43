"""api/services/live.py: conversation signals in one process, and across gateways through the local Redis."""

import asyncio
import uuid

import pytest
from redis import asyncio as aioredis

from api.services.live import LiveSignals, RedisLiveSignals

REDIS_URL = "redis://127.0.0.1:6379/0"


def test_a_signal_wakes_only_that_conversations_subscribers() -> None:
    async def scenario() -> tuple[bool, bool, bool]:
        signals = LiveSignals()
        async with signals.subscribe("a") as a, signals.subscribe("b") as b:
            await signals.publish("a")
            return await a.wait(0.5), await b.wait(0.1), await a.wait(0.1)

    woke_a, woke_b, woke_a_again = asyncio.run(scenario())
    assert (woke_a, woke_b, woke_a_again) == (True, False, False)


def test_unsubscribed_conversations_are_forgotten() -> None:
    async def scenario() -> int:
        signals = LiveSignals()
        async with signals.subscribe("a"):
            pass
        await signals.publish("a")
        return len(signals._subscribers)

    assert asyncio.run(scenario()) == 0


def test_two_gateways_share_signals_through_redis() -> None:
    """A late answer stored by one gateway wakes the stream that another gateway serves."""
    channel = f"keepwell-test:{uuid.uuid4().hex}"

    async def scenario() -> bool:
        one, other = RedisLiveSignals(REDIS_URL, channel), RedisLiveSignals(REDIS_URL, channel)
        await one.start()
        await other.start()
        try:
            async with other.subscribe("conv") as subscription:
                await asyncio.wait_for(other.connected.wait(), 5)
                await one.publish("conv")
                return await subscription.wait(3)
        finally:
            await one.stop()
            await other.stop()

    assert asyncio.run(scenario()) is True


@pytest.mark.parametrize("url", ["redis://127.0.0.1:1/0"])
def test_redis_down_still_wakes_the_local_streams(url: str) -> None:
    async def scenario() -> bool:
        signals = RedisLiveSignals(url, "unused")
        async with signals.subscribe("conv") as subscription:
            await signals.publish("conv")
            woke = await subscription.wait(1)
        await signals.stop()
        return woke

    assert asyncio.run(scenario()) is True


def test_without_redis_a_gateway_still_starts_and_wakes_its_own_streams() -> None:
    async def scenario() -> bool:
        signals = RedisLiveSignals("redis://127.0.0.1:1/0", f"keepwell-test:{uuid.uuid4().hex}")
        await signals.start()  # nothing listens on port 1
        try:
            async with signals.subscribe("a") as a:
                await signals.publish("a")
                return await a.wait(1.0)
        finally:
            await signals.stop()

    assert asyncio.run(scenario())


def test_a_gateway_gets_the_channel_back_after_redis_drops_it() -> None:
    channel = f"keepwell-test:{uuid.uuid4().hex}"

    async def scenario() -> bool:
        one, other = RedisLiveSignals(REDIS_URL, channel), RedisLiveSignals(REDIS_URL, channel)
        await other.start()
        try:
            await asyncio.wait_for(other.connected.wait(), 5)
            admin = aioredis.from_url(REDIS_URL)
            await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")  # what a Redis restart does to it
            await admin.aclose()
            for _ in range(50):  # the listener notices the lost connection...
                if not other.connected.is_set():
                    break
                await asyncio.sleep(0.1)
            assert not other.connected.is_set()
            await asyncio.wait_for(other.connected.wait(), 10)  # ...and subscribes again
            async with other.subscribe("conv") as subscription:
                await one.publish("conv")
                return await subscription.wait(3)
        finally:
            await one.stop()
            await other.stop()

    assert asyncio.run(scenario()) is True
