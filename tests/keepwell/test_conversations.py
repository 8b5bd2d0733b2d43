"""keepwell/conversations.py: the message log's guarded states, on SQLite and on the local PostgreSQL."""

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from keepwell import conversations as log
from keepwell import handoffs, staff
from keepwell.db import make_engine, session_scope, upgrade
from keepwell.models import ConversationFlag, utcnow

NOTICE = log.Reply("Trouble answering; saved.", role=log.ROLE_SYSTEM)
ANSWER = log.Reply(
    "Here is how.", buttons=[{"title": "More", "payload": "/more"}], sources=[{"title": "A", "url": "/a"}]
)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    db = (
        make_engine(f"sqlite:///{tmp_path / 'log.db'}")
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_engine")
    )
    upgrade(db)
    return db


def _accept(engine: Engine, text: str = "hi", client_id: str | None = None, conversation: str | None = None,
            customer: str | None = None, **kwargs: object) -> log.Accepted:  # fmt: skip
    with session_scope(engine) as session:
        ref = log.open_conversation(session, conversation, customer)
        return log.accept(session, ref, text, client_id, lease_s=60, **kwargs)  # type: ignore[arg-type]


def test_an_accepted_message_is_pending_and_owned(engine: Engine) -> None:
    accepted = _accept(engine, customer="cus_001", client_id="abc12345")
    with session_scope(engine) as session:
        message = log.get_message(session, accepted.message.id)
        assert message is not None
        assert (message.role, message.state, message.client_message_id, message.attempts) == (
            "customer", "pending", "abc12345", 1,
        )  # fmt: skip
        assert log.owner(session, message.conversation_id) == "cus_001"
        with pytest.raises(log.ConversationForbidden):
            log.open_conversation(session, message.conversation_id, None)
        with pytest.raises(log.ConversationNotFound):
            log.owner(session, "B" * 32)


def test_the_same_client_id_is_the_same_message_and_another_text_conflicts(engine: Engine) -> None:
    first = _accept(engine, "hello", "dup-id-01")
    again = _accept(engine, "hello", "dup-id-01", conversation=first.message.conversation_id)
    assert again.duplicate and again.message.id == first.message.id
    with pytest.raises(log.MessageIdConflict):
        _accept(engine, "other text", "dup-id-01", conversation=first.message.conversation_id)


def test_answer_within_the_deadline_is_sent_and_only_once(engine: Engine) -> None:
    message = _accept(engine).message
    with session_scope(engine) as session:
        replies = log.answer(session, message.id, [ANSWER])
    assert replies is not None and [(r.role, r.state, r.buttons, r.sources) for r in replies] == [
        ("bot", "sent", ANSWER.buttons, ANSWER.sources)
    ]
    with session_scope(engine) as session:
        assert log.answer(session, message.id, [ANSWER]) is None, "a second answer is refused"
        assert log.give_notice(session, message.id, NOTICE) is None, "no notice after the answer"
        assert [r.text for r in log.replies_to(session, message.id)] == ["Here is how."]


def test_notice_then_late_answer_resolves_the_flag(engine: Engine) -> None:
    message = _accept(engine).message
    with session_scope(engine) as session:
        notice = log.give_notice(session, message.id, NOTICE)
        assert notice is not None and notice.role == "system"
        assert log.give_notice(session, message.id, NOTICE) is None, "one notice per message"
    with session_scope(engine) as session:
        late = log.answer(session, message.id, [ANSWER])
        assert late is not None and late[0].state == "late"
        flags = session.scalars(select(ConversationFlag)).all()
        assert [(f.reason, f.resolved_by) for f in flags] == [("assistant_unavailable", "assistant")]
        assert log.get_message(session, message.id).state == "answered_late"  # type: ignore[union-attr]


def test_a_held_message_is_never_claimed_and_gets_the_hold_notice(engine: Engine) -> None:
    message = _accept(engine, state=log.HELD).message
    with session_scope(engine) as session:
        log.hold(session, message.id, NOTICE)
        assert log.claim_due(session, now=utcnow() + timedelta(hours=1), lease_s=60) == []
        assert log.answer(session, message.id, [ANSWER]) is None


