"""keepwell/privacy/erasure.py: a customer seeded into every table of the app database and into Rasa's tracker store
is nowhere afterwards (every string, text and JSON column of every table is searched), while another customer's
data stays. A table added later fails here until it is seeded below and erased (or listed as holding no customer
data)."""

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from sqlalchemy import JSON, Engine, String, create_engine, func, select, text
from sqlalchemy.orm import Session

from keepwell import audit
from keepwell.db import session_factory, upgrade
from keepwell.models import (
    AuditEvent,
    Base,
    ChurnSignal,
    Contact,
    Conversation,
    ConversationFlag,
    ConversationNote,
    ConversationTag,
    CSMTask,
    CSMUser,
    Customer,
    Feedback,
    HandledQuestion,
    Handoff,
    HealthSnapshot,
    Message,
    MessageVector,
    OfferEvent,
    OnboardingStep,
    SavedView,
    Subscription,
    SupportTicket,
    SurveyAnswer,
    TrainingExample,
    UsageSnapshot,
    WebhookDelivery,
)
from keepwell.privacy.erasure import ERASED, ErasureError, erase_customer, subject_ref
from tests.api.conftest import TrackerEvents

KEY = "erasure-test-key"
# Tables that hold nothing about customers: console staff, their sessions, integration keys.
NOT_ABOUT_CUSTOMERS = {"csm_users", "console_sessions", "api_keys"}
# Tables that hold no words, only rows keyed by a message (a vector, a handled mark): checked by the message ids.
BY_MESSAGE = (MessageVector, HandledQuestion)

WHO = "cus_erase"
NAME = "Erasmus Quill Ltd"
PERSON, EMAIL = "Petra Quillfeather", "petra@erasmus-quill.example"
SAID = ("my ledger export keeps failing", "we might cancel before renewal")
KEEP = "cus_keep"


@pytest.fixture
def app_db(database: Engine) -> Iterator[Session]:
    upgrade(database)
    with session_factory(database)() as session:
        yield session


@pytest.fixture
def tracker(tmp_path: Path) -> Iterator[TrackerEvents]:
    events = TrackerEvents(f"sqlite:///{tmp_path / 'conversations.db'}")
    yield events
    events.close()


def _tracker_engine(tracker: TrackerEvents) -> Engine:
    return tracker._engine


def _customer(session: Session, customer_id: str, name: str) -> None:
    session.add(
        Customer(
            id=customer_id, name=name, plan="growth", company_size="mid", lifecycle_stage="adoption", mrr=500.0,
            seats_purchased=10, seats_used=8, signup_date=date(2024, 1, 1), renewal_date=date(2026, 1, 1),
        )
    )  # fmt: skip
    session.flush()


def _conversation(
    session: Session, tracker: TrackerEvents, conversation_id: str, customer_id: str | None, said: str
) -> None:
    at = datetime(2026, 1, 5, 9, tzinfo=UTC)
    session.add(Conversation(id=conversation_id, customer_id=customer_id, channel="in_app", created_at=at))
    session.flush()
    asked = Message(conversation_id=conversation_id, role="customer", text=said, state="answered", intent="kb")
    session.add(asked)
    session.flush()
    session.add(Message(conversation_id=conversation_id, role="bot", text=f"About: {said}", state="sent"))
    session.add(
        ConversationFlag(conversation_id=conversation_id, message_id=asked.id, reason="low_confidence", detail=said)
    )
    session.add(
        Handoff(
            conversation_id=conversation_id, customer_id=customer_id, reason=said,
            transcript=[{"role": "customer", "text": said}], csat_comment=f"{said}, thanks",
        )
    )  # fmt: skip
    session.add(Feedback(conversation_id=conversation_id, customer_id=customer_id, text=said))
    session.add(ConversationTag(conversation_id=conversation_id, tag=f"acct-{customer_id}"[:40], created_by="csm"))
    session.add(ConversationNote(conversation_id=conversation_id, author_name="Dana", text=f"Follow up: {said}"))
    session.add(
        TrainingExample(text=said, intent="kb", conversation_id=conversation_id, message_id=asked.id, created_by="csm")
    )
    # The unanswered-questions page's cached vector of the message, and its handled mark.
    session.add(MessageVector(message_id=asked.id, model="all-minilm", vector=bytes(16)))
    session.add(HandledQuestion(message_id=asked.id, kind="intent", target="kb", handled_by="csm"))
    session.flush()
    tracker.session_start(conversation_id)
    metadata = {"keepwell": {"message_id": asked.id, "customer_id": customer_id}}
    tracker.user(conversation_id, said, "kb", 0.9, metadata)
    tracker.bot(conversation_id, f"About: {said}")


