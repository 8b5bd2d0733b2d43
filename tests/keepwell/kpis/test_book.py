"""keepwell/kpis/book.py: the KPIs of a small hand-made book, worked out by hand, on SQLite and PostgreSQL."""

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from keepwell.db import session_factory, upgrade
from keepwell.kpis import Period, Report, Scope, UnknownScope, account_kpis, book_kpis, kpis, segment_kpis
from keepwell.settings import CoreSettings
from tests.keepwell.kpis.world import fill

MAY = Period.month_of(2025, 5)  # 1 May to 1 June 2025: 31 days
MONTHS = 31 / (365.25 / 12)
SETTINGS = CoreSettings(demo_mode=True, kpi_retention_spend=2000.0, kpi_gross_margin=0.8, kpi_acquisition_cost=1000.0)
UNSET = CoreSettings(demo_mode=True)


@pytest.fixture
def book(database: Engine) -> Iterator[Session]:
    """A session on a database holding BOOK and ANSWERS, on each backend."""
    upgrade(database)
    with session_factory(database)() as session:
        fill(session)
        yield session


def _values(report: Report) -> dict[str, Any]:
    return {kpi.name: kpi.value for kpi in report.kpis}


def test_the_whole_books_kpis(book: Session) -> None:
    report = book_kpis(book, MAY, SETTINGS)
    values = _values(report)
    monthly_churn = 1 - (1 - 0.25) ** (1 / MONTHS)  # 1 of the 4 customers at the start lost, over 31 days
    lifetime = 1 / monthly_churn
    assert report.accounts == 8
    assert values == pytest.approx(
        {
            "mrr": 2900.0,  # A 1,000 + B 300 + D 1,500 + E 100
            "arr": 34_800.0,
            "customers": 4.0,
            "arpa": 725.0,
            "churn_rate": 0.25,
            "monthly_churn": monthly_churn,
            "grr": 2700 / 3700,  # (3,700 - 500 contraction - 500 churned) / 3,700
            "nrr": 2800 / 3700,  # (3,700 + 100 - 500 - 500) / 3,700
            "retention_cost": 500.0,  # 2,000 a month / 4 customers
            "csat": 2 / 3,
            "nps": 25.0,  # (2 promoters - 1 detractor) / 4 answers
            "lifetime": lifetime,
            "ltv": 725 / monthly_churn,
            "ltv_margin": 725 * 0.8 / monthly_churn,
            "ltv_purchases": 725 * lifetime,
            "ltv_net": 725 * lifetime - (1000 + 500 * lifetime),
        }
    )
    assert all(kpi.note is None for kpi in report.kpis)


def test_a_segment_without_churn_leaves_ltv_undefined_and_says_why(book: Session) -> None:
    report = segment_kpis(book, "growth", MAY, SETTINGS)  # A, B, G (trial) and H (gone before May)
    assert report.accounts == 4
    assert report["mrr"].value == 1300.0
    assert report["churn_rate"].value == 0.0
    assert report["nrr"].value == pytest.approx(1300 / 1200)
    assert report["grr"].value == 1.0
    for name in ("lifetime", "ltv", "ltv_margin", "ltv_purchases", "ltv_net"):
        assert report[name].value is None
        assert report[name].note == "no customer churned, so the expected lifetime (1 / churn rate) is unbounded"


def test_segment_keys_with_wildcards(book: Session) -> None:
    report = segment_kpis(book, "starter.small.*", MAY, SETTINGS)  # C (lost) and E (new)
    assert (report.accounts, report["mrr"].value, report["churn_rate"].value) == (2, 100.0, 1.0)
    assert report["grr"].value == 0.0
    assert segment_kpis(book, "*.*.mature", MAY, SETTINGS).accounts == 0


def test_an_empty_segment_has_no_customers_to_divide_by(book: Session) -> None:
    report = segment_kpis(book, "onboarding", MAY, SETTINGS)
    assert report["mrr"].value == 0.0
    assert report["arpa"].note == "no paying account to average over"
    assert report["churn_rate"].note == "no customer at the start of the period"
    assert report["nrr"].note == "no recurring revenue at the start of the period"
    assert report["csat"].note == "no CSAT answer"


def test_one_accounts_ltv_uses_the_books_churn(book: Session) -> None:
    report = account_kpis(book, "acc_d", MAY, SETTINGS)
    monthly_churn = 1 - 0.75 ** (1 / MONTHS)
    assert report["mrr"].value == 1500.0
    assert report["nrr"].value == 0.75
    assert report["churn_rate"].value == 0.0
    assert report["monthly_churn"].value == pytest.approx(monthly_churn)
    assert report["monthly_churn"].note == "the book's (one account's own churn is 0 or 1)"
    assert report["ltv"].value == pytest.approx(1500 / monthly_churn)
    assert report["nps"].value == 0.0  # one passive (7); the 0 came on 1 June


def test_costs_that_are_not_set_are_named(book: Session) -> None:
    report = book_kpis(book, MAY, UNSET)
    assert report["ltv_margin"].note == "set KEEPWELL_KPI_GROSS_MARGIN"
    assert report["retention_cost"].note == "set KEEPWELL_KPI_RETENTION_SPEND"
    assert report["ltv_net"].note == "set KEEPWELL_KPI_ACQUISITION_COST"
    assert report["ltv"].value is not None


def test_unknown_scopes_are_refused(book: Session) -> None:
    with pytest.raises(UnknownScope, match="no account has the id 'acc_zz'"):
        account_kpis(book, "acc_zz", MAY, SETTINGS)
    for name in ("gold", "growth.mid", "growth.huge.*"):
        with pytest.raises(UnknownScope, match=f"unknown segment '{name}'"):
            Scope.segment(name)
    assert kpis(book, Scope.segment(" Growth "), MAY, SETTINGS).accounts == 4


def test_periods() -> None:
    assert Period.month_before(date(2025, 3, 15)) == Period(date(2025, 2, 1), date(2025, 3, 1))
    assert Period.month_before(date(2025, 1, 1)) == Period(date(2024, 12, 1), date(2025, 1, 1))
    assert Period.month_of(2024, 2) == Period(date(2024, 2, 1), date(2024, 3, 1))
    with pytest.raises(ValueError, match="ends after it starts"):
        Period(date(2025, 5, 1), date(2025, 5, 1))


def test_the_report_as_a_dict(book: Session) -> None:
    data = book_kpis(book, MAY, SETTINGS).as_dict()
    assert data["period"] == {"start": "2025-05-01", "end": "2025-06-01"}
    assert data["kpis"]["mrr"] == {"label": "MRR", "value": 2900.0, "unit": "usd_per_month", "note": None}