def test_claim_takes_due_messages_oldest_first_one_per_conversation(engine: Engine) -> None:
    first = _accept(engine, "first").message
    second = _accept(engine, "second", conversation=first.conversation_id).message
    other = _accept(engine, "other conversation").message
    now = utcnow()
    with session_scope(engine) as session:
        for message in (first, second, other):
            log.give_notice(session, message.id, NOTICE)
            log.retry_later(session, message.id, now)
    with session_scope(engine) as session:
        claimed = log.claim_due(session, now=now, lease_s=60)
    assert [m.text for m in claimed] == ["first", "other conversation"]
    assert [m.attempts for m in claimed] == [2, 2]
    with session_scope(engine) as session:
        assert log.claim_due(session, now=now, lease_s=60) == [], "leased messages are not claimed again"
        log.answer(session, first.id, [ANSWER])
    with session_scope(engine) as session:
        assert [m.text for m in log.claim_due(session, now=now, lease_s=60)] == ["second"]


def test_a_lease_that_runs_out_is_taken_over_and_an_orphaned_pending_message_is_due(engine: Engine) -> None:
    message = _accept(engine).message  # pending, leased for 60 s by the request that accepted it
    now = utcnow()
    with session_scope(engine) as session:
        assert log.claim_due(session, now=now, lease_s=60) == []
        claimed = log.claim_due(session, now=now + timedelta(seconds=61), lease_s=60)
    assert [m.id for m in claimed] == [message.id]


def test_a_pending_message_released_by_a_stopping_gateway_is_due_at_once(engine: Engine) -> None:
    message = _accept(engine).message
    now = utcnow()
    with session_scope(engine) as session:
        log.retry_later(session, message.id, now)  # what a cancelled turn does before its notice
    with session_scope(engine) as session:
        claimed = log.claim_due(session, now=now, lease_s=60)
    assert [(m.id, m.state) for m in claimed] == [(message.id, "pending")]


def test_a_renewed_lease_keeps_a_slow_turn_from_being_sent_again(engine: Engine) -> None:
    message = _accept(engine).message  # leased for 60 s
    later = utcnow() + timedelta(seconds=50)
    with session_scope(engine) as session:
        assert log.renew_lease(session, message.id, until=later + timedelta(seconds=60))
    with session_scope(engine) as session:
        assert log.claim_due(session, now=later + timedelta(seconds=30), lease_s=60) == []
        log.answer(session, message.id, [ANSWER])
    with session_scope(engine) as session:
        assert not log.renew_lease(session, message.id, until=later), "a settled message is not held any more"


def test_a_busy_conversation_does_not_crowd_out_the_others(engine: Engine) -> None:
    busy = [_accept(engine, "busy 0").message]
    for n in range(1, 30):
        busy.append(_accept(engine, f"busy {n}", conversation=busy[0].conversation_id).message)
    quiet = _accept(engine, "quiet").message
    now = utcnow()
    with session_scope(engine) as session:
        for message in [*busy, quiet]:
            log.give_notice(session, message.id, NOTICE)
            log.retry_later(session, message.id, now)
        log.renew_lease(session, busy[0].id, until=now + timedelta(seconds=60))  # in flight elsewhere
    with session_scope(engine) as session:
        claimed = log.claim_due(session, now=now, lease_s=60, limit=4)
    assert [m.text for m in claimed] == ["quiet"]


def test_waiting_retries_are_brought_forward(engine: Engine) -> None:
    message = _accept(engine).message
    now = utcnow()
    with session_scope(engine) as session:
        log.give_notice(session, message.id, NOTICE)
        log.retry_later(session, message.id, now + timedelta(seconds=30))
    with session_scope(engine) as session:
        assert log.has_waiting_retries(session, now=now)
        assert log.claim_due(session, now=now, lease_s=60) == []
        assert log.make_due(session, now=now) == 1
    with session_scope(engine) as session:
        assert not log.has_waiting_retries(session, now=now)
        assert [m.id for m in log.claim_due(session, now=now, lease_s=60)] == [message.id]


