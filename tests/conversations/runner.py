"""Plays suite conversations against a real gateway and scores every turn.

A turn is sent as the widget sends it (`POST /api/chat`, with a customer token when the conversation is signed
in); what happened is read back from outside: the answer's messages, then from the app database the message log's
annotation of the customer message (intent, actions: the gateway writes them from Rasa's tracker shortly after the
answer, so the runner waits for them), and the handoff, feedback and CSM-alert records the turn created. A failing
turn never stops the conversation: every turn is played and scored.
"""

import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import Engine, MetaData, Table, func, inspect, select

from keepwell.db import make_engine
from keepwell.identity import mint_token
from keepwell.models import ConversationFlag, Feedback, Handoff, Message
from tests.conversations.checks import Failure, Observation, check
from tests.conversations.suite import Conversation, Turn

TOKEN_LIFETIME_S = 15 * 60
# A CSM alert about a churn moment: a conversation flag whose reason names one (e.g. "churn_moment"), or a row of any
# table named like "*alert*". Other flags (assistant unavailable, frustration, an at-risk account) are not churn alerts.
_CHURN_FLAG = re.compile(r"churn|cancel|refund|downgrad", re.IGNORECASE)


@dataclass
class TurnResult:
    conversation: Conversation
    index: int
    turn: Turn
    observation: Observation
    failures: list[Failure]

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class ConversationResult:
    conversation: Conversation
    conversation_id: str | None
    turns: list[TurnResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.turns)


