"""Customer accounts and their usage, read from the database as plain frozen dataclasses."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keepwell.models import Customer, UsageSnapshot


@dataclass(frozen=True)
class Usage:
    """Usage over the `period_days` days ending at `period_end`."""

    period_end: date
    logins: int
    active_users: int
    feature_adoption: float  # share (0..1) of the key features in use
    support_tickets: int
    nps: int | None  # latest NPS answer 0..10, None when nobody answered
    csat: float | None  # mean CSAT answer 1..5, None when nobody answered
    period_days: int = 30  # 30 (monthly) or 7 (weekly) snapshots
    features: dict[str, int] | None = None  # per key feature, the users who used it; None when not reported


@dataclass(frozen=True)
class Account:
    """A customer account with its latest usage snapshot (None before the first one is recorded)."""

    id: str
    name: str
    plan: str
    company_size: str
    lifecycle_stage: str
    mrr: float
    seats_purchased: int
    seats_used: int
    signup_date: date
    renewal_date: date
    usage: Usage | None

    def days_to_renewal(self, today: date) -> int:
        """Days from `today` until the renewal date; negative once the renewal date has passed."""
        return (self.renewal_date - today).days

    @property
    def seat_utilisation(self) -> float:
        """Seats used / seats purchased (can exceed 1 when over-assigned); 0 when no seats are purchased."""
        if self.seats_purchased <= 0:
            return 0.0
        return self.seats_used / self.seats_purchased


def get_account(session: Session, customer_id: str) -> Account | None:
    """Return the account with its latest usage, or None when no customer has this id."""
    customer = session.get(Customer, customer_id) if customer_id else None
    if customer is None:
        return None
    latest = session.scalars(
        select(UsageSnapshot)
        .where(UsageSnapshot.customer_id == customer_id)
        .order_by(UsageSnapshot.period_end.desc(), UsageSnapshot.id.desc())
        .limit(1)
    ).first()
    return _account(customer, latest)


def list_accounts(session: Session) -> list[Account]:
    """Return every account ordered by id, each with its latest usage (two queries, whatever the count)."""
    customers = session.scalars(select(Customer).order_by(Customer.id)).all()
    latest_period = (
        select(UsageSnapshot.customer_id, func.max(UsageSnapshot.period_end).label("period_end"))
        .group_by(UsageSnapshot.customer_id)
        .subquery()
    )
    snapshots = session.scalars(
        select(UsageSnapshot).join(
            latest_period,
            (UsageSnapshot.customer_id == latest_period.c.customer_id)
            & (UsageSnapshot.period_end == latest_period.c.period_end),
        )
    ).all()
    latest = _latest_by_customer(snapshots)
    return [_account(customer, latest.get(customer.id)) for customer in customers]


def usage_history(session: Session, customer_id: str) -> list[Usage]:
    """Return every usage snapshot of a customer, oldest first; empty for an unknown customer."""
    snapshots = session.scalars(
        select(UsageSnapshot)
        .where(UsageSnapshot.customer_id == customer_id)
        .order_by(UsageSnapshot.period_end, UsageSnapshot.id)
    ).all()
    return [_usage(snapshot) for snapshot in snapshots]


def _latest_by_customer(snapshots: Iterable[UsageSnapshot]) -> dict[str, UsageSnapshot]:
    # One row per account and period since migration 0003; the id only keeps the order total, as in get_account.
    latest: dict[str, UsageSnapshot] = {}
    for snapshot in snapshots:
        current = latest.get(snapshot.customer_id)
        if current is None or (snapshot.period_end, snapshot.id) > (current.period_end, current.id):
            latest[snapshot.customer_id] = snapshot
    return latest


def _usage(snapshot: UsageSnapshot) -> Usage:
    return Usage(
        period_end=snapshot.period_end,
        logins=snapshot.logins,
        active_users=snapshot.active_users,
        feature_adoption=snapshot.feature_adoption,
        support_tickets=snapshot.support_tickets,
        nps=snapshot.nps,
        csat=snapshot.csat,
        period_days=snapshot.period_days,
        features=snapshot.features,
    )


def _account(customer: Customer, latest: UsageSnapshot | None) -> Account:
    return Account(
        id=customer.id,
        name=customer.name,
        plan=customer.plan,
        company_size=customer.company_size,
        lifecycle_stage=customer.lifecycle_stage,
        mrr=customer.mrr,
        seats_purchased=customer.seats_purchased,
        seats_used=customer.seats_used,
        signup_date=customer.signup_date,
        renewal_date=customer.renewal_date,
        usage=_usage(latest) if latest is not None else None,
    )
