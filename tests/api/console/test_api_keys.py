"""api/routes/console/api_keys.py: admins list, create and revoke API keys; a key is shown once; every change is
audited; CSMs are refused and anonymous visitors sent to sign in."""

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keepwell import api_keys
from keepwell.api_keys import InvalidApiKey
from keepwell.audit import AuditEntry
from keepwell.models import ApiKey
from tests.api.console.conftest import ADMIN_EMAIL, csrf_in, post_form

Entries = Callable[..., list[AuditEntry]]
PAGE = "/console/api-keys"


def _shown_key(page: str) -> str:
    match = re.search(r'<code id="new-api-key">([^<]+)</code>', page)
    assert match, "no key on the page"
    return match.group(1)


def _create(admin_client: TestClient, name: str = "Billing backend") -> str:
    response = post_form(admin_client, PAGE, PAGE, {"name": name, "scopes": "ingest"})
    assert response.status_code == 201, response.text
    return _shown_key(response.text)


def _authenticate(db: Session, key: str) -> api_keys.ApiKeyView:
    """The key as the ingest API would see it; committed at once so the app's own writes never wait on this test."""
    db.expire_all()
    try:
        return api_keys.authenticate(db, key, "ingest")
    finally:
        db.commit()


def _count(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(ApiKey)) or 0


def test_creating_a_key_shows_it_once_and_it_authenticates(
    admin_client: TestClient, db: Session, entries: Entries
) -> None:
    response = post_form(admin_client, PAGE, PAGE, {"name": " Billing  backend ", "scopes": "ingest"})
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    key = _shown_key(response.text)
    assert 'data-copy="new-api-key"' in response.text and '<script src="/static/console-copy.js"' in response.text
    view = _authenticate(db, key)
    assert (view.name, view.scopes, view.created_by) == ("Billing backend", ("ingest",), ADMIN_EMAIL)
    listing = admin_client.get(PAGE).text
    assert key not in listing and key[12:20] not in listing
    assert f"<code>{view.prefix}…</code>" in listing and "Billing backend" in listing
    [entry] = entries(action="api_key.create")
    assert (entry.actor, entry.target_type, entry.target_id) == (ADMIN_EMAIL, "api_key", str(view.id))
    assert entry.detail == {"name": "Billing backend", "prefix": view.prefix, "scopes": ["ingest"]}
    assert key not in repr(entries())


def test_the_copy_script_is_served_from_the_gateway(admin_client: TestClient) -> None:
    script = admin_client.get("/static/console-copy.js")
    assert script.status_code == 200 and "navigator.clipboard.writeText" in script.text


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "   ", "scopes": "ingest"}, "Give the key a name"),
        ({"name": "Billing backend"}, "Choose at least one scope"),
        ({"name": "Billing backend", "scopes": "admin"}, "Unknown scope: admin"),
    ],
)
def test_a_bad_form_is_refused_with_the_reason_and_creates_nothing(
    admin_client: TestClient, db: Session, entries: Entries, form: dict[str, str], message: str
) -> None:
    response = post_form(admin_client, PAGE, PAGE, form)
    assert response.status_code == 400
    assert message in response.text and 'role="alert"' in response.text
    assert _count(db) == 0 and entries(action="api_key.create") == []


def test_revoking_asks_first_then_refuses_the_key(admin_client: TestClient, db: Session, entries: Entries) -> None:
    key = _create(admin_client)
    kept = _create(admin_client, "Warehouse")
    key_id = _authenticate(db, key).id
    confirm = admin_client.get(f"{PAGE}/{key_id}/revoke")
    assert confirm.status_code == 200 and "Revoke Billing backend?" in confirm.text
    assert _authenticate(db, key).active  # asking changed nothing

    response = admin_client.post(
        f"{PAGE}/{key_id}/revoke", data={"csrf": csrf_in(confirm.text)}, follow_redirects=False
    )
    assert (response.status_code, response.headers["location"]) == (303, PAGE)
    listing = admin_client.get(PAGE).text
    assert "is revoked" in listing and "Revoked" in listing
    with pytest.raises(InvalidApiKey):
        _authenticate(db, key)
    assert _authenticate(db, kept).name == "Warehouse"
    [entry] = entries(action="api_key.revoke")
    assert (entry.actor, entry.target_id, entry.detail["name"]) == (ADMIN_EMAIL, str(key_id), "Billing backend")
    # Once revoked, there is nothing more to revoke: no second audit entry.
    again = post_form(admin_client, PAGE, f"{PAGE}/{key_id}/revoke")
    assert again.status_code == 303
    assert len(entries(action="api_key.revoke")) == 1


def test_an_unknown_key_is_a_404(admin_client: TestClient) -> None:
    assert admin_client.get(f"{PAGE}/9999/revoke").status_code == 404
    assert post_form(admin_client, PAGE, f"{PAGE}/9999/revoke").status_code == 404


def test_a_form_without_the_csrf_token_is_refused(admin_client: TestClient, db: Session) -> None:
    response = admin_client.post(PAGE, data={"name": "Billing backend", "scopes": "ingest"}, follow_redirects=False)
    assert response.status_code == 403 and "The form expired" in response.text
    assert _count(db) == 0


def test_csms_are_refused_and_do_not_see_the_page(csm_client: TestClient, db: Session) -> None:
    assert csm_client.get(PAGE).status_code == 403
    token = csrf_in(csm_client.get("/console").text)
    response = csm_client.post(PAGE, data={"csrf": token, "name": "mine", "scopes": "ingest"})
    assert response.status_code == 403 and "Admins only" in response.text
    assert csm_client.post(f"{PAGE}/1/revoke", data={"csrf": token}).status_code == 403
    assert _count(db) == 0
    assert 'href="/console/api-keys"' not in csm_client.get("/console").text


def test_admins_find_the_page_in_the_menu(admin_client: TestClient) -> None:
    assert 'href="/console/api-keys"' in admin_client.get("/console").text


def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient, db: Session) -> None:
    response = client.get(PAGE, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=/console/api-keys"
    assert client.post(PAGE, data={"name": "x", "scopes": "ingest"}).status_code == 401
    assert _count(db) == 0
