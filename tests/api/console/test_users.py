"""api/routes/console/users.py: admins manage console accounts; every change is audited; passwords shown once."""

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from keepwell import staff
from keepwell.audit import AuditEntry
from keepwell.bootstrap import DEMO_ADMIN
from keepwell.staff import StaffView
from tests.api.console.conftest import ADMIN_EMAIL, CSM_EMAIL, post_form, sign_in

Entries = Callable[..., list[AuditEntry]]


def _created_password(page: str) -> str:
    match = re.search(r'<code id="new-password">([^<]+)</code>', page)
    assert match, "no password on the page"
    return match.group(1)


def _user(db: Session, email: str) -> StaffView:
    db.expire_all()
    user = staff.get_by_email(db, email)
    assert user is not None
    return user


def test_the_users_page_lists_accounts_with_role_status_and_last_sign_in(admin_client: TestClient) -> None:
    page = admin_client.get("/console/users")
    assert page.status_code == 200
    text = page.text
    assert "<h1>Users</h1>" in text
    assert CSM_EMAIL in text and ADMIN_EMAIL in text
    assert (
        '<span class="badge badge--admin">Admin</span>' in text and '<span class="badge badge--csm">CSM</span>' in text
    )
    assert '<span class="badge badge--active">Active</span>' in text
    assert "<time datetime=" in text  # the admin's own last sign-in
    assert '<label for="new-email">Email</label>' in text and '<label for="new-role">Role</label>' in text
    assert '<label for="new-password">' in text and "<legend>Password</legend>" in text
    # No inline script (the CSP would block it); the handoff queue poller is a /static file every console page loads.
    assert not re.search(r"<script(?![^>]*\ssrc=)", text) and " style=" not in text and "onclick" not in text


def test_creating_an_account_shows_the_generated_password_once(
    admin_client: TestClient, browser: Callable[[], TestClient], db: Session, entries: Entries
) -> None:
    response = post_form(
        admin_client,
        "/console/users",
        "/console/users",
        {"email": " New.Person@Example.test ", "display_name": "New  Person", "role": "csm"},
    )
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    password = _created_password(response.text)
    assert len(password) >= staff.MIN_PASSWORD_LENGTH
    user = _user(db, "new.person@example.test")
    assert (user.display_name, user.role, user.active) == ("New Person", "csm", True)
    # Only the hash is kept, and the password is nowhere else to be seen again.
    assert password not in admin_client.get("/console/users").text
    assert password not in admin_client.get(f"/console/users/{user.id}").text
    newcomer = browser()
    assert sign_in(newcomer, "new.person@example.test", password).status_code == 303
    [entry] = entries(action="user.create")[:1]
    assert (entry.actor, entry.target_id) == (ADMIN_EMAIL, str(user.id))
    assert entry.detail == {"email": "new.person@example.test", "role": "csm", "generated": True}
    assert password not in repr(entries())


def test_creating_an_account_with_a_typed_password_does_not_echo_it(
    admin_client: TestClient, browser: Callable[[], TestClient]
) -> None:
    typed = "typed-initial-password"
    response = post_form(
        admin_client,
        "/console/users",
        "/console/users",
        {"email": "typed@example.test", "role": "admin", "password_choice": "type", "password": typed},
    )
    assert response.status_code == 201
    assert typed not in response.text and "The password you typed is set." in response.text
    assert sign_in(browser(), "typed@example.test", typed).status_code == 303


def test_bad_account_details_are_refused_with_the_reason(
    admin_client: TestClient, db: Session, entries: Entries
) -> None:
    cases = [
        ({"email": "not-an-email", "role": "csm"}, "Enter a valid email address"),
        ({"email": CSM_EMAIL, "role": "csm"}, "There is already an account for csm@demo.test"),
        ({"email": "short@example.test", "password_choice": "type", "password": "short"}, "at least 12 characters"),
        ({"email": "role@example.test", "role": "superuser"}, "The role must be one of"),
    ]
    for data, message in cases:
        response = post_form(admin_client, "/console/users", "/console/users", data)
        assert response.status_code == 400, data
        assert message in response.text, data
        assert 'role="alert"' in response.text
    assert 'value="role@example.test"' in response.text  # the form keeps what was typed
    assert len(staff.list_staff(db)) == 2
    assert entries(action="user.create") == [e for e in entries(action="user.create") if e.actor == "system"]


