"""An account's current terms: the `customers` row's plan, MRR, seats and renewal date follow the subscription term
in force, whatever wrote the subscriptions (an import, the ingest API)."""

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.orm import Session

from keepwell.batches import batched
from keepwell.models import Customer, Subscription

_BATCH = 500


def sync_current_terms(session: Session, account_ids: Iterable[str], today: date) -> int:
    """Copy each account's current subscription term onto its `customers` row; returns the accounts updated.

    The current term is the one in force today (started, not ended), the latest started if several are. An account
    whose terms have all ended keeps the last one's plan and seats at MRR 0 (it pays nothing now). An account without
    a term started by today keeps the terms its row has.
    """
    changes: list[dict[str, object]] = []
    for batch in batched(sorted(set(account_ids)), _BATCH):
        # Plain rows, not ORM objects: a large import syncs tens of thousands of accounts.
        terms = session.execute(
            select(
                Subscription.account_id,
                Subscription.plan,
                Subscription.mrr,
                Subscription.seats_purchased,
                Subscription.seats_used,
                Subscription.renews_on,
                Subscription.ended_on,
            )
            .where(Subscription.account_id.in_(batch), Subscription.started_on <= today)
            .order_by(Subscription.account_id, Subscription.started_on, Subscription.id)
        ).all()
        latest: dict[str, Row[Any]] = {}
        in_force: dict[str, Row[Any]] = {}
        for term in terms:
            latest[term.account_id] = term
            if term.ended_on is None or today < term.ended_on:
                in_force[term.account_id] = term
        for account_id, last in latest.items():
            term = in_force.get(account_id, last)
            changes.append(
                {
                    "b_id": account_id,
                    "plan": term.plan,
                    "mrr": term.mrr if account_id in in_force else 0.0,
                    "seats_purchased": term.seats_purchased,
                    "seats_used": term.seats_used,
                    "renews_on": term.renews_on,
                }
            )
    if not changes:
        return 0
    statement = (
        update(Customer.__table__)  # type: ignore[arg-type]
        .where(Customer.__table__.c.id == bindparam("b_id"))
        .values(
            plan=bindparam("plan"),
            mrr=bindparam("mrr"),
            seats_purchased=bindparam("seats_purchased"),
            seats_used=bindparam("seats_used"),
        )
    )
    session.execute(statement, changes)
    renewals = [{"b_id": change["b_id"], "renews_on": change["renews_on"]} for change in changes if change["renews_on"]]
    if renewals:
        session.execute(
            update(Customer.__table__)  # type: ignore[arg-type]
            .where(Customer.__table__.c.id == bindparam("b_id"))
            .values(renewal_date=bindparam("renews_on")),
            renewals,
        )
    return len(changes)
