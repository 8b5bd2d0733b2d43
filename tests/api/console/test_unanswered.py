"""api/routes/console/unanswered.py: the clusters page with a period, the trend CSV, drafting an article from a
cluster (created with the customers' questions, reindexed, the cluster handled, audited), adding a cluster's
questions to an intent, and bad input refused without writing anything."""

import html as html_lib
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.settings import Settings
from keepwell import audit
from keepwell.models import HandledQuestion, TrainingExample
from tests.api.console._unanswered import PARQUET, SSO, real_reindexer, seed_unanswered, unanswered_settings
from tests.api.console.conftest import csrf_in

PAGE = "/console/unanswered"
Entries = Callable[..., list[audit.AuditEntry]]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return unanswered_settings(tmp_path)


@pytest.fixture
def app(app: FastAPI, settings: Settings) -> FastAPI:
    app.state.reindexer = real_reindexer(settings)
    return app


def _cluster_ids(page: str) -> list[list[int]]:
    """The message ids of each cluster's "Draft an article" form, in page order."""
    forms = re.findall(r'action="/console/unanswered/draft">(.*?)</form>', page, re.S)
    return [[int(i) for i in re.findall(r'name="message" value="(\d+)"', form)] for form in forms]


def _text(page: str) -> str:
    return re.sub(r"<[^>]+>", "", page)


def _post(client: TestClient, action: str, data: dict[str, object]) -> object:
    token = csrf_in(client.get(PAGE).text)
    return client.post(action, data={"csrf": token, **data}, follow_redirects=False)


def test_the_page_lists_clusters_largest_first_with_their_details(csm_client: TestClient, db: Session) -> None:
    ids = seed_unanswered(db)
    response = csm_client.get(PAGE)
    assert response.status_code == 200
    page = html_lib.unescape(response.text)
    assert 'aria-current="page">Unanswered' in page
    assert "5 unanswered questions in 2 groups" in page
    assert _cluster_ids(response.text) == [sorted(ids["parquet"], reverse=True), sorted(ids["sso"], reverse=True)]
    assert page.index("Parquet") < page.index("SAML") and "invite my team" not in page
    assert [int(n) for n in re.findall(r'data-testid="cluster-count">(\d+)<', page)] == [3, 2]
    assert f'href="/console/conversations/conv_unanswered_0#message-{ids["parquet"][0]}"' in page
    assert '<canvas data-chart="cluster-1"' in page and "<summary>Numbers</summary>" in page

    csv = csm_client.get(f"{PAGE}/trend.csv?days=7")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    rows = csv.text.splitlines()
    assert rows[0].startswith("Question,") and len(rows) == 3 and len(rows[0].split(",")) == 1 + 8  # 7 days + today
    assert sum(int(n) for n in rows[1].split(",")[1:]) == 3


def test_a_period_the_page_does_not_offer_is_refused(csm_client: TestClient) -> None:
    response = csm_client.get(f"{PAGE}?days=8")
    assert response.status_code == 422 and "7, 30, 90" in response.text
    assert csm_client.get(f"{PAGE}?days=abc").status_code == 422


def test_a_cluster_becomes_an_article_the_knowledge_base_finds(
    csm_client: TestClient, db: Session, app: FastAPI, settings: Settings, entries: Entries
) -> None:
    ids = seed_unanswered(db)
    parquet = _cluster_ids(csm_client.get(PAGE).text)[0]
    draft = _post(csm_client, f"{PAGE}/draft", {"message": parquet})
    assert draft.status_code == 200
    form = html_lib.unescape(draft.text)
    label = re.search(r'id="article-title"[^>]*value="([^"]*)"', form)
    assert label is not None and label.group(1).lower().rstrip("?") in {q.lower().rstrip("?") for q in PARQUET}
    assert all(question in form for question in PARQUET)  # the questions field, one per line
    slug = re.search(r'id="article-slug"[^>]*value="([^"]*)"', form)
    assert slug is not None and slug.group(1) == "-".join(label.group(1).lower().replace("?", "").split())
    assert 'action="/console/unanswered/article"' in form

    body = "Boards export to Parquet from **Settings → Export**.\n\n## Export a board\nChoose Parquet and download."
    response = _post(csm_client, f"{PAGE}/article", {
        "message": parquet, "category": "billing", "slug": "export-parquet", "title": "Export boards to Parquet",
        "body": body, "questions": "\n".join(PARQUET), "days": "30",
    })  # fmt: skip
    assert response.status_code == 303, response.text
    written = (settings.kb_content_dir / "billing" / "export-parquet.md").read_text()
    front = yaml.safe_load(written.split("---")[1])
    assert front["questions"] == {"lead": list(PARQUET)}

    status = app.state.reindexer.wait(60)
    assert status.state == "done", status.error
    best = app.state.reindexer.knowledge_base().search("how do I export my boards to Parquet").best
    assert best is not None and best.article_id == "billing/export-parquet"

    page = html_lib.unescape(csm_client.get(PAGE).text)
    assert "Created “Export boards to Parquet” from 3 questions" in page
    assert _cluster_ids(page) == [sorted(ids["sso"], reverse=True)]
    assert "3 questions · handled: article billing/export-parquet" in _text(page)
    [entry] = entries(action="unanswered.article")
    assert entry.target_id == "billing/export-parquet" and entry.detail["questions"] == 3
    assert db.scalar(select(func.count()).select_from(HandledQuestion)) == 3


