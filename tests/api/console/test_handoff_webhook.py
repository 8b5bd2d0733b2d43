"""The handoff webhook through the gateway: a take-over in the console is posted to the receiver by the gateway's
own sender, and a notification the receiver refused shows on the success desk beside the playbooks' failed calls.
An "assistant unavailable" handoff closes while the assistant is still down."""

import html as html_lib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from api.settings import Settings
from keepwell import handoffs, staff
from keepwell.models import Handoff
from keepwell.staff import StaffView
from tests.api.conftest import IDENTITY_SECRET
from tests.api.console.conftest import CsrfOf
from tests.api.fakes import FakeRasa
from tests.webhook_receiver import Receiver, receiving


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiving() as receiver:
        yield receiver


@pytest.fixture
def settings(tmp_path: Path, hook: Receiver) -> Settings:
    return Settings(
        data_dir=tmp_path, demo_mode=True, identity_secret=IDENTITY_SECRET, rate_limit_enabled=False,
        handoff_webhook_url=hook.url, public_url="https://chat.example.test",
    )  # fmt: skip


def _eventually(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def _visitor_handoff(client: TestClient, db: Session, settings: Settings) -> tuple[str, int]:
    conversation_id = client.post("/api/conversations").json()["conversation_id"]
    handoff = handoffs.request_handoff(db, conversation_id, None, "a person please", [], settings=settings)
    db.commit()
    return conversation_id, handoff.id


def test_a_take_over_in_the_console_is_posted_by_the_gateway(
    csm_client: TestClient, db: Session, csrf_of: CsrfOf, hook: Receiver, settings: Settings, demo_csm: StaffView
) -> None:
    conversation_id, handoff_id = _visitor_handoff(csm_client, db, settings)
    grace = staff.create(db, "grace@example.test", "a long enough password", display_name="Grace Hopper")
    db.execute(update(Handoff).where(Handoff.id == handoff_id).values(assigned_to_id=grace.id))
    db.commit()
    _eventually(lambda: len(hook.requests) == 1)  # the opening, found at the sender's next look

    token = csrf_of(csm_client, f"/console/conversations/{conversation_id}")
    taken = csm_client.post(f"/console/handoffs/{handoff_id}/take-over", data={"csrf": token}, follow_redirects=False)

    assert taken.status_code == 303
    _eventually(lambda: len(hook.requests) == 2)
    assigned = hook.bodies[1]
    assert (assigned["event"], assigned["handoff_id"], assigned["assigned_to"]["id"]) == (
        "handoff.assigned", handoff_id, demo_csm.id,
    )  # fmt: skip
    assert assigned["url"] == f"https://chat.example.test/console/conversations/{conversation_id}"


def test_a_refused_handoff_notification_shows_on_the_success_desk(
    csm_client: TestClient, db: Session, hook: Receiver, settings: Settings
) -> None:
    hook.status = 400
    conversation_id, _handoff_id = _visitor_handoff(csm_client, db, settings)
    # The outcome is committed just after the call.
    _eventually(lambda: "HTTP 400" in csm_client.get("/console/success").text)

    page = html_lib.unescape(csm_client.get("/console/success").text)
    undelivered = page[page.index('data-testid="undelivered"') : page.index('id="tasks-head"')]
    assert f'href="/console/conversations/{conversation_id}">Handoff</a>' in undelivered
    assert "Anonymous visitor" in undelivered and "HTTP 400: nope" in undelivered and "failed" in undelivered
    assert "secret-path" not in page, "a webhook URL's path may hold its secret"


@pytest.mark.parametrize(("kind", "closes"), [(handoffs.ASSISTANT_UNAVAILABLE, True), (None, False)])
def test_an_assistant_unavailable_handoff_closes_while_the_assistant_is_down(
    csm_client: TestClient, db: Session, csrf_of: CsrfOf, rasa: FakeRasa, kind: str | None, closes: bool
) -> None:
    """Rasa never paused that conversation (its messages were held), so closing needs no resume; a handoff the
    action opened paused Rasa, and stays open until Rasa can be told to resume."""
    conversation_id = csm_client.post("/api/conversations").json()["conversation_id"]
    handoff = handoffs.request_handoff(db, conversation_id, None, "hello?", [], kind=kind)
    db.commit()
    rasa.available = False
    token = csrf_of(csm_client, f"/console/conversations/{conversation_id}")

    response = csm_client.post(f"/console/handoffs/{handoff.id}/close", data={"csrf": token}, follow_redirects=False)

    db.expire_all()
    assert response.status_code == (303 if closes else 503)
    assert handoffs.get(db, handoff.id).status == ("closed" if closes else "open")  # type: ignore[union-attr]
