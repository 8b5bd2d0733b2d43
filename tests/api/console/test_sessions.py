"""Console sessions end at once: logout, deactivation (console or CLI), password change, "sign out everywhere";
session ids are stored hashed; the cookie is HttpOnly, SameSite=Strict, and Secure with `__Host-` when required."""

import hashlib
import sqlite3
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.main import create_app
from api.services.sessions import SECURE_COOKIE_NAME, hash_session_id
from api.settings import Settings
from keepwell.bootstrap import prepare
from keepwell.cli import main as cli
from keepwell.models import ConsoleSession, CSMUser, utcnow
from keepwell.settings import get_core_settings
from keepwell.staff import StaffView
from tests.api.conftest import IDENTITY_SECRET
from tests.api.console.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    COOKIE,
    CSM_EMAIL,
    CSM_PASSWORD,
    csrf_in,
    post_form,
    sign_in,
)
from tests.api.fakes import FakeRasa

Browser = Callable[[], TestClient]


def _refused(test_client: TestClient) -> bool:
    """Whether the console treats this browser as signed out, for a page and for a form."""
    page = test_client.get("/console", follow_redirects=False)
    form = test_client.post("/console/handoffs/1/release", data={"csrf": "x"}, follow_redirects=False)
    return page.status_code == 303 and page.headers["location"].startswith("/console/login") and form.status_code == 401


def test_after_logout_the_old_cookie_is_refused(csm_client: TestClient, browser: Browser) -> None:
    old_cookie = csm_client.cookies.get(COOKIE)
    assert old_cookie
    assert post_form(csm_client, "/console", "/console/logout").status_code == 303
    replay = browser()
    replay.cookies.set(COOKIE, old_cookie)
    assert _refused(replay)


def test_logout_deletes_the_stored_session(csm_client: TestClient, db: Session) -> None:
    cookie = csm_client.cookies.get(COOKIE)
    assert cookie and db.get(ConsoleSession, hash_session_id(cookie)) is not None
    post_form(csm_client, "/console", "/console/logout")
    db.expire_all()
    assert db.get(ConsoleSession, hash_session_id(cookie)) is None


