"""The Privacy page in headless Chromium (Debian's package) against the gateway served by uvicorn: an admin downloads
a customer's conversations as CSV, then erases the customer, the button enabled only once the id is typed again."""

import csv
import io
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect
from sqlalchemy import select

from keepwell.bootstrap import DEMO_ADMIN
from keepwell.db import session_factory
from keepwell.models import Conversation, Customer, Message

pytestmark = pytest.mark.browser

WHO = "cus_001"


def test_an_admin_exports_then_erases_a_customer_in_a_browser(base_url: str, app: FastAPI, page: Page) -> None:
    with session_factory(app.state.engine)() as db:
        at = datetime(2026, 1, 10, 9, tzinfo=UTC)
        db.add(Conversation(id="conv-browser", customer_id=WHO, channel="in_app", created_at=at))
        db.flush()
        db.add(Message(conversation_id="conv-browser", role="customer", text="@admin can we export?", state="answered",
                       intent="ask_export", confidence=0.75, created_at=at))  # fmt: skip
        db.commit()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{base_url}/console/login?next=/console/privacy")
    page.fill("input[name=username]", DEMO_ADMIN[0])
    page.fill("input[name=password]", DEMO_ADMIN[1])
    page.click("button[type=submit]")
    expect(page.get_by_role("heading", name="Privacy", exact=True)).to_be_visible()

    export = page.get_by_role("form", name="Export conversations")
    export.get_by_label("Customer id").fill(WHO)
    export.get_by_label("Format").select_option("csv")
    with page.expect_download() as started:
        export.get_by_role("button", name="Download export").click()
    download = started.value
    assert download.suggested_filename.startswith("keepwell-conversations-")
    with open(download.path(), encoding="utf-8") as file:
        rows = list(csv.DictReader(io.StringIO(file.read())))
    assert [(r["conversation_id"], r["text"], r["intent"]) for r in rows] == [
        ("conv-browser", "'@admin can we export?", "ask_export")
    ]

    erase = page.get_by_role("form", name="Erase a customer")
    button = erase.get_by_role("button", name="Erase this customer everywhere")
    erase.get_by_label("Customer id", exact=True).fill(WHO)
    expect(button).to_be_disabled()
    erase.get_by_label("Type the customer id again to confirm").fill("cus_00")
    expect(button).to_be_disabled()
    erase.get_by_label("Type the customer id again to confirm").fill(WHO)
    expect(button).to_be_enabled()
    button.click()
    expect(page.get_by_role("status")).to_contain_text("Erased: 1 conversations")

    with session_factory(app.state.engine)() as db:
        assert db.get(Customer, WHO) is None
        assert db.scalars(select(Conversation.id)).all() == []
    assert errors == []