def _seed_account(session: Session, tracker: TrackerEvents, account_id: str, name: str, said: tuple[str, str]) -> None:
    """The account in every table that can hold something about it."""
    _customer(session, account_id, name)
    contact = Contact(external_id=f"{account_id}-c1", account_id=account_id, name=f"Champion of {name}")
    session.add(contact)
    session.flush()
    session.add(UsageSnapshot(customer_id=account_id, period_end=date(2026, 1, 1), logins=1, active_users=1,
                              feature_adoption=0.5, support_tickets=0))  # fmt: skip
    session.add(Subscription(external_id=f"sub-{account_id}", account_id=account_id, plan="growth", mrr=500.0,
                             seats_purchased=10, seats_used=8, started_on=date(2024, 1, 1)))  # fmt: skip
    session.add(OnboardingStep(account_id=account_id, step_key="invite", title="Invite the team", position=1))
    session.add(HealthSnapshot(account_id=account_id, as_of=date(2026, 1, 1), scorecard="default", score=40,
                               band="red", drivers=[{"text": f"{name} logs in less"}]))  # fmt: skip
    session.add(ChurnSignal(account_id=account_id, kind="cancellation_request", evidence={"said": said[1]}))
    session.add(CSMTask(account_id=account_id, title=f"Call {name}"))
    # A CSM's saved inbox view filtered on the account (its query names it).
    csm = session.scalar(select(CSMUser.id).where(CSMUser.username == "csm@demo.test"))
    if csm is None:
        csm_user = CSMUser(username="csm@demo.test", password_hash="x")
        session.add(csm_user)
        session.flush()
        csm = csm_user.id
    session.add(SavedView(owner_id=csm, name=f"{name} only", query=f"customer={quote_plus(account_id)}&tag=renewal"))
    session.add(SupportTicket(external_id=f"t-{account_id}", account_id=account_id, contact_id=contact.id,
                              subject=said[0], opened_at=datetime(2026, 1, 2, tzinfo=UTC)))  # fmt: skip
    session.add(SurveyAnswer(external_id=f"s-{account_id}", account_id=account_id, contact_id=contact.id, kind="nps",
                             score=3, answered_at=datetime(2026, 1, 3, tzinfo=UTC), comment=said[1]))  # fmt: skip
    session.add(WebhookDelivery(event_key=f"wh-{account_id}", playbook="turned-red", account_id=account_id,
                                url="https://hooks.example/x", payload={"account": name}))  # fmt: skip
    session.add(
        OfferEvent(account_id=account_id, offer_id="annual", event="shown", conversation_id=f"conv-{account_id}")
    )
    session.flush()
    _conversation(session, tracker, f"conv-{account_id}", account_id, said[0])
    _conversation(session, tracker, f"conv2-{account_id}", account_id, said[1])
    audit.record(
        session, "csm@demo.test", "task.complete", "task", 1, {"account_id": account_id, "title": f"Call {name}"}
    )
    audit.record(session, "admin@demo.test", "conversation.export", "conversation", None,
                 {"filter": {"customer_id": account_id}, "conversations": 2})  # fmt: skip