def test_expire_leaves_the_message_to_a_person(engine: Engine) -> None:
    message = _accept(engine).message
    with session_scope(engine) as session:
        log.give_notice(session, message.id, NOTICE)
        assert log.expire(session, message.id)
    with session_scope(engine) as session:
        assert log.get_message(session, message.id).state == "expired"  # type: ignore[union-attr]
        assert log.answer(session, message.id, [ANSWER]) is None
        assert session.scalars(select(ConversationFlag)).one().resolved_at is None


def test_racing_answers_and_notices_give_exactly_one_outcome(engine: Engine) -> None:
    """Many workers try to answer (and to give the notice) at once: one answer, at most one notice."""
    message = _accept(engine).message
    barrier = threading.Barrier(6)
    results: list[object] = []

    def answer() -> None:
        barrier.wait()
        with session_scope(engine) as session:
            results.append(log.answer(session, message.id, [ANSWER]))

    def notice() -> None:
        barrier.wait()
        with session_scope(engine) as session:
            results.append(log.give_notice(session, message.id, NOTICE))

    threads = [threading.Thread(target=answer if i % 2 else notice) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    with session_scope(engine) as session:
        replies = log.replies_to(session, message.id)
        state = log.get_message(session, message.id).state  # type: ignore[union-attr]
    bots = [r for r in replies if r.role == "bot"]
    notices = [r for r in replies if r.role == "system"]
    assert len(bots) == 1
    assert len(notices) <= 1
    assert state == ("answered_late" if notices else "answered")


def test_concurrent_claims_never_take_the_same_message_twice(engine: Engine) -> None:
    accepted = [_accept(engine, f"m{i}").message for i in range(8)]
    now = utcnow()
    with session_scope(engine) as session:
        for message in accepted:
            log.give_notice(session, message.id, NOTICE)
            log.retry_later(session, message.id, now)
    barrier = threading.Barrier(4)
    claimed: list[int] = []
    lock = threading.Lock()

    def claim() -> None:
        barrier.wait()
        with session_scope(engine) as session:
            ids = [m.id for m in log.claim_due(session, now=now, lease_s=60, limit=8)]
        with lock:
            claimed.extend(ids)

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(claimed) == sorted(m.id for m in accepted), "every message claimed exactly once"


def test_messages_after_an_id_for_history_and_the_stream(engine: Engine) -> None:
    first = _accept(engine, "one").message
    with session_scope(engine) as session:
        log.answer(session, first.id, [ANSWER])
    second = _accept(engine, "two", conversation=first.conversation_id).message
    with session_scope(engine) as session:
        every = log.messages(session, first.conversation_id)
        assert [m.text for m in every] == ["one", "Here is how.", "two"]
        assert [m.text for m in log.messages(session, first.conversation_id, after_id=every[1].id)] == ["two"]
        assert log.messages(session, first.conversation_id, after_id=second.id) == []


def test_turn_annotations_and_the_rasa_cursor(engine: Engine) -> None:
    message = _accept(engine).message
    with session_scope(engine) as session:
        log.annotate(session, [log.TurnInfo(message.id, "ask_howto", 0.91, [{"entity": "x", "value": 1}], ["a"])])
        log.advance_rasa_cursor(session, message.conversation_id, 7)
        log.advance_rasa_cursor(session, message.conversation_id, 3)  # never goes back
    with session_scope(engine) as session:
        stored = log.get_message(session, message.id)
        assert stored is not None
        assert (stored.intent, stored.confidence, stored.entities, stored.actions) == (
            "ask_howto", 0.91, [{"entity": "x", "value": 1}], ["a"],
        )  # fmt: skip
        assert log.rasa_cursor(session, message.conversation_id) == 7


def test_opening_a_conversation_tells_whether_a_person_has_it(engine: Engine) -> None:
    conversation_id = _accept(engine, customer="cus_001").message.conversation_id
    with session_scope(engine) as session:
        assert not log.open_conversation(session, conversation_id, "cus_001").with_person
        handoff = handoffs.request_handoff(session, conversation_id, "cus_001", "asked for a person", [])
    with session_scope(engine) as session:
        assert log.open_conversation(session, conversation_id, "cus_001").with_person
        handoffs.release(session, handoff.id, released_by="csm@demo.test")
    with session_scope(engine) as session:
        assert not log.open_conversation(session, conversation_id, "cus_001").with_person


def test_a_flag_is_raised_once_while_open_and_never_for_an_unknown_conversation(engine: Engine) -> None:
    message = _accept(engine, customer="cus_001").message
    with session_scope(engine) as session:
        assert log.raise_flag(session, message.conversation_id, "churn_moment", "wants to cancel", message.id)
        assert not log.raise_flag(session, message.conversation_id, "churn_moment", "cancel again")
        assert log.raise_flag(session, message.conversation_id, "frustration", "angry")
        assert not log.raise_flag(session, "C" * 32, "churn_moment", "no such conversation")
    with session_scope(engine) as session:
        flags = session.scalars(select(ConversationFlag).order_by(ConversationFlag.id)).all()
        assert [(f.reason, f.detail, f.message_id) for f in flags] == [
            ("churn_moment", "wants to cancel", message.id),
            ("frustration", "angry", None),
        ]
        flags[0].resolved_at = utcnow()
    with session_scope(engine) as session:
        assert log.raise_flag(session, message.conversation_id, "churn_moment", "once resolved, a new moment counts")


def test_a_late_answer_settles_the_unavailable_flag_but_not_a_churn_moment(engine: Engine) -> None:
    message = _accept(engine, customer="cus_001").message
    with session_scope(engine) as session:
        log.give_notice(session, message.id, NOTICE)
        log.raise_flag(session, message.conversation_id, "churn_moment", "wants to cancel", message.id)
    with session_scope(engine) as session:
        assert log.answer(session, message.id, [ANSWER]) is not None
    with session_scope(engine) as session:
        flags = session.scalars(select(ConversationFlag).order_by(ConversationFlag.id)).all()
        assert [(f.reason, f.resolved_by) for f in flags] == [
            ("assistant_unavailable", "assistant"),
            ("churn_moment", None),
        ]


# ---- a late answer and a person -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("situation", "bot_speaks"),
    [
        ("opened by this very turn", True),  # the customer asked for a person: the confirmation goes out
        ("opened before the message", False),
        ("a person has replied", False),
        ("the assistant was unavailable", False),
    ],
)
def test_a_late_answer_never_talks_over_a_person(engine: Engine, situation: str, bot_speaks: bool) -> None:
    before = None
    if situation == "opened before the message":
        with session_scope(engine) as session:
            ref = log.start_conversation(session, None, "website")
            before = handoffs.request_handoff(session, ref.id, None, "a person please", [])
    message = _accept(engine, conversation=before.conversation_id if before else None).message
    with session_scope(engine) as session:
        log.give_notice(session, message.id, NOTICE)
        if before is None:
            kind = handoffs.ASSISTANT_UNAVAILABLE if situation == "the assistant was unavailable" else None
            handoff = handoffs.request_handoff(session, message.conversation_id, None, "hi", [], kind=kind)
            if situation == "a person has replied":
                csm = staff.create(session, "ada@example.test", "a long enough password", display_name="Ada")
                handoffs.reply(session, handoff.id, csm, "Ada here, how can I help?")
    with session_scope(engine) as session:
        stored = log.answer(session, message.id, [ANSWER])
    with session_scope(engine) as session:
        state = log.get_message(session, message.id).state  # type: ignore[union-attr]
        flag = session.scalars(select(ConversationFlag)).one()
    if bot_speaks:
        assert stored is not None and state == "answered_late" and flag.resolved_at is not None
    else:
        assert stored is None and state == "expired", "left to the person, nothing said over them"
        assert flag.resolved_at is None
