"""Live handoff on the real running system (gateway, Rasa, action server under supervisord) in headless Chromium:
a visitor asks for a person in the widget, Rasa runs action_handoff, the CSM sees it in the console without reload,
replies, the reply shows in the widget with the CSM's name, the visitor's answer (held from the assistant) shows in
the console, the CSM closes, and the visitor's rating is stored."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from keepwell import staff
from keepwell.bootstrap import DEMO_CSM
from keepwell.db import get_engine, session_scope
from keepwell.models import Handoff
from tests.e2e.conftest import RunningSystem
from tests.e2e.test_browser import browser  # noqa: F401  (the module's Chromium)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture
def pages(browser: Browser) -> Iterator[tuple[Page, Page]]:  # noqa: F811
    """The CSM's console and the visitor's widget, each in its own browser context (own cookies and storage)."""
    console, widget = browser.new_context(), browser.new_context()
    yield console.new_page(), widget.new_page()
    console.close()
    widget.close()


def test_a_visitor_talks_to_a_csm_and_rates_the_help(system: RunningSystem, pages: tuple[Page, Page]) -> None:
    console, widget = pages
    base_url = system.base_url
    engine = get_engine(system.settings.resolved_database_url)
    username, password = DEMO_CSM
    with session_scope(engine) as session:
        csm = staff.get_by_email(session, username)
    assert csm is not None

    console.goto(f"{base_url}/console/handoffs")
    console.fill("input[name=username]", username)
    console.fill("input[name=password]", password)
    console.click("button[type=submit]")
    expect(console.locator("h1")).to_have_text("Handoffs")

    widget.goto(f"{base_url}/")
    widget.click("#kw-launcher")
    widget.fill("#kw-input", "I want to talk to a person")
    widget.click("#kw-send")
    expect(widget.locator(".kw-msg-bot").last).to_contain_text("reply right here", timeout=30_000)

    alert = console.locator("#handoff-alert")
    expect(alert).to_contain_text("New handoff: Anonymous visitor", timeout=15_000)
    alert.get_by_role("link", name="Open the conversation").click()
    expect(console.locator("#bubbles")).to_contain_text("I want to talk to a person")

    console.fill("#reply-text", "Hi, this is <b>Dana</b>. How can I help?")
    console.click("text=Send reply")
    reply = widget.locator(".kw-msg-agent").last
    expect(reply.locator(".kw-text")).to_have_text("Hi, this is <b>Dana</b>. How can I help?", timeout=5_000)
    expect(reply.locator("[data-testid=kw-author]")).to_contain_text(csm.label)
    expect(widget.locator("#kw-messages b")).to_have_count(0)

    widget.fill("#kw-input", "My invoices page is blank")
    widget.click("#kw-send")
    expect(console.locator("#bubbles")).to_contain_text("My invoices page is blank", timeout=10_000)
    expect(widget.locator(".kw-msg-user").last).to_have_attribute("data-state", "held")

    console.click("text=Close and ask for a rating")
    expect(console.locator("#handoff-csat")).to_have_text("not answered yet")
    rating = widget.locator("[data-testid=kw-rating]")
    expect(rating).to_be_visible(timeout=5_000)
    rating.locator("[data-testid=kw-score-4]").click()
    rating.locator("[data-testid=kw-rating-comment]").fill("Quick and kind")
    rating.locator("[data-testid=kw-rating-send]").click()
    expect(widget.locator("[data-testid=kw-rating-done]")).to_have_text("Thank you for your rating.")
    with session_scope(engine) as session:
        stored = session.scalars(select(Handoff).order_by(Handoff.id.desc())).first()
        assert stored is not None
        assert (stored.status, stored.csat_score, stored.csat_comment) == ("closed", 4, "Quick and kind")
        assert stored.wait_s is not None
    console.reload()
    expect(console.locator("#handoff-csat")).to_contain_text("4/5")

    # Closed, the conversation is the assistant's again.
    widget.fill("#kw-input", "How do I invite my teammates?")
    widget.click("#kw-send")
    expect(widget.locator(".kw-msg-bot").last).to_contain_text("invite", timeout=30_000)
