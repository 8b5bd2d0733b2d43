"""api/routes/console/privacy.py: admins export conversations (CSV and JSON, audited with the filter and counts)
and erase a customer once its id is typed again (audited without the id); CSMs, anonymous callers and forms without
the CSRF token are refused and change nothing."""

import csv
import io
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keepwell import audit
from keepwell.conversations import training
from keepwell.models import AuditEvent, Conversation, Customer, Message
from keepwell.privacy.erasure import subject_ref
from tests.api.conftest import TrackerEvents
from tests.api.console.conftest import csrf_in, post_form

PAGE = "/console/privacy"
WHO = "cus_001"


@pytest.fixture
def chats(db: Session, tracker: TrackerEvents) -> None:
    """Two conversations of the demo account cus_001 (one on each channel) and a visitor's, in the log and in Rasa."""
    for conversation_id, customer_id, channel, day in (
        ("conv-web", WHO, "website", 10),
        ("conv-app", WHO, "in_app", 20),
        ("conv-visitor", None, "website", 21),
    ):
        at = datetime(2026, 1, day, 9, tzinfo=UTC)
        db.add(Conversation(id=conversation_id, customer_id=customer_id, channel=channel, created_at=at))
        db.flush()
        db.add(Message(conversation_id=conversation_id, role="customer", text="=cmd|' /C calc'!A0", state="answered",
                       intent="ask_price", confidence=0.5, created_at=at))  # fmt: skip
        db.add(Message(conversation_id=conversation_id, role="bot", text="Plans start at $49.", state="sent",
                       created_at=at))  # fmt: skip
        tracker.user(conversation_id, "=cmd", "ask_price", 0.5)
    db.commit()


def _export(client: TestClient, **fields: str) -> Any:
    return post_form(client, PAGE, f"{PAGE}/export", fields)


def test_an_admin_exports_csv_and_the_export_is_audited(admin_client: TestClient, chats: None, db: Session) -> None:
    response = _export(admin_client, customer_id=WHO, format="csv", **{"from": "2026-01-01", "to": "2026-01-31"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="keepwell-conversations-\d{8}-\d{6}\.csv"', disposition)
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["conversation_id"], r["role"]) for r in rows] == [
        ("conv-web", "customer"), ("conv-web", "bot"), ("conv-app", "customer"), ("conv-app", "bot"),
    ]  # fmt: skip
    assert rows[0]["text"] == "'=cmd|' /C calc'!A0" and rows[0]["intent"] == "ask_price"

    [entry] = audit.list_events(db, action="conversation.export").items
    assert entry.actor == "admin@demo.test" and entry.ip == "testclient"
    assert entry.detail == {
        "filter": {"from": "2026-01-01", "to": "2026-01-31", "customer_id": WHO},
        "format": "csv",
        "conversations": 2,
        "messages": 4,
    }


def test_json_export_by_channel(admin_client: TestClient, chats: None) -> None:
    response = _export(admin_client, channel="website", format="json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert [c["id"] for c in document["conversations"]] == ["conv-web", "conv-visitor"]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"from": "2026-02-01", "to": "2026-01-01"}, "The start date is after the end date."),
        ({"from": "last week"}, "From: enter a date as YYYY-MM-DD."),
        ({"channel": "fax"}, "Channel must be one of"),
        ({"customer_id": "no such id!"}, "Customer: enter a customer id"),
    ],
)
def test_a_bad_export_filter_says_what_is_wrong(
    admin_client: TestClient, db: Session, fields: dict[str, str], error: str
) -> None:
    response = _export(admin_client, **fields)
    assert response.status_code == 400
    assert error in response.text
    assert audit.list_events(db, action="conversation.export").total == 0


def test_an_unknown_format_is_a_422_not_a_500(admin_client: TestClient) -> None:
    assert _export(admin_client, format="xlsx").status_code == 422
    assert post_form(admin_client, "/console", f"{PAGE}/export/inbox", {"format": "xlsx"}).status_code == 422


def test_an_admin_exports_what_the_inbox_lists_for_its_filters_and_it_is_audited_with_them(
    admin_client: TestClient, chats: None, db: Session
) -> None:
    inbox = admin_client.get("/console?channel=website").text
    assert 'action="/console/privacy/export/inbox"' in inbox and 'name="query" value="channel=website"' in inbox
    response = post_form(
        admin_client, "/console?channel=website", f"{PAGE}/export/inbox", {"query": "channel=website", "format": "csv"}
    )
    assert response.status_code == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="keepwell-conversations-\d{8}-\d{6}\.csv"',
                        response.headers["content-disposition"])  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert sorted({r["conversation_id"] for r in rows}) == ["conv-visitor", "conv-web"]
    [entry] = audit.list_events(db, action="conversation.export").items
    assert entry.detail == {
        "filter": {"inbox": "channel=website"}, "format": "csv", "conversations": 2, "messages": 4,
    }  # fmt: skip

    document = post_form(admin_client, "/console", f"{PAGE}/export/inbox", {"query": "", "format": "json"}).json()
    assert [c["id"] for c in document["conversations"]] == ["conv-web", "conv-app", "conv-visitor"]


def test_a_bad_inbox_filter_is_refused_with_a_message_and_not_exported(admin_client: TestClient, db: Session) -> None:
    response = post_form(admin_client, "/console", f"{PAGE}/export/inbox", {"query": "band=purple", "format": "csv"})
    assert response.status_code == 400 and "The inbox&#39;s filters cannot be exported: band: one of" in response.text
    assert audit.list_events(db, action="conversation.export").total == 0


