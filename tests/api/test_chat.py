"""api/routes/chat.py: the contract of POST /api/chat — identity, conversation binding, bad input, reply shape."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.main import create_app
from api.settings import Settings
from keepwell import feedback, handoffs, identity
from keepwell.db import get_engine, make_engine, session_scope
from keepwell.models import Conversation
from tests.api.fakes import FakeRasa

SECRET = "chat-test-secret"


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, identity_secret=SECRET, rate_limit_enabled=False)


@pytest.fixture
def client(settings: Settings, rasa: FakeRasa) -> Iterator[TestClient]:
    with TestClient(create_app(settings, rasa=rasa)) as test_client:
        yield test_client


def _signed(customer_id: str) -> dict[str, str]:
    return {"customer_id": customer_id, "signature": identity.sign(customer_id, SECRET)}


def test_new_conversation_gets_an_unguessable_id_and_the_reply(client: TestClient, rasa: FakeRasa) -> None:
    response = client.post("/api/chat", json={"message": "hi"})
    assert response.status_code == 200
    body = response.json()
    assert len(body["conversation_id"]) == 32
    assert body["messages"] == [{"text": "Hello!", "buttons": [], "sources": []}]
    assert rasa.sent == [(body["conversation_id"], "hi", {"customer": None})]
    other = client.post("/api/chat", json={"message": "hi"}).json()["conversation_id"]
    assert other != body["conversation_id"]


def test_sources_sent_as_custom_payload_join_their_text_message(client: TestClient, rasa: FakeRasa) -> None:
    rasa.reply = [
        {"text": "Open Settings > Members.", "buttons": [{"title": "More", "payload": "/ask_howto"}]},
        {"custom": {"sources": [{"title": "Invite teammates", "url": "/help/getting-started/invite-teammates"}]}},
        {"text": "Anything else?"},
    ]
    messages = client.post("/api/chat", json={"message": "invite?"}).json()["messages"]
    assert messages == [
        {
            "text": "Open Settings > Members.",
            "buttons": [{"title": "More", "payload": "/ask_howto"}],
            "sources": [{"title": "Invite teammates", "url": "/help/getting-started/invite-teammates"}],
        },
        {"text": "Anything else?", "buttons": [], "sources": []},
    ]


def test_signed_customer_identity_reaches_rasa_as_metadata(client: TestClient, rasa: FakeRasa) -> None:
    response = client.post("/api/chat", json={"message": "health?", **_signed("cus_001")})
    assert response.status_code == 200
    assert rasa.sent[0][2] == {"customer": {"id": "cus_001", "signature": identity.sign("cus_001", SECRET)}}


@pytest.mark.parametrize("signature", [None, "", "0" * 64, identity.sign("cus_002", SECRET), "not-hex"])
def test_customer_id_without_a_valid_signature_is_401(
    client: TestClient, rasa: FakeRasa, signature: str | None
) -> None:
    response = client.post("/api/chat", json={"message": "health?", "customer_id": "cus_001", "signature": signature})
    assert response.status_code == 401
    assert "signature" in response.json()["detail"]
    assert rasa.sent == []


def test_conversation_is_bound_to_the_identity_that_started_it(client: TestClient, rasa: FakeRasa) -> None:
    conversation_id = client.post("/api/chat", json={"message": "hi", **_signed("cus_001")}).json()["conversation_id"]
    for intruder in ({}, _signed("cus_002")):
        response = client.post("/api/chat", json={"message": "hi", "conversation_id": conversation_id, **intruder})
        assert response.status_code == 403
        assert "messages" not in response.json()
    ok = client.post("/api/chat", json={"message": "again", "conversation_id": conversation_id, **_signed("cus_001")})
    assert ok.status_code == 200
    assert len(rasa.sent) == 2


def test_anonymous_conversation_cannot_be_taken_over_by_a_customer(client: TestClient) -> None:
    conversation_id = client.post("/api/chat", json={"message": "hi"}).json()["conversation_id"]
    response = client.post(
        "/api/chat", json={"message": "hi", "conversation_id": conversation_id, **_signed("cus_001")}
    )
    assert response.status_code == 403


def test_unknown_but_well_formed_conversation_is_404(client: TestClient) -> None:
    response = client.post("/api/chat", json={"message": "hi", "conversation_id": "A" * 32})
    assert response.status_code == 404


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
        ({"message": "hi", "unexpected": True}, "unexpected"),
    ],
)
def test_bad_input_gets_a_clear_422(client: TestClient, rasa: FakeRasa, body: dict[str, object], fragment: str) -> None:
    response = client.post("/api/chat", json=body)
    assert response.status_code == 422
    assert fragment in response.json()["detail"]
    assert rasa.sent == []


def test_invalid_json_is_422_not_500(client: TestClient) -> None:
    response = client.post("/api/chat", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "JSON" in response.json()["detail"]


def test_a_message_of_exactly_2000_characters_is_accepted(client: TestClient) -> None:
    assert client.post("/api/chat", json={"message": "x" * 2000}).status_code == 200


def test_rasa_down_is_503_and_leaves_no_conversation_behind(
    client: TestClient, rasa: FakeRasa, settings: Settings
) -> None:
    rasa.available = False
    response = client.post("/api/chat", json={"message": "hi"})
    assert response.status_code == 503
    assert "unavailable" in response.json()["detail"]
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        assert session.scalar(select(func.count()).select_from(Conversation)) == 0


def test_non_ascii_signature_is_401_not_500(client: TestClient) -> None:
    response = client.post("/api/chat", json={"message": "hi", "customer_id": "cus_001", "signature": "é" * 64})
    assert response.status_code == 401


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
    assert response.json()["messages"] == [{"text": "ok", "buttons": [], "sources": []}]


@pytest.mark.parametrize("message", ["still there?", "/restart"])
def test_during_a_handoff_messages_are_held_for_the_csm(
    client: TestClient, rasa: FakeRasa, settings: Settings, message: str
) -> None:
    conversation_id = client.post("/api/chat", json={"message": "hi"}).json()["conversation_id"]
    with session_scope(get_engine(settings.resolved_database_url)) as session:
        handoffs.request_handoff(session, conversation_id, None, "needs a person", [])

    response = client.post("/api/chat", json={"message": message, "conversation_id": conversation_id})

    assert response.status_code == 200
    assert "assistant stays quiet" in response.json()["messages"][0]["text"]
    assert rasa.held == [(conversation_id, message, {"customer": None})]
    assert len(rasa.sent) == 1, "the bot never sees a held message, so no command can wake it"


def test_empty_reply_without_a_handoff_stays_empty(client: TestClient, rasa: FakeRasa) -> None:
    rasa.reply = []
    assert client.post("/api/chat", json={"message": "hi"}).json()["messages"] == []


def test_rate_limit_answers_429(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, identity_secret=SECRET, rate_limit_enabled=True)
    with TestClient(create_app(settings, rasa=FakeRasa())) as client:
        statuses = [client.post("/api/chat", json={"message": "hi"}).status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429


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
    rasa = _WritingRasa(settings.resolved_database_url)
    with TestClient(create_app(settings, rasa=rasa)) as client:
        first = client.post("/api/chat", json={"message": "first"})
        again = client.post("/api/chat", json={"message": "again", "conversation_id": first.json()["conversation_id"]})
    assert (first.status_code, again.status_code) == (200, 200)