def _mentions(session: Session, tracker_engine: Engine, needles: set[str]) -> dict[str, set[str]]:
    """Per table (and "tracker.events"), the needles found in any string, text or JSON column."""
    found: dict[str, set[str]] = {}
    for table in Base.metadata.sorted_tables:
        columns = [column for column in table.columns if isinstance(column.type, String | JSON)]
        for row in session.execute(select(*columns)) if columns else ():
            for value in row:
                cell = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value or "")
                found.setdefault(table.name, set()).update(n for n in needles if n.lower() in cell.lower())
    with tracker_engine.connect() as connection:
        for sender_id, data in connection.execute(text("SELECT sender_id, data FROM events")):
            cell = f"{sender_id} {json.loads(data)}"
            found.setdefault("tracker.events", set()).update(n for n in needles if n in cell)
    return {table: hits for table, hits in found.items() if hits}


def _full_text_hits(session: Session, word: str) -> int | None:
    """Messages SQLite's full-text index finds for `word`; None on PostgreSQL, which has no such index."""
    if session.get_bind().dialect.name != "sqlite":
        return None
    return session.scalar(text("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH :word"), {"word": word})


def test_an_erased_account_is_in_no_store_and_another_stays(app_db: Session, tracker: TrackerEvents) -> None:
    _seed_account(app_db, tracker, WHO, NAME, SAID)
    # A person of the account, who chatted under their own email (a host that identifies people).
    app_db.add(Contact(external_id="p-1", account_id=WHO, name=PERSON, email=EMAIL))
    _conversation(app_db, tracker, "conv-petra", EMAIL, "does SSO work with Okta")
    _seed_account(app_db, tracker, KEEP, "Keeper Mills", ("where is the invoice", "thanks a lot"))
    app_db.commit()
    needles = {WHO, NAME, PERSON, EMAIL, *SAID, "does SSO work with Okta"}
    tracker_engine = _tracker_engine(tracker)

    before = _mentions(app_db, tracker_engine, needles)
    tables = {table.name for table in Base.metadata.sorted_tables}
    unseeded = tables - NOT_ABOUT_CUSTOMERS - {model.__tablename__ for model in BY_MESSAGE} - set(before)
    assert not unseeded, f"seed these tables in this test and make the erasure cover them: {sorted(unseeded)}"
    assert "tracker.events" in before

    words_said = _full_text_hits(app_db, "ledger")
    report = erase_customer(app_db, tracker_engine, WHO, KEY)
    app_db.commit()

    assert _mentions(app_db, tracker_engine, needles) == {}
    # No vector or handled mark of an erased message is left; the other account's two stay.
    kept_messages = set(app_db.scalars(select(Message.id)))
    for model in BY_MESSAGE:
        left = set(app_db.scalars(select(model.message_id)))
        assert len(left) == 2 and left <= kept_messages, model.__tablename__
    # SQLite's full-text index of the messages (not a model table) forgets their words too.
    assert words_said != 0 and _full_text_hits(app_db, "ledger") in (0, None)
    assert report.rows["saved_views"] == 1 and app_db.scalar(select(func.count()).select_from(SavedView)) == 1
    assert report.kind == "account" and report.conversations == 3
    assert report.rows["customers"] == 1 and report.rows["messages"] == 6 and report.rows["contacts"] == 2
    assert report.tracker_events == 3 * 5 and report.audit_entries_scrubbed == 2
    assert WHO not in json.dumps(report.as_detail()) and report.subject == subject_ref(WHO, KEY)
    # The other account is untouched, its audit entries too.
    assert app_db.get(Customer, KEEP) is not None
    assert app_db.scalar(select(func.count()).select_from(Message)) == 4
    assert _mentions(app_db, tracker_engine, {KEEP, "Keeper Mills", "where is the invoice"}).keys() >= {
        "customers", "messages", "handoffs", "audit_events", "tracker.events"
    }  # fmt: skip
    scrubbed = app_db.scalars(select(AuditEvent).where(AuditEvent.action == "task.complete")).all()
    assert {event.detail["title"] for event in scrubbed} == {ERASED, "Call Keeper Mills"}

    again = erase_customer(app_db, tracker_engine, WHO, KEY)
    assert not again.found_anything and again.subject == report.subject


