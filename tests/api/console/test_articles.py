"""Console knowledge base: CSMs list, create, edit, retire and restore articles, preview Markdown, reindex and try a
question, on a temporary copy of a few articles; every change is audited and bad input is a 4xx."""

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.settings import Settings
from keepwell import identity
from tests.api.conftest import IDENTITY_SECRET
from tests.api.console._articles import copy_articles, fake_reindexer
from tests.api.console.conftest import csrf_in, post_form


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
def app(app: FastAPI, settings: Settings) -> FastAPI:
    app.state.reindexer = fake_reindexer(settings)
    return app


NEW = {
    "category": "billing",
    "slug": "refunds",
    "title": "Refunds",
    "summary": "When money comes back.",
    "body": "Refunds go to the original card.\n\n## Ask for a refund\nWrite to billing within **30 days**.",
}


def _create(client: TestClient, **changes: str) -> Any:
    return post_form(client, "/console/articles/new", "/console/articles/new", {**NEW, **changes})


def test_anonymous_callers_and_customers_are_refused(client: TestClient, settings: Settings) -> None:
    token = identity.mint_token("cus_001", IDENTITY_SECRET, 600)
    for headers in ({}, {"Authorization": f"Bearer {token}"}):
        for path in ("/console/articles", "/console/articles/new", "/console/articles/billing/cancel-subscription",
                     "/console/articles/reindex/status", "/console/articles?ask=cancel"):  # fmt: skip
            response = client.get(path, headers=headers, follow_redirects=False)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/console/login?next=")
        for path in ("/console/articles/new", "/console/articles/preview", "/console/articles/reindex",
                     "/console/articles/billing/cancel-subscription/retire"):  # fmt: skip
            response = client.post(path, data={**NEW, "csrf": "x"}, headers=headers, follow_redirects=False)
            assert response.status_code == 401, path
    assert not (settings.kb_content_dir / "billing" / "refunds.md").exists()
    assert "retired" not in (settings.kb_content_dir / "billing" / "cancel-subscription.md").read_text()


def test_the_list_shows_and_searches_the_articles(csm_client: TestClient) -> None:
    page = csm_client.get("/console/articles")
    assert page.status_code == 200
    assert "Cancel your paid subscription" in page.text and "Invite teammates" in page.text
    found = csm_client.get("/console/articles", params={"q": "invoice"}).text
    assert "Invoices, receipts and billing details" in found and "Invite teammates" not in found


def test_a_csm_creates_edits_and_retires_an_article_all_audited(
    csm_client: TestClient, settings: Settings, entries: Any
) -> None:
    created = _create(csm_client)
    assert created.status_code == 303 and created.headers["location"] == "/console/articles/billing/refunds"
    edit = csm_client.get("/console/articles/billing/refunds")
    assert "<strong>30 days</strong>" in edit.text  # the preview, rendered like the help page

    saved = post_form(csm_client, "/console/articles/billing/refunds", "/console/articles/billing/refunds",
                      {**NEW, "title": "Refunds and credits", "version": _version(edit.text)})  # fmt: skip
    assert saved.status_code == 303
    assert "title: Refunds and credits" in (settings.kb_content_dir / "billing" / "refunds.md").read_text()
    assert csm_client.get("/help/billing/refunds").status_code == 200

    retired = post_form(csm_client, "/console/articles/billing/refunds", "/console/articles/billing/refunds/retire")
    assert retired.status_code == 303
    assert "retired" in csm_client.get("/console/articles", params={"q": "refunds"}).text
    assert [(e.action, e.target_id) for e in entries(action="article.")] == [
        ("article.retire", "billing/refunds"),
        ("article.update", "billing/refunds"),
        ("article.create", "billing/refunds"),
    ]
    post_form(csm_client, "/console/articles/billing/refunds", "/console/articles/billing/refunds/restore")
    assert entries(action="article.restore")


def test_bad_input_is_a_400_with_the_reason_and_nothing_written(csm_client: TestClient, settings: Settings) -> None:
    for changes, words in (
        ({"slug": "Bad Slug"}, "lower-case letters"),
        ({"category": "nowhere"}, "Category"),
        ({"title": ""}, "Title: enter one"),
        ({"slug": "cancel-subscription"}, "already exists"),
    ):
        response = _create(csm_client, **changes)
        assert response.status_code == 400, changes
        assert words in response.text
    assert not (settings.kb_content_dir / "billing" / "refunds.md").exists()
    too_long = _create(csm_client, title="x" * 1000)
    assert too_long.status_code == 422
    assert csm_client.get("/console/articles/billing/nope").status_code == 404
    assert csm_client.get("/console/articles/..%2F..%2Fetc/passwd").status_code == 404
    assert csm_client.get("/console/articles", params={"ask": "x" * 600}).status_code == 422


def test_a_broken_file_is_listed_and_explained_not_a_500(csm_client: TestClient, settings: Settings) -> None:
    (settings.kb_content_dir / "billing" / "broken.md").write_text("no front matter here\n", encoding="utf-8")
    assert 'href="/console/articles/billing/broken"' in csm_client.get("/console/articles").text
    page = csm_client.get("/console/articles/billing/broken")
    assert page.status_code == 422 and "missing front matter" in page.text
    retire = post_form(csm_client, "/console/articles", "/console/articles/billing/broken/retire")
    assert retire.status_code == 422


def test_forms_without_the_csrf_token_are_refused(csm_client: TestClient, settings: Settings, entries: Any) -> None:
    for path in ("/console/articles/new", "/console/articles/billing/cancel-subscription/retire",
                 "/console/articles/reindex", "/console/articles/preview"):  # fmt: skip
        response = csm_client.post(path, data={**NEW, "csrf": "forged"}, follow_redirects=False)
        assert response.status_code == 403, path
    assert not (settings.kb_content_dir / "billing" / "refunds.md").exists()
    assert entries(action="article.") == []


def test_preview_renders_sanitised_markdown(csm_client: TestClient) -> None:
    token = csrf_in(csm_client.get("/console/articles/new").text)
    body = "## Steps\n**bold** <script>alert(1)</script> [x](javascript:alert(1))"
    html = csm_client.post("/console/articles/preview", data={"csrf": token, "body": body}).json()["html"]
    assert '<h2 id="steps">Steps</h2>' in html and "<strong>bold</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html  # shown as text, never run
    assert 'href="javascript' not in html


def test_reindex_then_try_a_question_finds_the_new_article(csm_client: TestClient, app: FastAPI, entries: Any) -> None:
    _create(csm_client)
    response = post_form(csm_client, "/console/articles", "/console/articles/reindex")
    assert response.status_code == 303
    status = app.state.reindexer.wait()
    assert status.state == "done" and status.report.articles == 4
    polled = csm_client.get("/console/articles/reindex/status").json()
    assert polled["state"] == "done" and polled["report"]["encoded"] > 0
    assert [e.action for e in entries(action="article.reindex")] == ["article.reindex"]

    page = csm_client.get("/console/articles", params={"ask": "refund original card"}).text
    assert 'href="/console/articles/billing/refunds"' in page
    assert "Minimum score" in page and "Confident" in page


def test_an_admin_may_edit_too(admin_client: TestClient) -> None:
    assert _create(admin_client).status_code == 303


def _version(page: str) -> str:
    marker = 'name="version" value="'
    return page.split(marker, 1)[1].split('"', 1)[0]
