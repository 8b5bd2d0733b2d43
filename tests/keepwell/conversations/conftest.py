"""A small hand-built conversation log for the inbox and review tests: three conversations that differ in every
filter, on SQLite and PostgreSQL."""

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from keepwell import staff
from keepwell.db import make_engine, upgrade
from keepwell.models import Conversation, ConversationTag, Customer, Handoff, HealthSnapshot, Message
from keepwell.staff import StaffView

NOV = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class World:
    csm: StaffView
    other_csm: StaffView


def add_customer(db: Session, customer_id: str, name: str, plan: str, size: str, owner: int | None) -> None:
    db.add(
        Customer(
            id=customer_id, name=name, plan=plan, company_size=size, lifecycle_stage="adoption", mrr=500.0,
            seats_purchased=10, seats_used=8, signup_date=date(2025, 1, 1), renewal_date=date(2027, 1, 1),
            owner_csm_id=owner,
        )
    )  # fmt: skip


def add_conversation(
    db: Session,
    conversation_id: str,
    customer_id: str | None,
    channel: str,
    start: datetime,
    turns: list[tuple[str, str | None, float | None]],
    *,
    review_status: str = "new",
    bot_text: str = "Here is how.",
) -> list[int]:
    """A conversation of customer messages (text, intent, confidence), each answered by the bot a second later;
    returns the customer messages' ids."""
    at = start
    db.add(Conversation(id=conversation_id, customer_id=customer_id, channel=channel, created_at=start,
                        last_message_at=start, review_status=review_status))  # fmt: skip
    db.flush()
    ids = []
    for text, intent, confidence in turns:
        at += timedelta(minutes=1)
        message = Message(conversation_id=conversation_id, role="customer", text=text, created_at=at,
                          state="answered", intent=intent, confidence=confidence)  # fmt: skip
        db.add(message)
        db.flush()
        ids.append(message.id)
        db.add(Message(conversation_id=conversation_id, role="bot", text=bot_text, created_at=at, state="sent",
                       reply_to_id=message.id))  # fmt: skip
    db.get(Conversation, conversation_id).last_message_at = at  # type: ignore[union-attr]
    db.flush()
    return ids


def build_world(db: Session) -> World:
    """a: Acme (growth, small, owned, green now), website, early November, tagged onboarding, new.
    b: Bolt (enterprise, large, no owner, red), in-app, mid November, a fallback, a handoff rated 2, needs review.
    c: an anonymous visitor over the API, late November, one low-confidence message, reviewed.
    d: started by the widget and never written in: never listed."""
    csm = staff.create(db, "csm1@example.test", "a long enough password", display_name="Casey")
    other = staff.create(db, "csm2@example.test", "a long enough password", display_name="Robin")
    add_customer(db, "cus_a", "Acme Logistics", "growth", "small", csm.id)
    add_customer(db, "cus_b", "Bolt Industries", "enterprise", "large", None)
    db.flush()
    for account, day, band in (("cus_a", 1, "red"), ("cus_a", 8, "green"), ("cus_b", 8, "red")):
        score = 80 if band == "green" else 20
        db.add(HealthSnapshot(account_id=account, as_of=date(2026, 11, day), scorecard="default", score=score,
                              band=band, measures={}, drivers=[]))  # fmt: skip
    add_conversation(
        db, "conv_a", "cus_a", "website", NOV,
        [("How do I invite my team?", "ask_howto", 0.92), ("thanks", "thank", 0.95)],
        bot_text="Go to Settings and click Invite.",
    )  # fmt: skip
    add_conversation(
        db, "conv_b", "cus_b", "in_app", NOV + timedelta(days=9),
        [("I want to cancel our plan", "request_cancellation", 0.88), ("blorp", "nlu_fallback", 0.3),
         ("talk to a person", "request_human", 0.97)],
        review_status="needs_review",
    )  # fmt: skip
    add_conversation(
        db, "conv_c", None, "api", NOV + timedelta(days=19), [("is there a mobile app", "ask_faq", 0.55)],
        review_status="reviewed",
    )  # fmt: skip
    db.add(Conversation(id="conv_d", customer_id=None, channel="website", created_at=NOV, last_message_at=NOV))
    db.add(Handoff(conversation_id="conv_b", customer_id="cus_b", reason="talk to a person", status="closed",
                   transcript=[], created_at=NOV + timedelta(days=9), csat_score=2))  # fmt: skip
    db.add(ConversationTag(conversation_id="conv_a", tag="onboarding", created_by="csm1@example.test"))
    db.add(ConversationTag(conversation_id="conv_b", tag="churn-risk", created_by="csm1@example.test"))
    db.commit()
    return World(csm, other)


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty app database at the migrations' head, made once per run (migrating takes about a second)."""
    path = tmp_path_factory.mktemp("template") / "keepwell.db"
    template = make_engine(f"sqlite:///{path}")
    upgrade(template)
    template.dispose()
    return path


@pytest.fixture
def engine(_migrated_template: Path, tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite database of the test's own: a copy of the template (SQLite's backup API)."""
    target = tmp_path / "keepwell.db"
    with sqlite3.connect(_migrated_template) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    source.close()
    copy.close()
    engine = make_engine(f"sqlite:///{target}")
    yield engine
    engine.dispose()


@pytest.fixture
def backend(database: Engine) -> Iterator[Engine]:
    """An app database at the migrations' head on each backend."""
    upgrade(database)
    yield database


@pytest.fixture
def world_session(session: Session) -> tuple[Session, World]:
    """A SQLite session holding the hand-built world."""
    return session, build_world(session)
