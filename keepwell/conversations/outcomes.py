"""Each customer message's one outcome.

A customer message is committed before the assistant sees it. From then on it moves through guarded state changes
(an UPDATE that only succeeds from the expected state), so however many gateways, retries and late answers race,
each message ends with exactly one outcome: the bot's answer, a late answer after an honest notice, or a person.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from keepwell.conversations.records import (
    ANSWERED,
    ANSWERED_LATE,
    ASSISTANT_UNAVAILABLE,
    AWAITING_ANSWER,
    EXPIRED,
    LATE,
    PENDING,
    ROLE_CUSTOMER,
    SENT,
    UNANSWERED,
    Accepted,
    ConversationRef,
    MessageIdConflict,
    MessageView,
    Reply,
    TurnInfo,
    annotate,
    load,
    view_of,
)
from keepwell.models import Conversation, ConversationFlag, Handoff, Message, utcnow

# keepwell.handoffs.OPEN: that module builds on this package, so the value is repeated rather than imported.
HANDOFF_OPEN = "open"


def accept(
    session: Session,
    conversation: ConversationRef,
    text: str,
    client_message_id: str | None,
    *,
    state: str = PENDING,
    lease_s: float = 0.0,
    channel: str = "website",
    now: datetime | None = None,
) -> Accepted:
    """Log a customer message (and a new conversation), or find the one sent before with the same client id.

    The caller commits. Two requests racing with the same client id both end up with the one stored message.

    Raises:
        MessageIdConflict: the client id was used before in this conversation for another text.
    """
    now = now or utcnow()
    # No look-up first: the unique (conversation, client id) constraint finds a resent message, and the common
    # case (a new message) costs one statement less.
    if conversation.is_new:
        session.add(Conversation(id=conversation.id, customer_id=conversation.customer_id, channel=channel))
    else:
        session.execute(update(Conversation).where(Conversation.id == conversation.id).values(last_message_at=now))
    message = Message(
        conversation_id=conversation.id,
        role=ROLE_CUSTOMER,
        text=text,
        state=state,
        client_message_id=client_message_id,
        created_at=now,
        lease_until=now + timedelta(seconds=lease_s) if state == PENDING else None,
        attempts=1 if state == PENDING else 0,
    )
    if client_message_id is None:  # nothing to collide with: no savepoint
        session.add(message)
        session.flush()
        return Accepted(view_of(message), duplicate=False)
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        # Another request stored the same client id a moment ago: that one is the message.
        existing = _by_client_id(session, conversation.id, client_message_id)
        if existing is None:
            raise
        return _duplicate(existing, text)
    return Accepted(view_of(message), duplicate=False)


def _by_client_id(session: Session, conversation_id: str, client_message_id: str) -> Message | None:
    query = select(Message).where(
        Message.conversation_id == conversation_id, Message.client_message_id == client_message_id
    )
    return session.scalars(query).first()


def _duplicate(existing: Message, text: str) -> Accepted:
    if existing.text != text:
        raise MessageIdConflict(existing.client_message_id)
    return Accepted(view_of(existing), duplicate=True)


def answer(
    session: Session, message_id: int, replies: Sequence[Reply], turn: TurnInfo | None = None
) -> list[MessageView] | None:
    """Store the bot's answer to a customer message still waiting for one; None when it was settled meanwhile.

    Answered within the deadline (still pending) the replies are `sent`; after the notice they are `late` and the
    message's open "assistant unavailable" flag is resolved by the assistant. A late answer in a conversation a
    person has meanwhile (`_with_person`) is dropped and the message left to them: the bot must not talk over the
    person. The caller commits.
    """
    if conversation_id := _transition(session, message_id, PENDING, ANSWERED, lease_until=None):
        state = SENT
    elif conversation_id := _transition(
        session, message_id, UNANSWERED, ANSWERED_LATE, ~_with_person(), lease_until=None, next_attempt_at=None
    ):
        state = LATE
        _resolve_flags(session, message_id, by="assistant")
    else:
        expire(session, message_id)  # with a person now (a no-op when the message was settled otherwise)
        return None
    if turn is not None:
        annotate(session, [turn])
    return _add_replies(session, conversation_id, message_id, replies, state)


def give_notice(session: Session, message_id: int, notice: Reply) -> MessageView | None:
    """The assistant could not answer in time: send the notice once and flag the message for CSMs.

    The message stays leased to whoever holds it (a turn still in flight may answer it late); once released,
    `retry_later` or an expired lease makes it due for another attempt. Returns the notice, or None when the message
    already has its outcome (or its notice). The caller commits.
    """
    conversation_id = _transition(session, message_id, PENDING, UNANSWERED)
    if conversation_id is None:
        return None
    session.add(
        ConversationFlag(
            conversation_id=conversation_id,
            message_id=message_id,
            reason=ASSISTANT_UNAVAILABLE,
            detail="The assistant could not answer within the reply deadline; the customer got a notice.",
        )
    )
    return _add_replies(session, conversation_id, message_id, [notice], SENT)[0]


def hold(session: Session, message_id: int, notice: Reply) -> list[MessageView]:
    """A person has the conversation: the message waits for them; the customer is told so. The caller commits."""
    return _add_replies(session, load(session, message_id).conversation_id, message_id, [notice], SENT)


def retry_later(session: Session, message_id: int, at: datetime) -> None:
    """Release a message the assistant failed to answer so a later attempt (any gateway) can take it."""
    session.execute(
        update(Message)
        .where(Message.id == message_id, Message.state.in_(AWAITING_ANSWER))
        .values(lease_until=None, next_attempt_at=at)
        .execution_options(synchronize_session=False)
    )


def expire(session: Session, message_id: int) -> bool:
    """Too old for a late answer, or a person took over: it is left to a person (its flag stays open)."""
    return _transition(session, message_id, UNANSWERED, EXPIRED, lease_until=None, next_attempt_at=None) is not None


def claim_due(session: Session, *, now: datetime, lease_s: float, limit: int = 10) -> list[MessageView]:
    """Take the customer messages that wait for a (late) answer and are due, oldest first, one per conversation.

    A message is due when nobody holds it (no lease, or the holder's lease ran out: a gateway that died or stopped)
    and its next attempt time has come. Later messages of a conversation wait until its earlier ones are settled.
    The caller commits; until the lease runs out (its holder renews it while it works) no other gateway takes them.
    """
    free = or_(Message.lease_until.is_(None), Message.lease_until < now)
    earlier = aliased(Message)
    earlier_unsettled = (
        select(earlier.id)
        .where(
            earlier.conversation_id == Message.conversation_id,
            earlier.role == ROLE_CUSTOMER,
            earlier.state.in_(AWAITING_ANSWER),
            earlier.id < Message.id,
        )
        .exists()
    )
    due = and_(
        Message.role == ROLE_CUSTOMER,
        Message.state.in_(AWAITING_ANSWER),
        free,
        or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
        ~earlier_unsettled,
    )
    candidates = list(session.scalars(select(Message).where(due).order_by(Message.id).limit(limit)))
    claimed = []
    for message in candidates:
        result = session.execute(
            update(Message)
            .where(Message.id == message.id, free)
            .values(lease_until=now + timedelta(seconds=lease_s), attempts=Message.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            session.refresh(message)
            claimed.append(view_of(message))
    return claimed


def renew_lease(session: Session, message_id: int, *, until: datetime) -> bool:
    """Keep holding a message still being worked on; False once it has its outcome. The caller commits."""
    result = session.execute(
        update(Message)
        .where(Message.id == message_id, Message.state.in_(AWAITING_ANSWER))
        .values(lease_until=until)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def make_due(session: Session, *, now: datetime) -> int:
    """Bring every waiting retry forward to now (the assistant is back); returns how many."""
    result = session.execute(
        update(Message)
        .where(Message.state == UNANSWERED, Message.next_attempt_at > now)
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def has_waiting_retries(session: Session, *, now: datetime) -> bool:
    """Whether some message that got the notice waits out a backoff (the assistant failed on it recently)."""
    query = select(Message.id).where(Message.state == UNANSWERED, Message.next_attempt_at > now).limit(1)
    return session.scalar(query) is not None


def _with_person() -> ColumnElement[bool]:
    """A person has the message's conversation: an open handoff that was opened because the assistant was
    unavailable, or before the message, or that a person has replied in. (One this very turn opened, the customer
    having asked for a person, lets its confirmation through, unless a person has replied meanwhile.)"""
    return (
        select(Handoff.id)
        .where(
            Handoff.conversation_id == Message.conversation_id,
            Handoff.status == HANDOFF_OPEN,
            or_(
                Handoff.kind == ASSISTANT_UNAVAILABLE,
                Handoff.created_at < Message.created_at,
                Handoff.first_reply_at.is_not(None),
            ),
        )
        .exists()
    )


def _transition(
    session: Session, message_id: int, from_state: str, to_state: str, *also: ColumnElement[bool], **values: Any
) -> str | None:
    """Move a message from one state to another (when `also` holds too). Returns its conversation's id, or None
    when the message is not in `from_state` (someone else moved it) or `also` fails."""
    result = session.execute(
        update(Message)
        .where(Message.id == message_id, Message.state == from_state, *also)
        .values(state=to_state, **values)
        .returning(Message.conversation_id)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none()


def _resolve_flags(session: Session, message_id: int, by: str) -> None:
    """The late answer settles the "assistant unavailable" flag; any other (a churn moment) stays for the CSMs."""
    session.execute(
        update(ConversationFlag)
        .where(
            ConversationFlag.message_id == message_id,
            ConversationFlag.reason == ASSISTANT_UNAVAILABLE,
            ConversationFlag.resolved_at.is_(None),
        )
        .values(resolved_at=utcnow(), resolved_by=by)
    )


def _add_replies(
    session: Session, conversation_id: str, message_id: int, replies: Sequence[Reply], state: str
) -> list[MessageView]:
    now = utcnow()
    # Touch the conversation first: its row lock orders concurrent writers, so their message ids commit in order
    # and a live stream reading "after id N" never skips one.
    session.execute(update(Conversation).where(Conversation.id == conversation_id).values(last_message_at=now))
    rows = [
        Message(
            conversation_id=conversation_id,
            role=reply.role,
            text=reply.text,
            state=state,
            reply_to_id=message_id,
            created_at=now,
            buttons=list(reply.buttons) or None,
            sources=list(reply.sources) or None,
        )
        for reply in replies
    ]
    session.add_all(rows)
    session.flush()
    return [view_of(row) for row in rows]
