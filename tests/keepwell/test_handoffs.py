"""keepwell/handoffs.py: the live handoff on SQLite and PostgreSQL: the queue it lands in, replies only by the
assignee, the waiting time, closing with the CSAT question and its answer, and bad input refused without a change."""

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from keepwell import conversations as log
from keepwell import csat, escalation, handoffs, staff
from keepwell.csat import NoSurvey
from keepwell.db import session_factory
from keepwell.handoffs import AssignedElsewhere, InvalidText, NotOpen
from keepwell.models import Handoff, Message
from keepwell.staff import StaffView


@pytest.fixture
def other_csm(db: Session) -> StaffView:
    user = staff.create(db, "grace@example.test", "a long enough password", display_name="Grace Hopper")
    db.commit()
    return user


def _request(db: Session, conversation_id: str, customer_id: str | None = None) -> handoffs.HandoffView:
    transcript = [{"role": "user", "text": "I want to talk to a person", "intent": "request_human"}]
    handoff = handoffs.request_handoff(db, conversation_id, customer_id, "Asked to talk to a person", transcript)
    db.commit()
    return handoff


def test_a_handoff_lands_in_the_owner_csms_queue(db: Session, conversation: Callable[..., str], csm: StaffView) -> None:
    handoff = _request(db, conversation("cus_1", owner=csm), "cus_1")
    assert (handoff.assigned_to_id, handoff.assigned_to_name) == (csm.id, "Ada Lovelace")
    assert handoff.kind == handoffs.ASKED_FOR_PERSON and handoff.kind_label == "Asked for a person"


def test_anonymous_and_unowned_handoffs_land_in_the_shared_queue(db: Session, conversation: Callable[..., str]) -> None:
    assert _request(db, conversation()).assigned_to_id is None
    assert _request(db, conversation("cus_2"), "cus_2").assigned_to_id is None


@pytest.mark.parametrize(
    ("lines", "kind"),
    [
        ([("I want to talk to a person", "request_human")], handoffs.ASKED_FOR_PERSON),
        ([("this is useless, get me a human", "request_human")], escalation.FRUSTRATION),
        ([("I want to cancel my subscription", "request_cancellation"), ("yes", "affirm")], escalation.CHURN_MOMENT),
        ([("the export shows an error", "report_problem"), ("yes please", "affirm")], escalation.PROBLEM_REPORTED),
        ([("how do I add a board", "ask_howto"), ("yes", "affirm")], handoffs.OFFER_ACCEPTED),
    ],
)
def test_the_reason_kind_comes_from_the_transcript(lines: list[tuple[str, str]], kind: str) -> None:
    transcript = []
    for text, intent in lines:
        transcript += [{"role": "user", "text": text, "intent": intent}, {"role": "bot", "text": "..."}]
    assert handoffs.reason_kind(transcript) == kind


def test_a_reply_is_logged_as_the_agent_with_the_csms_name_and_records_the_wait(
    db: Session, conversation: Callable[..., str], csm: StaffView
) -> None:
    handoff = _request(db, conversation("cus_1", owner=csm), "cus_1")
    # The customer waited 90 seconds before the first reply.
    row = db.get(Handoff, handoff.id)
    assert row is not None
    row.created_at = row.created_at - timedelta(seconds=90)
    db.commit()
    message, after = handoffs.reply(db, handoff.id, csm, "  Hi, Ada here. Let me look.  ")
    db.commit()
    stored = db.scalars(select(Message).where(Message.id == message.id)).one()
    assert (stored.role, stored.text, stored.author_id, stored.author_name, stored.state) == (
        "agent", "Hi, Ada here. Let me look.", csm.id, "Ada Lovelace", "sent"
    )  # fmt: skip
    assert after.first_reply_at is not None and 90 <= after.wait_s < 100
    handoffs.reply(db, handoff.id, csm, "Found it.")
    db.commit()
    later = handoffs.get(db, handoff.id)
    assert later is not None and (later.first_reply_at, later.wait_s) == (after.first_reply_at, after.wait_s)


def test_another_csm_cannot_reply_until_they_take_it_over(
    db: Session, conversation: Callable[..., str], csm: StaffView, other_csm: StaffView
) -> None:
    conversation_id = conversation("cus_1", owner=csm)
    handoff = _request(db, conversation_id, "cus_1")
    with pytest.raises(AssignedElsewhere):
        handoffs.reply(db, handoff.id, other_csm, "Hello")
    db.rollback()
    assert log.messages(db, conversation_id) == []
    taken, previous = handoffs.take_over(db, handoff.id, other_csm)
    db.commit()
    assert (previous, taken.assigned_to_id) == (csm.id, other_csm.id)
    handoffs.reply(db, handoff.id, other_csm, "Hello, Grace here")
    db.commit()
    with pytest.raises(AssignedElsewhere):
        handoffs.reply(db, handoff.id, csm, "me too")


