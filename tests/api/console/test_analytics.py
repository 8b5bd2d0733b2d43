"""The analytics page and its CSV downloads: who may read them, the numbers they show, bad periods."""

import csv
import io
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.routes.console import _analytics_charts
from api.routes.console._charts import Chart, Series, csv_response
from keepwell import analytics, identity, kpis
from keepwell.analytics import ReportPeriod
from keepwell.models import Conversation, Message, utcnow
from keepwell.settings import CoreSettings
from tests.api.conftest import IDENTITY_SECRET
from tests.api.console._seeds import ARTICLE, seed_conversations


@pytest.fixture
def seeded(db: Session) -> date:
    """Two conversations of cus_001 yesterday; returns today."""
    now = utcnow()
    seed_conversations(db, "cus_001", now)
    return now.date()


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_anonymous_callers_and_customers_are_refused(client: TestClient) -> None:
    token = identity.mint_token("cus_001", IDENTITY_SECRET, 600)
    for headers in ({}, {"Authorization": f"Bearer {token}"}):
        for path in ("/console/analytics", "/console/analytics/conversations.csv"):
            response = client.get(path, headers=headers, follow_redirects=False)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/console/login?next=")


def test_the_page_shows_the_period_the_charts_and_the_book_kpis(csm_client: TestClient, seeded: date) -> None:
    page = csm_client.get("/console/analytics")
    assert page.status_code == 200
    first = seeded - timedelta(days=29)
    assert f"{first.isoformat()} to {seeded.isoformat()} (30 days)" in page.text
    for chart_id in ("conversations", "containment", "first-reply", "fallbacks", "csat", "intents", "articles"):
        assert f'data-chart="{chart_id}"' in page.text
        assert (
            f'href="/console/analytics/{chart_id}.csv?from={first.isoformat()}&amp;to={seeded.isoformat()}"'
            in page.text
        )
    assert "<dt>Containment</dt><dd>50.0 %</dd>" in page.text  # one of the two was handed over
    assert "<dt>Average</dt><dd>5.00 / 5</dd>" in page.text
    for label in ("MRR", "ARPA", "Churn rate (period)", "Net revenue retention", "NPS", "LTV (ARPA / churn)"):
        assert f"<dt>{label}</dt>" in page.text
    assert 'id="chart-data"' in page.text and "/static/vendor/chart.js/chart.umd.min.js" in page.text


def test_an_empty_period_says_so_instead_of_drawing(csm_client: TestClient) -> None:
    page = csm_client.get("/console/analytics?from=2020-01-01&to=2020-01-02")
    assert page.status_code == 200
    assert "No handoff was answered by a person in this period." in page.text
    assert "Nothing to show for this period." in page.text  # no conversation: nothing drawn
    assert "<canvas" not in page.text


def test_a_chart_downloads_as_csv_with_its_period_in_the_name(csm_client: TestClient, seeded: date) -> None:
    yesterday = seeded - timedelta(days=1)
    period = f"from={yesterday.isoformat()}&to={seeded.isoformat()}"
    response = csm_client.get(f"/console/analytics/conversations.csv?{period}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="keepwell-conversations-{yesterday.isoformat()}-to-{seeded.isoformat()}.csv"'
    )
    assert response.headers["cache-control"] == "no-store"
    assert _rows(response.text) == [
        ["Day (UTC)", "Website", "In-app", "Other (API)", "Total"],
        [yesterday.isoformat(), "1", "1", "0", "2"],
        [seeded.isoformat(), "0", "0", "0", "0"],
    ]
    articles = _rows(csm_client.get(f"/console/analytics/articles.csv?{period}").text)
    assert articles == [
        ["Article", "Times cited", "Conversations", "URL"],
        [ARTICLE["title"], "2", "2", ARTICLE["url"]],
    ]
    before = _rows(csm_client.get(f"/console/analytics/articles-before-handoff.csv?{period}").text)
    assert before[1] == [ARTICLE["title"], "1", ARTICLE["url"]]
    waits = _rows(csm_client.get(f"/console/analytics/first-reply.csv?{period}").text)
    assert ["1-5 min", "1"] in waits  # waited 60 s
    csat = _rows(csm_client.get(f"/console/analytics/csat.csv?{period}").text)
    assert csat == [["Score", "Answers"], ["1", "0"], ["2", "0"], ["3", "0"], ["4", "0"], ["5", "1"]]
    offers = _rows(csm_client.get(f"/console/analytics/offers.csv?{period}").text)
    assert offers == [["Offer", "Shown", "Clicked", "Accepted"], ["extra-seats", "1", "1", "1"]]


