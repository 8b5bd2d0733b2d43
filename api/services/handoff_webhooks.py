"""The gateway's handoff notification sender: posts the pending `webhook_deliveries` rows of handoffs
(keepwell/handoff_webhook.py) in the background, so neither the customer's message nor the CSM's click waits on a
webhook.

Each gateway runs one. It looks every few seconds (a handoff the action server opened is seen at the next look) and
at once when this gateway opened or assigned one (`wake`). Every row is leased before it is posted, so replicas
never send one twice. After a failed round it waits `retry_after_s` before looking again unless woken, so a receiver
that is down gets one round per new handoff rather than one every few seconds.
"""

import asyncio
import contextlib
import logging

from sqlalchemy import Engine

from keepwell import handoff_webhook, webhooks
from keepwell.db import session_scope

logger = logging.getLogger(__name__)

POLL_S = 2.0


class HandoffWebhookSender:
    def __init__(
        self,
        engine: Engine,
        policy: webhooks.WebhookPolicy,
        poll_s: float = POLL_S,
        retry_after_s: float = handoff_webhook.RETRY_FAILED_AFTER_S,
    ) -> None:
        self._engine = engine
        self._policy = policy
        self._poll_s = poll_s
        self._retry_after_s = retry_after_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wake(self) -> None:
        """A handoff was just opened or assigned here: look now rather than at the next interval. Safe to call from
        any thread (the console's synchronous routes run in worker threads)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            wait_s = self._poll_s
            try:
                stats = await asyncio.to_thread(self.run_once)
                if stats.failed:
                    wait_s = self._retry_after_s
            except Exception:  # a database hiccup must not end the loop; the next look tries again
                logger.exception("handoff notifications: the sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait_s)

    def run_once(self) -> webhooks.DeliveryStats:
        """Post what is due now; returns how it went."""
        with session_scope(self._engine) as session:
            stats = handoff_webhook.send_due(session, self._policy)
        if stats.delivered or stats.failed:
            logger.info(
                "handoff notifications: %d delivered, %d failed, %d waiting", stats.delivered, stats.failed,
                stats.waiting,
            )  # fmt: skip
        return stats
