"""keepwell/audit.py: recording who did what, refusing secrets in details, filtered pages newest first."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from keepwell import audit, staff
from keepwell.models import AuditEvent


def _at(session: Session, entry: audit.AuditEntry, when: datetime) -> None:
    session.execute(update(AuditEvent).where(AuditEvent.id == entry.id).values(at=when))
    session.commit()


def test_record_by_an_account_keeps_its_id_and_email(session: Session) -> None:
    admin = staff.create(session, "admin@example.test", "admin-password-1", role="admin")
    entry = audit.record(
        session, admin, "user.role_change", "user", 7, {"from": "csm", "to": "admin"}, ip="2001:db8::1"
    )
    session.commit()
    assert (entry.actor, entry.actor_id, entry.action) == ("admin@example.test", admin.id, "user.role_change")
    assert (entry.target_type, entry.target_id, entry.ip) == ("user", "7", "2001:db8::1")
    assert entry.detail == {"from": "csm", "to": "admin"}
    assert entry.at.tzinfo is not None
    [listed] = audit.list_events(session).items
    assert listed == entry


def test_record_by_a_name(session: Session) -> None:
    entry = audit.record(session, audit.CLI, "user.deactivate")
    assert (entry.actor, entry.actor_id, entry.target_type, entry.target_id, entry.detail) == (
        "cli",
        None,
        None,
        None,
        {},
    )


@pytest.mark.parametrize("key", ["password", "new_password", "Token", "csrf", "session_id", "client_secret", "cookie"])
def test_details_never_carry_secrets(session: Session, key: str) -> None:
    with pytest.raises(ValueError, match="must not carry secrets"):
        audit.record(session, "cli", "user.create", detail={key: "hunter2"})


def test_long_values_are_cut_to_the_columns(session: Session) -> None:
    entry = audit.record(session, "x" * 300, "auth.sign_in_failed", "user", "y" * 100, ip="z" * 100)
    assert (len(entry.actor), len(entry.target_id or ""), len(entry.ip or "")) == (100, 64, 64)


def test_list_filters_by_actor_action_and_time_newest_first(session: Session) -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        ("ann@example.test", "auth.sign_in", 0),
        ("cli", "user.create", 1),
        ("ann@example.test", "handoff.release", 2),
        ("Bob@example.test", "auth.sign_in_failed", 3),
        ("ann@example.test", "auth.sign_out", 4),
    ]
    for actor, action, hours in rows:
        _at(session, audit.record(session, actor, action), base + timedelta(hours=hours))

    def actions(**filters: object) -> list[str]:
        return [e.action for e in audit.list_events(session, **filters).items]  # type: ignore[arg-type]

    assert actions() == ["auth.sign_out", "auth.sign_in_failed", "handoff.release", "user.create", "auth.sign_in"]
    assert actions(actor="ANN@example.test") == ["auth.sign_out", "handoff.release", "auth.sign_in"]
    assert actions(actor="bob@example.test") == ["auth.sign_in_failed"]
    assert actions(action="auth.sign_in") == ["auth.sign_in"]
    assert actions(action="auth.") == ["auth.sign_out", "auth.sign_in_failed", "auth.sign_in"]
    assert actions(since=base + timedelta(hours=1), until=base + timedelta(hours=3)) == [
        "handoff.release",
        "user.create",
    ]
    assert actions(actor="ann@example.test", action="auth.", since=base + timedelta(hours=1)) == ["auth.sign_out"]
    assert actions(action="auth%") == []  # a LIKE wildcard is just a character


def test_pages(session: Session) -> None:
    for n in range(7):
        audit.record(session, "cli", "user.create", "user", n)
    first = audit.list_events(session, page=1, page_size=3)
    third = audit.list_events(session, page=3, page_size=3)
    assert (first.total, first.pages, first.has_next) == (7, 3, True)
    assert [e.target_id for e in first.items] == ["6", "5", "4"]  # same second: the later entry first
    assert [e.target_id for e in third.items] == ["0"] and not third.has_next
    assert audit.list_events(session, page=9, page_size=3).items == []
    assert audit.list_events(session, page_size=10_000).page_size == audit.MAX_PAGE_SIZE


def test_actors_lists_distinct_names(session: Session) -> None:
    for actor in ("cli", "ann@example.test", "cli", "system"):
        audit.record(session, actor, "user.create")
    assert audit.actors(session) == ["ann@example.test", "cli", "system"]


def test_filter_by_target(session: Session) -> None:
    audit.record(session, audit.CLI, "user.create", "user", 7)
    audit.record(session, audit.CLI, "user.deactivate", "user", 8)
    audit.record(session, "admin@example.test", "conversation.export", "conversation", None, {"conversations": 3})
    audit.record(session, "admin@example.test", "customer.erase", "customer", "subject:abc")
    session.commit()

    assert [e.target_id for e in audit.list_events(session, target_type="user").items] == ["8", "7"]
    assert [e.action for e in audit.list_events(session, target_type="user", target_id=" 7 ").items] == ["user.create"]
    assert [e.action for e in audit.list_events(session, target_id="subject:abc").items] == ["customer.erase"]
    assert audit.list_events(session, target_type="conversation", actor="ADMIN@example.test").total == 1
    assert audit.target_types(session) == ["conversation", "customer", "user"]
