"""A small hand-built world of conversations, handoffs, cited articles and offers over March 1-3, 2026, loaded once
per backend (SQLite and PostgreSQL) for every analytics test; each test states the numbers it expects from it.

| conv | channel | started (UTC) | customer messages (intent, confidence)          | handoff (kind, wait, CSAT)     |
|------|---------|---------------|-------------------------------------------------|--------------------------------|
| c1   | website | 03-01 09:00   | invite_team 0.95                                | -                              |
| c2   | website | 03-01 10:00   | nlu_fallback 0.40, request_human 0.90, 1 held   | asked for a person, 120 s, 5   |
| c3   | in_app  | 03-02 12:00   | invite_team 0.50 (low)                          | frustration, 30 s, 2 (03-02)   |
| c4   | api     | 03-03 23:30   | pricing 0.99                                    | -                              |
| c5   | website | 03-03 08:00   | none (opened by the widget only)                | -                              |
| c6   | website | 02-28 23:59   | pricing 0.99 (before the period)                | 02-28, 600 s, CSAT 4 on 03-01  |
| c7   | website | 03-04 00:00   | pricing 0.99 (after the period)                 | -                              |
| c8   | in_app  | 03-03 08:00   | request_human 0.97                              | asked for a person, no reply   |

Articles cited (bot messages): c1 team, billing, then team again; c2 team twice before its handoff; c3 billing before
its handoff and team after it; c4 JSON null and an empty list; c6 old (before the period).
"""

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from keepwell.analytics import ReportPeriod
from keepwell.db import dispose_engine, make_engine, session_factory, upgrade
from keepwell.models import Conversation, Customer, Handoff, Message, OfferEvent, Subscription

PERIOD = ReportPeriod(first=date(2026, 3, 1), last=date(2026, 3, 3))
TEAM = {"url": "/help/team#invite", "title": "Inviting your team", "score": 0.82}
BILLING = {"url": "/help/billing", "title": "Billing and invoices", "score": 0.71}
OLD = {"url": "/help/old", "title": "An old article"}