def test_erasing_a_person_keeps_their_account(session: Session, tmp_path: Path) -> None:
    tracker = TrackerEvents(f"sqlite:///{tmp_path / 'conversations.db'}")
    _customer(session, KEEP, "Keeper Mills")
    person = Contact(external_id="p-1", account_id=KEEP, name=PERSON, email=EMAIL)
    colleague = Contact(external_id="p-2", account_id=KEEP, name="Colm Colleague")
    session.add_all([person, colleague])
    session.flush()
    session.add(SurveyAnswer(external_id="s-1", account_id=KEEP, contact_id=person.id, kind="nps", score=2,
                             answered_at=datetime(2026, 1, 3, tzinfo=UTC), comment=SAID[1]))  # fmt: skip
    session.add(SurveyAnswer(external_id="s-2", account_id=KEEP, contact_id=colleague.id, kind="nps", score=9,
                             answered_at=datetime(2026, 1, 3, tzinfo=UTC)))  # fmt: skip
    _conversation(session, tracker, "conv-petra", EMAIL, SAID[0])
    session.commit()

    report = erase_customer(session, tracker._engine, EMAIL.upper(), KEY)
    session.commit()

    assert report.kind == "person"
    assert _mentions(session, tracker._engine, {PERSON, EMAIL, *SAID}) == {}
    assert session.get(Customer, KEEP) is not None
    assert session.scalars(select(Contact.name)).all() == ["Colm Colleague"]
    assert session.scalars(select(SurveyAnswer.external_id)).all() == ["s-2"]
    tracker.close()


def test_an_offer_shown_in_an_erased_visitors_conversation_stays_counted(session: Session, tmp_path: Path) -> None:
    tracker = TrackerEvents(f"sqlite:///{tmp_path / 'conversations.db'}")
    _customer(session, KEEP, "Keeper Mills")
    _conversation(session, tracker, "conv-visitor", "visitor-42", "how much is it")
    session.add(OfferEvent(account_id=KEEP, offer_id="annual", event="shown", conversation_id="conv-visitor"))
    session.commit()

    report = erase_customer(session, tracker._engine, "visitor-42", KEY)
    session.commit()

    assert report.kind == "visitor" and report.conversations == 1
    assert session.scalars(select(OfferEvent.conversation_id)).all() == [None]
    assert session.scalar(select(func.count()).select_from(Conversation)) == 0
    tracker.close()


def test_a_visitors_handoff_notification_goes_with_their_conversation(session: Session, tmp_path: Path) -> None:
    """It has no account to be found by: its conversation id finds it (keepwell/handoff_webhook.py)."""
    tracker = TrackerEvents(f"sqlite:///{tmp_path / 'conversations.db'}")
    _conversation(session, tracker, "conv-visitor", "visitor-42", "how much is it")
    _conversation(session, tracker, "conv-other", "visitor-43", "hello")
    for conversation_id in ("conv-visitor", "conv-other"):
        session.add(WebhookDelivery(event_key=f"handoff:{conversation_id}:opened", playbook="handoff",
                                    account_id=None, conversation_id=conversation_id, url="https://hooks.example/x",
                                    payload={"conversation_id": conversation_id}))  # fmt: skip
    session.commit()

    report = erase_customer(session, tracker._engine, "visitor-42", KEY)
    session.commit()

    assert report.rows["webhook_deliveries"] == 1
    assert session.scalars(select(WebhookDelivery.conversation_id)).all() == ["conv-other"]
    tracker.close()


@pytest.mark.parametrize("bad", ["", "  ", "has space", "x" * 65, "semi;colon"])
def test_a_malformed_id_is_refused(bad: str) -> None:
    engine = create_engine("sqlite://")
    with Session(engine) as session, pytest.raises(ErasureError, match="customer id"):
        erase_customer(session, engine, bad, KEY)
