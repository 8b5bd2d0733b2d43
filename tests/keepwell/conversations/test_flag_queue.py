"""keepwell/conversations/flag_queue.py: every reason with its words, the ranking (ARR, health, newest), resolving
(stored flags closed, older computed reasons hidden, newer ones shown), and the filters (a reason, "mine") with the
total following them, on SQLite and PostgreSQL."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwell import staff
from keepwell.conversations import flag_filters, flag_queue
from keepwell.conversations.flags import raise_flag
from keepwell.models import Conversation, ConversationFlag, Customer, Feedback, Handoff, HealthSnapshot, Message
from tests.keepwell.conversations.conftest import NOV, add_conversation, add_customer


def _world(db: Session) -> None:
    """big: $2,000 MRR, green, a fallback and a low-confidence message.
    red: $500 MRR, red (38), a quiet conversation; churn: $500 MRR, green, a churn moment flag (the newer).
    csat: anonymous, a handoff rated 1 'too slow'; fb: anonymous, negative feedback; calm: nothing to look at, nor
    idea (neutral feedback)."""
    add_customer(db, "cus_big", "Big Co", "enterprise", "large", None)
    add_customer(db, "cus_red", "Red Co", "growth", "small", None)
    add_customer(db, "cus_ok", "Okay Co", "growth", "small", None)
    db.flush()
    db.get(Customer, "cus_big").mrr = 2000.0  # type: ignore[union-attr]
    for account, band, score in (("cus_big", "green", 90), ("cus_red", "red", 38), ("cus_ok", "green", 80)):
        db.add(HealthSnapshot(account_id=account, as_of=date(2026, 11, 8), scorecard="default", score=score,
                              band=band, measures={}, drivers=[]))  # fmt: skip
    db.add(
        HealthSnapshot(
            account_id="cus_ok",
            as_of=date(2026, 11, 1),
            scorecard="default",
            score=20,
            band="red",
            measures={},
            drivers=[],
        )
    )  # fmt: skip  (older: not the latest)
    add_conversation(db, "big", "cus_big", "website", NOV,
                     [("blorp", "nlu_fallback", 0.3), ("hm", "ask_faq", 0.5), ("thanks", "thank", 0.95)])  # fmt: skip
    add_conversation(db, "red", "cus_red", "website", NOV, [("hello", "greet", 0.99)])
    [cancel] = add_conversation(db, "churn", "cus_ok", "website", NOV + timedelta(days=1),
                                [("we want to cancel", "request_cancellation", 0.9)])  # fmt: skip
    raise_flag(db, "churn", "churn_moment", "we want to cancel", cancel)
    add_conversation(db, "csat", None, "website", NOV + timedelta(days=2), [("a person please", "request_human", 0.9)])
    db.add(Handoff(conversation_id="csat", reason="a person please", kind="asked_for_person", status="closed",
                   transcript=[], created_at=NOV + timedelta(days=2), csat_score=1, csat_comment="too slow",
                   csat_at=NOV + timedelta(days=2, hours=1)))  # fmt: skip
    add_conversation(db, "fb", None, "website", NOV + timedelta(days=3), [("your export is broken", "feedback", 0.9)])
    db.add(Feedback(conversation_id="fb", text="the export is broken", created_at=NOV + timedelta(days=3),
                    polarity="negative"))  # fmt: skip
    add_conversation(db, "idea", None, "website", NOV + timedelta(days=3), [("please add dark mode", "feedback", 0.9)])
    db.add(Feedback(conversation_id="idea", text="please add dark mode", created_at=NOV + timedelta(days=3)))
    add_conversation(db, "calm", "cus_ok", "website", NOV, [("hi", "greet", 0.99)])
    db.commit()


def _whys(page: flag_queue.QueuePage) -> dict[str, list[str]]:
    return {entry.conversation_id: [reason.why for reason in entry.reasons] for entry in page.entries}


def test_every_reason_says_why_and_the_queue_is_ranked_by_value_then_health(db: Session) -> None:
    _world(db)
    page = flag_queue.queue(db)
    assert [e.conversation_id for e in page.entries] == ["big", "red", "churn", "fb", "csat"]
    assert page.total == 5
    assert _whys(page) == {
        "big": ["Fallback or low confidence on 2 messages"],
        "red": ["Account is red (38/100)"],
        "churn": ["Churn moment: 'we want to cancel'"],
        "csat": ["Handed to a person (asked for person)", "CSAT 1/5: 'too slow'"],
        "fb": ["Negative feedback: 'the export is broken'"],
    }
    big, red = page.entries[:2]
    assert (big.arr, big.health_band, big.customer_name) == (24000.0, "green", "Big Co")
    assert (red.arr, red.health_band, red.health_score) == (6000.0, "red", 38)
    assert page.entries[-1].arr == 0.0 and page.entries[-1].customer_id is None


def test_pages_of_the_queue(db: Session) -> None:
    _world(db)
    first, second = flag_queue.queue(db, page=1, page_size=3), flag_queue.queue(db, page=2, page_size=3)
    assert [e.conversation_id for e in first.entries] == ["big", "red", "churn"] and first.has_next
    assert [e.conversation_id for e in second.entries] == ["fb", "csat"] and not second.has_next


def test_resolving_hides_older_reasons_and_a_newer_one_brings_it_back(db: Session) -> None:
    _world(db)
    assert flag_queue.resolve(db, "churn", "csm1", "called them") == 1
    flag_queue.resolve(db, "big", "csm1")
    db.commit()
    assert [e.conversation_id for e in flag_queue.queue(db).entries] == ["red", "fb", "csat"]
    [flag] = db.scalars(select(ConversationFlag).where(ConversationFlag.reason == "churn_moment")).all()
    assert flag.resolved_by == "csm1" and flag.resolved_at is not None
    note = db.scalars(select(ConversationFlag).where(ConversationFlag.reason == flag_queue.QUEUE_RESOLVED,
                                                     ConversationFlag.conversation_id == "churn")).one()  # fmt: skip
    assert note.detail == "called them"

    # A new fallback after the resolve: back on the queue, counting only the new message.
    db.add(Message(conversation_id="big", role="customer", text="??", state="answered", intent="nlu_fallback",
                   confidence=0.2, created_at=note.created_at + timedelta(minutes=5)))  # fmt: skip
    db.commit()
    assert _whys(flag_queue.queue(db))["big"] == ["Fallback or low confidence on 1 message"]


def test_red_account_comes_back_only_with_new_activity(db: Session) -> None:
    _world(db)
    flag_queue.resolve(db, "red", "csm1")
    db.commit()
    assert "red" not in _whys(flag_queue.queue(db))
    conversation = db.get(Conversation, "red")
    assert conversation is not None
    conversation.last_message_at = flag_queue.utcnow() + timedelta(minutes=1)
    db.commit()
    assert _whys(flag_queue.queue(db))["red"] == ["Account is red (38/100)"]


def test_resolving_an_unknown_conversation_is_refused(db: Session) -> None:
    with pytest.raises(flag_queue.FlagNotFound):
        flag_queue.resolve(db, "nope", "csm1")


def test_the_assistant_s_flags_and_negative_feedback_on_an_answer_say_why(db: Session) -> None:
    _world(db)
    [again] = add_conversation(db, "again", None, "website", NOV, [("how do I export my projects", "ask_howto", 0.9)])
    raise_flag(db, "again", "repeated_question", "how do I export my projects", again)
    raise_flag(db, "again", "frustration", "this is useless")
    db.add(Feedback(conversation_id="again", text="still not working", polarity="negative",
                    article_id="admin-security/data-export"))  # fmt: skip
    db.commit()
    assert _whys(flag_queue.queue(db))["again"] == [
        "Asked the same question again: 'how do I export my projects'",
        "Frustrated customer: 'this is useless'",
        "Negative feedback on the answer from admin-security/data-export: 'still not working'",
    ]


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("churn_moment", ["churn"]),
        ("not_understood", ["big"]),
        ("negative_feedback", ["fb"]),
        ("handoff", ["csat"]),
        ("low_csat", ["csat"]),
        ("red_health", ["red"]),
        ("repeated_question", []),
    ],
)
def test_filtering_by_a_reason_lists_only_its_conversations_and_counts_them(
    db: Session, reason: str, expected: list[str]
) -> None:
    _world(db)
    page = flag_queue.queue(db, chosen=flag_filters.QueueFilter(reason=reason))
    assert [e.conversation_id for e in page.entries] == expected and page.total == len(expected)


def test_mine_is_the_accounts_a_csm_owns_and_the_handoffs_assigned_to_them(db: Session) -> None:
    _world(db)
    casey = staff.create(db, "casey@example.test", "a long enough password")
    robin = staff.create(db, "robin@example.test", "a long enough password")
    db.get(Customer, "cus_red").owner_csm_id = casey.id  # type: ignore[union-attr]
    db.get(Customer, "cus_ok").owner_csm_id = robin.id  # type: ignore[union-attr]
    db.scalars(select(Handoff).where(Handoff.conversation_id == "csat")).one().assigned_to_id = casey.id
    db.commit()
    mine = flag_filters.QueueFilter(mine=True)
    page = flag_queue.queue(db, chosen=mine, me=casey.id)
    assert [e.conversation_id for e in page.entries] == ["red", "csat"] and page.total == 2
    assert [e.conversation_id for e in flag_queue.queue(db, chosen=mine, me=robin.id).entries] == ["churn"]
    both = flag_filters.QueueFilter(reason="low_csat", mine=True)
    assert [e.conversation_id for e in flag_queue.queue(db, chosen=both, me=casey.id).entries] == ["csat"]
    past_the_end = flag_queue.queue(db, page=3, page_size=1, chosen=mine, me=casey.id)
    assert past_the_end.entries == [] and past_the_end.total == 2
    with pytest.raises(ValueError, match="mine"):
        flag_queue.queue(db, chosen=mine)


def test_queue_filters_are_read_from_the_url_and_refused_with_the_field_named() -> None:
    chosen = flag_filters.parse([("reason", "repeated_question"), ("mine", "1"), ("page", "2")])
    assert chosen == flag_filters.QueueFilter("repeated_question", True)
    assert chosen.query_string() == "reason=repeated_question&mine=1"
    assert flag_filters.parse([("reason", " "), ("mine", "")]).query_string() == ""
    with pytest.raises(flag_filters.InvalidFilter, match="reason: one of"):
        flag_filters.parse([("reason", "vibes")])
    with pytest.raises(flag_filters.InvalidFilter, match="mine"):
        flag_filters.parse([("mine", "yes")])