def at(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


@pytest.fixture(scope="package", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The world above on an app database of each backend, built once for the whole package."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('analytics') / 'keepwell.db'}")
        _build(engine)
        yield engine
        engine.dispose()
        return
    url = request.config.getoption("--postgres-url")
    schema = f"kw_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    schema_url = f"{url}?options=-csearch_path%3D{schema}"
    engine = make_engine(schema_url)
    try:
        _build(engine)
        yield engine
    finally:
        engine.dispose()
        dispose_engine(schema_url)
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def session(world: Engine) -> Iterator[Session]:
    with session_factory(world)() as session:
        yield session


def _build(engine: Engine) -> None:
    upgrade(engine)
    with session_factory(engine)() as session:
        _customers(session)
        _conversations(session)
        _offers(session)
        session.commit()


def _customers(session: Session) -> None:
    for number, mrr in ((1, 100.0), (2, 300.0)):
        account = f"cus_{number}"
        session.add(
            Customer(
                id=account, name=f"Account {number}", plan="growth", company_size="mid", lifecycle_stage="adoption",
                mrr=mrr, seats_purchased=10, seats_used=8, signup_date=date(2025, 1, 1), renewal_date=date(2027, 1, 1),
            )
        )  # fmt: skip
        session.flush()
        session.add(
            Subscription(
                external_id=f"sub_{number}", account_id=account, plan="growth", mrr=mrr, seats_purchased=10,
                seats_used=8, started_on=date(2026, 1, 1),
            )
        )  # fmt: skip
    session.flush()


def _conversation(session: Session, cid: str, channel: str, started: datetime, customer: str | None = None) -> None:
    session.add(
        Conversation(id=cid, customer_id=customer, channel=channel, created_at=started, last_message_at=started)
    )
    session.flush()


def _say(session: Session, cid: str, when: datetime, intent: str | None, confidence: float | None) -> None:
    state = "held" if intent is None else "answered"
    session.add(
        Message(
            conversation_id=cid, role="customer", text="...", created_at=when, state=state,
            intent=intent, confidence=confidence,
        )
    )  # fmt: skip


def _answer(session: Session, cid: str, when: datetime, sources: Any) -> None:
    session.add(Message(conversation_id=cid, role="bot", text="...", created_at=when, state="sent", sources=sources))


def _handoff(session: Session, cid: str, when: datetime, kind: str, wait_s: float | None, **csat: Any) -> None:
    first_reply = None if wait_s is None else when + timedelta(seconds=wait_s)
    session.add(
        Handoff(
            conversation_id=cid, reason="...", kind=kind, created_at=when, first_reply_at=first_reply, wait_s=wait_s,
            status="open" if not csat else "closed", **csat,
        )
    )  # fmt: skip


def _conversations(session: Session) -> None:
    _conversation(session, "c1", "website", at(1, 9), "cus_1")
    _say(session, "c1", at(1, 9), "invite_team", 0.95)
    _answer(session, "c1", at(1, 9, 0, 5), [TEAM, BILLING])
    _answer(session, "c1", at(1, 9, 2), [TEAM])

    _conversation(session, "c2", "website", at(1, 10))
    _say(session, "c2", at(1, 10), "nlu_fallback", 0.4)
    _answer(session, "c2", at(1, 10, 0, 5), [TEAM])
    _say(session, "c2", at(1, 10, 0, 30), "request_human", 0.9)
    _answer(session, "c2", at(1, 10, 0, 35), [TEAM])
    _handoff(session, "c2", at(1, 10, 1), "asked_for_person", 120.0, csat_score=5, csat_at=at(1, 10, 10))
    _say(session, "c2", at(1, 10, 4), None, None)  # held for the person: NLU never read it

    _conversation(session, "c3", "in_app", at(2, 12), "cus_2")
    _say(session, "c3", at(2, 12), "invite_team", 0.5)
    _answer(session, "c3", at(2, 12, 0, 5), [BILLING])
    _handoff(session, "c3", at(2, 12, 2), "frustration", 30.0, csat_score=2, csat_at=at(2, 12, 20))
    _answer(session, "c3", at(2, 12, 30), [TEAM])  # after the handoff: not what led to it

    _conversation(session, "c4", "api", at(3, 23, 30))
    _say(session, "c4", at(3, 23, 30), "pricing", 0.99)
    _answer(session, "c4", at(3, 23, 30, 5), None)  # stored as JSON null
    _answer(session, "c4", at(3, 23, 30, 6), [])

    _conversation(session, "c5", "website", at(3, 8))  # opened by the widget, nothing written

    _conversation(session, "c6", "website", at(28, 23, 59, month=2))
    _say(session, "c6", at(28, 23, 59, month=2), "pricing", 0.99)
    _answer(session, "c6", at(28, 23, 59, 5, month=2), [OLD])
    _handoff(session, "c6", at(28, 23, 59, 30, month=2), "asked_for_person", 600.0, csat_score=4, csat_at=at(1, 0, 30))

    _conversation(session, "c7", "website", at(4, 0))
    _say(session, "c7", at(4, 0), "pricing", 0.99)

    _conversation(session, "c8", "in_app", at(3, 8))
    _say(session, "c8", at(3, 8), "request_human", 0.97)
    _handoff(session, "c8", at(3, 8, 1), "asked_for_person", None)
    session.flush()


def _offers(session: Session) -> None:
    events = [
        ("cus_1", "extra-seats", "shown", at(1, 9)),
        ("cus_1", "extra-seats", "clicked", at(1, 9, 1)),
        ("cus_1", "extra-seats", "accepted", at(2, 9)),
        ("cus_1", "automations", "shown", at(2, 9)),
        ("cus_2", "automations", "shown", at(3, 9)),
        ("cus_2", "automations", "shown", at(27, 9, month=2)),  # before the period
    ]
    for account, offer, event, when in events:
        session.add(OfferEvent(account_id=account, offer_id=offer, event=event, at=when))
