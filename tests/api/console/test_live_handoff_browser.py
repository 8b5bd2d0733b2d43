"""Live handoff in headless Chromium (Debian's package) against a real gateway on a loopback port: a visitor asks
for a person in the widget, the CSM sees it in the console without reload, replies, the reply shows in the widget
with the CSM's name, the visitor answers, the CSM sees it live, closes, and the visitor's rating is stored.

Rasa is replaced at the gateway's seam (tests/api/fakes.py) by a stand-in that does what `action_handoff` does:
it records the handoff and answers with the handoff confirmation. Everything else is the real gateway, database,
live stream, console and widget."""

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from actions.handoff import transcript
from actions.replies import HANDOFF_CONFIRMATION
from keepwell import handoffs, staff
from keepwell.bootstrap import prepare
from keepwell.db import session_factory
from keepwell.models import Handoff
from tests.api.console.conftest import CSM_EMAIL, CSM_PASSWORD
from tests.api.fakes import FakeRasa
from tests.browser import chromium, served

pytestmark = pytest.mark.browser


@pytest.fixture
def base_url(app: FastAPI, rasa: FakeRasa) -> Iterator[str]:
    prepare(app.state.settings)

    def hand_over(conversation_id: str, text: str, metadata: dict[str, Any]) -> None:
        # What action_handoff records when Rasa predicts it for "I want to talk to a person".
        events = [{"event": "user", "text": text, "parse_data": {"intent": {"name": "request_human"}}}]
        with session_factory(app.state.engine)() as session:  # the engine the started app opened
            handoffs.request_handoff(session, conversation_id, None, "Asked to talk to a person", transcript(events))
            session.commit()

    rasa.on_send = hand_over
    rasa.reply = [{"recipient_id": "x", "text": HANDOFF_CONFIRMATION}]
    with served(app) as url:
        yield url


@pytest.fixture
def browser(base_url: str) -> Iterator[Browser]:
    with chromium() as opened:
        yield opened


def _page(browser: Browser) -> Page:
    return browser.new_context().new_page()


def test_a_visitor_talks_to_a_csm_and_rates_the_help(
    app: FastAPI, base_url: str, browser: Browser, rasa: FakeRasa
) -> None:
    with session_factory(app.state.engine)() as session:
        csm = staff.get_by_email(session, CSM_EMAIL)
    assert csm is not None

    console = _page(browser)
    console.goto(f"{base_url}/console/handoffs")
    console.fill("input[name=username]", CSM_EMAIL)
    console.fill("input[name=password]", CSM_PASSWORD)
    console.click("button[type=submit]")
    expect(console.locator("h1")).to_have_text("Handoffs")
    expect(console.locator("#open-empty")).to_be_visible()

    widget = _page(browser)
    widget.goto(f"{base_url}/")
    widget.click("#kw-launcher")
    widget.fill("#kw-input", "I want to talk to a person")
    widget.click("#kw-send")
    expect(widget.locator(".kw-msg-bot").last).to_contain_text("they'll reply right here")

    # The console learns of it without a reload: the notice, and the row in the open queue.
    alert = console.locator("#handoff-alert")
    expect(alert).to_contain_text("New handoff: Anonymous visitor (Asked for a person)", timeout=10_000)
    expect(console.locator("#open-queue tr")).to_have_count(1)
    # The row the poll drew has the rendered page's columns: how long the customer has waited, and Release.
    expect(console.locator("#open-queue tr td").nth(1)).to_have_text("under a minute")
    expect(console.locator("#open-queue tr").get_by_role("button", name="Release")).to_have_count(1)
    alert.get_by_role("link", name="Open the conversation").click()
    expect(console.locator("#bubbles")).to_contain_text("I want to talk to a person")

    console.fill("#reply-text", "Hi, this is <b>Dana</b>. How can I help?")
    sent_at = time.monotonic()
    console.click("text=Send reply")
    reply = widget.locator(".kw-msg-agent").last
    expect(reply.locator(".kw-text")).to_have_text("Hi, this is <b>Dana</b>. How can I help?", timeout=5_000)
    # From the click to the reply on the customer's screen (the live stream, no polling): within a second, as
    # promised (0.2-0.3 s measured at load average 3 on 2 cores; Playwright itself looks every 100 ms or so).
    shown_s = time.monotonic() - sent_at
    print(f"reply shown in the widget {shown_s:.2f} s after the CSM clicked Send")
    assert shown_s < 1.0
    expect(reply.locator("[data-testid=kw-author]")).to_contain_text(csm.label)
    expect(widget.locator("#kw-messages b")).to_have_count(0)  # text, never markup

    widget.fill("#kw-input", "My invoices page is blank")
    widget.click("#kw-send")
    expect(console.locator("#bubbles")).to_contain_text("My invoices page is blank", timeout=10_000)
    assert [text for _, text, _ in rasa.sent] == ["I want to talk to a person"]  # held from the assistant

    console.click("text=Close and ask for a rating")
    expect(console.locator("#handoff-csat")).to_have_text("not answered yet")
    rating = widget.locator("[data-testid=kw-rating]")
    expect(rating).to_be_visible(timeout=5_000)
    rating.locator("[data-testid=kw-score-4]").click()
    rating.locator("[data-testid=kw-rating-comment]").fill("Quick and kind")
    rating.locator("[data-testid=kw-rating-send]").click()
    expect(widget.locator("[data-testid=kw-rating-done]")).to_have_text("Thank you for your rating.")

    with session_factory(app.state.engine)() as session:
        stored = session.scalars(select(Handoff)).one()
        assert (stored.status, stored.csat_score, stored.csat_comment) == ("closed", 4, "Quick and kind")
        assert stored.wait_s is not None and stored.first_reply_at is not None
    console.reload()
    expect(console.locator("#handoff-csat")).to_contain_text("4/5")
