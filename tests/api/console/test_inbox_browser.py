"""The inbox and a transcript's review in headless Chromium (Debian's package) against the gateway served by uvicorn:
a CSM filters and searches the inbox, saves the view, opens a transcript, tags it, writes a note, marks it reviewed and
adds a misunderstood message as a training example, all with the pages' own forms; an admin exports the filtered
inbox ("Export these") and the file holds exactly the conversations it listed."""

import json

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from keepwell import audit
from keepwell import conversations as log
from keepwell.bootstrap import DEMO_ADMIN, DEMO_CSM
from keepwell.conversations import review, training
from keepwell.db import session_factory

pytestmark = pytest.mark.browser


def _chat(db: Session, text: str, intent: str, confidence: float, channel: str) -> str:
    conversation = log.start_conversation(db, None, channel)
    db.commit()
    accepted = log.accept(db, conversation, text, None)
    log.answer(
        db,
        accepted.message.id,
        [log.Reply("Let me check.")],
        log.TurnInfo(accepted.message.id, intent, confidence, [], []),
    )
    db.commit()
    return conversation.id


def test_a_csm_filters_the_inbox_and_reviews_a_transcript_in_a_browser(base_url: str, app: FastAPI, page: Page) -> None:
    with session_factory(app.state.engine)() as db:
        target = _chat(db, "my gizmo export keeps failing", "nlu_fallback", 0.25, "in_app")
        _chat(db, "gizmo pricing please", "ask_faq", 0.92, "website")
        _chat(db, "how do I invite people", "ask_howto", 0.95, "in_app")
    page.goto(f"{base_url}/console/login?next=/console")
    page.fill("input[name=username]", DEMO_CSM[0])
    page.fill("input[name=password]", DEMO_CSM[1])
    page.click("button[type=submit]")
    expect(page.get_by_role("heading", name="Conversations")).to_be_visible()
    expect(page.locator("#inbox-count")).to_have_text("3 conversations in all")

    page.get_by_label("Search messages").fill("gizmo")
    page.get_by_label("Channel").select_option("in_app")
    page.get_by_label("Fallback").select_option("yes")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#inbox-count")).to_have_text("1 conversation matches these filters")
    assert "q=gizmo" in page.url and "channel=in_app" in page.url
    page.get_by_label("Save these filters as").fill("Failing gizmos")
    page.get_by_role("button", name="Save view").click()
    expect(page.get_by_test_id("saved-views")).to_contain_text("Failing gizmos")

    page.locator("tbody tr").first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Review")).to_be_visible()
    page.get_by_label("New tag").fill("Export bug")
    page.get_by_role("button", name="Add tag").click()
    expect(page.locator("#tags")).to_contain_text("export bug")
    page.get_by_label("Add a note").fill("Known export issue; told the customer.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#note-list")).to_contain_text("Known export issue; told the customer.")
    page.get_by_role("button", name="Mark reviewed").click()
    expect(page.locator("#review-status")).to_have_text("Reviewed")
    page.get_by_label("Intent it meant").select_option("report_problem")
    page.get_by_role("button", name="Add as training example").click()
    expect(page.locator(".example--added")).to_contain_text("Training example of report_problem")

    with session_factory(app.state.engine)() as db:
        state = review.state(db, target)
        assert (state.tags, state.status, [n.text for n in state.notes]) == (
            ["export bug"], "reviewed", ["Known export issue; told the customer."],
        )  # fmt: skip
        assert "- my gizmo export keeps failing" in training.nlu_yaml(db)


def test_an_admin_exports_the_filtered_inbox_in_a_browser(base_url: str, app: FastAPI, page: Page) -> None:
    with session_factory(app.state.engine)() as db:
        wanted = {
            _chat(db, "gizmo export fails", "nlu_fallback", 0.3, "in_app"),
            _chat(db, "gizmo sync is slow", "ask_faq", 0.8, "in_app"),
        }
        _chat(db, "gizmo pricing please", "ask_faq", 0.92, "website")  # another channel
        _chat(db, "how do I invite people", "ask_howto", 0.95, "in_app")  # other words
    page.goto(f"{base_url}/console/login?next=/console")
    page.fill("input[name=username]", DEMO_ADMIN[0])
    page.fill("input[name=password]", DEMO_ADMIN[1])
    page.click("button[type=submit]")
    page.get_by_label("Search messages").fill("gizmo")
    page.get_by_label("Channel").select_option("in_app")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#inbox-count")).to_have_text("2 conversations match these filters")

    export = page.get_by_role("form", name="Export these conversations")
    export.get_by_label("Format").select_option("json")
    with page.expect_download() as started:
        export.get_by_role("button", name="Export these").click()
    with open(started.value.path(), encoding="utf-8") as file:
        document = json.load(file)
    assert {conversation["id"] for conversation in document["conversations"]} == wanted
    assert all(conversation["channel"] == "in_app" for conversation in document["conversations"])
    with session_factory(app.state.engine)() as db:
        [entry] = audit.list_events(db, action="conversation.export").items
    assert entry.detail["filter"] == {"inbox": "q=gizmo&channel=in_app"} and entry.detail["conversations"] == 2
