"""keepwell/importing/validation.py through the public `importing.validate`: every row checked against its kind,
duplicates within a batch, and references to accounts, contacts and CSMs that do not exist, each error naming the
item, the field and the reason."""

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from keepwell import importing, staff
from keepwell.importing import KINDS

Row = Callable[..., dict[str, Any]]


def _seed_account(db: Session, row: Row) -> None:
    records, errors = importing.validate(db, "accounts", [row("accounts")])
    assert errors == []
    importing.write(db, "accounts", records)


@pytest.mark.parametrize("kind", [kind for kind in KINDS if kind != "accounts"])
def test_a_valid_row_of_every_kind_passes_once_its_account_exists(db: Session, row: Row, kind: str) -> None:
    _seed_account(db, row)
    importing.write(db, "contacts", importing.validate(db, "contacts", [row("contacts")]).records)
    records, errors = importing.validate(
        db, kind, [row(kind, contact_external_id="con_1")] if kind in ("tickets", "surveys") else [row(kind)]
    )
    assert errors == []
    assert len(records) == 1


def test_a_bad_type_names_the_item_the_field_and_the_value(db: Session, row: Row) -> None:
    _seed_account(db, row)
    items = [row("usage"), row("usage", period_end="2025-06-01", logins="many")]
    records, errors = importing.validate(db, "usage", items)
    assert [r.period_end.isoformat() for r in records] == ["2025-05-25"]
    assert [(e.line, e.field) for e in errors] == [(1, "logins")]
    assert "valid integer" in errors[0].reason and "'many'" in errors[0].reason
    assert errors[0].as_dict() == {"item": 1, "field": "logins", "reason": errors[0].reason}


def test_missing_fields_are_each_named(db: Session, row: Row) -> None:
    _, errors = importing.validate(db, "accounts", [row("accounts", plan=None, signup_date=None)])
    assert {(e.line, e.field, e.reason) for e in errors} == {
        (0, "plan", "Field required"),
        (0, "signup_date", "Field required"),
    }


def test_an_unknown_field_is_refused_rather_than_dropped(db: Session, row: Row) -> None:
    _, errors = importing.validate(db, "accounts", [row("accounts", mmr=100)])
    assert [(e.field, e.reason) for e in errors] == [("mmr", "Extra inputs are not permitted")]


def test_a_duplicate_natural_key_in_one_batch_names_the_first_item(db: Session, row: Row) -> None:
    _seed_account(db, row)
    items = [row("usage"), row("usage", period_end="2025-06-01"), row("usage", logins=5)]
    records, errors = importing.validate(db, "usage", items)
    assert len(records) == 2
    assert [(e.line, e.reason) for e in errors] == [
        (2, "duplicate of item 0 (account_id acc_1, period_end 2025-05-25)")
    ]


def test_an_account_neither_in_the_database_nor_the_batch_is_unknown(db: Session, row: Row) -> None:
    records, errors = importing.validate(db, "subscriptions", [row("subscriptions", account_id="acc_ghost")])
    assert records == []
    assert [(e.line, e.field) for e in errors] == [(0, "account_id")]
    assert "unknown account 'acc_ghost'" in errors[0].reason


def test_an_unknown_contact_is_refused(db: Session, row: Row) -> None:
    _seed_account(db, row)
    _, errors = importing.validate(db, "surveys", [row("surveys", contact_external_id="con_ghost")])
    assert [(e.field, e.reason[:24]) for e in errors] == [("contact_external_id", "unknown contact 'con_gho")]


def test_an_owner_must_be_a_console_user_and_is_matched_without_case(db: Session, row: Row) -> None:
    staff.create(db, "csm@example.com", "a-long-enough-password")
    records, errors = importing.validate(
        db, "accounts", [row("accounts", owner="CSM@example.com"), row("accounts", id="acc_2", owner="nobody@x.io")]
    )
    assert [r.owner for r in records] == ["csm@example.com"]
    assert [(e.line, e.field) for e in errors] == [(1, "owner")]


@pytest.mark.parametrize(
    ("kind", "score", "ok"), [("csat", 5, True), ("csat", 0, False), ("nps", 0, True), ("nps", 11, False)]
)
def test_a_survey_score_is_checked_against_its_scale(db: Session, row: Row, kind: str, score: int, ok: bool) -> None:
    _seed_account(db, row)
    _, errors = importing.validate(db, "surveys", [row("surveys", kind=kind, score=score)])
    assert (errors == []) is ok


def test_feature_adoption_is_the_share_of_features_used_when_not_given(db: Session, row: Row) -> None:
    _seed_account(db, row)
    usage = row("usage", feature_adoption=None, features={"tasks": 12, "automations": 0, "reports": 3, "api": 0})
    records, errors = importing.validate(
        db, "usage", [usage, row("usage", period_end="2025-06-01", feature_adoption=None)]
    )
    assert records[0].feature_adoption == 0.5
    assert [(e.line, "feature_adoption or the per-feature use" in e.reason) for e in errors] == [(1, True)]


def test_a_row_that_is_not_an_object_is_an_error(db: Session) -> None:
    _, errors = importing.validate(db, "usage", [["acc_1", "2025-05-25"]])
    assert [(e.line, e.reason) for e in errors] == [(0, "is a list, not an object")]