def test_the_book_kpis_csv_holds_what_keepwell_kpis_computes(csm_client: TestClient, db: Session, app: object) -> None:
    response = csm_client.get("/console/analytics/book-kpis.csv?from=2026-01-01&to=2026-01-31")
    rows = _rows(response.text)
    assert rows[0] == ["KPI", "Value", "Shown as", "Unit", "Note"]
    expected = kpis.book_kpis(db, kpis.Period(date(2026, 1, 1), date(2026, 2, 1)), csm_client.app.state.settings)
    by_label = {row[0]: row for row in rows[1:]}
    for name in ("mrr", "arpa", "churn_rate", "nrr", "nps", "ltv"):
        kpi = expected[name]
        assert by_label[kpi.label][1] == ("" if kpi.value is None else str(kpi.value))
        assert by_label[kpi.label][4] == (kpi.note or "")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-03-05&to=2026-03-01", "the period ends (2026-03-01) before it starts (2026-03-05)"),
        ("from=last+week", "&#39;from&#39; must be a date written YYYY-MM-DD, not &#39;last week&#39;"),
        ("from=2020-01-01&to=2026-01-01", "choose at most 366 days"),
    ],
)
def test_a_bad_period_is_a_422_with_the_reason(csm_client: TestClient, query: str, message: str) -> None:
    page = csm_client.get(f"/console/analytics?{query}")
    assert page.status_code == 422
    assert message in page.text
    assert "<canvas" not in page.text
    download = csm_client.get(f"/console/analytics/conversations.csv?{query}")
    assert download.status_code == 422
    assert download.text.startswith("Bad period: ")


def test_an_overlong_date_and_an_unknown_chart_are_refused(csm_client: TestClient) -> None:
    assert csm_client.get("/console/analytics?from=" + "9" * 41).status_code == 422
    unknown = csm_client.get("/console/analytics/everything.csv")
    assert unknown.status_code == 404


def test_article_titles_stay_text_in_the_page_and_its_chart_data(csm_client: TestClient, db: Session) -> None:
    now = utcnow()
    db.add(Conversation(id="x" * 32, customer_id=None, channel="website", created_at=now, last_message_at=now))
    db.flush()
    title = "</script><script>alert(1)</script>"
    db.add_all(
        [
            Message(conversation_id="x" * 32, role="customer", text="hi", created_at=now, state="answered"),
            Message(conversation_id="x" * 32, role="bot", text="hello", created_at=now, state="sent",
                    sources=[{"url": "/help/x", "title": title}]),
        ]
    )  # fmt: skip
    db.commit()
    page = csm_client.get("/console/analytics").text
    assert "<script>alert(1)" not in page
    assert "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)" in page  # in the JSON block, escaped by tojson
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in page  # in the numbers table


def test_a_spreadsheet_formula_in_a_csv_cell_is_defused() -> None:
    chart = Chart(
        id="t", title="t", type="table", label_header="Name", labels=["=HYPERLINK(1)", "@x", "plain"],
        series=[Series("Value", ["-48", "+1", "-cmd"], "text")],
    )  # fmt: skip
    assert _rows(csv_response(chart, "t.csv").body.decode()) == [
        ["Name", "Value"], ["'=HYPERLINK(1)", "-48"], ["'@x", "+1"], ["plain", "'-cmd"],
    ]  # fmt: skip


def test_every_chart_is_found_by_its_own_id(db: Session) -> None:
    report = analytics.report(db, ReportPeriod(date(2026, 1, 1), date(2026, 1, 7)), CoreSettings())
    for chart in _analytics_charts.charts(report):
        found = _analytics_charts.by_id(report, chart.id)
        assert found is not None and found.title == chart.title


def test_a_zero_rate_is_drawn_but_zero_counts_are_nothing_to_show() -> None:
    def chart(unit: str, values: list[float | None]) -> Chart:
        return Chart(id="t", title="t", type="line", label_header="Day", labels=["a", "b"],
                     series=[Series("s", list(values), unit)])  # type: ignore[arg-type]  # fmt: skip

    assert not chart("percent", [0.0, None]).empty  # nobody contained: a finding
    assert chart("percent", [None, None]).empty
    assert chart("count", [0, 0]).empty
    assert not chart("count", [0, 1]).empty
