"""Conversations, a handoff with its rating, cited articles and offers for one account over the last days, for the
analytics and customer 360 page tests (the demo database has accounts and health history, but no conversations)."""

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from keepwell.models import Conversation, Handoff, Message, OfferEvent

ARTICLE = {"url": "/help/team#invite", "title": "Inviting your team", "score": 0.8}
CONVERSATION_IDS = ("a" * 32, "b" * 32)


def seed_conversations(session: Session, account_id: str, now: datetime) -> None:
    """Two conversations of the account yesterday: one answered from an article, one handed to a person who got a
    5 for it; and an offer shown, clicked and accepted. Commits."""
    day = now - timedelta(days=1)
    first, second = CONVERSATION_IDS
    session.add_all(
        [
            Conversation(id=first, customer_id=account_id, channel="website", created_at=day, last_message_at=day),
            Conversation(id=second, customer_id=account_id, channel="in_app", created_at=day, last_message_at=day),
        ]
    )
    session.flush()
    session.add_all(
        [
            Message(conversation_id=first, role="customer", text="How do I invite my team?", created_at=day,
                    state="answered", intent="invite_team", confidence=0.93),
            Message(conversation_id=first, role="bot", text="Open Settings, then Team.", created_at=day,
                    state="sent", sources=[ARTICLE]),
            Message(conversation_id=second, role="customer", text="What?", created_at=day, state="answered",
                    intent="nlu_fallback", confidence=0.3),
            Message(conversation_id=second, role="bot", text="Here is how to invite people.", created_at=day,
                    state="sent", sources=[ARTICLE]),
            Message(conversation_id=second, role="customer", text="I want a person", created_at=day,
                    state="answered", intent="request_human", confidence=0.95),
        ]
    )  # fmt: skip
    session.add(
        Handoff(
            conversation_id=second, customer_id=account_id, reason="I want a person", kind="asked_for_person",
            status="closed", created_at=day + timedelta(seconds=10), first_reply_at=day + timedelta(seconds=70),
            wait_s=60.0, closed_at=day + timedelta(minutes=5), closed_by="csm@demo.test", csat_score=5,
            csat_at=day + timedelta(minutes=6),
        )
    )  # fmt: skip
    for event in ("shown", "clicked", "accepted"):
        session.add(OfferEvent(account_id=account_id, offer_id="extra-seats", event=event, at=day))
    session.commit()
