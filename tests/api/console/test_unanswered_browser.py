"""Unanswered questions in headless Chromium (Debian's package) against the gateway served by uvicorn: a CSM opens
the page from the menu, sees the clusters largest first with their trend chart drawn and its numbers, changes the
period, and adds a cluster's questions to an intent."""

from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect
from sqlalchemy import select

from api.settings import Settings
from keepwell.bootstrap import DEMO_CSM
from keepwell.db import session_factory
from keepwell.models import TrainingExample
from tests.api.console._unanswered import SSO, real_reindexer, seed_unanswered, unanswered_settings

pytestmark = pytest.mark.browser


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return unanswered_settings(tmp_path)


@pytest.fixture
def app(app: FastAPI, settings: Settings) -> FastAPI:
    app.state.reindexer = real_reindexer(settings)
    return app


def test_a_csm_reviews_clusters_and_teaches_one_to_an_intent(base_url: str, app: FastAPI, page: Page) -> None:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    with session_factory(app.state.engine)() as db:
        seed_unanswered(db)
    page.goto(f"{base_url}/console/login")
    page.fill("input[name=username]", DEMO_CSM[0])
    page.fill("input[name=password]", DEMO_CSM[1])
    page.click("button[type=submit]")
    page.get_by_role("link", name="Unanswered").click()
    expect(page.get_by_role("heading", name="Unanswered questions")).to_be_visible()

    clusters = page.get_by_test_id("cluster")
    expect(clusters).to_have_count(2)
    expect(clusters.nth(0).get_by_test_id("cluster-count")).to_have_text("3")
    expect(clusters.nth(0)).to_contain_text("parquet", ignore_case=True)
    expect(clusters.nth(1)).to_contain_text("SAML")
    chart = clusters.nth(0).locator("canvas[data-chart=cluster-1]")
    expect(chart).to_have_attribute("data-rendered", "true")  # drawn by the vendored Chart.js
    clusters.nth(0).get_by_text("Numbers").click()
    expect(clusters.nth(0).locator("details.chart-numbers table tbody tr")).to_have_count(31)  # 30 days and today

    page.get_by_role("combobox", name="Period").select_option("7")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(f"{base_url}/console/unanswered?days=7")
    expect(page.get_by_test_id("unanswered-total")).to_contain_text("5 unanswered questions in 2 groups")

    sso = page.get_by_test_id("cluster").filter(has_text="SAML")
    sso.get_by_text("Add to an intent").click()
    sso.get_by_label("Intent").select_option("ask_faq")
    sso.get_by_role("button", name="Add as training examples").click()
    # (Not the flash message: the console's handoff poll may save the session over it; the route tests check it.)
    expect(page.get_by_test_id("cluster")).to_have_count(1)
    expect(page.get_by_test_id("handled")).to_contain_text("handled: intent ask_faq")
    with session_factory(app.state.engine)() as db:
        assert sorted(db.scalars(select(TrainingExample.text))) == sorted(SSO)
    assert errors == []