def test_a_bad_draft_is_refused_and_nothing_is_written(
    csm_client: TestClient, db: Session, settings: Settings, entries: Entries
) -> None:
    ids = seed_unanswered(db)
    base = {"message": ids["parquet"], "category": "billing", "title": "Parquet", "body": "Text.", "days": "30"}
    bad_slug = _post(csm_client, f"{PAGE}/article", {**base, "slug": "Not A Slug"})
    assert bad_slug.status_code == 400 and "Slug: use lower-case" in bad_slug.text
    assert all(f'name="message" value="{i}"' in bad_slug.text for i in ids["parquet"])  # the draft is kept
    not_open = _post(csm_client, f"{PAGE}/article", {**base, "slug": "parquet", "message": ids["answered"]})
    assert not_open.status_code == 400 and "reload the page" in not_open.text
    no_lead = _post(csm_client, f"{PAGE}/article", {**base, "slug": "parquet", "body": "## Only a section\nText.",
                                                    "questions": PARQUET[0]})  # fmt: skip
    assert no_lead.status_code == 400 and "no summary or introduction" in html_lib.unescape(no_lead.text)
    empty = _post(csm_client, f"{PAGE}/draft", {"days": "30"})
    assert empty.status_code == 303 and "Choose at least one question" in csm_client.get(PAGE).text
    assert not (settings.kb_content_dir / "billing" / "parquet.md").exists()
    assert db.scalar(select(func.count()).select_from(HandledQuestion)) == 0
    assert entries(action="unanswered.article") == []


def test_a_clusters_questions_become_training_examples_of_an_intent(
    csm_client: TestClient, db: Session, settings: Settings, entries: Entries
) -> None:
    ids = seed_unanswered(db)
    refused = _post(csm_client, f"{PAGE}/intent", {"message": ids["sso"], "intent": "no_such_intent"})
    assert refused.status_code == 303
    assert "Nothing added: Unknown intent" in html_lib.unescape(csm_client.get(PAGE).text)
    assert db.scalar(select(func.count()).select_from(TrainingExample)) == 0

    response = _post(csm_client, f"{PAGE}/intent", {"message": ids["sso"], "intent": "ask_faq", "days": "30"})
    assert response.status_code == 303 and response.headers["location"] == f"{PAGE}?days=30"
    db.expire_all()
    examples = db.scalars(select(TrainingExample).order_by(TrainingExample.id)).all()
    assert [(e.text, e.intent) for e in examples] == [(SSO[1], "ask_faq"), (SSO[0], "ask_faq")]
    assert SSO[0] in (settings.data_dir / "bot" / "nlu" / "console_examples.yml").read_text()
    page = html_lib.unescape(csm_client.get(PAGE).text)
    assert "Added 2 questions as training examples of ask_faq" in page
    assert "2 questions · handled: intent ask_faq" in _text(page) and len(_cluster_ids(page)) == 1
    [entry] = entries(action="unanswered.intent")
    assert entry.target_id == "ask_faq" and entry.detail["questions"] == 2

    again = _post(csm_client, f"{PAGE}/intent", {"message": ids["sso"], "intent": "ask_faq"})
    assert again.status_code == 303 and "Nothing added" in csm_client.get(PAGE).text