def test_deactivation_by_an_admin_ends_the_csms_session_at_once(
    csm_client: TestClient, admin_client: TestClient, demo_csm: StaffView
) -> None:
    assert csm_client.get("/console").status_code == 200
    page = f"/console/users/{demo_csm.id}"
    assert post_form(admin_client, page, f"{page}/deactivate").status_code == 303
    assert _refused(csm_client)
    assert sign_in(csm_client, CSM_EMAIL, CSM_PASSWORD).status_code == 401
    # Reactivated, the account signs in again; the old session stays ended.
    assert post_form(admin_client, page, f"{page}/reactivate").status_code == 303
    assert sign_in(csm_client, CSM_EMAIL, CSM_PASSWORD).status_code == 303
    assert csm_client.get("/console").status_code == 200


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI reads the same database as the app under test."""
    monkeypatch.setenv("KEEPWELL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("KEEPWELL_DEMO_MODE", "true")
    get_core_settings.cache_clear()
    yield
    get_core_settings.cache_clear()


def test_deactivation_by_the_cli_ends_the_csms_session_at_once(csm_client: TestClient, cli_env: None) -> None:
    assert csm_client.get("/console").status_code == 200
    assert cli(["users", "deactivate", CSM_EMAIL]) == 0
    assert _refused(csm_client)


def test_a_password_change_ends_every_session_of_the_account(
    csm_client: TestClient, admin_client: TestClient, browser: Browser, demo_csm: StaffView
) -> None:
    second = browser()
    assert sign_in(second, CSM_EMAIL, CSM_PASSWORD).status_code == 303
    page = f"/console/users/{demo_csm.id}"
    new_password = "a-brand-new-passphrase"
    response = post_form(admin_client, page, f"{page}/password", {"password_choice": "type", "password": new_password})
    assert response.status_code == 200
    assert _refused(csm_client) and _refused(second)
    assert sign_in(csm_client, CSM_EMAIL, CSM_PASSWORD).status_code == 401
    assert sign_in(csm_client, CSM_EMAIL, new_password).status_code == 303
    # The admin's own session is untouched.
    assert admin_client.get("/console/users").status_code == 200


def test_a_password_change_by_the_cli_ends_the_session(
    csm_client: TestClient, cli_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", _Lines("another-long-passphrase\n"))
    assert cli(["users", "set-password", CSM_EMAIL, "--password-stdin"]) == 0
    assert _refused(csm_client)


def test_sign_out_everywhere_ends_every_session_but_not_the_account(
    csm_client: TestClient, admin_client: TestClient, browser: Browser, demo_csm: StaffView
) -> None:
    second = browser()
    assert sign_in(second, CSM_EMAIL, CSM_PASSWORD).status_code == 303
    page = f"/console/users/{demo_csm.id}"
    assert post_form(admin_client, page, f"{page}/sessions/revoke").status_code == 303
    assert _refused(csm_client) and _refused(second)
    assert sign_in(csm_client, CSM_EMAIL, CSM_PASSWORD).status_code == 303


def test_an_admin_signing_out_everywhere_keeps_this_session_only(
    admin_client: TestClient, browser: Browser, db: Session
) -> None:
    other_device = browser()
    assert sign_in(other_device, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 303
    admin_id = db.scalar(select(CSMUser.id).where(CSMUser.username == ADMIN_EMAIL))
    page = f"/console/users/{admin_id}"
    response = post_form(admin_client, page, f"{page}/sessions/revoke")
    assert response.status_code == 303
    assert _refused(other_device)
    assert "You are signed out of every other session." in admin_client.get(page).text


def test_a_deleted_account_has_no_session(csm_client: TestClient, db: Session, demo_csm: StaffView) -> None:
    db.delete(db.get(CSMUser, demo_csm.id))
    db.commit()
    assert _refused(csm_client)


def test_a_demoted_admin_loses_admin_pages_at_once(admin_client: TestClient, db: Session) -> None:
    assert admin_client.get("/console/users").status_code == 200
    db.execute(update(CSMUser).where(CSMUser.username == ADMIN_EMAIL).values(role="csm"))
    db.commit()
    assert admin_client.get("/console/users").status_code == 403
    assert admin_client.get("/console").status_code == 200


def test_an_expired_session_is_refused(csm_client: TestClient, db: Session) -> None:
    cookie = csm_client.cookies.get(COOKIE)
    assert cookie
    db.execute(
        update(ConsoleSession)
        .where(ConsoleSession.id_hash == hash_session_id(cookie))
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    db.commit()
    assert _refused(csm_client)


def test_session_ids_are_stored_hashed(csm_client: TestClient, admin_client: TestClient, settings: Settings) -> None:
    cookies = [csm_client.cookies.get(COOKIE), admin_client.cookies.get(COOKIE)]
    assert all(cookies)
    csm_client.get("/console")
    database = settings.data_dir / "keepwell.db"
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT id_hash FROM console_sessions").fetchall()
        dump = "\n".join(connection.iterdump())
    stored = {row[0] for row in rows}
    for cookie in cookies:
        assert cookie is not None
        assert hashlib.sha256(cookie.encode()).hexdigest() in stored
        assert cookie not in dump
        # Nor anywhere in the files (the write-ahead log included).
        for path in database.parent.glob("keepwell.db*"):
            assert cookie.encode() not in path.read_bytes(), path


def test_the_cookie_is_http_only_and_same_site_strict(client: TestClient) -> None:
    token = csrf_in(client.get("/console/login").text)
    response = client.post(
        "/console/login",
        data={"username": CSM_EMAIL, "password": CSM_PASSWORD, "csrf": token},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=strict", "path=/"} <= flags
    assert "secure" not in flags  # demo mode on plain HTTP
    assert any(flag.startswith("max-age=") for flag in flags)


def test_secure_cookies_use_the_host_prefix(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, demo_mode=True, identity_secret=IDENTITY_SECRET, rate_limit_enabled=False, cookie_secure=True
    )
    prepare(settings)
    with TestClient(create_app(settings, rasa=FakeRasa()), base_url="https://testserver") as client:
        response = sign_in(client, CSM_EMAIL, CSM_PASSWORD)
        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{SECURE_COOKIE_NAME}=")
        flags = {part.strip().lower() for part in cookie.split(";")}
        assert {"httponly", "samesite=strict", "secure", "path=/"} <= flags
        assert not any(flag.startswith("domain=") for flag in flags)
        assert client.get("/console").status_code == 200


def test_cookies_are_secure_outside_demo_mode(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        demo_mode=False,
        identity_secret="x" * 40,
        internal_secret="y" * 40,
        rasa_token="z" * 40,
    )
    assert settings.secure_cookies


def test_other_paths_never_get_a_session_cookie(client: TestClient) -> None:
    for path in ("/", "/api/health", "/static/console.css"):
        assert "set-cookie" not in client.get(path).headers, path


def test_sessions_live_in_redis_under_a_hash_when_redis_is_configured(
    tmp_path: Path, redis_store: tuple[str, str]
) -> None:
    url, prefix = redis_store
    settings = Settings(
        data_dir=tmp_path,
        demo_mode=True,
        identity_secret=IDENTITY_SECRET,
        rate_limit_enabled=False,
        redis_url=url,
        redis_key_prefix=prefix,
    )
    prepare(settings)
    store = redis.Redis.from_url(url)
    try:
        with TestClient(create_app(settings, rasa=FakeRasa())) as client:
            assert sign_in(client, CSM_EMAIL, CSM_PASSWORD).status_code == 303
            cookie = client.cookies.get(COOKIE)
            assert cookie
            key = f"{prefix}:console-session:{hash_session_id(cookie)}"
            assert store.exists(key)
            assert 0 < store.ttl(key) <= settings.session_max_age_s
            assert not [k for k in store.scan_iter(match=f"*{cookie}*")]
            assert client.get("/console").status_code == 200
            assert post_form(client, "/console", "/console/logout").status_code == 303
            assert not store.exists(key)
            replay_refused = client.get("/console", cookies=None, follow_redirects=False)
            assert replay_refused.status_code == 303
    finally:
        store.close()


class _Lines:
    """A stand-in for standard input."""

    def __init__(self, text: str) -> None:
        self._lines = iter(text.splitlines(keepends=True))

    def readline(self) -> str:
        return next(self._lines, "")
