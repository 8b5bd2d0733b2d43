"""api/routes/console/handoffs.py: open and released handoffs, and releasing one (audited)."""

import html as html_lib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.routes.console.handoffs import waiting
from keepwell import accounts, handoffs
from keepwell.audit import AuditEntry
from keepwell.models import Conversation, Handoff, utcnow
from tests.api.conftest import CSM_USERNAME, TrackerEvents
from tests.api.console.conftest import CsrfOf
from tests.api.fakes import FakeRasa


def _conversation(db: Session, conversation_id: str, customer_id: str | None) -> None:
    db.add(Conversation(id=conversation_id, customer_id=customer_id))
    db.commit()


def _customer_with_usage(db: Session) -> accounts.Account:
    return next(account for account in accounts.list_accounts(db) if account.usage is not None)


def test_release_handoff_gives_the_conversation_back_and_is_audited(
    csm_client: TestClient,
    db: Session,
    tracker: TrackerEvents,
    csrf_of: CsrfOf,
    rasa: FakeRasa,
    entries: Callable[..., list[AuditEntry]],
) -> None:
    conversation_id = "r" * 32
    _conversation(db, conversation_id, None)
    tracker.user(conversation_id, "I want a person", "request_human", 0.95)
    handoff = handoffs.request_handoff(db, conversation_id, None, "asked for a person", [])
    db.commit()
    page = csm_client.get(f"/console/conversations/{conversation_id}").text
    assert "asked for a person" in page and "Open handoff" in page
    assert f'action="/console/handoffs/{handoff.id}/release"' in page

    token = csrf_of(csm_client, "/console")
    response = csm_client.post(f"/console/handoffs/{handoff.id}/release", data={"csrf": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/console/conversations/{conversation_id}"
    assert rasa.resumed == [conversation_id]
    db.expire_all()
    released = handoffs.for_conversations(db, [conversation_id])[conversation_id]
    assert (released.status, released.released_by) == ("released", CSM_USERNAME)
    assert not handoffs.is_active(db, conversation_id)
    page = csm_client.get(f"/console/conversations/{conversation_id}").text
    assert "Released" in page and "/release" not in page
    [entry] = entries(action="handoff.release")
    assert (entry.actor, entry.target_type, entry.target_id) == (CSM_USERNAME, "handoff", str(handoff.id))
    assert entry.detail == {"conversation_id": conversation_id}


def test_release_keeps_the_handoff_open_when_rasa_cannot_resume(
    csm_client: TestClient, db: Session, csrf_of: CsrfOf, rasa: FakeRasa, entries: Callable[..., list[AuditEntry]]
) -> None:
    handoff = handoffs.request_handoff(db, "u" * 32, None, "asked for a person", [])
    db.commit()
    rasa.available = False
    token = csrf_of(csm_client, "/console")
    response = csm_client.post(f"/console/handoffs/{handoff.id}/release", data={"csrf": token})
    assert response.status_code == 503
    db.expire_all()
    assert handoffs.is_active(db, "u" * 32)
    assert entries(action="handoff.release") == []  # nothing was released, so nothing is recorded


def test_release_needs_csrf_and_a_known_handoff(csm_client: TestClient, db: Session, csrf_of: CsrfOf) -> None:
    handoff = handoffs.request_handoff(db, "q" * 32, None, "asked for a person", [])
    db.commit()
    assert csm_client.post(f"/console/handoffs/{handoff.id}/release", data={}).status_code == 403
    assert csm_client.post(f"/console/handoffs/{handoff.id}/release", data={"csrf": "forged"}).status_code == 403
    db.expire_all()
    assert handoffs.is_active(db, "q" * 32)
    token = csrf_of(csm_client, "/console")
    assert csm_client.post("/console/handoffs/9999/release", data={"csrf": token}).status_code == 404
    huge = csm_client.post(f"/console/handoffs/{10**25}/release", data={"csrf": token})
    assert huge.status_code == 422


def test_release_from_the_handoff_list_returns_there(csm_client: TestClient, db: Session, csrf_of: CsrfOf) -> None:
    customer = _customer_with_usage(db)
    open_one = handoffs.request_handoff(db, "o" * 32, customer.id, "billing dispute", [])
    done = handoffs.request_handoff(db, "d" * 32, None, "wants a demo", [])
    handoffs.release(db, done.id, "another-csm")
    db.commit()
    page = csm_client.get("/console/handoffs").text
    open_section = page[page.index('id="open-title"') : page.index('id="released-title"')]
    released_section = page[page.index('id="released-title"') :]
    assert "billing dispute" in open_section and html_lib.escape(customer.name) in open_section
    assert "wants a demo" in released_section and "by another-csm" in released_section

    token = csrf_of(csm_client, "/console/handoffs")
    response = csm_client.post(
        f"/console/handoffs/{open_one.id}/release",
        data={"csrf": token, "next": "/console/handoffs"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/console/handoffs"
    assert "No open handoffs." in csm_client.get("/console/handoffs").text


def test_handoff_list_shows_the_conversation_at_handoff_escaped(csm_client: TestClient, db: Session) -> None:
    transcript = [
        {"role": "user", "text": "<b>invoice</b> is wrong", "intent": "ask_faq"},
        {"role": "bot", "text": "Shall I get a person?"},
        {"role": "user", "text": "yes please", "intent": "affirm"},
    ]
    handoffs.request_handoff(db, "t" * 32, None, "invoice is wrong", transcript)
    db.commit()
    page = csm_client.get("/console/handoffs").text
    assert "Conversation at handoff (3 messages)" in page
    assert "&lt;b&gt;invoice&lt;/b&gt; is wrong" in page and "<b>invoice</b>" not in page
    assert "(affirm)" in page


def test_the_open_queue_puts_the_longest_wait_first_with_how_long(csm_client: TestClient, db: Session) -> None:
    for conversation_id, reason, minutes in (
        ("a" * 32, "newest", 5),
        ("b" * 32, "oldest", 190),
        ("c" * 32, "middle", 61),
    ):
        handoff = handoffs.request_handoff(db, conversation_id, None, reason, [])
        db.get(Handoff, handoff.id).created_at = utcnow() - timedelta(minutes=minutes)  # type: ignore[union-attr]
    db.commit()
    page = html_lib.unescape(csm_client.get("/console/handoffs").text)
    assert page.index("oldest") < page.index("middle") < page.index("newest")
    assert "3 h 10 min" in page and "1 h 1 min" in page and "5 min" in page
    queue = csm_client.get("/console/handoffs/queue.json").json()["data"]
    assert [(item["reason"], item["waiting"]) for item in queue] == [
        ("oldest", "3 h 10 min"),
        ("middle", "1 h 1 min"),
        ("newest", "5 min"),
    ]
    assert queue[0]["release_url"] == f"/console/handoffs/{queue[0]['id']}/release"


@pytest.mark.parametrize(
    ("waited", "said"),
    [
        (timedelta(seconds=59), "under a minute"),
        (timedelta(minutes=59), "59 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(hours=25, minutes=30), "1 d 1 h"),
        (timedelta(days=3), "3 d"),
        (timedelta(seconds=-5), "under a minute"),  # clocks a moment apart
    ],
)
def test_waiting_reads_like_a_queue(waited: timedelta, said: str) -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert waiting(now - waited, now) == said
