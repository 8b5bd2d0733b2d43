"""Every console route refuses anonymous callers and customers; a CSM cannot do what only admins may."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from keepwell import api_keys, audit, handoffs, identity, staff
from keepwell.conversations import saved_views
from keepwell.models import Conversation
from keepwell.staff import StaffView
from tests.api.conftest import IDENTITY_SECRET
from tests.api.console.conftest import CSM_EMAIL, csrf_in

# Reached without a session on purpose: the login form itself.
PUBLIC = {("GET", "/console/login"), ("POST", "/console/login")}
ADMIN_PREFIXES = ("/console/users", "/console/audit", "/console/api-keys", "/console/privacy")
CONVERSATION_ID = "c" * 32


def console_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every console route the app serves, found in the app, not listed by hand."""
    found = []
    # FastAPI includes routers lazily; iter_route_contexts gives each route with its full path.
    for context in iter_route_contexts(app.routes):
        path, methods = context.path, context.methods or set()
        if isinstance(context.original_route, APIRoute) and path and path.startswith("/console"):
            found.extend((method, path) for method in sorted(methods) if (method, path) not in PUBLIC)
    return found


def _fill(path: str, user_id: int, handoff_id: int) -> str:
    """A real target for each path parameter, so a request that got through would change something."""
    values = {
        "user_id": str(user_id),
        "handoff_id": str(handoff_id),
        "conversation_id": CONVERSATION_ID,
        "account_id": "cus_001",  # a demo account
        "chart_id": "conversations",
        "category": "billing",  # a shipped article: only read (GET) here, never written
        "slug": "cancel-subscription",
    }
    return re.sub(r"\{(\w+)\}", lambda match: values.get(match.group(1), "1"), path)


@pytest.fixture
def targets(db: Session, demo_csm: StaffView) -> tuple[int, int]:
    db.add(Conversation(id=CONVERSATION_ID, customer_id=None))
    handoff = handoffs.request_handoff(db, CONVERSATION_ID, None, "asked for a person", [])
    key = api_keys.create(db, "backend", "cli")
    assert key.view.id == 1  # what `_fill` puts for {key_id}
    assert saved_views.save(db, demo_csm.id, "New ones", "review=new").id == 1  # {view_id}
    db.commit()
    return demo_csm.id, handoff.id


def _state(db: Session) -> Any:
    """Everything a refused request could have changed."""
    db.expire_all()
    users = [(u.username, u.role, u.active, u.sessions_valid_after) for u in staff.list_staff(db)]
    open_handoffs = [(h.id, h.assigned_to_id) for h in handoffs.list_handoffs(db, status="open")]
    changes = [e.action for e in audit.list_events(db, page_size=200).items if not e.action.startswith("auth.")]
    keys = api_keys.list_keys(db)
    return users, open_handoffs, changes, keys


def test_the_console_has_the_routes_this_file_expects(app: FastAPI) -> None:
    routes = console_routes(app)
    assert ("POST", "/console/handoffs/{handoff_id}/release") in routes
    for action in ("reply", "take-over", "close"):
        assert ("POST", f"/console/handoffs/{{handoff_id}}/{action}") in routes
    assert ("GET", "/console/handoffs/queue.json") in routes
    assert ("GET", "/console/conversations/{conversation_id}/messages.json") in routes
    assert ("POST", "/console/users/{user_id}/deactivate") in routes
    assert ("GET", "/console/audit") in routes
    assert len(routes) >= 15


CUSTOMER_CREDENTIALS: dict[str, Callable[[], dict[str, str]]] = {
    "nobody": dict,
    "customer token": lambda: {"Authorization": f"Bearer {identity.mint_token('cus_001', IDENTITY_SECRET, 600)}"},
    "legacy signature": lambda: {"Authorization": f"Signature cus_001:{identity.sign('cus_001', IDENTITY_SECRET)}"},
}


@pytest.mark.parametrize("who", list(CUSTOMER_CREDENTIALS))
def test_every_console_route_refuses_anonymous_callers_and_customers(
    app: FastAPI, client: TestClient, db: Session, targets: tuple[int, int], who: str
) -> None:
    before = _state(db)
    headers = CUSTOMER_CREDENTIALS[who]()
    for method, template in console_routes(app):
        path = _fill(template, *targets)
        response = client.request(method, path, headers=headers, data={"csrf": "guess"}, follow_redirects=False)
        if method == "GET":
            assert response.status_code == 303, (method, path)
            assert response.headers["location"].startswith("/console/login?next="), (method, path)
        else:
            assert response.status_code in (401, 403), (method, path, response.status_code)
            assert response.headers["content-type"].startswith("text/html"), (method, path)
    assert _state(db) == before


def test_a_customer_who_chatted_is_still_a_stranger_to_the_console(
    app: FastAPI, client: TestClient, db: Session, targets: tuple[int, int]
) -> None:
    token = identity.mint_token("cus_001", IDENTITY_SECRET, 600)
    chat = client.post("/api/chat", json={"message": "hello", "token": token})
    assert chat.status_code == 200, chat.text
    before = _state(db)
    for method, template in console_routes(app):
        path = _fill(template, *targets)
        response = client.request(method, path, data={"csrf": "guess"}, follow_redirects=False)
        assert response.status_code in ((303,) if method == "GET" else (401, 403)), (method, path)
    assert _state(db) == before


def test_anonymous_posts_are_refused_as_signed_out_before_the_form_is_checked(
    client: TestClient, targets: tuple[int, int]
) -> None:
    user_id, handoff_id = targets
    for path in (f"/console/handoffs/{handoff_id}/release", f"/console/users/{user_id}/deactivate", "/console/users"):
        response = client.post(path, data={}, follow_redirects=False)
        assert response.status_code == 401, path
        assert "You are not signed in" in response.text


def test_a_csm_cannot_open_or_do_anything_admins_do(
    app: FastAPI, csm_client: TestClient, db: Session, targets: tuple[int, int]
) -> None:
    token = csrf_in(csm_client.get("/console").text)
    before = _state(db)
    admin_routes = [(m, p) for m, p in console_routes(app) if p.startswith(ADMIN_PREFIXES)]
    assert len(admin_routes) >= 8
    for method, template in admin_routes:
        path = _fill(template, *targets)
        data = {"csrf": token, "role": "admin", "email": "new@example.test", "password_choice": "generate"}
        response = csm_client.request(method, path, data=data, follow_redirects=False)
        assert response.status_code == 403, (method, path, response.status_code)
        assert "Only an admin can" in response.text, (method, path)
    assert _state(db) == before
    db.expire_all()
    assert staff.get_by_email(db, CSM_EMAIL).role == "csm"  # type: ignore[union-attr]
    # The CSM is still signed in and can work.
    assert csm_client.get("/console").status_code == 200


def test_a_csm_can_use_the_csm_pages(csm_client: TestClient, app: FastAPI, targets: tuple[int, int]) -> None:
    for method, template in console_routes(app):
        if method == "GET" and not template.startswith(ADMIN_PREFIXES):
            response = csm_client.get(_fill(template, *targets))
            # The catch-all (api/routes/console/missing.py) is the console's "not found" page.
            assert response.status_code == (404 if template == "/console/{path:path}" else 200), template
