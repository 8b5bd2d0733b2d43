"""What churn-signal detection reads, in bulk: a handful of queries for the whole book (or a few accounts),
whatever its size. Each returns plain tuples keyed by account id; `keepwell.signals` judges them."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from keepwell.models import HealthSnapshot, SupportTicket, SurveyAnswer, UsageSnapshot, as_utc

if TYPE_CHECKING:  # signals imports this module
    from keepwell.signals import SignalRules

# Baseline windows before the latest one for the ticket surge.
TICKET_BASELINE_WINDOWS = 3


def only(statement: Any, column: Any, account_ids: Sequence[str] | None) -> Any:
    return statement if account_ids is None else statement.where(column.in_(account_ids))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def recent_usage(
    session: Session, today: date, rules: "SignalRules", account_ids: Sequence[str] | None
) -> dict[str, list[tuple[date, int, int]]]:
    rank = (
        func.row_number()
        .over(partition_by=UsageSnapshot.customer_id, order_by=UsageSnapshot.period_end.desc())
        .label("rank")
    )
    ranked = only(
        select(
            UsageSnapshot.customer_id, UsageSnapshot.period_end, UsageSnapshot.period_days, UsageSnapshot.logins, rank
        ).where(UsageSnapshot.period_end <= today, UsageSnapshot.period_end > today - _usage_horizon(rules)),
        UsageSnapshot.customer_id,
        account_ids,
    ).subquery()
    rows = session.execute(
        select(ranked.c.customer_id, ranked.c.period_end, ranked.c.period_days, ranked.c.logins)
        .where(ranked.c.rank <= rules.usage_trailing_periods + 1)
        .order_by(ranked.c.customer_id, ranked.c.rank)
    )
    usage: dict[str, list[tuple[date, int, int]]] = defaultdict(list)
    for customer_id, period_end, period_days, logins in rows:
        usage[customer_id].append((period_end, period_days, logins))
    return usage


def _usage_horizon(rules: "SignalRules") -> timedelta:
    """How far back the usage comparison reads: enough for its periods if each were a 31-day one. Older snapshots
    cannot be among the latest few of a weekly or monthly series, and skipping them halves the query's time."""
    return timedelta(days=31 * (rules.usage_trailing_periods + 1))


def ticket_counts(
    session: Session, today: date, rules: "SignalRules", account_ids: Sequence[str] | None
) -> dict[str, tuple[int, int]]:
    end = _day_start(today + timedelta(days=1))  # tickets opened today count
    window_start = end - timedelta(days=rules.ticket_window_days)
    baseline_start = window_start - timedelta(days=rules.ticket_window_days * TICKET_BASELINE_WINDOWS)
    recent = func.sum(case((SupportTicket.opened_at >= window_start, 1), else_=0))
    rows = session.execute(
        only(
            select(SupportTicket.account_id, recent, func.count())
            .where(SupportTicket.opened_at >= baseline_start, SupportTicket.opened_at < end)
            .group_by(SupportTicket.account_id),
            SupportTicket.account_id,
            account_ids,
        )
    )
    return {account_id: (int(recent_count), int(total) - int(recent_count)) for account_id, recent_count, total in rows}


def latest_nps(
    session: Session, today: date, rules: "SignalRules", account_ids: Sequence[str] | None
) -> dict[str, tuple[int, datetime, str | None]]:
    end = _day_start(today + timedelta(days=1))
    start = end - timedelta(days=rules.detractor_window_days)
    rank = (
        func.row_number()
        .over(partition_by=SurveyAnswer.account_id, order_by=(SurveyAnswer.answered_at.desc(), SurveyAnswer.id.desc()))
        .label("rank")
    )
    ranked = only(
        select(SurveyAnswer.account_id, SurveyAnswer.score, SurveyAnswer.answered_at, SurveyAnswer.comment, rank).where(
            SurveyAnswer.kind == "nps", SurveyAnswer.answered_at >= start, SurveyAnswer.answered_at < end
        ),
        SurveyAnswer.account_id,
        account_ids,
    ).subquery()
    rows = session.execute(
        select(ranked.c.account_id, ranked.c.score, ranked.c.answered_at, ranked.c.comment).where(ranked.c.rank == 1)
    )
    return {account_id: (score, as_utc(at), comment) for account_id, score, at, comment in rows}


def latest_health(session: Session, today: date, account_ids: Sequence[str] | None) -> dict[str, tuple[date, str, int]]:
    """Each account's latest health snapshot up to `today`: (as_of, band, score)."""
    rank = (
        func.row_number()
        .over(partition_by=HealthSnapshot.account_id, order_by=HealthSnapshot.as_of.desc())
        .label("rank")
    )
    ranked = only(
        select(HealthSnapshot.account_id, HealthSnapshot.as_of, HealthSnapshot.band, HealthSnapshot.score, rank).where(
            HealthSnapshot.as_of <= today
        ),
        HealthSnapshot.account_id,
        account_ids,
    ).subquery()
    rows = session.execute(
        select(ranked.c.account_id, ranked.c.as_of, ranked.c.band, ranked.c.score).where(ranked.c.rank == 1)
    )
    return {account_id: (as_of, band, score) for account_id, as_of, band, score in rows}
