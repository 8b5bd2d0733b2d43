"""api/routes/conversations.py: a conversation's history and live events, only for the identity that owns it."""

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.routes.conversations import MAX_MESSAGE_ID, resume_point
from api.settings import Settings
from keepwell import identity
from keepwell.bootstrap import prepare
from tests.api.fakes import FakeRasa

SECRET = "conversations-test-secret-of-32-bytes-or-more"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        identity_secret=SECRET,
        rate_limit_enabled=False,
        reply_deadline_s=0.3,
        redelivery_interval_s=0.05,
        action_server_url="http://127.0.0.1:9",
    )


@pytest.fixture
def client(settings: Settings, rasa: FakeRasa) -> Iterator[TestClient]:
    prepare(settings)
    with TestClient(create_app(settings, rasa=rasa)) as test_client:
        yield test_client


def _bearer(customer_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {identity.mint_token(customer_id, SECRET, 600)}"}


def _start(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/chat", json={"message": "hi", **fields})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_history_returns_the_messages_in_order_to_an_anonymous_owner(client: TestClient) -> None:
    first = _start(client)
    conversation_id = first["conversation_id"]
    client.post("/api/chat", json={"message": "and then?", "conversation_id": conversation_id})

    body = client.get(f"/api/conversations/{conversation_id}/messages").json()

    assert body["count"] == 4
    assert [(m["role"], m["text"]) for m in body["data"]] == [
        ("customer", "hi"), ("bot", "Hello!"), ("customer", "and then?"), ("bot", "Hello!"),
    ]  # fmt: skip
    after = client.get(f"/api/conversations/{conversation_id}/messages", params={"after": body["data"][1]["id"]})
    assert [m["text"] for m in after.json()["data"]] == ["and then?", "Hello!"]
    assert "intent" not in body["data"][0], "what the bot understood is for CSMs, not for the customer"


def test_a_signed_in_conversation_needs_the_owners_token(client: TestClient) -> None:
    conversation_id = _start(client, token=identity.mint_token("cus_001", SECRET, 600))["conversation_id"]
    url = f"/api/conversations/{conversation_id}/messages"

    assert client.get(url, headers=_bearer("cus_001")).status_code == 200
    assert client.get(url).status_code == 403, "the id alone is not enough for a signed-in conversation"
    assert client.get(url, headers=_bearer("cus_002")).status_code == 403
    expired = identity.mint_token("cus_001", SECRET, 600, now=time.time() - 3600)
    refused = client.get(url, headers={"Authorization": f"Bearer {expired}"})
    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"]


def test_an_anonymous_conversation_is_not_readable_with_a_customer_token(client: TestClient) -> None:
    conversation_id = _start(client)["conversation_id"]
    response = client.get(f"/api/conversations/{conversation_id}/messages", headers=_bearer("cus_001"))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/conversations/" + "A" * 32 + "/messages", 404),
        ("/api/conversations/short/messages", 422),
        ("/api/conversations/" + "A" * 32 + "/events", 404),
        ("/api/conversations/{own}/messages?after=-1", 422),
        ("/api/conversations/{own}/messages?limit=100000", 422),
        ("/api/conversations/{own}/messages?after=x", 422),
    ],
)
def test_unknown_or_malformed_requests_are_clear_errors(client: TestClient, path: str, status: int) -> None:
    response = client.get(path.format(own=_start(client)["conversation_id"]))
    assert response.status_code == status
    assert response.json()["detail"]


def _read_events(client: TestClient, url: str, headers: dict[str, str], want: int, out: list[dict[str, Any]]) -> None:
    with client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data:"):
                out.append(json.loads(line.removeprefix("data:").strip()))
                if len(out) >= want:
                    return


def test_the_event_stream_resumes_after_the_last_event_and_delivers_a_late_answer(
    client: TestClient, rasa: FakeRasa
) -> None:
    rasa.hang()
    first = _start(client)  # the notice, within the deadline
    conversation_id = first["conversation_id"]
    seen_so_far = first["messages"][-1]["id"]
    events: list[dict[str, Any]] = []
    reader = threading.Thread(
        target=_read_events,
        args=(client, f"/api/conversations/{conversation_id}/events", {"Last-Event-ID": str(seen_so_far)}, 1, events),
        daemon=True,
    )
    reader.start()
    time.sleep(0.3)
    rasa.answer_held()
    reader.join(10)

    assert [(e["role"], e["text"], e["state"], e["reply_to"]) for e in events] == [
        ("bot", "Hello!", "late", first["message"]["id"])
    ]


def test_the_event_stream_replays_from_the_start_without_last_event_id(client: TestClient) -> None:
    conversation_id = _start(client)["conversation_id"]
    events: list[dict[str, Any]] = []
    _read_events(client, f"/api/conversations/{conversation_id}/events", {}, 2, events)
    assert [e["role"] for e in events] == ["customer", "bot"]


def test_the_event_stream_checks_the_owner_like_history(client: TestClient) -> None:
    conversation_id = _start(client, token=identity.mint_token("cus_001", SECRET, 600))["conversation_id"]
    assert client.get(f"/api/conversations/{conversation_id}/events").status_code == 403
    assert client.get(f"/api/conversations/{conversation_id}/events", headers=_bearer("cus_002")).status_code == 403


@pytest.mark.parametrize(
    ("after", "last_event_id", "start"),
    [
        (0, None, 0),
        (0, "7", 7),
        (9, "7", 9),
        (0, "²", 0),  # isdigit(), but int() refuses it: was a 500 (a raw 0xB2 byte in the header over HTTP)
        (0, "-1", 0),
        (0, "9" * 20, MAX_MESSAGE_ID),  # past SQLite's 64-bit integers: was an OverflowError in the stream
    ],
)
def test_the_stream_resumes_only_after_a_plain_message_id(after: int, last_event_id: str | None, start: int) -> None:
    assert resume_point(after, last_event_id) == start
