"""keepwell/api_keys.py: the key lifecycle (create, authenticate, last use, revoke) on SQLite and PostgreSQL, and
only a hash of each key at rest."""

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session

from keepwell import api_keys, staff
from keepwell.api_keys import ApiKeyError, InvalidApiKey, ScopeDenied, UnknownApiKey
from keepwell.models import ApiKey
from keepwell.staff import StaffView


@pytest.fixture
def admin(db: Session) -> StaffView:
    user = staff.create(db, "admin@example.test", "a long enough password", role="admin")
    db.commit()
    return user


def test_a_created_key_authenticates_for_its_scope_and_records_its_use(db: Session, admin: StaffView) -> None:
    created = api_keys.create(db, "  Product   backend ", admin)
    db.commit()
    assert created.key.startswith("kwk_") and len(created.key) == 47
    assert created.view.prefix == created.key[:12]
    assert (created.view.name, created.view.scopes, created.view.created_by) == (
        "Product backend",
        ("ingest",),
        "admin@example.test",
    )
    assert created.view.last_used_at is None and created.view.active

    used = api_keys.authenticate(db, created.key, "ingest")
    db.commit()
    assert used.id == created.view.id
    assert used.last_used_at is not None
    assert api_keys.get(db, created.view.id).last_used_at == used.last_used_at  # type: ignore[union-attr]


def test_last_use_is_written_at_most_once_a_minute(db: Session, admin: StaffView) -> None:
    created = api_keys.create(db, "backend", admin)
    first = api_keys.authenticate(db, created.key, "ingest").last_used_at
    assert first is not None
    assert api_keys.authenticate(db, created.key, "ingest").last_used_at == first
    # A minute later it moves on.
    earlier = first - api_keys.LAST_USED_RESOLUTION - timedelta(seconds=1)
    db.execute(update(ApiKey).where(ApiKey.id == created.view.id).values(last_used_at=earlier))
    db.expire_all()
    later = api_keys.authenticate(db, created.key, "ingest").last_used_at
    assert later is not None and later > earlier


def test_only_the_hash_of_a_key_is_stored(db: Session, database: Engine, admin: StaffView) -> None:
    created = api_keys.create(db, "backend", admin)
    db.commit()
    secret_part = created.key[len(api_keys.KEY_PREFIX) :]
    with database.connect() as connection:
        rows = [tuple(str(value) for value in row) for row in connection.execute(text("SELECT * FROM api_keys"))]
    assert len(rows) == 1
    stored = " ".join(rows[0])
    assert created.key not in stored and secret_part not in stored
    assert secret_part[8:] not in stored  # nothing past the prefix admins see
    row = db.scalar(select(ApiKey))
    assert row is not None and len(row.key_hash) == 64 and row.key_hash != created.key


@pytest.mark.parametrize(
    "presented",
    ["", "kwk_", "Bearer kwk_x", "kwk_" + "A" * 43, "sk_live_" + "A" * 39],
    ids=["empty", "prefix-only", "with-scheme", "unknown", "foreign"],
)
def test_a_wrong_key_is_refused(db: Session, admin: StaffView, presented: str) -> None:
    api_keys.create(db, "backend", admin)
    with pytest.raises(InvalidApiKey):
        api_keys.authenticate(db, presented, "ingest")


def test_a_key_that_differs_in_one_character_is_refused(db: Session, admin: StaffView) -> None:
    key = api_keys.create(db, "backend", admin).key
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    with pytest.raises(InvalidApiKey):
        api_keys.authenticate(db, tampered, "ingest")


def test_a_revoked_key_is_refused_and_kept_for_the_record(db: Session, admin: StaffView) -> None:
    created = api_keys.create(db, "backend", admin)
    other = api_keys.create(db, "warehouse", admin)
    db.commit()
    revoked = api_keys.revoke(db, created.view.id, admin)
    db.commit()
    assert revoked.revoked_by == "admin@example.test" and revoked.revoked_at is not None and not revoked.active
    with pytest.raises(InvalidApiKey):
        api_keys.authenticate(db, created.key, "ingest")
    assert api_keys.authenticate(db, other.key, "ingest").id == other.view.id  # the others keep working
    # Revoking again changes nothing; the list shows active keys first.
    assert api_keys.revoke(db, created.view.id, "cli").revoked_at == revoked.revoked_at
    assert [key.name for key in api_keys.list_keys(db)] == ["warehouse", "backend"]


def test_revoking_an_unknown_key_says_so(db: Session) -> None:
    with pytest.raises(UnknownApiKey):
        api_keys.revoke(db, 999, "cli")


def test_a_key_without_the_scope_is_denied_not_unknown(db: Session, admin: StaffView) -> None:
    created = api_keys.create(db, "backend", admin)
    # A key of another scope (none exists yet besides ingest: one written by a later version, say).
    db.execute(update(ApiKey).where(ApiKey.id == created.view.id).values(scopes=["export"]))
    db.expire_all()
    with pytest.raises(ScopeDenied) as denied:
        api_keys.authenticate(db, created.key, "ingest")
    assert denied.value.key.id == created.view.id


@pytest.mark.parametrize(
    ("name", "scopes", "message"),
    [
        ("   ", ("ingest",), "name"),
        ("x" * 101, ("ingest",), "name"),
        ("backend", (), "at least one scope"),
        ("backend", ("ingest", "admin"), "Unknown scope: admin"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(
    db: Session, admin: StaffView, name: str, scopes: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ApiKeyError, match=message):
        api_keys.create(db, name, admin, scopes)
    assert db.scalar(select(ApiKey)) is None


def test_every_key_is_different(db: Session, admin: StaffView) -> None:
    keys = {api_keys.create(db, f"key {n}", "cli").key for n in range(20)}
    assert len(keys) == 20
