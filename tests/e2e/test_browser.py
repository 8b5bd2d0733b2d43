"""The widget and the console in headless Chromium (Debian's package), against the real running system."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from keepwell import accounts, health_history
from keepwell.bootstrap import DEMO_CSM
from keepwell.db import get_engine, session_scope
from tests.browser import chromium
from tests.e2e.conftest import RunningSystem

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as opened:
        yield opened


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def _ask(page: Page, question: str) -> None:
    page.fill("#kw-input", question)
    page.click("#kw-send")


def test_visitor_asks_the_widget_and_follows_the_source(system: RunningSystem, page: Page) -> None:
    page.goto(f"{system.base_url}/")
    page.click("#kw-launcher")
    expect(page.locator("#kw-panel")).to_be_visible()
    _ask(page, "How do I invite my teammates?")

    source = page.locator(".kw-msg-bot .kw-source").first
    expect(source).to_be_visible(timeout=30_000)
    expect(page.locator(".kw-msg-user").last).to_have_text("How do I invite my teammates?")
    title, _, section = source.inner_text().partition(" — ")
    source.click()
    expect(page.locator("h1")).to_contain_text(title)
    if section:  # the answer quoted one section: the link lands on its heading
        assert "#" in page.url
        expect(page.locator(f"[id='{page.url.split('#', 1)[1]}']")).to_contain_text(section)


def test_markup_typed_by_a_user_is_shown_as_text(system: RunningSystem, page: Page) -> None:
    page.goto(f"{system.base_url}/")
    page.click("#kw-launcher")
    _ask(page, "<img src=x onerror=alert(1)> hello")
    expect(page.locator(".kw-msg-user").last).to_have_text("<img src=x onerror=alert(1)> hello")
    expect(page.locator("#kw-messages img")).to_have_count(0)


def test_signed_in_customer_sees_their_health_in_the_app(system: RunningSystem, page: Page) -> None:
    with session_scope(get_engine(system.settings.resolved_database_url)) as session:
        account = next(a for a in accounts.list_accounts(session) if health_history.assess(session, a).band == "green")
        expected = health_history.assess(session, account)  # what the bot answers from: the latest snapshot
    page.goto(f"{system.base_url}/app")
    page.select_option("#demo-customer", account.id)
    expect(page.locator("#demo-name")).to_have_text(account.name)
    page.click("#kw-launcher")
    _ask(page, "how is my account doing?")
    expect(page.locator(".kw-msg-bot").last).to_contain_text(f"{expected.score}/100 ({expected.band})", timeout=30_000)


def test_csm_reads_the_transcript_with_intents_in_the_console(system: RunningSystem, page: Page) -> None:
    conversation_id = system.chat("how do I connect Slack?").json()["conversation_id"]
    page.goto(f"{system.base_url}/console")
    username, password = DEMO_CSM
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.goto(f"{system.base_url}/console/conversations/{conversation_id}")
    expect(page.get_by_text("how do I connect Slack?")).to_be_visible()
    expect(page.locator("body")).to_contain_text("ask_howto")
