"""api/routes/chat.py and api/services/turns.py: POST /api/chat logs every message before Rasa sees it, answers it
within the deadline or gives an honest notice, never runs a retried message twice, and answers late once it can."""

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from api.main import create_app
from api.settings import Settings
from keepwell import conversations as log
from keepwell import feedback, handoffs, staff
from keepwell.bootstrap import prepare
from keepwell.db import get_engine, make_engine, session_scope
from keepwell.models import ConversationFlag, Message
from tests.api.conftest import TrackerEvents
from tests.api.fakes import FakeRasa
from tests.webhook_receiver import receiving

DEADLINE_S = 0.5
SECRET = "a-webhook-secret-of-some-length"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        rate_limit_enabled=False,
        reply_deadline_s=DEADLINE_S,
        redelivery_interval_s=0.05,
        action_server_url="http://127.0.0.1:9",  # nothing listens: the worker backs off instead of short-cutting
    )


@pytest.fixture
def client(settings: Settings, rasa: FakeRasa) -> Iterator[TestClient]:
    prepare(settings)
    with TestClient(create_app(settings, rasa=rasa)) as test_client:
        yield test_client


def _log(settings: Settings, conversation_id: str) -> list[Message]:
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        rows = list(
            session.scalars(select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id))
        )
        session.expunge_all()
        return rows


def _flags(settings: Settings) -> list[ConversationFlag]:
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        rows = list(session.scalars(select(ConversationFlag).order_by(ConversationFlag.id)))
        session.expunge_all()
        return rows


