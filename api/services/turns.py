"""One customer message, from acceptance to its one outcome: the bot's answer within the reply deadline, or an honest
notice and the bot's answer later, or a person.

The message is committed to the log before Rasa sees it. The call to Rasa runs as its own task: when the deadline
passes first, the customer gets the notice at once while the task goes on; if Rasa then answers, the answer is
stored as a late reply and pushed to the open widget. When the task fails (Rasa down, the action server down or
hung, an empty answer), the message is released for the redelivery worker (`api/services/redelivery.py`).
"""

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.services.live import LiveSignals
from api.services.rasa import RasaClient, RasaUnavailable
from api.services.replies import shape_replies
from api.services.tracker_events import TrackerEvents
from api.settings import Settings
from keepwell import conversations as log
from keepwell import handoffs
from keepwell.assertions import customer_metadata
from keepwell.db import session_factory
from keepwell.models import utcnow

logger = logging.getLogger(__name__)
T = TypeVar("T")

NOTICE = log.Reply(
    role=log.ROLE_SYSTEM,
    text=(
        "I'm having trouble answering right now. Your message is saved: I'll answer it right here as soon as I can, "
        "or a person from our customer success team will."
    ),
)
HANDOFF_NOTICE = log.Reply(
    role=log.ROLE_SYSTEM,
    text=(
        "You're connected to our customer success team. A person has your conversation and will reply here; "
        "the assistant stays quiet until then."
    ),
)
# A failed attempt is retried after 1, 2, 4, 8 s ... at most this long (sooner once the assistant answers again).
_RETRY_CAP_S = 15.0
# A gateway holds a message it works on for this long and renews the hold every third of it, however long Rasa
# takes; a gateway that died loses its messages to another (or to itself, restarted) once the hold runs out.
LEASE_S = 30.0


class EmptyReply(Exception):
    """Rasa answered without a single message: a failed action loses its events and leaves the customer in silence."""


@dataclass(frozen=True)
class Outcome:
    """What the customer is told now: their message as logged, and every reply it has so far."""

    message: log.MessageView
    replies: list[log.MessageView]


def _unsaved_notice(message: log.MessageView) -> log.MessageView:
    """The notice as the customer sees it, when the log cannot be read back this moment (not stored yet)."""
    return log.MessageView(
        id=0,
        conversation_id=message.conversation_id,
        role=NOTICE.role,
        text=NOTICE.text,
        state=log.SENT,
        created_at=utcnow(),
        reply_to_id=message.id,
    )


