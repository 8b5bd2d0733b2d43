"""api/routes/console/success.py: a CSM sees the open tasks (all, or only theirs), the open churn signals and every
webhook call that was not delivered, with its attempts and last error."""

import html as html_lib
import socket
from datetime import date, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwell import accounts, funnel, playbooks, signals, webhooks
from keepwell.models import CSMTask, Customer, HealthSnapshot, utcnow
from keepwell.settings import CoreSettings
from keepwell.staff import StaffView
from tests.api.console.conftest import post_form

TODAY = date(2025, 6, 1)


def _closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: every call is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def test_the_desk_shows_tasks_signals_and_undelivered_webhook_calls(
    csm_client: TestClient, db: Session, demo_csm: StaffView, tmp_path: Path
) -> None:
    first, second = accounts.list_accounts(db)[:2]
    db.get(Customer, first.id).owner_csm_id = demo_csm.id  # type: ignore[union-attr]
    db.get(Customer, second.id).owner_csm_id = None  # type: ignore[union-attr]
    for n, band in enumerate(("green", "red")):
        db.add(HealthSnapshot(account_id=first.id, as_of=TODAY - timedelta(days=7 * (1 - n)), scorecard="default",
                              score=80 if band == "green" else 30, band=band))  # fmt: skip
    signals.open_cancellation_request(db, second.id, "a downgrade", "we need a cheaper plan", "conv-1")
    path = tmp_path / "playbooks.yml"
    path.write_text(
        "playbooks:\n"
        "  - id: turned-red\n    trigger: {type: turned_red}\n    actions:\n"
        "      - {type: create_task, title: '{account_name} turned red'}\n"
        f"      - {{type: webhook, url: '{_closed_port_url()}'}}\n"
        "  - id: leaving\n    trigger: {type: signal_opened, signals: [cancellation_request]}\n    actions:\n"
        "      - {type: create_task, title: '{signal}: {account_name}'}\n"
    )
    policy = webhooks.WebhookPolicy(timeout_s=1.0, attempts=2, backoff_s=0.01)
    playbooks.run(db, TODAY, playbooks.load(path), CoreSettings(demo_mode=True), policy)  # type: ignore[call-arg]

    page = html_lib.unescape(csm_client.get("/console/success").text)
    assert f"{first.name} turned red" in page and f"Asked to cancel or downgrade in chat: {second.name}" in page
    assert "Unassigned" in page and demo_csm.username in page
    assert "asked about a downgrade in chat" in page  # the signal's evidence
    undelivered = page[page.index('data-testid="undelivered"') : page.index('id="tasks-head"')]
    assert "turned-red" in undelivered and "failed" in undelivered and "ConnectError" in undelivered
    assert '<td class="num">2</td>' in undelivered  # both attempts

    mine = html_lib.unescape(csm_client.get("/console/success?mine=true").text)
    assert f"{first.name} turned red" in mine and f"in chat: {second.name}" not in mine.split('id="signals-head"')[0]


def test_an_empty_desk_says_so(csm_client: TestClient) -> None:
    page = csm_client.get("/console/success").text
    assert "No open tasks." in page and "No open churn signals." in page and 'data-testid="undelivered"' not in page
    # The page's title is its name alone (the funnel's table was once pasted into the title block).
    assert "<title>Success desk · Keepwell</title>" in page and page.count('id="funnel-head"') == 1


def test_a_csm_marks_a_task_done_and_resolves_a_signal_both_audited(
    csm_client: TestClient, db: Session, demo_csm: StaffView, entries
) -> None:
    account = accounts.list_accounts(db)[0]
    signal_id, _ = signals.open_cancellation_request(db, account.id, "cancelling", "we want to cancel", "conv-1")
    db.add(CSMTask(account_id=account.id, owner_id=demo_csm.id, title="Call the champion", source="manual"))
    db.commit()
    task_id = db.scalars(select(CSMTask.id)).one()

    done = post_form(csm_client, "/console/success", f"/console/success/tasks/{task_id}/done")
    assert done.status_code == 303 and done.headers["location"] == "/console/success"
    too_short = post_form(csm_client, "/console/success", f"/console/success/signals/{signal_id}/resolve",
                          {"resolution": "ok"})  # fmt: skip
    assert too_short.status_code == 422 and "resolution" in too_short.json()["detail"]
    db.expire_all()
    assert signals.list_signals(db)[0].id == signal_id  # still open: nothing half-done
    resolved = post_form(csm_client, "/console/success", f"/console/success/signals/{signal_id}/resolve",
                         {"resolution": "Called them: staying, moving to annual billing"})  # fmt: skip
    assert resolved.status_code == 303

    db.expire_all()
    assert db.get(CSMTask, task_id).status == "done"  # type: ignore[union-attr]
    [signal] = signals.list_signals(db, open_only=False)
    assert signal.resolved_by == demo_csm.username and signal.resolution.startswith("Called them")  # type: ignore[union-attr]
    page = csm_client.get("/console/success").text
    assert "Call the champion" not in page and "No open churn signals." in page
    [resolve_entry] = entries(action="signal.resolve")
    [complete_entry] = entries(action="task.complete")
    assert resolve_entry.actor == complete_entry.actor == demo_csm.username
    assert resolve_entry.target_id == str(signal_id) and complete_entry.target_id == str(task_id)

    again = post_form(csm_client, "/console/success", f"/console/success/tasks/{task_id}/done")
    assert again.status_code == 404 and len(entries(action="task.complete")) == 1


def test_the_desk_counts_the_offer_funnel_of_the_last_90_days(csm_client: TestClient, db: Session) -> None:
    account = accounts.list_accounts(db)[0]
    now = utcnow()
    for event, days_ago in [("shown", 1), ("shown", 2), ("shown", 3), ("shown", 100), ("clicked", 1), ("accepted", 1)]:
        funnel.record(db, account.id, "add-seats", event, at=now - timedelta(days=days_ago))
    db.commit()
    page = csm_client.get("/console/success").text
    table = page[page.index('data-testid="funnel"') :]
    row = table[table.index("add-seats") : table.index("</tr>", table.index("add-seats"))]
    assert [cell.split(">")[-1] for cell in row.split("</td>")[1:6]] == ["3", "1", "1", "33 %", "100 %"]
