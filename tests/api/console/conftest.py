"""Console fixtures: sign-in helpers, an admin, more browsers on the same app, reading the audit log, and the served
app and a Chromium page for the browser tests."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Page
from sqlalchemy.orm import Session

from keepwell import audit, staff
from keepwell.bootstrap import DEMO_ADMIN, DEMO_CSM, prepare
from keepwell.staff import StaffView
from tests.api.conftest import _CSRF_FIELD
from tests.browser import chromium, served

ADMIN_EMAIL, ADMIN_PASSWORD = DEMO_ADMIN
CSM_EMAIL, CSM_PASSWORD = DEMO_CSM
COOKIE = "keepwell_console"  # demo mode over plain HTTP; `__Host-keepwell_console` when cookies are Secure

CsrfOf = Callable[[TestClient, str], str]
SignIn = Callable[..., Any]


def csrf_in(page: str) -> str:
    match = _CSRF_FIELD.search(page)
    assert match, "no CSRF field on the page"
    return match.group(1)


def sign_in(test_client: TestClient, email: str, password: str, next_url: str = "") -> Any:
    """Open the login form and post it; returns the answer to the post (a 303 when it worked)."""
    token = csrf_in(test_client.get("/console/login").text)
    return test_client.post(
        "/console/login",
        data={"username": email, "password": password, "csrf": token, "next": next_url},
        follow_redirects=False,
    )


def post_form(test_client: TestClient, page: str, action: str, data: dict[str, str] | None = None) -> Any:
    """Post a console form the way a browser would: with the CSRF token of the page it is on."""
    token = csrf_in(test_client.get(page).text)
    return test_client.post(action, data={"csrf": token, **(data or {})}, follow_redirects=False)


@pytest.fixture
def browser(app: FastAPI, client: TestClient) -> Iterator[Callable[[], TestClient]]:
    """Opens another browser (its own cookies) on the same running app."""
    opened: list[TestClient] = []

    def open_one() -> TestClient:
        other = TestClient(app)
        opened.append(other)
        return other

    yield open_one
    for other in opened:
        other.close()


@pytest.fixture
def base_url(app: FastAPI) -> Iterator[str]:
    """For browser tests: the app on a free 127.0.0.1 port, on a prepared database (migrated, demo data and
    logins)."""
    prepare(app.state.settings)
    with served(app) as url:
        yield url


@pytest.fixture
def page() -> Iterator[Page]:
    """For browser tests: a page in its own browser context of a headless Chromium."""
    with chromium() as browser:
        yield browser.new_context().new_page()


@pytest.fixture
def admin_client(browser: Callable[[], TestClient]) -> TestClient:
    """A browser signed in as the demo admin."""
    admin = browser()
    assert sign_in(admin, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 303
    return admin


@pytest.fixture
def demo_csm(db: Session) -> StaffView:
    user = staff.get_by_email(db, CSM_EMAIL)
    assert user is not None
    return user


@pytest.fixture
def entries(db: Session) -> Callable[..., list[audit.AuditEntry]]:
    """The audit entries matching the filters, newest first (reads what the app committed)."""

    def read(**filters: Any) -> list[audit.AuditEntry]:
        db.expire_all()
        return audit.list_events(db, page_size=200, **filters).items

    return read
