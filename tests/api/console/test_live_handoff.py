"""Live handoff through the gateway: the queue the console polls, a CSM's reply reaching the customer's log and live
stream with their name, the customer's answers held from Rasa and shown to the console, take-over, closing with the
CSAT question and the customer's answer; every action audited, refused ones changing nothing."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.services.turns import HANDOFF_NOTICE
from keepwell import accounts, handoffs, identity, staff
from keepwell.audit import AuditEntry
from keepwell.models import Customer, Handoff, Message
from keepwell.staff import StaffView
from tests.api.conftest import IDENTITY_SECRET
from tests.api.console.conftest import CsrfOf
from tests.api.fakes import FakeRasa

REQUEST = [{"role": "user", "text": "I want to talk to a person", "intent": "request_human"}]


@pytest.fixture
def published(app: FastAPI) -> Iterator[list[str]]:
    """The conversations whose live stream (the widget's) was woken."""
    calls: list[str] = []
    live = app.state.live
    original = live.publish

    async def record(conversation_id: str) -> None:
        calls.append(conversation_id)
        await original(conversation_id)

    live.publish = record
    yield calls
    live.publish = original


@pytest.fixture
def account(db: Session, demo_csm: StaffView) -> accounts.Account:
    """A demo account owned by the demo CSM."""
    found = accounts.list_accounts(db)[0]
    db.execute(update(Customer).where(Customer.id == found.id).values(owner_csm_id=demo_csm.id))
    db.commit()
    return found


@pytest.fixture
def other_csm(db: Session) -> StaffView:
    user = staff.create(db, "grace@example.test", "a long enough password", display_name="Grace Hopper")
    db.commit()
    return user


def _headers(customer_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {identity.mint_token(customer_id, IDENTITY_SECRET, 600)}"}


def _handed_over(client: TestClient, db: Session, customer_id: str | None = None) -> tuple[str, int]:
    """A conversation the widget started, handed to a person as `action_handoff` does."""
    headers = _headers(customer_id) if customer_id else {}
    conversation_id = client.post("/api/conversations", headers=headers).json()["conversation_id"]
    handoff = handoffs.request_handoff(db, conversation_id, customer_id, "I want to talk to a person", REQUEST)
    db.commit()
    return conversation_id, handoff.id


def _history(client: TestClient, conversation_id: str, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    response = client.get(f"/api/conversations/{conversation_id}/messages", headers=headers or {})
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def _post(client: TestClient, csrf_of: CsrfOf, conversation_id: str, action: str, **data: str) -> Any:
    token = csrf_of(client, f"/console/conversations/{conversation_id}")
    return client.post(action, data={"csrf": token, **data}, follow_redirects=False)


def test_the_queue_shows_each_handoff_in_the_owners_or_the_shared_queue(
    csm_client: TestClient, db: Session, account: accounts.Account
) -> None:
    owned, _ = _handed_over(csm_client, db, account.id)
    anonymous, _ = _handed_over(csm_client, db)
    body = csm_client.get("/console/handoffs/queue.json").json()
    queues = {item["conversation_id"]: (item["queue"], item["customer"], item["kind_label"]) for item in body["data"]}
    assert queues == {
        owned: ("mine", account.name, "Asked for a person"),
        anonymous: ("shared", "Anonymous visitor", "Asked for a person"),
    }
    assert (body["count"], body["for_me"]) == (2, 2)
    page = csm_client.get("/console/handoffs").text
    assert 'id="open-queue"' in page and "/static/console-handoffs.js" in page


def test_a_reply_reaches_the_customers_log_and_stream_with_the_csms_name_and_is_audited(
    csm_client: TestClient,
    db: Session,
    csrf_of: CsrfOf,
    account: accounts.Account,
    demo_csm: StaffView,
    published: list[str],
    entries: Callable[..., list[AuditEntry]],
) -> None:
    conversation_id, handoff_id = _handed_over(csm_client, db, account.id)
    response = _post(
        csm_client, csrf_of, conversation_id, f"/console/handoffs/{handoff_id}/reply", text="Hi, <b>I</b> can help."
    )
    assert response.status_code == 303, response.text
    [reply] = [m for m in _history(csm_client, conversation_id, _headers(account.id)) if m["role"] == "agent"]
    assert (reply["text"], reply["author"]) == ("Hi, <b>I</b> can help.", demo_csm.label)
    assert published == [conversation_id]
    db.expire_all()
    handoff = handoffs.get(db, handoff_id)
    assert handoff is not None and handoff.first_reply_at is not None and handoff.wait_s is not None
    [entry] = entries(action="handoff.reply")
    assert (entry.actor, entry.target_id) == (demo_csm.username, str(handoff_id))
    assert entry.detail == {"conversation_id": conversation_id, "message_id": reply["id"]}
    page = csm_client.get(f"/console/conversations/{conversation_id}").text
    assert "Hi, &lt;b&gt;I&lt;/b&gt; can help." in page and f"{demo_csm.label} (person)" in page
    assert "waited" in page


def test_the_customers_answers_are_held_from_rasa_and_shown_to_the_console(
    csm_client: TestClient, db: Session, csrf_of: CsrfOf, rasa: FakeRasa, account: accounts.Account
) -> None:
    conversation_id, handoff_id = _handed_over(csm_client, db, account.id)
    token = identity.mint_token(account.id, IDENTITY_SECRET, 600)

    def say(text: str) -> dict[str, Any]:
        chat = csm_client.post("/api/chat", json={"conversation_id": conversation_id, "message": text, "token": token})
        assert chat.status_code == 200 and chat.json()["message"]["state"] == "held"
        return dict(chat.json())

    waiting = say("Is anyone there?")
    assert [m["text"] for m in waiting["messages"]] == [HANDOFF_NOTICE.text]  # until a person replies
    _post(csm_client, csrf_of, conversation_id, f"/console/handoffs/{handoff_id}/reply", text="Yes, Dana here")
    last = csm_client.get(f"/console/conversations/{conversation_id}/messages.json").json()["data"][-1]["id"]
    answering = say("Thanks, it's the invoice page")
    assert answering["messages"] == []  # a person is answering: no more notices in between
    assert rasa.sent == []  # the assistant never answers while a person has the conversation
    new = csm_client.get(f"/console/conversations/{conversation_id}/messages.json?after={last}").json()
    assert [(m["role"], m["text"]) for m in new["data"]] == [("customer", "Thanks, it's the invoice page")]
    assert new["handoff"]["status"] == "open"


def test_a_csm_cannot_reply_in_another_csms_handoff_until_taking_it_over(
    csm_client: TestClient,
    db: Session,
    csrf_of: CsrfOf,
    account: accounts.Account,
    other_csm: StaffView,
    demo_csm: StaffView,
    entries: Callable[..., list[AuditEntry]],
) -> None:
    conversation_id, handoff_id = _handed_over(csm_client, db, account.id)
    db.execute(update(Handoff).where(Handoff.id == handoff_id).values(assigned_to_id=other_csm.id))
    db.commit()
    page = csm_client.get(f"/console/conversations/{conversation_id}").text
    assert "Grace Hopper" in page and "/take-over" in page and f"/console/handoffs/{handoff_id}/reply" not in page
    for action in ("reply", "close"):
        refused = _post(csm_client, csrf_of, conversation_id, f"/console/handoffs/{handoff_id}/{action}", text="Hi")
        assert refused.status_code == 303
        assert "Take it over" in csm_client.get(refused.headers["location"]).text
    assert db.scalar(select(func.count()).select_from(Message).where(Message.role == "agent")) == 0
    assert entries(action="handoff.reply") == [] and entries(action="handoff.close") == []

    taken = _post(csm_client, csrf_of, conversation_id, f"/console/handoffs/{handoff_id}/take-over")
    assert taken.status_code == 303
    [entry] = entries(action="handoff.take_over")
    assert entry.detail == {
        "conversation_id": conversation_id,
        "from_staff_id": other_csm.id,
        "to_staff_id": demo_csm.id,
    }
    replied = _post(csm_client, csrf_of, conversation_id, f"/console/handoffs/{handoff_id}/reply", text="Hi, I'm here")
    assert replied.status_code == 303 and len(entries(action="handoff.reply")) == 1


@pytest.mark.parametrize("text", ["   ", "x" * (handoffs.MAX_REPLY_CHARS + 1)])
def test_a_refused_reply_keeps_the_draft_and_writes_nothing(
    csm_client: TestClient, db: Session, csrf_of: CsrfOf, account: accounts.Account, text: str
) -> None:
    conversation_id, handoff_id = _handed_over(csm_client, db, account.id)
    response = _post(csm_client, csrf_of, conversation_id, f"/console/handoffs/{handoff_id}/reply", text=text)
    assert response.status_code == 422
    assert 'id="reply-error"' in response.text and f">{text}</textarea>" in response.text
    assert [m for m in _history(csm_client, conversation_id, _headers(account.id)) if m["role"] == "agent"] == []


def test_closing_resumes_the_assistant_asks_for_a_rating_and_stores_the_answer(
    csm_client: TestClient,
    db: Session,
    csrf_of: CsrfOf,
    rasa: FakeRasa,
    published: list[str],
    entries: Callable[..., list[AuditEntry]],
) -> None:
    conversation_id, handoff_id = _handed_over(csm_client, db)
    closed = _post(csm_client, csrf_of, conversation_id, f"/console/handoffs/{handoff_id}/close")
    assert closed.status_code == 303
    assert rasa.resumed == [conversation_id] and published == [conversation_id]
    [question] = [m for m in _history(csm_client, conversation_id) if m["kind"] == "csat"]
    assert (question["role"], question["text"]) == ("system", handoffs.CSAT_QUESTION)
    assert len(entries(action="handoff.close")) == 1

    url = f"/api/conversations/{conversation_id}/csat"
    for bad in ({"score": 0}, {"score": 6}, {"score": "five"}, {"score": 3, "comment": "x" * 1001}, {}):
        assert csm_client.post(url, json=bad).status_code == 422, bad
    answer = csm_client.post(url, json={"score": 4, "comment": "Quick and kind"})
    assert answer.status_code == 200 and answer.json()["score"] == 4
    assert csm_client.post(url, json={"score": 1}).status_code == 409  # once
    page = csm_client.get(f"/console/conversations/{conversation_id}").text
    assert "4/5" in page and "Quick and kind" in page
    assert "4/5" in csm_client.get("/console/handoffs").text


def test_closing_keeps_the_handoff_open_when_the_assistant_cannot_resume(
    csm_client: TestClient, db: Session, csrf_of: CsrfOf, rasa: FakeRasa
) -> None:
    conversation_id, handoff_id = _handed_over(csm_client, db)
    rasa.available = False
    assert _post(csm_client, csrf_of, conversation_id, f"/console/handoffs/{handoff_id}/close").status_code == 503
    db.expire_all()
    assert handoffs.is_active(db, conversation_id)
    assert [m for m in _history(csm_client, conversation_id) if m["kind"] == "csat"] == []


def test_only_the_conversations_owner_can_answer_its_rating(
    client: TestClient, db: Session, account: accounts.Account, demo_csm: StaffView
) -> None:
    conversation_id, handoff_id = _handed_over(client, db, account.id)
    handoffs.close(db, handoff_id, demo_csm)
    db.commit()
    url = f"/api/conversations/{conversation_id}/csat"
    assert client.post(url, json={"score": 5}).status_code == 403  # anonymous caller
    assert client.post(url, json={"score": 5}, headers=_headers("cus_other")).status_code == 403
    assert client.post(url, json={"score": 5}, headers=_headers(account.id)).status_code == 200


def test_there_is_nothing_to_rate_before_a_handoff_is_closed(client: TestClient, db: Session) -> None:
    conversation_id, _ = _handed_over(client, db)
    response = client.post(f"/api/conversations/{conversation_id}/csat", json={"score": 5})
    assert response.status_code == 409 and "no question" in response.json()["detail"]
