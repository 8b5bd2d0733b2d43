"""api/routes/console/auth.py: signing in and out, CSRF, safe redirects, limits per account and address, audit."""

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.main import create_app
from api.routes.console._pages import safe_next
from api.settings import Settings
from keepwell import staff
from keepwell.bootstrap import prepare
from tests.api.conftest import IDENTITY_SECRET
from tests.api.console.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    CSM_EMAIL,
    CSM_PASSWORD,
    CsrfOf,
    sign_in,
)
from tests.api.fakes import FakeRasa


def _login(
    client: TestClient, token: str, password: str = CSM_PASSWORD, next_url: str = "", email: str = CSM_EMAIL
) -> Any:
    return client.post(
        "/console/login",
        data={"username": email, "password": password, "csrf": token, "next": next_url},
        follow_redirects=False,
    )


@pytest.mark.parametrize(
    "path",
    ["/console", "/console/handoffs", "/console/feedback", "/console/conversations/abc", "/console/users"],
)
def test_console_pages_redirect_to_the_login_page(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/console/login?next={path}"


def test_the_redirect_keeps_the_query_and_only_console_targets(client: TestClient) -> None:
    response = client.get("/console?page=2", follow_redirects=False)
    assert response.headers["location"] == "/console/login?next=/console%3Fpage%3D2"
    page = client.get(response.headers["location"]).text
    assert 'name="next" value="/console?page=2"' in page


def test_login_page_is_an_accessible_form_with_a_csrf_token(client: TestClient) -> None:
    page = client.get("/console/login?next=/console/handoffs").text
    assert '<label for="username">Email</label>' in page
    assert '<label for="password">Password</label>' in page
    assert 'autocomplete="current-password"' in page
    assert re.search(r'name="csrf" value="[^"]{20,}"', page)
    assert 'name="next" value="/console/handoffs"' in page
    assert "Log out" not in page
    assert "<script" not in page


def test_wrong_password_is_refused_with_401(client: TestClient, csrf_of: CsrfOf) -> None:
    response = _login(client, csrf_of(client, "/console/login"), password="not-the-password")
    assert response.status_code == 401
    assert "Wrong email or password" in response.text
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_unknown_user_is_refused_with_the_same_message(client: TestClient, csrf_of: CsrfOf) -> None:
    response = _login(client, csrf_of(client, "/console/login"), email="nobody@example.test")
    assert response.status_code == 401
    assert "Wrong email or password" in response.text


def test_a_deactivated_account_cannot_sign_in(client: TestClient, db: Session, csrf_of: CsrfOf) -> None:
    user = staff.get_by_email(db, CSM_EMAIL)
    assert user is not None
    staff.deactivate(db, user.id)
    db.commit()
    response = _login(client, csrf_of(client, "/console/login"))
    assert response.status_code == 401
    assert "Wrong email or password" in response.text


def test_right_password_signs_in_and_the_pages_render(client: TestClient, csrf_of: CsrfOf) -> None:
    response = _login(client, csrf_of(client, "/console/login"))
    assert response.status_code == 303
    assert response.headers["location"] == "/console"
    for path, heading in [
        ("/console", "Conversations"),
        ("/console/handoffs", "Handoffs"),
        ("/console/feedback", "Product feedback"),
    ]:
        page = client.get(path)
        assert page.status_code == 200, path
        assert f"<h1>{heading}" in page.text
        assert "Signed in as <strong>Demo CSM</strong>" in page.text
        assert page.headers["cache-control"] == "no-store"


def test_the_email_is_matched_without_case_or_spaces(client: TestClient, csrf_of: CsrfOf) -> None:
    response = _login(client, csrf_of(client, "/console/login"), email=f"  {CSM_EMAIL.upper()} ")
    assert response.status_code == 303


def test_a_signed_in_user_opening_the_login_page_goes_on(csm_client: TestClient) -> None:
    response = csm_client.get("/console/login?next=/console/feedback", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/feedback"


def test_sign_in_records_the_time_and_an_audit_entry(
    client: TestClient, db: Session, csrf_of: CsrfOf, entries: Callable[..., list[Any]]
) -> None:
    assert _login(client, csrf_of(client, "/console/login")).status_code == 303
    db.expire_all()
    user = staff.get_by_email(db, CSM_EMAIL)
    assert user is not None and user.last_login_at is not None
    [entry] = entries(action="auth.sign_in")
    assert (entry.actor, entry.actor_id, entry.target_type, entry.target_id) == (
        CSM_EMAIL,
        user.id,
        "user",
        str(user.id),
    )
    assert entry.ip == "testclient"
    assert abs((entry.at - user.last_login_at).total_seconds()) < 1


def test_failed_sign_ins_are_audited_without_the_password(
    client: TestClient, db: Session, csrf_of: CsrfOf, entries: Callable[..., list[Any]]
) -> None:
    token = csrf_of(client, "/console/login")
    _login(client, token, password="wrong-password-123")
    _login(client, token, email="ghost@example.test", password="ghost-password-123")
    _login(client, token, email="my-secret-password", password="x" * 12)  # a password typed as the email
    failed = entries(action="auth.sign_in_failed")
    assert [(e.actor, e.detail["reason"]) for e in failed] == [
        ("(not an email)", "unknown_user"),
        ("ghost@example.test", "unknown_user"),
        (CSM_EMAIL, "wrong_password"),
    ]
    assert failed[2].actor_id is None and failed[2].target_id is not None  # aimed at the CSM, not done by them
    everything = repr(entries())
    assert "wrong-password-123" not in everything and "my-secret-password" not in everything


def test_login_without_or_with_a_wrong_csrf_token_is_rejected(client: TestClient, csrf_of: CsrfOf) -> None:
    csrf_of(client, "/console/login")  # the session has a token, the forms below do not carry it
    without = client.post("/console/login", data={"username": CSM_EMAIL, "password": CSM_PASSWORD})
    assert without.status_code == 403
    assert "The form expired" in without.text and without.headers["content-type"].startswith("text/html")
    wrong = _login(client, "forged-token")
    assert wrong.status_code == 403
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_login_follows_a_console_next_path(client: TestClient, csrf_of: CsrfOf) -> None:
    response = _login(client, csrf_of(client, "/console/login"), next_url="/console/handoffs")
    assert response.headers["location"] == "/console/handoffs"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/console",
        "//evil.example/console",
        "/\\evil.example",
        "/console//evil.example",
        "/console\\@evil.example",
        "/consolex",
        "/help",
        "javascript:alert(1)",
        " /console",
    ],
)
def test_login_refuses_to_redirect_off_the_console(client: TestClient, csrf_of: CsrfOf, target: str) -> None:
    response = _login(client, csrf_of(client, "/console/login"), next_url=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/console"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/console", "/console"),
        ("/console/conversations/abc?x=1", "/console/conversations/abc?x=1"),
        ("/console?page=2", "/console?page=2"),
        (None, "/console"),
        ("", "/console"),
        ("https://evil.example", "/console"),
        ("/console/\n/x", "/console"),
    ],
)
def test_safe_next(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_signing_in_starts_a_new_session_under_a_new_id(client: TestClient, csrf_of: CsrfOf) -> None:
    before = csrf_of(client, "/console/login")
    anonymous_id = client.cookies.get("keepwell_console")
    assert anonymous_id
    assert _login(client, before).status_code == 303
    signed_in_id = client.cookies.get("keepwell_console")
    assert signed_in_id and signed_in_id != anonymous_id  # no session fixation
    # Nothing from the anonymous session survives signing in, so its CSRF token is no longer accepted.
    assert client.post("/console/logout", data={"csrf": before}).status_code == 403
    after = csrf_of(client, "/console")
    assert after != before
    assert client.post("/console/logout", data={"csrf": after}, follow_redirects=False).status_code == 303


def test_a_planted_session_id_is_not_kept_at_sign_in(
    client: TestClient, csrf_of: CsrfOf, browser: Callable[[], TestClient]
) -> None:
    token = csrf_of(client, "/console/login")
    planted = client.cookies.get("keepwell_console")
    assert planted
    assert _login(client, token).status_code == 303
    # Whoever planted (or read) the id from before the sign-in gets nothing from it afterwards.
    attacker = browser()
    attacker.cookies.set("keepwell_console", planted)
    assert attacker.get("/console", follow_redirects=False).status_code == 303
    assert client.get("/console").status_code == 200


def test_logout_needs_the_csrf_token_and_is_audited(
    csm_client: TestClient, csrf_of: CsrfOf, entries: Callable[..., list[Any]]
) -> None:
    assert csm_client.post("/console/logout", data={}).status_code == 403
    assert csm_client.get("/console").status_code == 200
    token = csrf_of(csm_client, "/console")
    response = csm_client.post("/console/logout", data={"csrf": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login"
    assert csm_client.get("/console", follow_redirects=False).status_code == 303
    [entry] = entries(action="auth.sign_out")
    assert entry.actor == CSM_EMAIL


def test_admins_see_users_and_audit_in_the_nav_csms_do_not(csm_client: TestClient, admin_client: TestClient) -> None:
    csm_page = csm_client.get("/console").text
    assert 'href="/console/users"' not in csm_page and 'href="/console/audit"' not in csm_page
    admin_page = admin_client.get("/console").text
    assert 'href="/console/users"' in admin_page and 'href="/console/audit"' in admin_page
    assert "Signed in as <strong>Demo Admin</strong>" in admin_page


# ---- limits -----------------------------------------------------------------------------------------------------


def _limited_app(tmp_path: Path, **limits: str) -> TestClient:
    settings = Settings(data_dir=tmp_path, demo_mode=True, identity_secret=IDENTITY_SECRET, **limits)
    prepare(settings)
    return TestClient(create_app(settings, rasa=FakeRasa()))


def test_login_is_limited_per_account_with_a_429_page(tmp_path: Path) -> None:
    with _limited_app(tmp_path, login_rate_limit_per_account="3/15 minutes") as client:
        token = sign_in_token(client)
        statuses = [_login(client, token, password="wrong-password").status_code for _ in range(3)]
        limited = _login(client, token)  # even the right password waits now
        other = _login(client, token, email=ADMIN_EMAIL, password=ADMIN_PASSWORD)  # another account is not held up
    assert statuses == [401, 401, 401]
    assert limited.status_code == 429
    assert limited.headers["content-type"].startswith("text/html")
    assert 0 < int(limited.headers["retry-after"]) <= 15 * 60
    assert "Too many sign-in attempts" in limited.text
    assert other.status_code == 303


def test_login_is_limited_per_address(tmp_path: Path) -> None:
    with _limited_app(tmp_path, login_rate_limit_per_address="4/minute") as client:
        token = sign_in_token(client)
        statuses = [
            _login(client, token, email=f"user{n}@example.test", password="wrong-password").status_code
            for n in range(5)
        ]
        limited = _login(client, token)
    assert statuses == [401, 401, 401, 401, 429]
    assert limited.status_code == 429
    assert 0 < int(limited.headers["retry-after"]) <= 60


def test_a_successful_sign_in_clears_the_account_count(tmp_path: Path) -> None:
    with _limited_app(tmp_path, login_rate_limit_per_account="3/15 minutes") as client:
        token = sign_in_token(client)
        _login(client, token, password="wrong-password")
        _login(client, token, password="wrong-password")
        assert _login(client, token).status_code == 303
        token = sign_in_token(client)
        assert [_login(client, token, password="wrong-password").status_code for _ in range(3)] == [401] * 3
        assert _login(client, token, password="wrong-password").status_code == 429


def test_the_demo_admin_and_csm_can_sign_in(client: TestClient) -> None:
    assert sign_in(client, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 303
    assert sign_in(client, CSM_EMAIL, CSM_PASSWORD).status_code == 303


def sign_in_token(client: TestClient) -> str:
    page = client.get("/console/login").text
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match
    return match.group(1)