def test_replying_from_the_shared_queue_claims_it(
    db: Session, conversation: Callable[..., str], csm: StaffView, other_csm: StaffView
) -> None:
    handoff = _request(db, conversation())
    _, claimed = handoffs.reply(db, handoff.id, csm, "Hi")
    db.commit()
    assert claimed.assigned_to_id == csm.id
    with pytest.raises(AssignedElsewhere):
        handoffs.reply(db, handoff.id, other_csm, "Hi")


@pytest.mark.parametrize("text", ["", "   \n ", "x" * (handoffs.MAX_REPLY_CHARS + 1)])
def test_a_blank_or_too_long_reply_is_refused_and_nothing_is_written(
    db: Session, conversation: Callable[..., str], csm: StaffView, text: str
) -> None:
    conversation_id = conversation("cus_1", owner=csm)
    handoff = _request(db, conversation_id, "cus_1")
    with pytest.raises(InvalidText):
        handoffs.reply(db, handoff.id, csm, text)
    db.rollback()
    assert log.messages(db, conversation_id) == []
    assert handoffs.get(db, handoff.id).first_reply_at is None  # type: ignore[union-attr]


def test_closing_asks_the_csat_question_and_stores_the_answer_once(
    db: Session, conversation: Callable[..., str], csm: StaffView
) -> None:
    conversation_id = conversation("cus_1", owner=csm)
    handoff = _request(db, conversation_id, "cus_1")
    closed, question = handoffs.close(db, handoff.id, csm)
    db.commit()
    assert (closed.status, closed.closed_by) == ("closed", csm.username)
    assert (question.role, question.kind, question.text) == ("system", "csat", handoffs.CSAT_QUESTION)
    assert not handoffs.is_active(db, conversation_id)
    with pytest.raises(NotOpen):
        handoffs.reply(db, handoff.id, csm, "one more thing")
    db.rollback()
    answered = csat.answer_csat(db, conversation_id, 4, "  quick and kind ")
    db.commit()
    assert (answered.csat_score, answered.csat_comment) == (4, "quick and kind") and answered.csat_at is not None
    with pytest.raises(NoSurvey):
        csat.answer_csat(db, conversation_id, 1, None)


@pytest.mark.parametrize(("score", "comment"), [(0, None), (6, None), (3, "x" * 1001)])
def test_a_bad_csat_answer_is_refused_and_nothing_is_stored(
    db: Session, conversation: Callable[..., str], csm: StaffView, score: int, comment: str | None
) -> None:
    conversation_id = conversation("cus_1", owner=csm)
    handoffs.close(db, _request(db, conversation_id, "cus_1").id, csm)
    db.commit()
    with pytest.raises(InvalidText):
        csat.answer_csat(db, conversation_id, score, comment)
    db.rollback()
    assert db.scalars(select(Handoff.csat_score)).one() is None


def test_there_is_no_survey_while_the_handoff_is_open_or_after_a_release(
    db: Session, conversation: Callable[..., str], csm: StaffView
) -> None:
    conversation_id = conversation("cus_1", owner=csm)
    handoff = _request(db, conversation_id, "cus_1")
    with pytest.raises(NoSurvey):
        csat.answer_csat(db, conversation_id, 5, None)
    handoffs.release(db, handoff.id, csm.username)
    db.commit()
    with pytest.raises(NoSurvey):
        csat.answer_csat(db, conversation_id, 5, None)


def test_two_csms_replying_at_once_from_the_shared_queue_one_gets_it(
    database: Engine, db: Session, conversation: Callable[..., str], csm: StaffView, other_csm: StaffView
) -> None:
    conversation_id = conversation()
    handoff = _request(db, conversation_id)
    first = session_factory(database)()
    handoffs.reply(first, handoff.id, csm, "Ada here")  # holds the lock until it commits
    outcome: list[object] = []

    def second_reply() -> None:
        with session_factory(database)() as second:
            try:
                handoffs.reply(second, handoff.id, other_csm, "Grace here")
                second.commit()
                outcome.append("replied")
            except Exception as error:  # what the second CSM gets is the assertion below
                outcome.append(error)

    racer = threading.Thread(target=second_reply)
    racer.start()
    racer.join(timeout=0.5)
    assert racer.is_alive()  # waiting for the first CSM's transaction, not reading around it
    first.commit()
    first.close()
    racer.join(timeout=30)
    [result] = outcome
    assert isinstance(result, AssignedElsewhere)
    db.expire_all()
    assert [(m.role, m.text) for m in log.messages(db, conversation_id)] == [("agent", "Ada here")]
    assert handoffs.get(db, handoff.id).assigned_to_id == csm.id  # type: ignore[union-attr]
