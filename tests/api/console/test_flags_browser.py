"""The flagged queue in headless Chromium (Debian's package) against the gateway served by uvicorn: a CSM signs in,
opens Flagged from the menu, sees why a conversation is flagged and resolves it with a note."""

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
        db.commit()
    page.goto(f"{base_url}/console/login")
    page.fill("input[name=username]", DEMO_CSM[0])
    page.fill("input[name=password]", DEMO_CSM[1])
    page.click("button[type=submit]")
    page.get_by_role("link", name="Flagged").click()
    expect(page.get_by_role("heading", name="Flagged conversations")).to_be_visible()
    queue = page.get_by_test_id("flag-queue")
    expect(queue).to_contain_text("Churn moment: 'we want to cancel'")
    expect(queue).to_contain_text(account.name)

    queue.get_by_label("Note").fill("Called them: staying")
    queue.get_by_role("button", name="Resolve").click()
    expect(page.get_by_text("Nothing flagged")).to_be_visible()

    with session_factory(app.state.engine)() as db:
        assert flag_queue.queue(db).total == 0
