"""The offer funnel: every offer shown, clicked and accepted, recorded in `offer_events`; what an account's record
means for the next recommendation (`standing`); and the funnel counted per offer for the console."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keepwell import signals
from keepwell.accounts import Account
from keepwell.health import HealthScore
from keepwell.models import CSMTask, Customer, OfferEvent, Subscription, utcnow
from keepwell.models.offers import OFFER_EVENTS
from keepwell.offer_catalogue import Offer
from keepwell.offers import Recommendation, Standing, recommend
from keepwell.settings import get_core_settings


@dataclass(frozen=True)
class FunnelRow:
    """One offer's funnel over a period: accounts' showings, clicks and acceptances, and the step-to-step rates."""

    offer_id: str
    shown: int
    clicked: int
    accepted: int

    @property
    def click_rate(self) -> float | None:
        """Clicked / shown; None when it was never shown."""
        return self.clicked / self.shown if self.shown else None

    @property
    def accept_rate(self) -> float | None:
        """Accepted / clicked; None when it was never clicked."""
        return self.accepted / self.clicked if self.clicked else None


def record(
    session: Session,
    account_id: str,
    offer_id: str,
    event: str,
    conversation_id: str | None = None,
    at: datetime | None = None,
) -> None:
    """Record one step of the funnel. The caller commits."""
    if event not in OFFER_EVENTS:
        raise ValueError(f"unknown offer event {event!r}; known: {list(OFFER_EVENTS)}")
    session.add(
        OfferEvent(
            account_id=account_id, offer_id=offer_id, event=event, conversation_id=conversation_id, at=at or utcnow()
        )
    )


def standing(
    session: Session, account_id: str, now: datetime | None = None, repeat_days: int | None = None
) -> Standing:
    """The account's open churn signals, the offers shown to it within `repeat_days` (default
    `KEEPWELL_OFFER_REPEAT_DAYS`), the offers it accepted and the add-ons of its subscription term in force."""
    now = now or utcnow()
    days = get_core_settings().offer_repeat_days if repeat_days is None else repeat_days
    rows = session.execute(
        select(OfferEvent.offer_id, OfferEvent.event).where(
            OfferEvent.account_id == account_id,
            (OfferEvent.event == "accepted")
            | ((OfferEvent.event == "shown") & (OfferEvent.at > now - timedelta(days=days))),
        )
    ).all()
    return Standing(
        open_signals=signals.open_kinds(session, account_id),
        recently_shown=frozenset(offer_id for offer_id, event in rows if event == "shown"),
        owned=frozenset(offer_id for offer_id, event in rows if event == "accepted"),
        add_ons=frozenset(current_add_ons(session, account_id, now.date())),
    )


def current_add_ons(session: Session, account_id: str, today: date) -> list[str]:
    """The add-ons of the account's term in force on `today` (the latest started, not ended); none without one."""
    return (
        session.scalar(
            select(Subscription.add_ons)
            .where(
                Subscription.account_id == account_id,
                Subscription.started_on <= today,
                (Subscription.ended_on.is_(None)) | (Subscription.ended_on > today),
            )
            .order_by(Subscription.started_on.desc(), Subscription.id.desc())
            .limit(1)
        )
        or []
    )


def recommend_and_record(
    session: Session,
    account: Account,
    health: HealthScore,
    catalogue: Sequence[Offer],
    conversation_id: str | None = None,
    now: datetime | None = None,
) -> Recommendation:
    """Recommend under the account's standing and record each offer shown. The caller commits."""
    now = now or utcnow()
    recommendation = recommend(account, health, catalogue, standing=standing(session, account.id, now))
    for offer in recommendation.offers:
        record(session, account.id, offer.id, "shown", conversation_id, now)
    return recommendation


def funnel(session: Session, start: datetime | None = None, end: datetime | None = None) -> list[FunnelRow]:
    """Shown, clicked and accepted per offer over [start, end) (all time by default), most shown first."""
    query = select(OfferEvent.offer_id, OfferEvent.event, func.count()).group_by(OfferEvent.offer_id, OfferEvent.event)
    if start is not None:
        query = query.where(OfferEvent.at >= start)
    if end is not None:
        query = query.where(OfferEvent.at < end)
    counts: dict[str, dict[str, int]] = {}
    for offer_id, event, count in session.execute(query):
        counts.setdefault(offer_id, dict.fromkeys(OFFER_EVENTS, 0))[event] = count
    rows = [FunnelRow(offer_id, c["shown"], c["clicked"], c["accepted"]) for offer_id, c in counts.items()]
    return sorted(rows, key=lambda row: (-row.shown, row.offer_id))


def was_shown(session: Session, account_id: str, offer_id: str) -> bool:
    """Whether the offer was ever shown to the account: only then may a click or an acceptance be recorded."""
    query = select(OfferEvent.id).where(
        OfferEvent.account_id == account_id, OfferEvent.offer_id == offer_id, OfferEvent.event == "shown"
    )
    return session.scalar(query.limit(1)) is not None


def accept(session: Session, account_id: str, offer: Offer, conversation_id: str | None, today: date) -> bool:
    """The customer said yes to an offer: record it and raise a task for the account's CSM to set it up (once a
    day per account and offer, however often the button is pressed). False when the offer was never shown to the
    account (a forged or foreign button). The caller commits."""
    if not was_shown(session, account_id, offer.id):
        return False
    source_key = f"offer:{account_id}:{offer.id}:{today.isoformat()}"
    if session.scalar(select(CSMTask.id).where(CSMTask.source_key == source_key)) is not None:
        return True
    customer = session.get(Customer, account_id)
    record(session, account_id, offer.id, "accepted", conversation_id)
    session.add(
        CSMTask(
            account_id=account_id,
            owner_id=customer.owner_csm_id if customer else None,
            title=f"{customer.name if customer else account_id} asked for {offer.title}"[:200],
            detail=f"Accepted in chat ({conversation_id or 'no conversation'}): {offer.pitch} See {offer.url}",
            due_on=today + timedelta(days=1),
            source="offer",
            source_key=source_key,
        )
    )
    return True
