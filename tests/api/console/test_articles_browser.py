"""The knowledge-base pages in headless Chromium (Debian's package) against the gateway served by uvicorn: a CSM
writes an article with a live preview, saves it, reindexes, and tries a question that finds it."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from api.settings import Settings
from keepwell.bootstrap import DEMO_CSM, prepare
from tests.api.conftest import IDENTITY_SECRET
from tests.api.console._articles import copy_articles, fake_reindexer
from tests.browser import served

pytestmark = pytest.mark.browser


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        demo_mode=True,
        identity_secret=IDENTITY_SECRET,
        rate_limit_enabled=False,
        kb_content_dir=copy_articles(tmp_path / "content"),
        kb_index_dir=tmp_path / "index",
    )


@pytest.fixture
def base_url(app: FastAPI, settings: Settings) -> Iterator[str]:
    app.state.reindexer = fake_reindexer(settings)
    prepare(app.state.settings)
    with served(app) as url:
        yield url


def test_a_csm_writes_previews_saves_reindexes_and_asks(base_url: str, settings: Settings, page: Page) -> None:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{base_url}/console/login?next=/console/articles/new")
    page.fill("input[name=username]", DEMO_CSM[0])
    page.fill("input[name=password]", DEMO_CSM[1])
    page.click("button[type=submit]")
    expect(page.get_by_role("heading", name="New article")).to_be_visible()

    page.get_by_label("Category").select_option("billing")
    page.get_by_label("Slug").fill("refunds")
    page.get_by_label("Title").fill("Refunds")
    page.get_by_label("Body").fill("Refunds go to the original card.\n\n## Ask for a refund\nWrite within **30 days**.")
    preview = page.locator("#article-preview")
    expect(preview.locator("strong")).to_have_text("30 days")  # rendered by the server as the help page would
    expect(preview.locator("h2#ask-for-a-refund")).to_have_text("Ask for a refund")
    page.get_by_role("button", name="Create article").click()
    expect(page.get_by_role("status")).to_contain_text("Created “Refunds”")
    assert (settings.kb_content_dir / "billing" / "refunds.md").is_file()

    page.goto(f"{base_url}/console/articles")
    page.get_by_role("button", name="Reindex").click()
    expect(page.locator("#reindex-status")).to_contain_text("Reindexed: 4 articles", timeout=15_000)

    page.get_by_role("searchbox", name="Question").fill("refunds to the original card")
    page.get_by_role("button", name="Ask").click()
    expect(page.get_by_test_id("ask-verdict")).to_contain_text("Confident")
    best = page.locator("#ask-result tbody tr").first
    expect(best.locator('a[href="/console/articles/billing/refunds"]')).to_have_text("Refunds")
    assert errors == []
