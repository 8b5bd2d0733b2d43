"""keepwell/importing/writer.py (and terms.py) through the public `importing.write`: rows upserted by natural key,
so writing the same rows again changes nothing; subscriptions keep the accounts' current terms in step."""

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwell import importing, staff
from keepwell.db import make_engine, session_factory, upgrade
from keepwell.importing import writer
from keepwell.models import Base, Customer, SupportTicket, UsageSnapshot

Row = Callable[..., dict[str, Any]]
TODAY = date(2025, 6, 1)
TABLES = (
    "customers",
    "contacts",
    "subscriptions",
    "usage_snapshots",
    "support_tickets",
    "survey_answers",
    "onboarding_steps",
)


def _put(db: Session, kind: str, *items: dict[str, Any]) -> int:
    records, errors = importing.validate(db, kind, list(items))
    assert errors == []
    return importing.write(db, kind, records, today=TODAY)


def _everything(db: Session) -> dict[str, list[tuple[Any, ...]]]:
    return {table: sorted(db.execute(select(Base.metadata.tables[table])).all(), key=repr) for table in TABLES}


def _one_of_each(db: Session, row: Row) -> None:
    _put(db, "accounts", row("accounts"), row("accounts", id="acc_2", plan="starter"))
    _put(db, "contacts", row("contacts"))
    _put(db, "subscriptions", row("subscriptions"))
    _put(db, "usage", row("usage", features={"tasks": 3}), row("usage", period_end="2025-06-01"))
    _put(db, "tickets", row("tickets", contact_external_id="con_1", closed_at="2025-05-21T09:00:00+02:00"))
    _put(db, "surveys", row("surveys", contact_external_id="con_1"))
    _put(db, "onboarding", row("onboarding", completed_at="2025-04-01T12:00:00"))


def test_writing_the_same_rows_again_changes_nothing(db: Session, row: Row) -> None:
    _one_of_each(db, row)
    before = _everything(db)
    assert all(before[table] for table in TABLES)
    _one_of_each(db, row)
    assert _everything(db) == before


def test_a_changed_row_is_updated_in_place(db: Session, row: Row) -> None:
    _put(db, "accounts", row("accounts"))
    _put(db, "usage", row("usage"))
    first_id = db.scalar(select(UsageSnapshot.id))
    _put(db, "usage", row("usage", logins=7, nps=3))
    snapshots = db.execute(select(UsageSnapshot.id, UsageSnapshot.logins, UsageSnapshot.nps)).all()
    assert snapshots == [(first_id, 7, 3)]


def test_a_ticket_points_at_its_contact_and_times_are_stored_in_utc(db: Session, row: Row) -> None:
    _one_of_each(db, row)
    ticket = db.scalars(select(SupportTicket)).one()
    assert ticket.contact_id is not None
    assert (ticket.closed_at.hour, ticket.closed_at.day) == (7, 21)


def test_an_owner_is_stored_as_the_console_users_id(db: Session, row: Row) -> None:
    csm = staff.create(db, "csm@example.com", "a-long-enough-password")
    _put(db, "accounts", row("accounts", owner="csm@example.com"))
    assert db.get(Customer, "acc_1").owner_csm_id == csm.id  # type: ignore[union-attr]


def test_an_import_without_an_owner_keeps_the_one_assigned(db: Session, row: Row) -> None:
    first = staff.create(db, "first@example.com", "a-long-enough-password")
    second = staff.create(db, "second@example.com", "a-long-enough-password")
    _put(db, "accounts", row("accounts", owner="first@example.com"))
    _put(db, "accounts", row("accounts", name="Copperleaf Ltd"))
    account = db.get(Customer, "acc_1")
    db.refresh(account)
    assert (account.name, account.owner_csm_id) == ("Copperleaf Ltd", first.id)  # type: ignore[union-attr]
    _put(db, "accounts", row("accounts", owner="second@example.com"))
    db.refresh(account)
    assert account.owner_csm_id == second.id  # type: ignore[union-attr]


def test_the_subscription_in_force_sets_the_accounts_current_terms(db: Session, row: Row) -> None:
    _put(db, "accounts", row("accounts", plan="starter", mrr=50, seats_purchased=5))
    _put(
        db,
        "subscriptions",
        row("subscriptions", external_id="old", plan="starter", mrr=50, ended_on="2025-01-01", status="superseded"),
        row("subscriptions", started_on="2025-01-01", seats_purchased=25, mrr=600, renews_on="2027-01-01"),
        # Starts after today: not in force yet.
        row("subscriptions", external_id="next", started_on="2025-07-01", plan="enterprise", mrr=2000),
    )
    account = db.get(Customer, "acc_1")
    db.refresh(account)
    assert (account.plan, account.mrr, account.seats_purchased, account.renewal_date) == (  # type: ignore[union-attr]
        "growth",
        600,
        25,
        date(2027, 1, 1),
    )
    # Re-importing the account row keeps the terms its subscriptions give.
    _put(db, "accounts", row("accounts", plan="starter", mrr=50, seats_purchased=5))
    db.refresh(account)
    assert (account.plan, account.mrr) == ("growth", 600)  # type: ignore[union-attr]


def test_an_account_whose_terms_all_ended_pays_nothing_now(db: Session, row: Row) -> None:
    _put(db, "accounts", row("accounts"))
    _put(db, "subscriptions", row("subscriptions", ended_on="2025-05-01", status="canceled"))
    account = db.get(Customer, "acc_1")
    db.refresh(account)
    assert (account.plan, account.mrr, account.seats_purchased) == ("growth", 0, 20)  # type: ignore[union-attr]


def test_the_fast_sqlite_path_writes_exactly_what_sqlalchemy_would(
    tmp_path: Path, row: Row, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite batches go to the driver directly (writer._executemany_on_driver); the result must not differ from
    # SQLAlchemy's own executemany, value for value (dates, times with zones, JSON, booleans, nulls).
    contents = []
    for name in ("fast", "sqlalchemy"):
        if name == "sqlalchemy":
            monkeypatch.setattr(writer, "_no_python_defaults_missing", lambda *_: False)
        engine = make_engine(f"sqlite:///{tmp_path / name}.db")
        upgrade(engine)
        with session_factory(engine)() as session:
            _one_of_each(session, row)
            session.commit()
            contents.append(_everything(session))
        engine.dispose()
    # contacts.created_at is the time of writing, which differs between the two runs.
    for content in contents:
        content["contacts"] = [contact[:-1] for contact in content["contacts"]]
    assert contents[0] == contents[1]
