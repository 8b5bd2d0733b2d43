"""keepwell/models: the database itself refuses what the customer-success tables must never hold (scores out of
range, unknown states, a second row for the same natural key, a second open signal of a kind) and cleans up after
a deleted account or CSM; on SQLite and on PostgreSQL."""

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keepwell.db import make_engine, session_factory, upgrade
from keepwell.models import (
    Base,
    ChurnSignal,
    Contact,
    CSMTask,
    CSMUser,
    Customer,
    HealthSnapshot,
    OfferEvent,
    OnboardingStep,
    Subscription,
    SupportTicket,
    SurveyAnswer,
    UsageSnapshot,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def session(database: Engine) -> Iterator[Session]:
    """A session on a migrated database holding one account, cus_1, owned by CSM 1."""
    upgrade(database)
    with session_factory(database)() as session:
        session.add(CSMUser(id=1, username="csm@example.com", password_hash="x"))
        session.flush()
        session.add(
            Customer(
                id="cus_1", name="Bluefin", plan="growth", company_size="mid", lifecycle_stage="adoption", mrr=480.0,
                seats_purchased=20, seats_used=18, signup_date=date(2024, 1, 1), renewal_date=date(2026, 1, 1),
                owner_csm_id=1,
            )
        )  # fmt: skip
        session.flush()
        yield session


def _answer(kind: str, score: int, external_id: str = "a") -> SurveyAnswer:
    return SurveyAnswer(external_id=external_id, account_id="cus_1", kind=kind, score=score, answered_at=NOW)


def _term(**overrides: Any) -> Subscription:
    fields: dict[str, Any] = {
        "external_id": "sub_1", "account_id": "cus_1", "plan": "growth", "mrr": 480.0, "seats_purchased": 20,
        "seats_used": 18, "started_on": date(2024, 1, 1),
    }  # fmt: skip
    return Subscription(**(fields | overrides))


def _usage(period_end: date) -> UsageSnapshot:
    return UsageSnapshot(
        customer_id="cus_1", period_end=period_end, logins=1, active_users=1, feature_adoption=0.5, support_tickets=0
    )


def _refused(session: Session, *rows: Base) -> bool:
    """Whether adding these rows breaks a constraint (the rest of the session is kept either way)."""
    try:
        with session.begin_nested():
            session.add_all(rows)
            session.flush()
    except IntegrityError:
        return True
    return False


@pytest.mark.parametrize(("kind", "score"), [("csat", 1), ("csat", 5), ("nps", 0), ("nps", 10)])
def test_survey_answers_on_their_scale_are_kept(session: Session, kind: str, score: int) -> None:
    assert not _refused(session, _answer(kind, score))


@pytest.mark.parametrize(("kind", "score"), [("csat", 0), ("csat", 6), ("nps", -1), ("nps", 11), ("ces", 3)])
def test_survey_answers_off_their_scale_are_refused(session: Session, kind: str, score: int) -> None:
    assert _refused(session, _answer(kind, score))


@pytest.mark.parametrize(
    "overrides",
    [{"mrr": -1.0}, {"seats_used": -1}, {"status": "paused"}, {"billing_state": "late"},
     {"ended_on": date(2023, 12, 31)}],
)  # fmt: skip
def test_impossible_subscription_terms_are_refused(session: Session, overrides: dict[str, Any]) -> None:
    assert _refused(session, _term(**overrides))
    assert not _refused(session, _term(ended_on=date(2024, 1, 1)))


def test_natural_keys_make_a_second_row_for_the_same_thing_fail(session: Session) -> None:
    assert not _refused(session, _term(), _usage(date(2025, 5, 31)), _answer("nps", 9))
    assert _refused(session, _term(plan="enterprise"))
    assert _refused(session, _usage(date(2025, 5, 31)))
    assert _refused(session, _answer("nps", 3))
    assert not _refused(session, Contact(external_id="ct_1", account_id="cus_1"))
    assert _refused(session, Contact(external_id="ct_1", account_id="cus_1", name="again"))
    step = {"account_id": "cus_1", "step_key": "invite-teammates", "title": "Invite", "position": 1}
    assert not _refused(session, OnboardingStep(**step))
    assert _refused(session, OnboardingStep(**step))
    assert not _refused(session, HealthSnapshot(account_id="cus_1", as_of=date(2025, 6, 1), scorecard="d", score=70,
                                                band="green"))  # fmt: skip
    assert _refused(session, HealthSnapshot(account_id="cus_1", as_of=date(2025, 6, 1), scorecard="d", score=20,
                                            band="red"))  # fmt: skip
    assert not _refused(session, CSMTask(account_id="cus_1", title="Call", source_key="playbook:red:cus_1"))
    assert _refused(session, CSMTask(account_id="cus_1", title="Call again", source_key="playbook:red:cus_1"))
    assert not _refused(session, CSMTask(account_id="cus_1", title="By hand"), CSMTask(account_id="cus_1", title="2"))


@pytest.mark.parametrize(
    "make",
    [
        lambda: HealthSnapshot(account_id="cus_1", as_of=date(2025, 6, 1), scorecard="d", score=101, band="green"),
        lambda: HealthSnapshot(account_id="cus_1", as_of=date(2025, 6, 1), scorecard="d", score=50, band="amber"),
        lambda: OfferEvent(account_id="cus_1", offer_id="seats", event="dismissed"),
        lambda: CSMTask(account_id="cus_1", title="Call", status="later"),
        lambda: SupportTicket(
            external_id="t1", account_id="cus_1", opened_at=NOW, closed_at=datetime(2025, 1, 1, tzinfo=UTC)
        ),
    ],
    ids=["score", "band", "offer-event", "task-status", "ticket-closed-before-opened"],
)
def test_values_outside_their_vocabulary_or_range_are_refused(session: Session, make: Callable[[], Base]) -> None:
    assert _refused(session, make())


def test_an_account_has_one_open_signal_of_each_kind(session: Session) -> None:
    def signal(kind: str, resolved: datetime | None = None) -> ChurnSignal:
        return ChurnSignal(account_id="cus_1", kind=kind, evidence={"drop": 0.4}, resolved_at=resolved)

    assert not _refused(session, signal("usage_drop", resolved=NOW), signal("usage_drop"), signal("ticket_surge"))
    assert _refused(session, signal("usage_drop"))
    assert not _refused(session, signal("usage_drop", resolved=NOW))


def test_deleting_an_account_deletes_its_records_and_a_deleted_csm_unassigns(session: Session) -> None:
    session.add_all(
        [_term(), _usage(date(2025, 5, 31)), _answer("csat", 4), Contact(external_id="c", account_id="cus_1"),
         OfferEvent(account_id="cus_1", offer_id="seats", event="shown"),
         CSMTask(account_id="cus_1", owner_id=1, title="Call")]
    )  # fmt: skip
    session.flush()
    session.delete(session.get(CSMUser, 1))
    session.flush()
    session.expire_all()
    assert session.get(Customer, "cus_1").owner_csm_id is None  # type: ignore[union-attr]
    assert session.scalar(select(CSMTask.owner_id)) is None

    session.delete(session.get(Customer, "cus_1"))
    session.flush()
    for table in (Subscription, UsageSnapshot, SurveyAnswer, Contact, OfferEvent, CSMTask):
        assert session.scalar(select(func.count()).select_from(table)) == 0, table
