"""Everything the scorecards and segment rules read about every account on a day, in a handful of bulk queries
(one per table, never one per account), so a recompute of 10,000 accounts stays in seconds."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Integer, and_, case, func, or_, select
from sqlalchemy.orm import Session

from keepwell.models import Customer, OnboardingStep, Subscription, SupportTicket, SurveyAnswer, UsageSnapshot
from keepwell.scorecards.measures import TICKET_WINDOW_DAYS, Facts

CSAT_WINDOW_DAYS = 90
NPS_WINDOW_DAYS = 180


@dataclass(frozen=True)
class AccountFacts:
    """An account's own columns (as segment rules need them) and its facts on the day."""

    id: str
    plan: str
    company_size: str
    lifecycle_stage: str
    arr_band: str | None
    touch_model: str | None
    mrr: float
    facts: Facts


def read_all(session: Session, as_of: date) -> list[AccountFacts]:
    """The facts of every account on `as_of` (data after that day is ignored), ordered by account id."""
    end = datetime.combine(as_of + timedelta(days=1), time(), tzinfo=UTC)  # everything before the next day
    usage = _latest_usage(session, as_of)
    tickets = _tickets(session, end)
    surveys = _surveys(session, end)
    onboarding = _onboarding(session, end)
    terms = _terms_in_force(session, as_of)
    customers = session.execute(
        select(
            Customer.id,
            Customer.plan,
            Customer.company_size,
            Customer.lifecycle_stage,
            Customer.arr_band,
            Customer.touch_model,
            Customer.mrr,
            Customer.seats_purchased,
            Customer.seats_used,
            Customer.signup_date,
            Customer.renewal_date,
        ).order_by(Customer.id)
    ).all()
    result = []
    for c in customers:
        u = usage.get(c.id)
        term = terms.get(c.id)
        ticket_count = tickets.get(c.id)
        if ticket_count is None and u is not None:
            # No help-desk records for the account: the product's own count in the snapshot, scaled to 30 days.
            ticket_count = round(u.support_tickets * TICKET_WINDOW_DAYS / max(u.period_days, 1))
        csat, nps = surveys.get(c.id, (None, None))
        if u is not None:
            csat = csat if csat is not None else u.csat
            nps = nps if nps is not None else u.nps
        done, total = onboarding.get(c.id, (0, 0))
        facts = Facts(
            as_of=as_of,
            seats_purchased=term.seats_purchased if term else c.seats_purchased,
            seats_used=term.seats_used if term else c.seats_used,
            signup_date=c.signup_date,
            renewal_date=(term.renews_on if term and term.renews_on else c.renewal_date),
            period_days=None if u is None else u.period_days,
            logins=None if u is None else u.logins,
            active_users=None if u is None else u.active_users,
            feature_adoption=None if u is None else u.feature_adoption,
            features=None if u is None else u.features,
            tickets=ticket_count,
            csat=None if csat is None else float(csat),
            nps=None if nps is None else float(nps),
            billing_state=term.billing_state if term else None,
            onboarding_done=done,
            onboarding_total=total,
        )
        mrr = term.mrr if term else c.mrr
        result.append(
            AccountFacts(c.id, c.plan, c.company_size, c.lifecycle_stage, c.arr_band, c.touch_model, mrr, facts)
        )
    return result


def _latest_usage(session: Session, as_of: date) -> dict:  # type: ignore[type-arg]
    latest = (
        select(UsageSnapshot.customer_id, func.max(UsageSnapshot.period_end).label("period_end"))
        .where(UsageSnapshot.period_end <= as_of)
        .group_by(UsageSnapshot.customer_id)
        .subquery()
    )
    rows = session.execute(
        select(
            UsageSnapshot.customer_id,
            UsageSnapshot.period_days,
            UsageSnapshot.logins,
            UsageSnapshot.active_users,
            UsageSnapshot.feature_adoption,
            UsageSnapshot.features,
            UsageSnapshot.support_tickets,
            UsageSnapshot.nps,
            UsageSnapshot.csat,
        ).join(
            latest,
            and_(UsageSnapshot.customer_id == latest.c.customer_id, UsageSnapshot.period_end == latest.c.period_end),
        )
    ).all()
    return {row.customer_id: row for row in rows}


def _tickets(session: Session, end: datetime) -> dict[str, int]:
    """Tickets opened in the window, for every account with any ticket on record by then."""
    start = end - timedelta(days=TICKET_WINDOW_DAYS)
    in_window = func.sum(case((SupportTicket.opened_at >= start, 1), else_=0))
    rows = session.execute(
        select(SupportTicket.account_id, in_window)
        .where(SupportTicket.opened_at < end)
        .group_by(SupportTicket.account_id)
    ).all()
    return {account_id: int(count or 0) for account_id, count in rows}


def _surveys(session: Session, end: datetime) -> dict[str, tuple[float | None, float | None]]:
    csat_start, nps_start = end - timedelta(days=CSAT_WINDOW_DAYS), end - timedelta(days=NPS_WINDOW_DAYS)
    answered = SurveyAnswer.answered_at
    csat = func.avg(case((and_(SurveyAnswer.kind == "csat", answered >= csat_start), SurveyAnswer.score)))
    nps = func.avg(case((and_(SurveyAnswer.kind == "nps", answered >= nps_start), SurveyAnswer.score)))
    rows = session.execute(
        select(SurveyAnswer.account_id, csat, nps)
        .where(answered < end, answered >= min(csat_start, nps_start))
        .group_by(SurveyAnswer.account_id)
    ).all()
    return {account_id: (c, n) for account_id, c, n in rows}


def _onboarding(session: Session, end: datetime) -> dict[str, tuple[int, int]]:
    done = func.sum(
        case((and_(OnboardingStep.completed_at.is_not(None), OnboardingStep.completed_at < end), 1), else_=0)
    )
    rows = session.execute(
        select(OnboardingStep.account_id, done.cast(Integer), func.count()).group_by(OnboardingStep.account_id)
    ).all()
    return {account_id: (int(d or 0), int(total)) for account_id, d, total in rows}


def _terms_in_force(session: Session, as_of: date) -> dict:  # type: ignore[type-arg]
    rows = session.execute(
        select(
            Subscription.account_id,
            Subscription.mrr,
            Subscription.seats_purchased,
            Subscription.seats_used,
            Subscription.renews_on,
            Subscription.billing_state,
        )
        .where(Subscription.started_on <= as_of, or_(Subscription.ended_on.is_(None), Subscription.ended_on > as_of))
        .order_by(Subscription.account_id, Subscription.started_on, Subscription.id)
    ).all()
    return {row.account_id: row for row in rows}  # the latest-started term in force wins
