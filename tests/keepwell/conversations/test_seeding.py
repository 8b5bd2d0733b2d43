"""keepwell/conversations/seeding.py: generated conversations of ten turns, spread over accounts and channels, that
the inbox finds."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keepwell.conversations import filters, inbox, seeding
from keepwell.models import Conversation, ConversationFlag, Feedback, Message
from tests.keepwell.conversations.conftest import World

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_seeding_writes_ten_turns_per_conversation_that_the_inbox_lists(world_session: tuple[Session, World]) -> None:
    session, _ = world_session
    done = seeding.seed(session, 60, seed=3, now=NOW)
    session.commit()
    assert done.conversations == 60 and done.messages == 60 * 2 * seeding.TURNS
    per_conversation = session.execute(
        select(Message.conversation_id, func.count()).group_by(Message.conversation_id)
    ).all()
    assert {count for conversation_id, count in per_conversation if conversation_id.startswith("conv_") is False} == {
        20
    }
    channels = set(session.scalars(select(Conversation.channel).distinct()))
    assert {"website", "in_app", "api"} <= channels
    customers = set(session.scalars(select(Conversation.customer_id).distinct()))
    assert {"cus_a", "cus_b", None} <= customers
    oldest = session.scalar(select(func.min(Conversation.created_at)))
    assert oldest is not None and (NOW - oldest.replace(tzinfo=UTC)).days <= seeding.SPREAD_DAYS
    page = inbox.search(session, filters.InboxFilter())
    assert page.total == 63  # and the three hand-built ones
    assert inbox.search(session, filters.parse([("q", "invite")])).total > 0  # the text index follows the inserts
    assert inbox.search(session, filters.parse([("fallback", "yes")])).total > 0


def test_seeding_writes_the_flags_the_assistant_raises_and_feedback_of_each_polarity(session: Session) -> None:
    done = seeding.seed(session, 400, seed=5, now=NOW)
    session.commit()
    reasons = dict(
        session.execute(select(ConversationFlag.reason, func.count()).group_by(ConversationFlag.reason)).all()
    )
    assert set(reasons) == {"repeated_question", "frustration", "unhelpful_answers"}
    assert sum(reasons.values()) == done.flags and done.flags < done.conversations / 4  # a queue, not the whole log
    polarities = set(session.scalars(select(Feedback.polarity).distinct()))
    assert polarities == {"negative", "neutral"} and done.feedback > 0
    repeated = session.scalars(select(ConversationFlag).where(ConversationFlag.reason == "repeated_question")).first()
    assert repeated is not None and repeated.message_id is not None
    message = session.get(Message, repeated.message_id)
    assert (
        message is not None and message.text == repeated.detail and message.conversation_id == repeated.conversation_id
    )


def test_the_same_seed_gives_the_same_conversations(session: Session) -> None:
    seeding.seed(session, 5, seed=9, now=NOW)
    first = list(session.scalars(select(Message.text).order_by(Message.id)))
    session.rollback()
    seeding.seed(session, 5, seed=9, now=NOW)
    assert list(session.scalars(select(Message.text).order_by(Message.id))) == first


def test_a_count_below_one_is_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        seeding.seed(session, 0)
