"""Accounts read from the database: latest usage, history, and plain frozen dataclasses out."""

import dataclasses
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy.orm import Session

from keepwell.accounts import Account, Usage, get_account, list_accounts, usage_history
from keepwell.models import Customer

AddCustomer = Callable[..., Customer]


def test_get_account_returns_the_latest_usage(session: Session, add_customer: AddCustomer) -> None:
    # Inserted out of order: "latest" must mean the latest period, not the last row.
    add_customer(
        "cus_001",
        usage=[
            {"period_end": date(2025, 5, 2), "logins": 300},
            {"period_end": date(2025, 6, 1), "logins": 250},
            {"period_end": date(2025, 4, 2), "logins": 100},
        ],
    )

    account = get_account(session, "cus_001")

    assert isinstance(account, Account)
    assert account.name == "Copperleaf Studios"
    assert account.seats_purchased == 10 and account.seats_used == 8
    assert isinstance(account.usage, Usage)
    assert (account.usage.period_end, account.usage.logins) == (date(2025, 6, 1), 250)


def test_unknown_or_empty_id_is_none(session: Session, add_customer: AddCustomer) -> None:
    add_customer("cus_001")

    assert get_account(session, "cus_999") is None
    assert get_account(session, "") is None


def test_account_without_usage_has_none(session: Session, add_customer: AddCustomer) -> None:
    add_customer("cus_001")

    account = get_account(session, "cus_001")

    assert account is not None and account.usage is None


def test_accounts_are_frozen_and_detached_from_the_session(session: Session, add_customer: AddCustomer) -> None:
    add_customer("cus_001", usage=[{"period_end": date(2025, 6, 1)}])
    account = get_account(session, "cus_001")
    assert account is not None

    with pytest.raises(dataclasses.FrozenInstanceError):
        account.plan = "enterprise"  # type: ignore[misc]
    session.close()
    assert account.usage is not None and account.usage.logins == 100  # no lazy load needed


def test_list_accounts_orders_by_id_with_each_latest_usage(session: Session, add_customer: AddCustomer) -> None:
    add_customer("cus_002", name="Driftwood Media", usage=[{"period_end": date(2025, 5, 2), "logins": 7}])
    add_customer(
        "cus_001",
        usage=[{"period_end": date(2025, 5, 2), "logins": 1}, {"period_end": date(2025, 6, 1), "logins": 2}],
    )
    add_customer("cus_003", name="Emberline Labs")

    accounts = list_accounts(session)

    assert [a.id for a in accounts] == ["cus_001", "cus_002", "cus_003"]
    assert [a.usage.logins if a.usage else None for a in accounts] == [2, 7, None]


def test_list_accounts_agrees_with_get_account(session: Session, add_customer: AddCustomer) -> None:
    # The latest period was recorded first (a late import of an older period): both readers pick the latest period.
    # A second row for the same period cannot exist (a unique key since migration 0003).
    add_customer(
        "cus_001",
        usage=[{"period_end": date(2025, 6, 1), "logins": 2}, {"period_end": date(2025, 5, 1), "logins": 1}],
    )

    [listed] = list_accounts(session)

    assert listed == get_account(session, "cus_001")
    assert listed.usage is not None and listed.usage.logins == 2


def test_empty_database_lists_nothing(session: Session) -> None:
    assert list_accounts(session) == []


def test_usage_history_is_oldest_first(session: Session, add_customer: AddCustomer) -> None:
    add_customer(
        "cus_001",
        usage=[
            {"period_end": date(2025, 6, 1), "nps": None, "csat": None},
            {"period_end": date(2025, 4, 2)},
            {"period_end": date(2025, 5, 2)},
        ],
    )

    history = usage_history(session, "cus_001")

    assert [u.period_end for u in history] == [date(2025, 4, 2), date(2025, 5, 2), date(2025, 6, 1)]
    assert (history[-1].nps, history[-1].csat) == (None, None)
    assert usage_history(session, "cus_404") == []


@pytest.mark.parametrize(("today", "days"), [(date(2026, 2, 1), 28), (date(2026, 3, 1), 0), (date(2026, 3, 11), -10)])
def test_days_to_renewal(session: Session, add_customer: AddCustomer, today: date, days: int) -> None:
    add_customer("cus_001", renewal_date=date(2026, 3, 1))
    account = get_account(session, "cus_001")

    assert account is not None and account.days_to_renewal(today) == days


@pytest.mark.parametrize(("purchased", "used", "expected"), [(10, 8, 0.8), (10, 12, 1.2), (0, 0, 0.0)])
def test_seat_utilisation(make_account: Callable[..., Account], purchased: int, used: int, expected: float) -> None:
    assert make_account(seats_purchased=purchased, seats_used=used).seat_utilisation == pytest.approx(expected)
