"""The customer 360 page and its health CSV: who may read them, what a CSM sees about an account, and links to it
from the rest of the console."""

import csv
import io
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from keepwell import accounts, health_history, identity, signals
from keepwell.models import CSMTask, Customer, utcnow
from tests.api.conftest import IDENTITY_SECRET
from tests.api.console._seeds import CONVERSATION_IDS, seed_conversations

ACCOUNT = "cus_001"  # a demo account with a year of weekly health snapshots


@pytest.fixture
def seeded(db: Session) -> None:
    seed_conversations(db, ACCOUNT, utcnow())
    signals.open_cancellation_request(db, ACCOUNT, "cancelling", "we want to cancel <now>", CONVERSATION_IDS[0])
    db.add(CSMTask(account_id=ACCOUNT, title="Call the champion about the renewal", source="manual"))
    db.add(CSMTask(account_id="cus_002", title="Someone else's task", source="manual"))
    db.commit()


def test_anonymous_callers_and_customers_are_refused(client: TestClient) -> None:
    token = identity.mint_token(ACCOUNT, IDENTITY_SECRET, 600)
    for headers in ({}, {"Authorization": f"Bearer {token}"}):
        for path in (f"/console/customers/{ACCOUNT}", f"/console/customers/{ACCOUNT}/health.csv"):
            response = client.get(path, headers=headers, follow_redirects=False)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/console/login?next=")


def test_the_360_shows_the_account_whole(csm_client: TestClient, db: Session, seeded: None) -> None:
    account = accounts.get_account(db, ACCOUNT)
    assert account is not None
    health = health_history.assess(db, account)
    page = csm_client.get(f"/console/customers/{ACCOUNT}")
    assert page.status_code == 200
    text = page.text
    assert f"<h1>{account.name}</h1>" in text
    assert f'<span class="health__number">{health.score}</span>' in text
    for component in health.components:  # every measure of the scorecard, not just the top drivers
        assert f"<td>{component.label}</td>" in text
    assert f"${account.mrr:,.0f} / month" in text and f"${account.mrr * 12:,.0f}" in text
    assert "<dt>LTV (ARPA / churn)</dt>" in text and "<dt>Tenure</dt>" in text
    assert "Asked to cancel or downgrade in chat" in text
    assert "we want to cancel &lt;now&gt;" in text  # the customer's words, as text
    assert f'href="/console/conversations/{CONVERSATION_IDS[0]}">Open the conversation' in text
    assert "Call the champion about the renewal" in text and "Someone else&#39;s task" not in text
    assert "<td>extra-seats</td>" in text
    assert "Onboarding (" in text
    for conversation_id in CONVERSATION_IDS:
        assert f'href="/console/conversations/{conversation_id}"' in text
    assert "Asked for a person" in text and "5/5" in text  # the handoff and its rating
    assert 'data-chart="health"' in text and 'id="chart-data"' in text


def test_the_health_trend_downloads_as_csv(csm_client: TestClient, db: Session) -> None:
    history = health_history.history(db, ACCOUNT)
    assert len(history) > 2
    response = csm_client.get(f"/console/customers/{ACCOUNT}/health.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="keepwell-health-{ACCOUNT}.csv"'
    rows = list(csv.reader(io.StringIO(response.text)))
    measures = list(dict.fromkeys(c.label for h in history for c in h.components))
    assert measures  # the demo's snapshots carry their measures
    assert rows[0] == ["Day", "Health score", "Band", "Trend", "Scorecard", *(f"{m} (points)" for m in measures)]
    assert [row[:5] for row in rows[1:]] == [
        [h.as_of.isoformat(), str(h.score), h.band, h.trend or "", h.scorecard] for h in history if h.as_of
    ]
    last = {c.label: c.value for c in history[-1].components}
    assert rows[-1][5:] == [str(last[m]) if m in last else "" for m in measures]


def test_an_account_without_snapshots_is_scored_live_and_draws_nothing(csm_client: TestClient, db: Session) -> None:
    db.add(
        Customer(
            id="cus_new", name="Newcomer Ltd", plan="starter", company_size="small", lifecycle_stage="onboarding",
            mrr=49.0, seats_purchased=5, seats_used=1, signup_date=date(2026, 11, 1), renewal_date=date(2027, 11, 1),
        )
    )  # fmt: skip
    db.commit()
    page = csm_client.get("/console/customers/cus_new")
    assert page.status_code == 200
    assert "Computed now (no snapshot yet)" in page.text
    assert "No health snapshot yet" in page.text and "<canvas" not in page.text
    assert "No conversation with this account yet." in page.text
    assert list(csv.reader(io.StringIO(csm_client.get("/console/customers/cus_new/health.csv").text))) == [
        ["Day", "Health score", "Band", "Trend", "Scorecard"]
    ]


def test_an_unknown_account_is_a_404(csm_client: TestClient) -> None:
    assert csm_client.get("/console/customers/cus_nobody").status_code == 404
    assert csm_client.get("/console/customers/cus_nobody/health.csv").status_code == 404
    assert csm_client.get("/console/customers/" + "x" * 65).status_code == 422


def test_account_names_in_the_console_link_to_the_360(csm_client: TestClient, seeded: None) -> None:
    link = f'href="/console/customers/{ACCOUNT}"'
    assert link in csm_client.get("/console/success").text  # its task and its churn signal
    assert link in csm_client.get(f"/console/conversations/{CONVERSATION_IDS[0]}").text  # the customer card


def test_the_directory_finds_accounts_and_links_to_their_360(csm_client: TestClient, db: Session) -> None:
    account = accounts.get_account(db, ACCOUNT)
    assert account is not None
    page = csm_client.get("/console/customers", params={"q": account.name.upper()})
    assert page.status_code == 200
    assert f'<a href="/console/customers/{ACCOUNT}">{account.name}</a>' in page.text
    everyone = csm_client.get("/console/customers")
    assert 'rel="next"' in everyone.text  # the demo book has more than a page of accounts
    assert csm_client.get("/console/customers?band=blue").status_code == 422
    assert csm_client.get("/console/customers?q=" + "x" * 101).status_code == 422
    assert "No account matches." in csm_client.get("/console/customers?q=no-such-account").text
