"""keepwell/assistant_unavailable.py on SQLite and PostgreSQL: an unanswered message handed to a person lands in the
owner's queue (the shared one for visitors) with the transcript from the log, and its notification is queued."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwell import assistant_unavailable, handoffs, staff
from keepwell import conversations as log
from keepwell.models import Customer, WebhookDelivery
from keepwell.settings import CoreSettings

NOTICE = log.Reply("Trouble answering; saved.", role=log.ROLE_SYSTEM)
SETTINGS = CoreSettings(demo_mode=True, handoff_webhook_url="http://127.0.0.1:9/hook")


def _unanswered(db: Session, customer_id: str | None, *texts: str) -> list[int]:
    """A conversation where the bot answered the first message and gave the notice for each later one."""
    conversation = log.start_conversation(db, customer_id, "in_app")
    ids = []
    for n, text in enumerate(texts):
        ref = log.open_conversation(db, conversation.id, customer_id)
        message = log.accept(db, ref, text, None, lease_s=30).message
        if n == 0:
            log.answer(db, message.id, [log.Reply("Here is how.")])
        else:
            log.give_notice(db, message.id, NOTICE)
        ids.append(message.id)
    db.commit()
    return ids


def test_an_accounts_unanswered_message_goes_to_its_owner_with_the_transcript(db: Session) -> None:
    owner = staff.create(db, "ada@example.test", "a long enough password", display_name="Ada Lovelace")
    db.add(Customer(id="cus_1", name="Bluefin", plan="growth", company_size="mid", lifecycle_stage="adoption",
                    mrr=480.0, seats_purchased=20, seats_used=20, signup_date=date(2024, 1, 15),
                    renewal_date=date(2026, 1, 15), owner_csm_id=owner.id))  # fmt: skip
    _first, unanswered = _unanswered(db, "cus_1", "how do I export?", "and to CSV?")
    log.expire(db, unanswered)

    handoff = assistant_unavailable.hand_over(db, unanswered, SETTINGS)
    db.commit()

    assert (handoff.kind, handoff.kind_label, handoff.reason) == ("assistant_unavailable", "Assistant unavailable",
                                                                  "and to CSV?")  # fmt: skip
    assert (handoff.customer_id, handoff.assigned_to_id, handoff.status) == ("cus_1", owner.id, "open")
    assert [(line["role"], line["text"]) for line in handoff.transcript] == [
        ("user", "how do I export?"), ("bot", "Here is how."), ("user", "and to CSV?"), ("bot", NOTICE.text),
    ]  # fmt: skip
    [delivery] = db.scalars(select(WebhookDelivery)).all()
    assert delivery.payload["reason"] == "assistant_unavailable" and delivery.account_id == "cus_1"


def test_a_visitors_second_unanswered_message_joins_the_open_handoff(db: Session) -> None:
    _first, one, two = _unanswered(db, None, "hi", "anyone?", "hello??")
    first = assistant_unavailable.hand_over(db, one, SETTINGS)
    again = assistant_unavailable.hand_over(db, two, SETTINGS)
    db.commit()
    assert again.id == first.id and first.assigned_to_id is None and first.customer_id is None
    assert len(handoffs.list_handoffs(db, status=handoffs.OPEN)) == 1
    [delivery] = db.scalars(select(WebhookDelivery)).all()
    assert delivery.account_id is None, "one notification per handoff"