def test_a_csm_sees_no_export_button_on_the_inbox(csm_client: TestClient, chats: None) -> None:
    assert "Export these" not in csm_client.get("/console").text


def test_an_admin_erases_a_customer_after_typing_its_id_again(
    app: FastAPI, admin_client: TestClient, chats: None, db: Session, tracker: TrackerEvents
) -> None:
    wrong = post_form(admin_client, PAGE, f"{PAGE}/erase", {"customer_id": WHO, "confirm": "cus_01"})
    assert wrong.status_code == 400
    assert "Type the customer&#39;s id again, exactly" in wrong.text
    assert db.get(Customer, WHO) is not None

    done = post_form(admin_client, PAGE, f"{PAGE}/erase", {"customer_id": WHO, "confirm": f" {WHO} "})
    assert done.status_code == 303 and done.headers["location"] == PAGE
    page = admin_client.get(PAGE).text
    subject = subject_ref(WHO, app.state.settings.internal_secret)
    assert "Erased: 2 conversations" in page and subject in page

    db.expire_all()
    assert db.get(Customer, WHO) is None
    assert db.scalars(select(Conversation.id)).all() == ["conv-visitor"]
    with tracker._engine.connect() as connection:
        senders = connection.exec_driver_sql("SELECT DISTINCT sender_id FROM events").scalars().all()
    assert senders == ["conv-visitor"]
    [entry] = audit.list_events(db, action="customer.erase").items
    assert (entry.target_type, entry.target_id, entry.detail["kind"]) == ("customer", subject, "account")
    assert WHO not in str(entry.detail)

    again = post_form(admin_client, PAGE, f"{PAGE}/erase", {"customer_id": WHO, "confirm": WHO})
    assert again.status_code == 303
    assert "Nothing was stored under that id" in admin_client.get(PAGE).text
    assert audit.list_events(db, action="customer.erase").total == 2


def test_a_malformed_id_is_refused_with_a_message(admin_client: TestClient) -> None:
    response = post_form(admin_client, PAGE, f"{PAGE}/erase", {"customer_id": "a b", "confirm": "a b"})
    assert response.status_code == 400
    assert "Enter a customer id" in response.text


def test_a_csm_can_neither_export_nor_erase(csm_client: TestClient, chats: None, db: Session) -> None:
    token = csrf_in(csm_client.get("/console").text)
    assert csm_client.get(PAGE).status_code == 403
    for action, data in (
        ("export", {"format": "csv"}),
        ("export/inbox", {"query": "channel=website", "format": "csv"}),
        ("erase", {"customer_id": WHO, "confirm": WHO}),
    ):
        response = csm_client.post(f"{PAGE}/{action}", data={"csrf": token, **data}, follow_redirects=False)
        assert response.status_code == 403, action
        assert "Only an admin can" in response.text and "conv-" not in response.text
    db.expire_all()
    assert db.get(Customer, WHO) is not None
    assert db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("c%"))) == 0


def test_forms_without_the_csrf_token_are_refused(admin_client: TestClient, chats: None, db: Session) -> None:
    for action, data in (
        ("export", {"format": "csv"}),
        ("export/inbox", {"format": "csv"}),
        ("erase", {"customer_id": WHO, "confirm": WHO}),
    ):
        response = admin_client.post(f"{PAGE}/{action}", data={"csrf": "forged", **data}, follow_redirects=False)
        assert response.status_code == 403 and "The form expired" in response.text, action
    db.expire_all()
    assert db.get(Customer, WHO) is not None
    assert audit.list_events(db, action="conversation.").total == 0


def test_the_page_shows_retention(admin_client: TestClient, app: FastAPI) -> None:
    assert "Conversations are kept forever" in admin_client.get(PAGE).text
    app.state.settings = app.state.settings.model_copy(update={"retention_days": 30})
    page = admin_client.get(PAGE).text
    assert "deleted 30 days after their last message" in page and 'data-testid="retention-due">0<' in page
    assert 'href="/console/privacy" aria-current="page"' in page


def test_an_erasure_rewrites_the_training_file_without_the_customers_words(
    app: FastAPI, admin_client: TestClient, db: Session
) -> None:
    said = {"conv-web": "my ledger export keeps failing", "conv-visitor": "where do I find invoices"}
    for conversation_id, customer_id in (("conv-web", WHO), ("conv-visitor", None)):
        db.add(Conversation(id=conversation_id, customer_id=customer_id, channel="website"))
        db.flush()
        message = Message(
            conversation_id=conversation_id, role="customer", text=said[conversation_id], state="answered"
        )
        db.add(message)
        db.flush()
        training.add(db, message.id, "ask_price", "csm@demo.test", intents=("ask_price",))
    db.commit()
    data_dir = app.state.settings.data_dir
    assert said["conv-web"] in training.write_nlu_file(db, data_dir).read_text(encoding="utf-8")

    done = post_form(admin_client, PAGE, f"{PAGE}/erase", {"customer_id": WHO, "confirm": WHO})

    assert done.status_code == 303
    written = (data_dir / training.NLU_FILE).read_text(encoding="utf-8")
    assert said["conv-web"] not in written and said["conv-visitor"] in written
