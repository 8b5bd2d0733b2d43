"""The redelivery worker: messages that got the notice are answered by the bot once the assistant is back.

Each gateway runs one. It claims due messages from the log with a lease (so several gateways never take the same
one), oldest first and one per conversation, and hands each to `Turns.redeliver`. A message in a conversation a
person has taken is left to them; one older than `late_answer_max_age_s` is handed to a person (a handoff with the
reason "assistant unavailable", notified like any: keepwell/assistant_unavailable.py). While messages wait, the
worker checks whether Rasa and the action server are back and, once they are, retries at once instead of waiting
out the backoff.
"""

import asyncio
import contextlib
import logging
from datetime import timedelta

import httpx
from sqlalchemy import Engine

from api.services.handoff_webhooks import HandoffWebhookSender
from api.services.live import LiveSignals
from api.services.rasa import RasaClient
from api.services.turns import NOTICE, Turns
from api.settings import Settings
from keepwell import assistant_unavailable, handoffs
from keepwell import conversations as log
from keepwell.db import session_scope
from keepwell.models import as_utc, utcnow

logger = logging.getLogger(__name__)

# How many late answers one gateway works on at once: a just-restarted assistant should not get a stampede.
MAX_CONCURRENT = 4


class Redelivery:
    def __init__(
        self,
        engine: Engine,
        turns: Turns,
        rasa: RasaClient,
        live: LiveSignals,
        settings: Settings,
        notifier: HandoffWebhookSender | None = None,
    ) -> None:
        self._engine = engine
        self._notifier = notifier
        self._turns = turns
        self._rasa = rasa
        self._live = live
        self._settings = settings
        self._slots = asyncio.Semaphore(MAX_CONCURRENT)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._working: set[asyncio.Task[None]] = set()
        # Whether the last sweep saw messages waiting for a late answer: only then is an answer worth a sweep.
        self._backlog = False
        turns.on_answer = self.wake

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for task in list(self._working):
            task.cancel()
        await asyncio.gather(*self._working, return_exceptions=True)

    @property
    def has_backlog(self) -> bool:
        """Whether the last sweep saw messages waiting for a late answer (or claimed some, or works on some)."""
        return self._backlog

    def wake(self) -> None:
        """The assistant just answered: if messages wait for a late answer, look for due ones now, not at the next
        interval. With none waiting, a sweep after every answer would only compete with the next customer's turn."""
        if self._backlog:
            self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:  # the worker must outlive a database hiccup; the next sweep tries again
                logger.exception("redelivery sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._settings.redelivery_interval_s)
            self._wake.clear()

    async def sweep(self) -> int:
        """Claim the due messages there is room for and start answering them; returns how many were started."""
        free = MAX_CONCURRENT - len(self._working)
        if free <= 0:
            return 0
        waiting = await asyncio.to_thread(self._waiting)
        if waiting and await self._assistant_ready():
            await asyncio.to_thread(self._make_due)
        claimed = await asyncio.to_thread(self._claim, free)
        self._backlog = waiting or bool(claimed) or bool(self._working)
        started = 0
        for message in claimed:
            if await self._leave_to_person(message):
                continue
            task = asyncio.create_task(self._redeliver(message))
            self._working.add(task)
            task.add_done_callback(self._working.discard)
            started += 1
        return started

    async def _redeliver(self, message: log.MessageView) -> None:
        async with self._slots:
            await self._turns.redeliver(message)

    async def _leave_to_person(self, message: log.MessageView) -> bool:
        """Too old for a late answer, or a person has the conversation: it stays with the CSMs (its flag open)."""
        why = await asyncio.to_thread(self._expire_if_left, message)
        if why is None:
            return False
        logger.info("message %s left to a person (%s)", message.id, why)
        if self._notifier is not None:
            self._notifier.wake()
        await self._live.publish(message.conversation_id)
        return True

    def _expire_if_left(self, message: log.MessageView) -> str | None:
        age = utcnow() - as_utc(message.created_at)
        with session_scope(self._engine) as session:
            taken = handoffs.is_active(session, message.conversation_id)
            if not taken and age <= timedelta(seconds=self._settings.late_answer_max_age_s):
                return None
            if message.state == log.PENDING:
                log.give_notice(session, message.id, NOTICE)  # its one notice, which says a person may answer
            expired = log.expire(session, message.id)
            if taken:
                return "a person has the conversation"
            if expired:  # in the transaction that expires it: a person gets it, or nobody was told
                handoff = assistant_unavailable.hand_over(session, message.id, self._settings)
                return f"too old for a late answer; handoff {handoff.id}"
        return "too old for a late answer"

    def _waiting(self) -> bool:
        with session_scope(self._engine) as session:
            return log.has_waiting_retries(session, now=utcnow())

    def _make_due(self) -> None:
        with session_scope(self._engine) as session:
            log.make_due(session, now=utcnow())

    def _claim(self, limit: int) -> list[log.MessageView]:
        with session_scope(self._engine) as session:
            return log.claim_due(session, now=utcnow(), lease_s=self._turns.lease_s, limit=limit)

    async def _assistant_ready(self) -> bool:
        """Rasa has a model loaded and the action server answers `/ready`."""
        ready, _detail = await self._rasa.status()
        if not ready:
            return False
        try:
            async with httpx.AsyncClient(base_url=self._settings.action_server_url, timeout=2.0) as client:
                return (await client.get("/ready")).status_code == 200
        except httpx.HTTPError:
            return False
