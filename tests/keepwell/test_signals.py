"""keepwell/signals.py: each churn signal with worked numbers, at most one open per kind, resolution by "system",
the chat's cancellation request; on SQLite and PostgreSQL."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keepwell import signals
from keepwell.models import ChurnSignal, Customer, HealthSnapshot, SupportTicket, SurveyAnswer, UsageSnapshot

TODAY = date(2025, 6, 1)
RULES = signals.SignalRules()  # the documented defaults: 30 % drop over 4 periods, 3 tickets and 2x, 90 days ...


@pytest.fixture
def customer(db: Session) -> Callable[..., Customer]:
    def _add(customer_id: str = "cus_001", **overrides: Any) -> Customer:
        fields: dict[str, Any] = {
            "name": f"Account {customer_id}", "plan": "growth", "company_size": "mid", "lifecycle_stage": "mature",
            "mrr": 480.0, "seats_purchased": 20, "seats_used": 18, "signup_date": date(2024, 1, 1),
            "renewal_date": date(2026, 1, 1),
        }  # fmt: skip
        fields.update(overrides)
        row = Customer(id=customer_id, **fields)
        db.add(row)
        db.flush()
        return row

    return _add


def _weekly_logins(db: Session, customer_id: str, logins: list[int], last: date = TODAY) -> None:
    """Weekly snapshots ending at `last`, oldest first."""
    for n, count in enumerate(reversed(logins)):
        db.add(
            UsageSnapshot(
                customer_id=customer_id, period_end=last - timedelta(weeks=n), period_days=7, logins=count,
                active_users=10, feature_adoption=0.5, support_tickets=0,
            )
        )  # fmt: skip
    db.flush()


def _tickets(db: Session, customer_id: str, days_ago: list[int]) -> None:
    for n, ago in enumerate(days_ago):
        opened = datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=UTC) - timedelta(days=ago)
        db.add(SupportTicket(external_id=f"{customer_id}-t{n}", account_id=customer_id, opened_at=opened))
    db.flush()


def _nps(db: Session, customer_id: str, score: int, days_ago: int, n: int = 0, comment: str | None = None) -> None:
    at = datetime(TODAY.year, TODAY.month, TODAY.day, 9, tzinfo=UTC) - timedelta(days=days_ago)
    db.add(SurveyAnswer(external_id=f"{customer_id}-nps{n}", account_id=customer_id, kind="nps", score=score,
                        answered_at=at, comment=comment))  # fmt: skip
    db.flush()


def _health(db: Session, customer_id: str, band: str, score: int, as_of: date = TODAY) -> None:
    db.add(HealthSnapshot(account_id=customer_id, as_of=as_of, scorecard="default", score=score, band=band))
    db.flush()


def _open(db: Session, kind: str | None = None) -> list[ChurnSignal]:
    query = select(ChurnSignal).where(ChurnSignal.resolved_at.is_(None)).order_by(ChurnSignal.account_id)
    return list(db.scalars(query if kind is None else query.where(ChurnSignal.kind == kind)))


def test_usage_drop_compares_the_latest_period_with_the_accounts_own_trailing_average(db, customer) -> None:
    # Weekly logins 70, 70, 84, 56 average 70 (10 a day); 42 in the latest week is 6 a day: a 40 % drop >= 30 %.
    customer("cus_drop")
    _weekly_logins(db, "cus_drop", [70, 70, 84, 56, 42])
    # 70 -> 56 is a 20 % drop: not enough.
    customer("cus_dip")
    _weekly_logins(db, "cus_dip", [70, 70, 70, 70, 56])
    summary = signals.detect_all(db, TODAY, RULES)
    [signal] = _open(db, signals.USAGE_DROP)
    assert signal.account_id == "cus_drop"
    assert signal.evidence["logins_per_day"] == 6.0 and signal.evidence["trailing_logins_per_day"] == 10.0
    assert signal.evidence["drop_share"] == 0.4 and signal.evidence["trailing_periods"] == 4
    assert "fell 40%" in signal.evidence["summary"]
    assert summary.opened[signals.USAGE_DROP] == 1


def test_usage_drop_reads_per_day_so_weekly_and_monthly_snapshots_mix(db, customer) -> None:
    customer("cus_mix")
    for n, (days, logins) in enumerate([(30, 300), (30, 300), (7, 35)]):  # 10, 10, then 5 a day: a 50 % drop
        end = TODAY - timedelta(days=60 - 30 * n) if n < 2 else TODAY
        db.add(UsageSnapshot(customer_id="cus_mix", period_end=end, period_days=days, logins=logins,
                             active_users=5, feature_adoption=0.5, support_tickets=0))  # fmt: skip
    db.flush()
    signals.detect_all(db, TODAY, RULES)
    [signal] = _open(db, signals.USAGE_DROP)
    assert signal.evidence["drop_share"] == 0.5


def test_usage_drop_needs_two_earlier_periods_and_ignores_snapshots_after_today(db, customer) -> None:
    customer("cus_new")
    _weekly_logins(db, "cus_new", [70, 7])  # one earlier period: not enough history to judge
    customer("cus_future")
    _weekly_logins(db, "cus_future", [70, 70, 70, 7], last=TODAY + timedelta(weeks=1))  # the drop is next week
    signals.detect_all(db, TODAY, RULES)
    assert _open(db, signals.USAGE_DROP) == []


def test_ticket_surge_counts_the_last_window_against_the_three_before(db, customer) -> None:
    # 4 tickets in the last 30 days against 3 in the 90 days before (1 a window): 4 >= 3 and 4 >= 2 x 1.
    customer("cus_surge")
    _tickets(db, "cus_surge", [0, 3, 10, 29, 40, 70, 100, 130])  # 130 days ago is outside the baseline
    # 3 recent against 6 before (2 a window): 3 < 2 x 2, no surge.
    customer("cus_busy")
    _tickets(db, "cus_busy", [1, 2, 3, 31, 35, 50, 61, 80, 119])
    # 2 recent against none: below the minimum of 3.
    customer("cus_quiet")
    _tickets(db, "cus_quiet", [1, 2])
    signals.detect_all(db, TODAY, RULES)
    [signal] = _open(db, signals.TICKET_SURGE)
    assert signal.account_id == "cus_surge"
    assert signal.evidence["tickets"] == 4 and signal.evidence["baseline_per_window"] == 1.0


def test_detractor_nps_is_the_latest_answer_in_the_window_at_six_or_below(db, customer) -> None:
    customer("cus_detractor")
    _nps(db, "cus_detractor", 9, days_ago=40, n=0)
    _nps(db, "cus_detractor", 6, days_ago=5, n=1, comment="Too slow lately")
    customer("cus_recovered")  # a detractor earlier, a promoter since
    _nps(db, "cus_recovered", 3, days_ago=40, n=0)
    _nps(db, "cus_recovered", 9, days_ago=5, n=1)
    customer("cus_old")  # a detractor answer from before the 90-day window
    _nps(db, "cus_old", 2, days_ago=120)
    customer("cus_passive")
    _nps(db, "cus_passive", 7, days_ago=1)
    signals.detect_all(db, TODAY, RULES)
    [signal] = _open(db, signals.DETRACTOR_NPS)
    assert signal.account_id == "cus_detractor"
    assert signal.evidence["score"] == 6 and signal.evidence["comment"] == "Too slow lately"


def test_idle_seats_when_less_than_half_of_the_seats_bought_are_used(db, customer) -> None:
    customer("cus_idle", seats_purchased=50, seats_used=24)  # 48 %
    customer("cus_half", seats_purchased=50, seats_used=25)  # exactly half: not below
    customer("cus_tiny", seats_purchased=4, seats_used=1)  # too few seats to judge
    signals.detect_all(db, TODAY, RULES)
    [signal] = _open(db, signals.IDLE_SEATS)
    assert signal.account_id == "cus_idle"
    assert signal.evidence == {
        "seats_used": 24, "seats_purchased": 50, "used_share": 0.48, "summary": "24 of 50 seats used (48%)",
    }  # fmt: skip


def test_red_near_renewal_reads_the_latest_health_snapshot(db, customer) -> None:
    customer("cus_red_soon", renewal_date=TODAY + timedelta(days=60))  # exactly at the 60-day edge
    _health(db, "cus_red_soon", "green", 80, as_of=TODAY - timedelta(days=7))
    _health(db, "cus_red_soon", "red", 31)
    customer("cus_red_later", renewal_date=TODAY + timedelta(days=61))
    _health(db, "cus_red_later", "red", 20)
    customer("cus_recovered", renewal_date=TODAY + timedelta(days=10))  # red last week, yellow now
    _health(db, "cus_recovered", "red", 20, as_of=TODAY - timedelta(days=7))
    _health(db, "cus_recovered", "yellow", 45)
    customer("cus_lapsed", renewal_date=TODAY - timedelta(days=1))  # the renewal date has passed
    _health(db, "cus_lapsed", "red", 20)
    signals.detect_all(db, TODAY, RULES)
    [signal] = _open(db, signals.RED_NEAR_RENEWAL)
    assert signal.account_id == "cus_red_soon"
    assert signal.evidence["days_to_renewal"] == 60 and signal.evidence["score"] == 31


def test_detection_again_changes_nothing_and_a_cleared_condition_is_resolved_by_system(db, customer) -> None:
    customer("cus_idle", seats_purchased=20, seats_used=5)
    first = signals.detect_all(db, TODAY, RULES)
    db.commit()
    again = signals.detect_all(db, TODAY, RULES)
    db.commit()
    assert first.opened[signals.IDLE_SEATS] == 1 and sum(again.opened.values()) == 0 and again.open_after == 1
    db.get(Customer, "cus_idle").seats_used = 15  # type: ignore[union-attr]
    cleared = signals.detect_all(db, TODAY, RULES)
    db.commit()
    [signal] = db.scalars(select(ChurnSignal)).all()
    assert cleared.resolved[signals.IDLE_SEATS] == 1 and cleared.open_after == 0
    assert signal.resolved_by == "system" and signal.resolution == "no longer holds: 15 of 20 seats used (75%)"
    # It comes back as a new signal when the condition returns.
    db.get(Customer, "cus_idle").seats_used = 2  # type: ignore[union-attr]
    signals.detect_all(db, TODAY, RULES)
    db.commit()
    assert len(db.scalars(select(ChurnSignal)).all()) == 2 and len(_open(db)) == 1


def test_an_unknown_condition_leaves_an_open_signal_alone(db, customer) -> None:
    customer("cus_drop")
    _weekly_logins(db, "cus_drop", [70, 70, 70, 7])
    signals.detect_all(db, TODAY, RULES)
    db.query(UsageSnapshot).delete()  # the history is gone: nothing says the drop is over
    summary = signals.detect_all(db, TODAY, RULES)
    assert summary.resolved[signals.USAGE_DROP] == 0 and len(_open(db, signals.USAGE_DROP)) == 1


def test_detect_for_one_account_touches_no_other(db, customer) -> None:
    customer("cus_a", seats_used=1)
    customer("cus_b", seats_used=1)
    summary = signals.detect(db, "cus_a", TODAY, RULES)
    assert summary.accounts == 1 and [s.account_id for s in _open(db)] == ["cus_a"]


def test_thresholds_come_from_the_settings(db, customer, monkeypatch: pytest.MonkeyPatch) -> None:
    from keepwell.settings import CoreSettings

    settings = CoreSettings(demo_mode=True, signal_idle_seats_share=0.95)  # type: ignore[call-arg]
    customer("cus_a", seats_purchased=20, seats_used=18)  # 90 %: idle under a 95 % bar
    signals.detect_all(db, TODAY, signals.SignalRules.from_settings(settings))
    assert [s.kind for s in _open(db)] == [signals.IDLE_SEATS]


def test_a_cancellation_request_opens_once_and_is_never_resolved_by_detection(db, customer) -> None:
    customer("cus_leaving")
    first_id, created = signals.open_cancellation_request(db, "cus_leaving", "cancelling", "cancel our plan", "c1")
    second_id, created_again = signals.open_cancellation_request(db, "cus_leaving", "a refund", "refund pls", "c2")
    db.commit()
    assert created and not created_again and first_id == second_id
    signals.detect_all(db, TODAY, RULES)
    [signal] = _open(db)
    assert signal.kind == signals.CANCELLATION_REQUEST and signal.evidence["conversation_id"] == "c1"
    assert signals.resolve(db, signal.id, "csm@demo.test", "Talked them round: staying on Growth")
    assert not signals.resolve(db, signal.id, "csm@demo.test", "twice")
    db.commit()
    assert _open(db) == [] and signals.list_signals(db, open_only=False)[0].resolved_by == "csm@demo.test"


def test_the_unique_index_refuses_a_second_open_signal_and_open_signal_survives_it(db, customer) -> None:
    customer("cus_race")
    db.add(ChurnSignal(account_id="cus_race", kind=signals.IDLE_SEATS, evidence={}))
    db.commit()
    # A concurrent writer got there first: open_signal's own check is past, the index still holds.
    with pytest.raises(IntegrityError):
        with db.begin_nested():
            db.add(ChurnSignal(account_id="cus_race", kind=signals.IDLE_SEATS, evidence={}))
    signal_id, created = signals.open_signal(db, "cus_race", signals.IDLE_SEATS, {"summary": "x"})
    assert not created and signal_id == _open(db)[0].id


def test_an_unknown_kind_is_refused(db, customer) -> None:
    customer("cus_a")
    with pytest.raises(ValueError, match="unknown churn signal kind 'bored'"):
        signals.open_signal(db, "cus_a", "bored", {})