def _eventually(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


# ---- the answer within the deadline -----------------------------------------------------------------------------


def test_a_message_is_answered_and_both_are_in_the_log(client: TestClient, rasa: FakeRasa, settings: Settings) -> None:
    response = client.post("/api/chat", json={"message": "hi", "message_id": "client-msg-0001"})

    assert response.status_code == 200
    body = response.json()
    assert len(body["conversation_id"]) == 32
    assert body["message"]["role"] == "customer"
    assert body["message"]["state"] == "answered"
    assert body["message"]["message_id"] == "client-msg-0001"
    assert [(m["role"], m["text"], m["state"]) for m in body["messages"]] == [("bot", "Hello!", "sent")]
    assert body["messages"][0]["reply_to"] == body["message"]["id"]
    stored = _log(settings, body["conversation_id"])
    assert [(m.role, m.text, m.state, m.client_message_id) for m in stored] == [
        ("customer", "hi", "answered", "client-msg-0001"),
        ("bot", "Hello!", "sent", None),
    ]
    sent_conversation, sent_text, metadata = rasa.sent[0]
    assert (sent_conversation, sent_text) == (body["conversation_id"], "hi")
    assert metadata == {"customer": None, "keepwell": {"message_id": stored[0].id}}


def test_the_message_is_committed_before_rasa_sees_it(client: TestClient, rasa: FakeRasa, settings: Settings) -> None:
    seen: list[list[tuple[str, str]]] = []
    other = make_engine(settings.resolved_database_url)  # another connection sees only what was committed
    rasa.on_send = lambda conversation_id, _text, _metadata: seen.append(
        [(m.text, m.state) for m in _rows(other, conversation_id)]
    )

    client.post("/api/chat", json={"message": "how do I invite people?"})

    other.dispose()
    assert seen == [[("how do I invite people?", "pending")]]


def test_a_database_hiccup_after_acceptance_is_a_saved_notice_not_a_500(
    client: TestClient, rasa: FakeRasa, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    turns = client.app.state.turns  # type: ignore[attr-defined]

    def busy(_message_id: int) -> None:
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    rasa.available = False  # the outcome is then read back from the log, which is busy this moment
    monkeypatch.setattr(turns, "_read_outcome", busy)
    response = client.post("/api/chat", json={"message": "hello?"})
    monkeypatch.undo()
    rasa.available = True

    assert response.status_code == 200
    body = response.json()
    assert [m["role"] for m in body["messages"]] == ["system"] and "saved" in body["messages"][0]["text"]
    _eventually(lambda: _log(settings, body["conversation_id"])[0].state == "answered_late")
    assert [m.role for m in _log(settings, body["conversation_id"])] == ["customer", "system", "bot"]


def test_an_unreadable_tracker_store_costs_the_annotation_not_the_answer(
    client: TestClient, rasa: FakeRasa, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker = client.app.state.turns._tracker  # type: ignore[attr-defined]

    def unreadable(*_args: object) -> None:
        raise OperationalError("SELECT", {}, Exception("no such column: events.data"))

    monkeypatch.setattr(tracker, "turns_since", unreadable)
    body = client.post("/api/chat", json={"message": "how do I invite people?"}).json()

    assert [(m["role"], m["text"]) for m in body["messages"]] == [("bot", "Hello!")]
    assert body["message"]["state"] == "answered"


def _rows(engine: Any, conversation_id: str) -> list[Message]:
    with session_scope(engine) as session:
        rows = list(session.scalars(select(Message).where(Message.conversation_id == conversation_id)))
        session.expunge_all()
        return rows


def test_sources_sent_as_custom_payload_join_their_text_message(client: TestClient, rasa: FakeRasa) -> None:
    rasa.reply = [
        {"text": "Open Settings > Members.", "buttons": [{"title": "More", "payload": "/ask_howto"}]},
        {"custom": {"sources": [{"title": "Invite teammates", "url": "/help/getting-started/invite-teammates"}]}},
        {"text": "Anything else?"},
    ]
    messages = client.post("/api/chat", json={"message": "invite?"}).json()["messages"]
    assert [(m["text"], m["buttons"], m["sources"]) for m in messages] == [
        (
            "Open Settings > Members.",
            [{"title": "More", "payload": "/ask_howto"}],
            [{"title": "Invite teammates", "url": "/help/getting-started/invite-teammates"}],
        ),
        ("Anything else?", [], []),
    ]


@pytest.mark.parametrize(
    "reply",
    [
        ["not a dict", {"text": "ok"}],
        [{"text": "ok", "buttons": "nope"}, {"custom": {"sources": 5}}],
        [{"text": "ok", "custom": {"sources": [{"title": "no url"}, "x"]}}],
    ],
)
def test_odd_rasa_output_is_shaped_not_500(client: TestClient, rasa: FakeRasa, reply: list[object]) -> None:
    rasa.reply = reply  # type: ignore[assignment]
    response = client.post("/api/chat", json={"message": "hi"})
    assert response.status_code == 200
    assert [(m["text"], m["buttons"], m["sources"]) for m in response.json()["messages"]] == [("ok", [], [])]


# ---- the notice, and the late answer ------------------------------------------------------------------------------


def test_rasa_down_gives_the_notice_flags_the_message_and_answers_it_once_rasa_is_back(
    client: TestClient, rasa: FakeRasa, settings: Settings
) -> None:
    rasa.available = False

    response = client.post("/api/chat", json={"message": "are you there?"})

    assert response.status_code == 200, "an accepted message never gets a 5xx"
    body = response.json()
    assert body["message"]["state"] == "unanswered"
    assert [(m["role"], m["state"]) for m in body["messages"]] == [("system", "sent")]
    assert "trouble answering" in body["messages"][0]["text"]
    assert [(f.reason, f.resolved_at is None) for f in _flags(settings)] == [("assistant_unavailable", True)]

    rasa.available = True
    conversation_id = body["conversation_id"]
    _eventually(lambda: _log(settings, conversation_id)[0].state == "answered_late")
    stored = _log(settings, conversation_id)
    assert [(m.role, m.state) for m in stored] == [("customer", "answered_late"), ("system", "sent"), ("bot", "late")]
    assert len(rasa.sent) == 1, "the failed attempt never reached Rasa; the late one did, once"
    assert _flags(settings)[0].resolved_by == "assistant"


def test_an_empty_answer_counts_as_a_failure_not_silence(
    client: TestClient, rasa: FakeRasa, settings: Settings
) -> None:
    rasa.reply = []
    body = client.post("/api/chat", json={"message": "what about SSO?"}).json()
    assert [m["role"] for m in body["messages"]] == ["system"]

    rasa.reply = [{"text": "SSO is on the Enterprise plan."}]
    _eventually(lambda: _log(settings, body["conversation_id"])[-1].text == "SSO is on the Enterprise plan.")
    assert [m.state for m in _log(settings, body["conversation_id"])] == ["answered_late", "sent", "late"]


def test_a_hung_assistant_gets_the_notice_within_the_deadline_then_the_same_turn_answers_late(
    client: TestClient, rasa: FakeRasa, settings: Settings
) -> None:
    rasa.hang()
    started = time.monotonic()
    body = client.post("/api/chat", json={"message": "how do I export?"}).json()
    waited = time.monotonic() - started

    assert DEADLINE_S <= waited < DEADLINE_S + 2
    assert body["message"]["state"] == "unanswered"
    time.sleep(0.5)
    assert len(rasa.sent) == 1, "nothing is sent again while the first attempt is still in flight"

    rasa.answer_held()
    _eventually(lambda: _log(settings, body["conversation_id"])[0].state == "answered_late")
    assert [(m.role, m.state) for m in _log(settings, body["conversation_id"])] == [
        ("customer", "answered_late"),
        ("system", "sent"),
        ("bot", "late"),
    ]
    assert len(rasa.sent) == 1, "the late answer is the first turn's, not a second turn"


def test_a_turn_rasa_finished_after_the_gateway_stopped_waiting_is_not_sent_again(
    tmp_path: Path, rasa: FakeRasa
) -> None:
    settings = Settings(
        data_dir=tmp_path, rate_limit_enabled=False, reply_deadline_s=DEADLINE_S, rasa_timeout_s=0.2,
        redelivery_interval_s=0.05, action_server_url="http://127.0.0.1:9",
    )  # fmt: skip
    prepare(settings)
    rasa.hang()  # Rasa takes longer than the gateway waits...
    with TestClient(create_app(settings, rasa=rasa)) as client:
        body = client.post("/api/chat", json={"message": "how do I export?"}).json()
        assert body["message"]["state"] == "unanswered"
        # ...and finishes the turn meanwhile: its tracker has the turn with the gateway's message id.
        tracker = TrackerEvents(settings.resolved_tracker_store_url)
        keepwell = {"keepwell": {"message_id": body["message"]["id"]}}
        tracker.user(body["conversation_id"], "how do I export?", "ask_howto", 0.9, metadata=keepwell)
        tracker.bot(body["conversation_id"], "Open Settings > Export.")
        tracker.close()
        _eventually(lambda: _log(settings, body["conversation_id"])[0].state == "answered_late")
    assert [(m.role, m.text) for m in _log(settings, body["conversation_id"])][2:] == [
        ("bot", "Open Settings > Export.")
    ]
    assert len(rasa.sent) == 1, "the retry read the finished turn instead of running it twice"


def test_a_turn_rasa_finished_without_a_word_is_sent_again(
    client: TestClient, rasa: FakeRasa, settings: Settings
) -> None:
    rasa.reply = []  # a custom action failed: Rasa keeps the user event and says nothing
    rasa.on_send = lambda conversation_id, text, metadata: _rasa_saves_the_silent_turn(
        settings, conversation_id, metadata
    )
    body = client.post("/api/chat", json={"message": "what about SSO?"}).json()
    assert [m["role"] for m in body["messages"]] == ["system"]

    rasa.reply = [{"text": "SSO is on the Enterprise plan."}]
    _eventually(lambda: _log(settings, body["conversation_id"])[0].state == "answered_late")
    assert len(rasa.sent) == 2
    assert _log(settings, body["conversation_id"])[-1].text == "SSO is on the Enterprise plan."


def _rasa_saves_the_silent_turn(settings: Settings, conversation_id: str, metadata: dict[str, Any]) -> None:
    tracker = TrackerEvents(settings.resolved_tracker_store_url)
    tracker.user(conversation_id, "what about SSO?", "ask_howto", 0.9, metadata={"keepwell": metadata["keepwell"]})
    tracker.action(conversation_id, "action_answer_from_kb")
    tracker.close()


def test_a_message_too_old_for_a_late_answer_is_handed_to_a_person_and_the_webhook_told(
    tmp_path: Path, rasa: FakeRasa
) -> None:
    """The real redelivery path: the worker finds the message too old, expires it and opens an "assistant
    unavailable" handoff in the shared queue (an anonymous visitor); the gateway's sender posts the notification to
    a real receiver with no account. The customer keeps the one notice they had."""
    with receiving() as hook:
        settings = Settings(
            data_dir=tmp_path, rate_limit_enabled=False, late_answer_max_age_s=0, redelivery_interval_s=0.05,
            handoff_webhook_url=hook.url, webhook_secret=SECRET, public_url="https://chat.example.test",
        )  # fmt: skip
        prepare(settings)
        rasa.available = False
        with TestClient(create_app(settings, rasa=rasa)) as client:
            body = client.post("/api/chat", json={"message": "hello?"}).json()
            rasa.available = True
            conversation_id = body["conversation_id"]
            _eventually(lambda: _log(settings, conversation_id)[0].state == "expired")
            _eventually(lambda: len(hook.requests) == 1)
            time.sleep(0.3)
            later = client.post("/api/chat", json={"message": "still there?", "conversation_id": conversation_id})
        assert rasa.sent == []
        assert [f.resolved_at for f in _flags(settings)] == [None], "the flag stays open for a CSM"
        assert [(m.role, m.state, m.reply_to_id is not None) for m in _log(settings, conversation_id)][:2] == [
            ("customer", "expired", False), ("system", "sent", True),
        ], "one notice for the message, never a second"  # fmt: skip
        with session_scope(get_engine(settings.resolved_database_url)) as session:
            [handoff] = handoffs.list_handoffs(session, status=handoffs.OPEN)
        assert (handoff.conversation_id, handoff.kind, handoff.reason, handoff.assigned_to_id) == (
            conversation_id, "assistant_unavailable", "hello?", None,
        )  # fmt: skip
        assert later.json()["message"]["state"] == "held", "from now on a person answers"
        assert hook.signed_correctly(SECRET)
        [sent] = hook.bodies
        assert (sent["event"], sent["reason"], sent["account_id"], sent["customer"]) == (
            "handoff.opened", "assistant_unavailable", None, "Anonymous visitor",
        )  # fmt: skip
        assert sent["url"] == f"https://chat.example.test/console/conversations/{conversation_id}"
        assert "hello?" not in hook.requests[0][1].decode()


def test_a_late_answer_after_a_person_replied_is_dropped(
    client: TestClient, rasa: FakeRasa, settings: Settings
) -> None:
    rasa.hang()
    body = client.post("/api/chat", json={"message": "how do I export?"}).json()
    conversation_id = body["conversation_id"]
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        csm = staff.create(session, "ada@example.test", "a long enough password", display_name="Ada")
        handoff = handoffs.request_handoff(session, conversation_id, None, "export", [])
        handoffs.reply(session, handoff.id, csm, "Ada here: Settings > Export.")

    rasa.answer_held()
    _eventually(lambda: _log(settings, conversation_id)[0].state == "expired")
    assert [(m.role, m.state) for m in _log(settings, conversation_id)] == [
        ("customer", "expired"), ("system", "sent"), ("agent", "sent"),
    ], "the bot's late answer never lands after the person's reply"  # fmt: skip


# ---- exactly one turn per message ----------------------------------------------------------------------------------


def test_a_retry_with_the_same_message_id_returns_the_stored_reply_without_a_second_turn(
    client: TestClient, rasa: FakeRasa, settings: Settings
) -> None:
    first = client.post("/api/chat", json={"message": "hi", "message_id": "retry-me-123"}).json()
    again = client.post(
        "/api/chat", json={"message": "hi", "message_id": "retry-me-123", "conversation_id": first["conversation_id"]}
    ).json()

    assert again == first
    assert len(rasa.sent) == 1
    assert len(_log(settings, first["conversation_id"])) == 2


def test_concurrent_retries_of_one_message_make_one_turn(
    client: TestClient, rasa: FakeRasa, settings: Settings
) -> None:
    conversation_id = client.post("/api/chat", json={"message": "start"}).json()["conversation_id"]
    rasa.hang()
    body = {"message": "twice at once", "message_id": "concurrent-01", "conversation_id": conversation_id}
    results: list[dict[str, Any]] = []

    def post() -> None:
        results.append(client.post("/api/chat", json=body).json())

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    rasa.answer_held()
    for thread in threads:
        thread.join(10)

    assert len(results) == 2
    assert results[0]["message"]["id"] == results[1]["message"]["id"]
    assert [text for _, text, _ in rasa.sent] == ["start", "twice at once"]
    customer_messages = [m for m in _log(settings, conversation_id) if m.role == "customer"]
    assert [m.text for m in customer_messages] == ["start", "twice at once"]


def test_a_retry_during_the_notice_gets_the_notice_and_later_the_one_answer(
    client: TestClient, rasa: FakeRasa, settings: Settings
) -> None:
    rasa.hang()
    first = client.post("/api/chat", json={"message": "slow one", "message_id": "slow-one-01"}).json()
    again = client.post(
        "/api/chat",
        json={"message": "slow one", "message_id": "slow-one-01", "conversation_id": first["conversation_id"]},
    ).json()
    assert [m["role"] for m in again["messages"]] == ["system"]
    rasa.answer_held()
    _eventually(lambda: _log(settings, first["conversation_id"])[0].state == "answered_late")
    later = client.post(
        "/api/chat",
        json={"message": "slow one", "message_id": "slow-one-01", "conversation_id": first["conversation_id"]},
    ).json()
    assert [(m["role"], m["state"]) for m in later["messages"]] == [("system", "sent"), ("bot", "late")]
    assert len(rasa.sent) == 1


def test_the_same_message_id_with_another_text_is_409(client: TestClient, rasa: FakeRasa) -> None:
    first = client.post("/api/chat", json={"message": "one", "message_id": "same-id-123"}).json()
    response = client.post(
        "/api/chat", json={"message": "two", "message_id": "same-id-123", "conversation_id": first["conversation_id"]}
    )
    assert response.status_code == 409
    assert "message_id" in response.json()["detail"]
    assert len(rasa.sent) == 1


def test_a_message_id_is_scoped_to_its_conversation(client: TestClient, rasa: FakeRasa) -> None:
    client.post("/api/chat", json={"message": "hi", "message_id": "reused-id-1"})
    other = client.post("/api/chat", json={"message": "hi", "message_id": "reused-id-1"})
    assert other.status_code == 200
    assert len(rasa.sent) == 2


# ---- conversations and identities --------------------------------------------------------------------------------


def test_conversation_is_bound_to_the_identity_that_started_it(client: TestClient, rasa: FakeRasa) -> None:
    conversation_id = client.post("/api/chat", json={"message": "hi"}).json()["conversation_id"]
    response = client.post(
        "/api/chat",
        json={"message": "hi", "conversation_id": conversation_id, "customer_id": "cus_001", "signature": _sig()},
    )
    assert response.status_code == 403
    assert client.post("/api/chat", json={"message": "again", "conversation_id": conversation_id}).status_code == 200
    assert len(rasa.sent) == 2


def _sig() -> str:
    from keepwell import identity
    from keepwell.settings import PLACEHOLDER_SECRET

    return identity.sign("cus_001", PLACEHOLDER_SECRET)


def test_unknown_but_well_formed_conversation_is_404(client: TestClient, rasa: FakeRasa) -> None:
    response = client.post("/api/chat", json={"message": "hi", "conversation_id": "A" * 32})
    assert response.status_code == 404
    assert rasa.sent == []


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"message": ""}, "message"),
        ({"message": "   "}, "whitespace"),
        ({"message": "x" * 2001}, "2000"),
        ({"message": 42}, "message"),
        ({"message": ["hi"]}, "message"),
        ({}, "message"),
        ({"message": "hi", "conversation_id": "../../etc"}, "conversation_id"),
        ({"message": "hi", "conversation_id": 7}, "conversation_id"),
        ({"message": "hi", "customer_id": "a b<script>"}, "customer_id"),
        ({"message": "hi", "signature": "abc"}, "signature"),
        ({"message": "hi", "message_id": "short"}, "message_id"),
        ({"message": "hi", "message_id": "has spaces in it"}, "message_id"),
        ({"message": "hi", "message_id": "x" * 65}, "message_id"),
        ({"message": "hi", "unexpected": True}, "unexpected"),
    ],
)
def test_bad_input_gets_a_clear_422_and_logs_nothing(
    client: TestClient, rasa: FakeRasa, settings: Settings, body: dict[str, object], fragment: str
) -> None:
    response = client.post("/api/chat", json=body)
    assert response.status_code == 422
    assert fragment in response.json()["detail"]
    assert rasa.sent == []
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        assert session.scalars(select(Message)).first() is None


