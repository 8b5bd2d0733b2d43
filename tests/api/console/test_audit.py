"""api/routes/console/audit.py: the audit log page, filtered by actor, action and dates, newest first, paged."""

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from api.routes.console.audit import PAGE_SIZE
from keepwell import audit
from keepwell.models import AuditEvent
from tests.api.console.conftest import ADMIN_EMAIL, CSM_EMAIL


def _actions(page: str) -> list[str]:
    return re.findall(r"<td><code>([a-z_.]+)</code></td>", page)


def _record(db: Session, actor: str, action: str, at: datetime, **detail: str) -> None:
    entry = audit.record(db, actor, action, "user", 1, detail or None, ip="192.0.2.7")
    db.execute(update(AuditEvent).where(AuditEvent.id == entry.id).values(at=at))
    db.commit()


def test_the_audit_page_shows_who_what_when_newest_first(admin_client: TestClient, csm_client: TestClient) -> None:
    page = admin_client.get("/console/audit")
    assert page.status_code == 200
    text = page.text
    # Newest first: the CSM signed in after the admin, the demo accounts were created before both.
    assert _actions(text)[:2] == ["auth.sign_in", "auth.sign_in"]
    assert text.index(f"<td>{CSM_EMAIL}</td>") < text.index(f"<td>{ADMIN_EMAIL}</td>")
    assert _actions(text)[-2:] == ["user.create", "user.create"]
    assert "<td>system</td>" in text and "<td>testclient</td>" in text
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT', text)
    for field in ("actor", "action", "from", "to"):
        assert f'<label for="{field}">' in text
    # No inline script (the CSP would block it); the handoff queue poller is a /static file every console page loads.
    assert not re.search(r"<script(?![^>]*\ssrc=)", text) and " style=" not in text


def test_filters_by_actor_action_and_dates(admin_client: TestClient, db: Session) -> None:
    _record(db, "cli", "user.deactivate", datetime(2026, 1, 10, 9, tzinfo=UTC), email="a@example.test")
    _record(db, "cli", "user.reactivate", datetime(2026, 1, 12, 23, 59, tzinfo=UTC))
    _record(db, "ann@example.test", "user.deactivate", datetime(2026, 1, 12, 8, tzinfo=UTC))

    def actions(query: str) -> list[str]:
        response = admin_client.get(f"/console/audit?{query}")
        assert response.status_code == 200, response.text
        return _actions(response.text)

    assert actions("actor=cli") == ["user.reactivate", "user.deactivate"]
    assert actions("actor=CLI&action=user.deactivate") == ["user.deactivate"]
    assert actions("action=user.deactivate") == ["user.deactivate", "user.deactivate"]
    assert actions("from=2026-01-11&to=2026-01-12") == ["user.reactivate", "user.deactivate"]  # "to" includes the day
    assert actions("to=2026-01-10") == ["user.deactivate"]
    assert actions("action=user.&actor=cli&to=2026-12-31") == ["user.reactivate", "user.deactivate"]
    page = admin_client.get("/console/audit?actor=cli").text
    assert 'value="cli"' in page and "email:</span> a@example.test" in page


def test_bad_filters_say_what_is_wrong(admin_client: TestClient) -> None:
    response = admin_client.get("/console/audit?from=yesterday&action=drop.tables")
    assert response.status_code == 400
    assert "From: enter a date as YYYY-MM-DD." in response.text
    assert "Choose an action from the list." in response.text


def test_pages_of_entries_keep_the_filters(admin_client: TestClient, db: Session) -> None:
    for n in range(PAGE_SIZE + 5):
        _record(db, "cli", "user.reactivate", datetime(2026, 2, 1, 0, n % 60, tzinfo=UTC))
    first = admin_client.get("/console/audit?actor=cli").text
    assert len(_actions(first)) == PAGE_SIZE
    assert "55 entries, page 1 of 2" in first
    assert 'href="/console/audit?actor=cli&amp;page=2"' in first
    second = admin_client.get("/console/audit?actor=cli&page=2").text
    assert len(_actions(second)) == 5
    assert 'href="/console/audit?actor=cli&amp;page=1"' in second


def test_audit_details_are_escaped(admin_client: TestClient, db: Session) -> None:
    _record(db, "<b>who</b>", "user.create", datetime(2026, 3, 1, tzinfo=UTC), email="<img src=x onerror=alert(1)>")
    text = admin_client.get("/console/audit").text
    assert "<b>who</b>" not in text and "&lt;b&gt;who&lt;/b&gt;" in text
    assert "<img src=x" not in text


def test_filters_by_target(admin_client: TestClient, db: Session) -> None:
    audit.record(db, "cli", "user.deactivate", "user", 41)
    audit.record(db, "ann@example.test", "customer.erase", "customer", "subject:0123abcd", {"conversations": 2})
    db.commit()

    def actions(query: str) -> list[str]:
        response = admin_client.get(f"/console/audit?{query}")
        assert response.status_code == 200, response.text
        return _actions(response.text)

    assert actions("target_type=customer") == ["customer.erase"]
    assert actions("target_type=user&target_id=41") == ["user.deactivate"]
    assert actions("target_id=subject:0123abcd&action=customer.erase") == ["customer.erase"]
    page = admin_client.get("/console/audit?target_type=customer").text
    assert '<option value="customer" selected>' in page and '<label for="target_id">' in page


def test_from_after_to_is_refused(admin_client: TestClient) -> None:
    response = admin_client.get("/console/audit?from=2026-02-01&to=2026-01-01")
    assert response.status_code == 400 and "From must be on or before To." in response.text