class Runner:
    """Plays conversations against one running Keepwell.

    Args:
        base_url: the gateway, e.g. "http://127.0.0.1:8000".
        database_url: the gateway's app database (the message log, handoffs, feedback).
        identity_secret: the secret customer tokens are signed with (`KEEPWELL_IDENTITY_SECRET`).
        annotation_timeout_s: how long to wait for the log to record what NLU understood of a message.
        late_answer_timeout_s: how long to wait for a late answer when the gateway gave its notice.
    """

    def __init__(
        self,
        base_url: str,
        database_url: str,
        identity_secret: str,
        *,
        annotation_timeout_s: float = 10.0,
        late_answer_timeout_s: float = 60.0,
    ) -> None:
        self._client = httpx.Client(base_url=base_url, timeout=120)
        self._engine: Engine = make_engine(database_url)
        self._secret = identity_secret
        self._annotation_timeout_s = annotation_timeout_s
        self._late_answer_timeout_s = late_answer_timeout_s

    def close(self) -> None:
        self._client.close()
        self._engine.dispose()

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def play_all(
        self, conversations: Iterable[Conversation], progress: Callable[[ConversationResult], None] | None = None
    ) -> list[ConversationResult]:
        results = []
        for conversation in conversations:
            results.append(result := self.play(conversation))
            if progress is not None:
                progress(result)
        return results

    def play(self, conversation: Conversation) -> ConversationResult:
        result = ConversationResult(conversation, None)
        last_buttons: list[dict[str, str]] = []
        for index, turn in enumerate(conversation.turns, start=1):
            extra: list[Failure] = []
            text = turn.user
            if turn.click is not None:
                button = next((b for b in last_buttons if b.get("title", "").lower() == turn.click.lower()), None)
                if button is None:
                    titles = [b.get("title") for b in last_buttons] or "none"
                    extra.append(Failure("click", f"a button {turn.click!r} in the last reply", f"buttons {titles}"))
                    text = turn.click  # the customer types it instead
                else:
                    text = button["payload"]
            assert text is not None
            try:
                observation, result.conversation_id = self._turn(conversation, result.conversation_id, text)
            except Exception as error:  # a broken turn is reported like a failed one; the suite goes on
                observation = Observation(status=0, error=f"the runner failed on this turn: {error!r}")
            failures = extra + check(turn.expect, observation)
            result.turns.append(TurnResult(conversation, index, turn, observation, failures))
            last_buttons = observation.buttons
        return result

    # ---- one turn -------------------------------------------------------------------------------------------------

    def _turn(
        self, conversation: Conversation, conversation_id: str | None, text: str
    ) -> tuple[Observation, str | None]:
        before = self._records(conversation_id) if conversation_id else _Records()
        body: dict[str, Any] = {"message": text, "message_id": uuid.uuid4().hex}
        if conversation_id:
            body["conversation_id"] = conversation_id
        if conversation.customer:
            body["token"] = mint_token(conversation.customer, self._secret, TOKEN_LIFETIME_S)
        try:
            response = self._post(body)
        except httpx.HTTPError as error:
            return Observation(status=0, error=f"request failed: {error!r}"), conversation_id
        if response.status_code != 200:
            return Observation(
                status=response.status_code, error=f"HTTP {response.status_code}: {response.text[:200]}"
            ), conversation_id
        answer = response.json()
        conversation_id = answer["conversation_id"]
        message_id = int(answer["message"]["id"])
        replies = [_public(m) for m in answer["messages"]]
        late = False
        if replies and all(r["role"] == "system" and r["text"].startswith("I'm having trouble") for r in replies):
            late, replies = True, self._late_answer(message_id) or replies
        intent, confidence, actions = self._annotation(message_id)
        after = self._records(conversation_id)
        observation = Observation(
            status=200,
            replies=replies,
            intent=intent,
            confidence=confidence,
            actions=actions,
            handoffs=after.handoffs - before.handoffs,
            feedback=[t for i, t in after.feedback if i > before.last_feedback_id],
            csm_alerts=after.csm_alerts,
            late=late,
        )
        return observation, conversation_id

    def _post(self, body: dict[str, Any]) -> httpx.Response:
        """POST /api/chat; over a rate limit (a `make run` keeps them on), wait as told and resend the same id."""
        for _ in range(10):
            response = self._client.post("/api/chat", json=body)
            if response.status_code != 429:
                return response
            time.sleep(float(response.headers.get("Retry-After", "5")))
        return response

    def _late_answer(self, message_id: int) -> list[dict[str, Any]]:
        """The bot's answer to a message that got the notice, once it arrives (or nothing after the timeout)."""
        deadline = time.monotonic() + self._late_answer_timeout_s
        while time.monotonic() < deadline:
            with self._engine.connect() as connection:
                rows = connection.execute(
                    select(Message.role, Message.text, Message.buttons, Message.sources)
                    .where(Message.reply_to_id == message_id, Message.role != "system")
                    .order_by(Message.id)
                ).all()
            if rows:
                return [
                    {"role": r.role, "text": r.text, "buttons": r.buttons or [], "sources": r.sources or []}
                    for r in rows
                ]
            time.sleep(0.25)
        return []

    def _annotation(self, message_id: int) -> tuple[str | None, float | None, list[str] | None]:
        """What the log recorded that NLU understood and the actions run, once the gateway has written it."""
        deadline = time.monotonic() + self._annotation_timeout_s
        while True:
            with self._engine.connect() as connection:
                row = connection.execute(
                    select(Message.intent, Message.confidence, Message.actions).where(Message.id == message_id)
                ).one()
            if row.intent is not None or row.actions is not None or time.monotonic() >= deadline:
                return row.intent, row.confidence, row.actions
            time.sleep(0.05)

    def _records(self, conversation_id: str) -> "_Records":
        with self._engine.connect() as connection:
            handoffs = connection.scalar(
                select(func.count()).select_from(Handoff).where(Handoff.conversation_id == conversation_id)
            )
            # Product feedback only: "that didn't help" after an answer is feedback on the answer (its article).
            feedback = connection.execute(
                select(Feedback.id, Feedback.text).where(
                    Feedback.conversation_id == conversation_id, Feedback.article_id.is_(None)
                )
            ).all()
            flags = connection.execute(
                select(ConversationFlag.reason).where(ConversationFlag.conversation_id == conversation_id)
            ).scalars()
            alerts = sum(1 for reason in flags if _CHURN_FLAG.search(reason or ""))
            alerts += self._alert_rows(connection, conversation_id)
        return _Records(int(handoffs or 0), [(int(i), str(t)) for i, t in feedback], alerts)

    def _alert_rows(self, connection: Any, conversation_id: str) -> int:
        """Rows about this conversation in any table named like "*alert*" (however the CSM alert gets stored)."""
        count = 0
        inspector = inspect(connection)
        for name in inspector.get_table_names():
            if "alert" not in name.lower():
                continue
            if "conversation_id" not in {c["name"] for c in inspector.get_columns(name)}:
                continue
            table = Table(name, MetaData(), autoload_with=connection)
            count += int(
                connection.scalar(
                    select(func.count()).select_from(table).where(table.c.conversation_id == conversation_id)
                )
                or 0
            )
        return count


@dataclass
class _Records:
    handoffs: int = 0
    feedback: list[tuple[int, str]] = field(default_factory=list)
    csm_alerts: int = 0

    @property
    def last_feedback_id(self) -> int:
        return max((i for i, _ in self.feedback), default=0)


def _public(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "role": message.get("role"),
        "text": message.get("text") or "",
        "buttons": message.get("buttons") or [],
        "sources": message.get("sources") or [],
    }
