"""The customer 360: everything the customer-success team knows about one account on one page, read from the
services that own each part (health snapshots, KPIs, churn signals, onboarding, offers, tasks, handoffs) and the
account's conversations from the log."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keepwell import accounts, funnel, handoffs, health_history, kpis, signals, tasks
from keepwell.accounts import Account
from keepwell.conversations.records import ROLE_CUSTOMER
from keepwell.handoffs import HandoffView
from keepwell.health import HealthScore
from keepwell.kpis import KPI, Period
from keepwell.kpis.book import DAYS_PER_MONTH
from keepwell.models import Conversation, CSMUser, Customer, Message, OfferEvent, OnboardingStep, as_utc
from keepwell.segments import PLAN_LABELS, segment_of
from keepwell.settings import CoreSettings
from keepwell.signals import SignalView
from keepwell.tasks import TaskView

# The KPIs of the account over the last this many days (MRR and ARR at the end; LTV with the book's churn).
KPI_DAYS = 30
KPI_NAMES = ("mrr", "arr", "ltv")
CONVERSATION_LIMIT = 200


@dataclass(frozen=True)
class Step:
    title: str
    help_url: str | None
    due_on: date | None
    completed_at: datetime | None


@dataclass(frozen=True)
class OfferHistory:
    """One offer's steps with the account: how often shown, clicked and accepted, and when last shown."""

    offer_id: str
    shown: int
    clicked: int
    accepted: int
    last_at: datetime


@dataclass(frozen=True)
class ConversationRow:
    conversation_id: str
    channel: str
    started_at: datetime
    last_at: datetime
    customer_messages: int
    handoff: HandoffView | None


@dataclass(frozen=True)
class Customer360:
    account: Account
    plan_label: str
    add_ons: list[str]  # of the subscription term in force
    segment: str
    arr_band: str | None
    touch_model: str | None
    owner: str | None  # the owner CSM's name; None: unassigned
    tenure_days: int
    health: HealthScore
    history: list[HealthScore]  # oldest first
    kpis: list[KPI]
    kpi_period: Period
    signals: list[SignalView]  # open first, then resolved, newest first in each
    onboarding: list[Step]
    offers: list[OfferHistory]
    tasks: list[TaskView]
    handoffs: list[HandoffView]
    conversations: list[ConversationRow]

    @property
    def tenure_months(self) -> float:
        return self.tenure_days / DAYS_PER_MONTH

    @property
    def onboarding_done(self) -> int:
        return sum(1 for step in self.onboarding if step.completed_at is not None)

    @property
    def open_handoffs(self) -> list[HandoffView]:
        return [handoff for handoff in self.handoffs if handoff.is_open]


def customer_360(session: Session, account_id: str, today: date, settings: CoreSettings) -> Customer360 | None:
    """The account's 360 on `today`; None when no account has this id."""
    account = accounts.get_account(session, account_id)
    customer = session.get(Customer, account_id)
    if account is None or customer is None:
        return None
    kpi_period = Period(start=today - timedelta(days=KPI_DAYS), end=today)
    report = kpis.account_kpis(session, account_id, kpi_period, settings)
    account_signals = signals.list_signals(session, account_ids=[account_id], open_only=False, limit=100)
    return Customer360(
        account=account,
        plan_label=PLAN_LABELS.get(account.plan, account.plan),
        add_ons=funnel.current_add_ons(session, account_id, today),
        segment=segment_of(account).label,
        arr_band=customer.arr_band,
        touch_model=customer.touch_model,
        owner=_owner(session, customer.owner_csm_id),
        tenure_days=max(0, (today - account.signup_date).days),
        health=health_history.assess(session, account),
        history=health_history.history(session, account_id),
        kpis=[report[name] for name in KPI_NAMES],
        kpi_period=kpi_period,
        signals=sorted(account_signals, key=lambda s: s.resolved_at is not None),  # stable: keeps newest first
        onboarding=_onboarding(session, account_id),
        offers=offer_history(session, account_id),
        tasks=tasks.open_tasks(session, account_id=account_id),
        handoffs=handoffs.for_customer(session, account_id),
        conversations=conversations(session, account_id),
    )


def _owner(session: Session, owner_id: int | None) -> str | None:
    if owner_id is None:
        return None
    user = session.get(CSMUser, owner_id)
    return (user.display_name or user.username) if user else None


def _onboarding(session: Session, account_id: str) -> list[Step]:
    rows = session.scalars(
        select(OnboardingStep).where(OnboardingStep.account_id == account_id).order_by(OnboardingStep.position)
    )
    return [
        Step(row.title, row.help_url, row.due_on, as_utc(row.completed_at) if row.completed_at else None)
        for row in rows
    ]


def offer_history(session: Session, account_id: str) -> list[OfferHistory]:
    """Every offer the account was shown, with its clicks and acceptances, the latest first."""
    rows = session.execute(
        select(OfferEvent.offer_id, OfferEvent.event, func.count(), func.max(OfferEvent.at))
        .where(OfferEvent.account_id == account_id)
        .group_by(OfferEvent.offer_id, OfferEvent.event)
    ).all()
    steps: dict[str, dict[str, int]] = {}
    latest: dict[str, datetime] = {}
    for offer_id, event, count, last in rows:
        steps.setdefault(offer_id, {})[event] = int(count)
        latest[offer_id] = max(latest.get(offer_id, as_utc(last)), as_utc(last))
    found = [
        OfferHistory(offer_id, s.get("shown", 0), s.get("clicked", 0), s.get("accepted", 0), latest[offer_id])
        for offer_id, s in steps.items()
    ]
    return sorted(found, key=lambda offer: (offer.last_at, offer.offer_id), reverse=True)


def conversations(session: Session, account_id: str, limit: int = CONVERSATION_LIMIT) -> list[ConversationRow]:
    """The account's conversations in which the customer wrote, most recently active first, with their handoff."""
    # Counted over the account's own conversations only, never the whole log.
    own = select(Conversation.id).where(Conversation.customer_id == account_id)
    counts = (
        select(Message.conversation_id, func.count().label("customer_messages"))
        .where(Message.role == ROLE_CUSTOMER, Message.conversation_id.in_(own))
        .group_by(Message.conversation_id)
        .subquery()
    )
    rows = session.execute(
        select(Conversation, counts.c.customer_messages)
        .join(counts, counts.c.conversation_id == Conversation.id)
        .where(Conversation.customer_id == account_id)
        .order_by(Conversation.last_message_at.desc(), Conversation.id)
        .limit(limit)
    ).all()
    found = handoffs.for_conversations(session, [c.id for c, _ in rows]) if rows else {}
    return [
        ConversationRow(
            conversation_id=c.id,
            channel=c.channel,
            started_at=as_utc(c.created_at),
            last_at=as_utc(c.last_message_at),
            customer_messages=int(n),
            handoff=found.get(c.id),
        )
        for c, n in rows
    ]
