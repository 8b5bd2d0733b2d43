"""Wake-ups for the widget's live stream: "conversation X has new messages".

Only the signal travels; the messages themselves are always read from the log, so a lost signal costs at most one
polling interval and never a message. In one process the signal is an asyncio event; with several gateways
(KEEPWELL_REDIS_URL set) it goes through one Redis pub/sub channel that each gateway fans out locally.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis import asyncio as aioredis

logger = logging.getLogger(__name__)

# Backoff between attempts to get the Redis channel back.
_RECONNECT_FIRST_S, _RECONNECT_MAX_S = 0.5, 10.0


class Subscription:
    """Waits for the next signal of one conversation."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()

    async def wait(self, timeout: float) -> bool:
        """True when a signal came within `timeout` seconds (and resets for the next one)."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        self._event.clear()
        return True


class LiveSignals:
    """In-process fan-out of conversation signals; the base of the Redis variant."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, conversation_id: str) -> None:
        self._deliver(conversation_id)

    def _deliver(self, conversation_id: str) -> None:
        for subscription in list(self._subscribers.get(conversation_id, ())):
            subscription.notify()

    @asynccontextmanager
    async def subscribe(self, conversation_id: str) -> AsyncIterator[Subscription]:
        subscription = Subscription()
        self._subscribers.setdefault(conversation_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self._subscribers.get(conversation_id, set())
            subscribers.discard(subscription)
            if not subscribers:
                self._subscribers.pop(conversation_id, None)


class RedisLiveSignals(LiveSignals):
    """Signals shared by every gateway through one Redis channel."""

    def __init__(self, url: str, channel: str = "keepwell:conversation-updates") -> None:
        super().__init__()
        self._redis = aioredis.from_url(url)
        self._channel = channel
        self._listener: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()  # subscribed to the channel right now

    async def start(self) -> None:
        # Listening never blocks start-up: without Redis the streams still poll the log.
        self._listener = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._redis.aclose()

    async def publish(self, conversation_id: str) -> None:
        try:
            await self._redis.publish(self._channel, conversation_id)
        except aioredis.RedisError:
            # Redis is down: still wake this gateway's own streams; the others catch up at their next poll.
            logger.warning("could not publish a live signal to Redis; streams elsewhere will poll")
            self._deliver(conversation_id)

    async def _listen(self) -> None:
        """Fan the channel out to this gateway's streams; reconnect with backoff whenever Redis goes away."""
        delay = _RECONNECT_FIRST_S
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                self.connected.set()
                delay = _RECONNECT_FIRST_S
                async for item in pubsub.listen():
                    data = item.get("data")
                    if isinstance(data, bytes):
                        self._deliver(data.decode())
            except (aioredis.RedisError, OSError) as error:
                logger.warning("live signals: Redis unreachable (%r); streams poll until it is back", error)
            finally:
                self.connected.clear()
                with contextlib.suppress(aioredis.RedisError, OSError):
                    await pubsub.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RECONNECT_MAX_S)
