"""The Success desk in headless Chromium (Debian's package) against the gateway served by uvicorn: a CSM signs in,
sees a playbook's task and a churn signal, marks the task done and resolves the signal with the page's own forms."""

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from keepwell import accounts, signals
from keepwell.bootstrap import DEMO_CSM
from keepwell.db import session_factory
from keepwell.models import CSMTask

pytestmark = pytest.mark.browser


def test_a_csm_works_the_success_desk_in_a_browser(base_url: str, app: FastAPI, page: Page) -> None:
    with session_factory(app.state.engine)() as db:
        _seed(db)
    page.goto(f"{base_url}/console/login?next=/console/success")
    page.fill("input[name=username]", DEMO_CSM[0])
    page.fill("input[name=password]", DEMO_CSM[1])
    page.click("button[type=submit]")
    expect(page.get_by_role("heading", name="Success desk")).to_be_visible()
    tasks = page.get_by_test_id("tasks")
    expect(tasks).to_contain_text("Call the champion about the renewal")

    tasks.get_by_role("button", name="Done").click()
    expect(page.get_by_text("No open tasks.")).to_be_visible()

    signal_table = page.get_by_test_id("signals")
    expect(signal_table).to_contain_text("asked about cancelling in chat")
    signal_table.get_by_label("What was done").fill("Called them: staying on Growth")
    signal_table.get_by_role("button", name="Resolve").click()
    expect(page.get_by_text("No open churn signals.")).to_be_visible()

    with session_factory(app.state.engine)() as db:
        [resolved] = signals.list_signals(db, open_only=False)
        assert resolved.resolved_by == DEMO_CSM[0] and resolved.resolution == "Called them: staying on Growth"


def _seed(db: Session) -> None:
    account = accounts.list_accounts(db)[0]
    signals.open_cancellation_request(db, account.id, "cancelling", "we want to cancel", "conv-1")
    db.add(CSMTask(account_id=account.id, title="Call the champion about the renewal", source="manual"))
    db.commit()