def test_changing_a_role_takes_effect_at_once_and_is_audited(
    admin_client: TestClient, csm_client: TestClient, demo_csm: StaffView, db: Session, entries: Entries
) -> None:
    assert csm_client.get("/console/users").status_code == 403
    page = f"/console/users/{demo_csm.id}"
    response = post_form(admin_client, page, f"{page}/role", {"role": "admin"})
    assert response.status_code == 303 and response.headers["location"] == page
    assert "Demo CSM is now Admin." in admin_client.get(page).text
    assert _user(db, CSM_EMAIL).role == "admin"
    assert csm_client.get("/console/users").status_code == 200  # same session, new rights
    [entry] = entries(action="user.role_change")
    assert entry.detail == {"email": CSM_EMAIL, "from": "csm", "to": "admin"}
    assert entry.actor == ADMIN_EMAIL and entry.target_id == str(demo_csm.id)


def test_an_admin_cannot_demote_or_deactivate_themselves(admin_client: TestClient, db: Session) -> None:
    admin = _user(db, ADMIN_EMAIL)
    page = f"/console/users/{admin.id}"
    text = admin_client.get(page).text
    assert f'action="{page}/deactivate"' not in text and f'action="{page}/role"' not in text
    assert post_form(admin_client, page, f"{page}/role", {"role": "csm"}).status_code == 400
    assert post_form(admin_client, page, f"{page}/deactivate").status_code == 400
    admin = _user(db, ADMIN_EMAIL)
    assert (admin.role, admin.active) == ("admin", True)


def test_deactivate_and_reactivate_are_audited_and_shown(
    admin_client: TestClient, demo_csm: StaffView, entries: Entries
) -> None:
    page = f"/console/users/{demo_csm.id}"
    assert post_form(admin_client, page, f"{page}/deactivate").status_code == 303
    text = admin_client.get(page).text
    assert "Demo CSM is deactivated and signed out everywhere." in text
    assert '<span class="badge badge--inactive">Deactivated</span>' in text
    assert f'action="{page}/reactivate"' in text
    assert post_form(admin_client, page, f"{page}/reactivate").status_code == 303
    assert "Demo CSM can sign in again." in admin_client.get(page).text
    assert [e.action for e in entries(action="user.")] == [
        "user.reactivate",
        "user.deactivate",
        "user.create",
        "user.create",
    ]
    assert entries(action="user.deactivate")[0].detail == {"email": CSM_EMAIL}


def test_resetting_a_password_shows_a_generated_one_once(
    admin_client: TestClient, demo_csm: StaffView, browser: Callable[[], TestClient], entries: Entries
) -> None:
    page = f"/console/users/{demo_csm.id}"
    response = post_form(admin_client, page, f"{page}/password", {"password_choice": "generate"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    password = _created_password(response.text)
    assert sign_in(browser(), CSM_EMAIL, password).status_code == 303
    [entry] = entries(action="user.password_reset")
    assert entry.detail == {"email": CSM_EMAIL, "generated": True}
    assert password not in repr(entries())


def test_a_too_short_typed_password_is_refused(admin_client: TestClient, demo_csm: StaffView, entries: Entries) -> None:
    page = f"/console/users/{demo_csm.id}"
    response = post_form(admin_client, page, f"{page}/password", {"password_choice": "type", "password": "tiny"})
    assert response.status_code == 400
    assert "at least 12 characters" in response.text
    assert entries(action="user.password_reset") == []


def test_sign_out_everywhere_is_audited(admin_client: TestClient, demo_csm: StaffView, entries: Entries) -> None:
    page = f"/console/users/{demo_csm.id}"
    assert post_form(admin_client, page, f"{page}/sessions/revoke").status_code == 303
    assert "Demo CSM is signed out everywhere." in admin_client.get(page).text
    [entry] = entries(action="session.revoke_all")
    assert (entry.actor, entry.target_type, entry.target_id) == (ADMIN_EMAIL, "user", str(demo_csm.id))


def test_unknown_accounts_are_404_pages(admin_client: TestClient) -> None:
    assert admin_client.get("/console/users/9999").status_code == 404
    response = post_form(admin_client, "/console/users", "/console/users/9999/deactivate")
    assert response.status_code == 404
    assert "There is no such account" in response.text


def test_account_names_are_escaped(admin_client: TestClient, db: Session) -> None:
    staff.create(db, "xss@example.test", "a-long-enough-password", display_name="<script>alert(1)</script>")
    db.commit()
    text = admin_client.get("/console/users").text
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_demo_logins_exist(db: Session) -> None:
    admin = _user(db, DEMO_ADMIN[0])
    assert admin.role == "admin" and _user(db, CSM_EMAIL).role == "csm"