def test_invalid_json_is_422_not_500(client: TestClient) -> None:
    response = client.post("/api/chat", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "JSON" in response.json()["detail"]


def test_a_message_of_exactly_2000_characters_is_accepted(client: TestClient) -> None:
    assert client.post("/api/chat", json={"message": "x" * 2000}).status_code == 200


# ---- a person has the conversation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("message", ["still there?", "/restart"])
def test_during_a_handoff_messages_are_held_for_the_person(
    client: TestClient, rasa: FakeRasa, settings: Settings, message: str
) -> None:
    conversation_id = client.post("/api/chat", json={"message": "hi"}).json()["conversation_id"]
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        handoffs.request_handoff(session, conversation_id, None, "needs a person", [])

    body = client.post("/api/chat", json={"message": message, "conversation_id": conversation_id}).json()

    assert body["message"]["state"] == "held"
    assert "assistant stays quiet" in body["messages"][0]["text"]
    assert len(rasa.sent) == 1, "the bot never sees a held message, so no command can wake it"
    _eventually(lambda: _log(settings, conversation_id)[2].intent == "request_human")
    assert [text for _, text, _ in rasa.held] == [message]


def test_a_held_message_is_logged_even_when_rasa_is_down(
    client: TestClient, rasa: FakeRasa, settings: Settings
) -> None:
    conversation_id = client.post("/api/chat", json={"message": "hi"}).json()["conversation_id"]
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        handoffs.request_handoff(session, conversation_id, None, "needs a person", [])
    rasa.available = False
    response = client.post("/api/chat", json={"message": "hello person", "conversation_id": conversation_id})
    assert response.status_code == 200
    assert [m.text for m in _log(settings, conversation_id) if m.role == "customer"] == ["hi", "hello person"]


# ---- the gateway and the action server share the database -------------------------------------------------------


class _WritingRasa(FakeRasa):
    """Writes to the database from another connection while "processing", as the action server does."""

    def __init__(self, database_url: str) -> None:
        super().__init__()
        self.database_url = database_url

    async def send(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        other = make_engine(self.database_url)
        with session_scope(other) as session:
            feedback.record_feedback(session, conversation_id, None, text)
        other.dispose()
        return await super().send(conversation_id, text, metadata)


def test_no_transaction_is_held_while_rasa_and_its_actions_work(settings: Settings) -> None:
    prepare(settings)
    rasa = _WritingRasa(settings.resolved_database_url)
    with TestClient(create_app(settings, rasa=rasa)) as client:
        first = client.post("/api/chat", json={"message": "first"})
        again = client.post("/api/chat", json={"message": "again", "conversation_id": first.json()["conversation_id"]})
    assert (first.status_code, again.status_code) == (200, 200)
    assert [m["role"] for m in again.json()["messages"]] == ["bot"], "answered, not a notice after a lock wait"
    assert log.ANSWERED == again.json()["message"]["state"]


def test_a_conversation_started_first_makes_even_the_first_message_safe_to_resend(
    client: TestClient, rasa: FakeRasa
) -> None:
    started = client.post("/api/conversations")
    assert started.status_code == 201
    conversation_id = started.json()["conversation_id"]
    body = {"message": "hello", "message_id": "first-of-all-1", "conversation_id": conversation_id}
    first = client.post("/api/chat", json=body).json()
    again = client.post("/api/chat", json=body).json()
    assert again == first
    assert len(rasa.sent) == 1
