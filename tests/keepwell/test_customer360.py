"""The customer 360 gathers one account from every service: worked on a hand-built account."""

from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from keepwell import customer360, signals
from keepwell.models import Conversation, CSMTask, Customer, Handoff, Message, OfferEvent, OnboardingStep, Subscription
from keepwell.settings import CoreSettings

TODAY = date(2026, 3, 31)


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def test_the_360_of_an_account(session: Session, add_customer: Callable[..., Customer]) -> None:
    add_customer("cus_001", signup_date=date(2025, 3, 31))
    add_customer("cus_002", name="Someone else")
    for cid, customer, day, said in (("c1", "cus_001", 1, 2), ("c2", "cus_001", 5, 1), ("c3", "cus_002", 6, 1)):
        session.add(Conversation(id=cid, customer_id=customer, channel="website", created_at=at(day),
                                 last_message_at=at(day, 10)))  # fmt: skip
        session.flush()
        for _ in range(said):
            session.add(Message(conversation_id=cid, role="customer", text="hi", created_at=at(day), state="answered"))
        session.add(Message(conversation_id=cid, role="bot", text="hello", created_at=at(day), state="sent"))
    session.add(Handoff(conversation_id="c2", customer_id="cus_001", reason="a person please", created_at=at(5)))
    for offer, event, day in (("seats", "shown", 1), ("seats", "shown", 3), ("seats", "clicked", 3),
                              ("automations", "shown", 2), ("automations", "accepted", 4)):  # fmt: skip
        session.add(OfferEvent(account_id="cus_001", offer_id=offer, event=event, at=at(day)))
    session.add_all(
        [
            OnboardingStep(account_id="cus_001", step_key="a", title="Invite", position=1, completed_at=at(2)),
            OnboardingStep(account_id="cus_001", step_key="b", title="Connect", position=2),
            CSMTask(account_id="cus_001", title="Call them", source="manual"),
            CSMTask(account_id="cus_002", title="Not theirs", source="manual"),
        ]
    )
    signal_id, _ = signals.open_cancellation_request(session, "cus_001", "cancelling", "bye", "c1")
    signals.resolve(session, signal_id, "csm@demo.test", "talked them round")
    signals.open_signal(session, "cus_001", signals.IDLE_SEATS, {"summary": "2 of 10 seats used"})
    session.add(Subscription(external_id="s1", account_id="cus_001", plan="growth", mrr=480.0, seats_purchased=20,
                             seats_used=20, started_on=date(2025, 3, 31), add_ons=["premium-support"]))  # fmt: skip
    session.flush()

    view = customer360.customer_360(session, "cus_001", TODAY, CoreSettings())
    assert view is not None
    assert (view.account.name, view.tenure_days, round(view.tenure_months, 1)) == ("Copperleaf Studios", 365, 12.0)
    assert [k.name for k in view.kpis] == ["mrr", "arr", "ltv"]
    assert [(c.conversation_id, c.customer_messages) for c in view.conversations] == [("c2", 1), ("c1", 2)]
    assert view.conversations[0].handoff is not None and view.conversations[1].handoff is None
    assert [h.conversation_id for h in view.open_handoffs] == ["c2"]
    assert [(o.offer_id, o.shown, o.clicked, o.accepted) for o in view.offers] == [
        ("automations", 1, 0, 1),  # last step on the 4th
        ("seats", 2, 1, 0),  # last on the 3rd
    ]
    assert (view.onboarding_done, len(view.onboarding)) == (1, 2)
    assert [t.title for t in view.tasks] == ["Call them"]
    assert [(s.kind, s.resolved_at is None) for s in view.signals] == [
        (signals.IDLE_SEATS, True),  # open first
        (signals.CANCELLATION_REQUEST, False),
    ]
    assert view.health.band in ("green", "yellow", "red")  # no snapshot: scored live
    assert view.history == []
    assert view.add_ons == ["premium-support"]


def test_an_unknown_account_has_no_360(session: Session) -> None:
    assert customer360.customer_360(session, "cus_nobody", TODAY, CoreSettings()) is None