def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failed ones: 1, 2, 4, 8, then the cap."""
    return float(min(_RETRY_CAP_S, 2 ** max(0, attempts - 1)))


class Turns:
    """Runs customer messages through the assistant with the reply deadline; one instance per gateway process."""

    def __init__(
        self, engine: Engine, rasa: RasaClient, tracker: TrackerEvents | None, live: LiveSignals, settings: Settings
    ) -> None:
        self._sessions = session_factory(engine)
        self._rasa = rasa
        self._tracker = tracker
        self._live = live
        self._settings = settings
        self._tasks: set[asyncio.Task[Any]] = set()
        self.lease_s = LEASE_S
        # Called after every answer the assistant manages to give (the worker then retries the waiting ones).
        self.on_answer: Callable[[], None] = lambda: None

    @contextmanager
    def _session(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            yield session
        finally:
            session.close()

    # ---- a new customer message -------------------------------------------------------------------------------

    async def handle(
        self,
        *,
        conversation_id: str | None,
        customer_id: str | None,
        text: str,
        client_message_id: str | None,
        channel: str,
    ) -> Outcome:
        """Log the message, then answer it within the deadline or give the notice.

        Raises:
            keepwell.conversations.ConversationNotFound, ConversationForbidden, MessageIdConflict.
        """
        accepted = await asyncio.to_thread(self._accept, conversation_id, customer_id, text, client_message_id, channel)
        message = accepted.message
        try:
            if accepted.duplicate:
                return await self._outcome_of_retry(message)
            if message.state == log.HELD:
                self._spawn(self._log_held(message, customer_id))
                return await self._stored(message.id)
            task = self._spawn(self._deliver(message, customer_id))
            await asyncio.wait({task}, timeout=self._settings.reply_deadline_s)
            if not task.done():
                await self._give_notice(message)
            elif not task.cancelled() and task.exception() is None and (answer := task.result()):
                # Answered in time by this very task: the outcome is what it stored, no need to read it back.
                state = log.ANSWERED if answer[0].state == log.SENT else log.ANSWERED_LATE
                return Outcome(dataclasses.replace(message, state=state), answer)
            return await self._stored(message.id)
        except Exception:
            # The message is committed: whatever failed after that (the database busy or gone a moment), the
            # customer hears that it is saved, never a 500; the redelivery worker settles it.
            logger.exception("message %s was accepted but its outcome could not be read", message.id)
            return Outcome(message, [_unsaved_notice(message)])

    def _accept(
        self,
        conversation_id: str | None,
        customer_id: str | None,
        text: str,
        client_message_id: str | None,
        channel: str,
    ) -> log.Accepted:
        with self._session() as session:
            conversation = log.open_conversation(session, conversation_id, customer_id)
            held = conversation.with_person
            accepted = log.accept(
                session,
                conversation,
                text,
                client_message_id,
                state=log.HELD if held else log.PENDING,
                lease_s=self.lease_s,
                channel=channel,
            )
            # The notice says a person will reply; once one has, it would only interrupt the conversation.
            if held and not accepted.duplicate and not handoffs.person_is_answering(session, conversation.id):
                log.hold(session, accepted.message.id, HANDOFF_NOTICE)
            session.commit()
        return accepted

    async def _outcome_of_retry(self, message: log.MessageView) -> Outcome:
        """The same message again: never a second turn. If it is still with the assistant, wait for it (at most a
        deadline, then the notice)."""
        if message.state == log.PENDING:
            loop = asyncio.get_running_loop()
            until = loop.time() + self._settings.reply_deadline_s
            async with self._live.subscribe(message.conversation_id) as signals:
                while await self._state(message.id) == log.PENDING and (left := until - loop.time()) > 0:
                    await signals.wait(min(left, 0.5))
            await self._give_notice(message)
        return await self._stored(message.id)

    # ---- talking to the assistant -------------------------------------------------------------------------------

    async def redeliver(self, message: log.MessageView) -> None:
        """Another attempt at a message that got the notice (the worker claimed it first)."""
        customer_id = await asyncio.to_thread(self._owner, message.conversation_id)
        if message.state == log.PENDING:
            # Orphaned by a gateway that stopped before its deadline: the customer may never have heard back.
            await self._give_notice(message)
        await self._deliver(message, customer_id)

    async def _deliver(self, message: log.MessageView, customer_id: str | None) -> list[log.MessageView] | None:
        """Send the message to Rasa and store the answer; on failure give the notice (once) and schedule a retry.
        Returns the answer as stored, or None (no answer, or the message was settled elsewhere)."""
        holding = asyncio.create_task(self._hold_lease(message.id))
        try:
            return await self._attempt(message, customer_id)
        finally:
            holding.cancel()

    async def _hold_lease(self, message_id: int) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                if not await asyncio.to_thread(self._renew_lease, message_id):
                    return  # settled
            except Exception:
                logger.warning("could not renew the hold on message %s", message_id, exc_info=True)

    def _renew_lease(self, message_id: int) -> bool:
        with self._session() as session:
            renewed = log.renew_lease(session, message_id, until=utcnow() + timedelta(seconds=self.lease_s))
            session.commit()
        return renewed

    async def _attempt(self, message: log.MessageView, customer_id: str | None) -> list[log.MessageView] | None:
        try:
            raw = await self._finished_turn(message)
            if raw is None:
                async with asyncio.timeout(self._settings.rasa_timeout_s):
                    raw = await self._rasa.send(
                        message.conversation_id, message.text, self._metadata(message, customer_id)
                    )
            replies = shape_replies(raw)
            if not replies:
                raise EmptyReply()
            stored = await asyncio.to_thread(self._store_answer, message, replies)
        except asyncio.CancelledError:
            self._release(message, delay_s=0.0)  # the gateway is stopping: let the next one take it at once
            raise
        except Exception as error:  # Rasa down, hung past the timeout or silent, the database busy: try again
            logger.warning("no answer for message %s (attempt %s): %r", message.id, message.attempts, error)
            await self._give_notice(message)
            await asyncio.to_thread(self._release, message, retry_delay(message.attempts))
            return None
        if stored is None:
            logger.info("message %s was settled elsewhere; this answer is dropped", message.id)
        else:
            # Off the customer's path: the console can wait a moment for what NLU understood.
            self._spawn(asyncio.to_thread(self._store_annotations, message.conversation_id))
        await self._live.publish(message.conversation_id)
        self.on_answer()
        return stored

    async def _finished_turn(self, message: log.MessageView) -> list[Any] | None:
        """On a later attempt: what the bot said if Rasa finished the turn after the gateway stopped waiting."""
        if message.attempts <= 1 or self._tracker is None:
            return None
        return await asyncio.to_thread(self._tracker.answer_of, message.conversation_id, message.id)

    def _metadata(self, message: log.MessageView, customer_id: str | None) -> dict[str, Any]:
        # Built at send time, never stored by the gateway: the assertion expires.
        customer = customer_metadata(customer_id, message.conversation_id, self._settings)
        return {"customer": customer, "keepwell": {"message_id": message.id}}

    async def _log_held(self, message: log.MessageView, customer_id: str | None) -> None:
        """Best effort: record a message a person is handling in Rasa's tracker (parsed, not acted on), for NLU."""
        try:
            parse = await self._rasa.log_held_message(
                message.conversation_id, message.text, self._metadata(message, customer_id)
            )
        except RasaUnavailable as error:
            logger.info("held message %s not logged in Rasa: %r", message.id, error)
            return
        intent = parse.get("intent") or {}
        turn = log.TurnInfo(message.id, intent.get("name"), intent.get("confidence"), [], [])
        await asyncio.to_thread(self._store_annotation, turn)

    def _store_answer(self, message: log.MessageView, replies: list[log.Reply]) -> list[log.MessageView] | None:
        with self._session() as session:
            stored = log.answer(session, message.id, replies)
            session.commit()
        return stored

    def _store_annotations(self, conversation_id: str) -> None:
        """Best effort, after the answer is safe: what NLU understood and the actions run, from Rasa's tracker."""
        if self._tracker is None:
            return
        try:
            with self._session() as session:
                cursor, turns = self._tracker.turns_since(conversation_id, log.rasa_cursor(session, conversation_id))
                log.annotate(session, turns)
                log.advance_rasa_cursor(session, conversation_id, cursor)
                session.commit()
        except Exception:
            logger.warning("could not read the tracker store for conversation annotations", exc_info=True)

    def _store_annotation(self, turn: log.TurnInfo) -> None:
        with self._session() as session:
            log.annotate(session, [turn])
            session.commit()

    # ---- the log ------------------------------------------------------------------------------------------------

    async def _give_notice(self, message: log.MessageView) -> None:
        if await asyncio.to_thread(self._store_notice, message.id) is not None:
            await self._live.publish(message.conversation_id)

    def _store_notice(self, message_id: int) -> log.MessageView | None:
        with self._session() as session:
            notice = log.give_notice(session, message_id, NOTICE)
            session.commit()
        return notice

    def _release(self, message: log.MessageView, delay_s: float) -> None:
        with self._session() as session:
            log.retry_later(session, message.id, utcnow() + timedelta(seconds=delay_s))
            session.commit()

    def _owner(self, conversation_id: str) -> str | None:
        with self._session() as session:
            return log.owner(session, conversation_id)

    async def _state(self, message_id: int) -> str | None:
        return await asyncio.to_thread(self._read_state, message_id)

    def _read_state(self, message_id: int) -> str | None:
        with self._session() as session:
            message = log.get_message(session, message_id)
        return message.state if message is not None else None

    async def _stored(self, message_id: int) -> Outcome:
        return await asyncio.to_thread(self._read_outcome, message_id)

    def _read_outcome(self, message_id: int) -> Outcome:
        with self._session() as session:
            message = log.get_message(session, message_id)
            if message is None:
                raise LookupError(f"message {message_id} does not exist")
            return Outcome(message, log.replies_to(session, message_id))

    # ---- background tasks ---------------------------------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run `work` to its end even after the request that started it has been answered."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("a turn failed unexpectedly", exc_info=task.exception())

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def stop(self) -> None:
        """Cancel what is in flight; those messages are released for the next gateway to answer."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
