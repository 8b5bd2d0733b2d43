"""The customer 360 and the analytics page in headless Chromium (Debian's package) against the gateway on a loopback
port: Chart.js (served from /static/vendor) draws the charts under the console's CSP without a single console
error, the numbers table opens under each chart and the CSV downloads with its file name."""

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from api.main import create_app
from api.settings import Settings
from keepwell import accounts
from keepwell.bootstrap import prepare
from keepwell.db import session_factory
from keepwell.models import utcnow
from tests.api.conftest import IDENTITY_SECRET, _copy_prepared
from tests.api.console._seeds import ARTICLE, seed_conversations
from tests.api.console.conftest import CSM_EMAIL, CSM_PASSWORD
from tests.api.fakes import FakeRasa
from tests.browser import chromium
from tests.browser import served as serve

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(_prepared_sqlite: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """One gateway for the module, on a copy of the prepared demo database with two conversations of an account;
    yields its URL and that account's id."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("charts"), demo_mode=True, identity_secret=IDENTITY_SECRET,
        rate_limit_enabled=False,
    )  # fmt: skip
    _copy_prepared(settings, _prepared_sqlite, tmp_path_factory)
    prepare(settings)
    app = create_app(settings, rasa=FakeRasa())
    with serve(app) as base_url:
        with session_factory(app.state.engine)() as session:
            account = accounts.list_accounts(session)[0]
            seed_conversations(session, account.id, utcnow())
        yield base_url, account.id


@pytest.fixture(scope="module")
def browser(served: tuple[str, str]) -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def page(served: tuple[str, str], browser: Browser) -> Iterator[Page]:
    """A CSM's page, signed in; every console error (a CSP violation is one) and page error is collected."""
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors  # type: ignore[attr-defined]
    page.goto(f"{served[0]}/console/login")
    page.fill("input[name=username]", CSM_EMAIL)
    page.fill("input[name=password]", CSM_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Conversations")
    yield page
    context.close()


def _rendered(page: Page, chart_id: str) -> None:
    canvas = page.locator(f"canvas[data-chart='{chart_id}']")
    expect(canvas).to_have_attribute("data-rendered", "true")
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 100


def _download(page: Page, figure: str) -> tuple[str, list[list[str]]]:
    with page.expect_download() as info:
        page.get_by_test_id(figure).get_by_role("link", name="Download CSV").click()
    download = info.value
    text = Path(download.path()).read_text(encoding="utf-8")
    return download.suggested_filename, list(csv.reader(io.StringIO(text)))


def test_the_customer_360_draws_the_health_trend(served: tuple[str, str], page: Page) -> None:
    base, account_id = served
    page.goto(f"{base}/console/conversations/{'a' * 32}")
    page.locator("#customer-title + .panel__name a").click()  # the customer card links to the 360
    expect(page).to_have_url(f"{base}/console/customers/{account_id}")
    _rendered(page, "health")  # waits for the deferred scripts: the URL changes before they run
    assert page.evaluate("typeof window.Chart") == "function"  # the vendored library loaded

    figure = page.get_by_test_id("chart-health")
    table = figure.locator("details table")
    expect(table).not_to_be_visible()
    figure.get_by_text("Numbers").click()
    expect(table).to_be_visible()
    rows = table.locator("tbody tr")
    assert rows.count() >= 2

    name, data = _download(page, "chart-health")
    assert name == f"keepwell-health-{account_id}.csv"
    assert data[0][:5] == ["Day", "Health score", "Band", "Trend", "Scorecard"]
    assert len(data) == rows.count() + 1

    conversations = page.get_by_test_id("conversations")
    expect(conversations.locator("tbody tr")).to_have_count(2)
    conversations.locator("a").first.click()
    expect(page).to_have_url(f"{base}/console/conversations/{'a' * 32}")
    assert page.errors == []  # type: ignore[attr-defined]


def test_the_analytics_page_draws_its_charts(served: tuple[str, str], page: Page) -> None:
    base, _ = served
    page.goto(f"{base}/console")
    page.get_by_role("link", name="Analytics").click()
    expect(page.locator("h1")).to_have_text("Analytics")
    for chart_id in ("conversations", "containment", "fallbacks", "csat", "intents", "articles", "offers"):
        _rendered(page, chart_id)

    figure = page.get_by_test_id("chart-articles")
    figure.get_by_text("Numbers").click()
    expect(figure.locator("details table")).to_contain_text(ARTICLE["title"])

    name, data = _download(page, "chart-conversations")
    today = utcnow().date()
    assert name.startswith("keepwell-conversations-") and name.endswith(f"-to-{today.isoformat()}.csv")
    assert data[0] == ["Day (UTC)", "Website", "In-app", "Other (API)", "Total"]
    assert len(data) == 31  # the header and the 30 days of the default period
    assert sum(int(row[-1]) for row in data[1:]) == 2
    assert page.errors == []  # type: ignore[attr-defined]
