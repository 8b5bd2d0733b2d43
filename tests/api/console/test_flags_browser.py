"""The flagged queue in headless Chromium (Debian's package) against the gateway served by uvicorn: a CSM signs in,
opens Flagged from the menu, sees why conversations are flagged, filters the queue by a reason and to their own
accounts, and resolves one with a note."""

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from keepwell import accounts
from keepwell.bootstrap import DEMO_CSM
from keepwell.conversations import flag_queue
from keepwell.conversations.flags import raise_flag
from keepwell.db import session_factory
from keepwell.models import Conversation

pytestmark = pytest.mark.browser


def test_a_csm_resolves_a_flagged_conversation_in_a_browser(base_url: str, app: FastAPI, page: Page) -> None:
    with session_factory(app.state.engine)() as db:
        account = accounts.list_accounts(db)[0]
        db.add(Conversation(id="conv_leaving", customer_id=account.id))
        db.flush()
        raise_flag(db, "conv_leaving", "churn_moment", "we want to cancel")
        db.add(Conversation(id="conv_again", customer_id=None))
        db.flush()
        raise_flag(db, "conv_again", "repeated_question", "how do I export my projects")
        db.commit()
    page.goto(f"{base_url}/console/login")
    page.fill("input[name=username]", DEMO_CSM[0])
    page.fill("input[name=password]", DEMO_CSM[1])
    page.click("button[type=submit]")
    page.get_by_role("link", name="Flagged").click()
    expect(page.get_by_role("heading", name="Flagged conversations")).to_be_visible()
    queue = page.get_by_test_id("flag-queue")
    expect(queue).to_contain_text("Asked the same question again: 'how do I export my projects'")
    expect(page.locator("#flag-count")).to_have_text("2 conversations in the queue")

    page.get_by_label("Reason").select_option("churn_moment")
    page.get_by_label("Assigned to me / my accounts").check()  # the demo CSM owns the demo accounts
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#flag-count")).to_have_text("1 conversation matches these filters")
    assert "reason=churn_moment" in page.url and "mine=1" in page.url
    expect(queue).to_contain_text("Churn moment: 'we want to cancel'")
    expect(queue).to_contain_text(account.name)
    expect(queue).not_to_contain_text("how do I export")

    queue.get_by_label("Note").fill("Called them: staying")
    queue.get_by_role("button", name="Resolve").click()
    expect(page.get_by_text("No flagged conversation matches these filters")).to_be_visible()
    assert "reason=churn_moment" in page.url  # back to the filtered view

    with session_factory(app.state.engine)() as db:
        assert [e.conversation_id for e in flag_queue.queue(db).entries] == ["conv_again"]
