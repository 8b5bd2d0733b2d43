"""api/routes/console/saved_views.py: a CSM saves the inbox's filters under a name, opens and deletes them; nobody
else reaches them; saving and deleting are audited and need the form's CSRF token."""

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from keepwell import staff
from keepwell.conversations import saved_views
from keepwell.staff import StaffView
from tests.api.console.conftest import csrf_in, post_form, sign_in


def test_a_csm_saves_opens_and_deletes_a_view_and_each_change_is_audited(
    csm_client: TestClient, db: Session, demo_csm: StaffView, entries: Callable[..., list[Any]]
) -> None:
    saved = post_form(csm_client, "/console?band=red&q=cancel", "/console/views",
                      {"name": "Red accounts cancelling", "query": "band=red&q=cancel"})  # fmt: skip
    assert saved.status_code == 303
    [view] = saved_views.list_mine(db, demo_csm.id)
    assert saved.headers["location"] == f"/console?q=cancel&band=red&view={view.id}"
    page = csm_client.get(saved.headers["location"]).text
    assert "Red accounts cancelling" in page and 'aria-current="true"' in page
    opened = csm_client.get(f"/console/views/{view.id}", follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == saved.headers["location"]

    deleted = post_form(csm_client, "/console", f"/console/views/{view.id}/delete")
    assert deleted.status_code == 303
    db.expire_all()
    assert saved_views.list_mine(db, demo_csm.id) == []
    assert [e.action for e in entries(action="inbox_view.")] == ["inbox_view.delete", "inbox_view.save"]
    assert entries(action="inbox_view.save")[0].detail == {
        "name": "Red accounts cancelling",
        "query": "q=cancel&band=red",
    }


def test_another_csm_cannot_see_open_or_delete_it(
    csm_client: TestClient, db: Session, demo_csm: StaffView, browser: Callable[[], TestClient]
) -> None:
    view = saved_views.save(db, demo_csm.id, "Mine only", "review=needs_review")
    staff.create(db, "other@demo.test", "another long password", display_name="Other CSM")
    db.commit()
    other = browser()
    assert sign_in(other, "other@demo.test", "another long password").status_code == 303
    assert "Mine only" not in other.get("/console").text
    assert other.get(f"/console/views/{view.id}", follow_redirects=False).status_code == 404
    token = csrf_in(other.get("/console").text)
    refused = other.post(f"/console/views/{view.id}/delete", data={"csrf": token}, follow_redirects=False)
    assert refused.status_code == 404
    db.expire_all()
    assert [v.name for v in saved_views.list_mine(db, demo_csm.id)] == ["Mine only"]


def test_saving_needs_the_csrf_token_a_name_and_valid_filters(
    csm_client: TestClient, db: Session, demo_csm: StaffView
) -> None:
    forged = csm_client.post("/console/views", data={"name": "x", "query": "band=red", "csrf": "guess"})
    assert forged.status_code == 403
    unnamed = post_form(csm_client, "/console", "/console/views", {"name": " ", "query": "band=red"})
    assert unnamed.status_code == 303
    assert "Name the view" in csm_client.get(unnamed.headers["location"]).text
    bad = post_form(csm_client, "/console", "/console/views", {"name": "Bad", "query": "band=purple"})
    assert "band: one of green, yellow, red" in csm_client.get(bad.headers["location"]).text
    assert saved_views.list_mine(db, demo_csm.id) == []
