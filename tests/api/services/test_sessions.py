"""api/services/sessions.py: the SQL session store keeps only the SHA-256 of ids, honours expiry, sweeps expired
rows now and then; the Redis store is keyed by the hash under the deployment's prefix."""

import asyncio
import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from api.services.sessions import (
    COOKIE_NAME,
    SECURE_COOKIE_NAME,
    SqlSessionStore,
    cookie_name,
    hash_session_id,
    make_store,
    redis_key_factory,
)
from keepwell.db import make_engine, session_factory, upgrade
from keepwell.models import ConsoleSession, utcnow


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'keepwell.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(engine: Engine, clock: Clock) -> SqlSessionStore:
    return SqlSessionStore(lambda: engine, cleanup_interval_s=3600, clock=clock)


def _rows(engine: Engine) -> list[ConsoleSession]:
    with session_factory(engine)() as session:
        return list(session.scalars(select(ConsoleSession)))


def test_write_read_remove_by_hash(store: SqlSessionStore, engine: Engine) -> None:
    assert asyncio.run(store.write("the-session-id", b'{"a": 1}', lifetime=3600, ttl=600)) == "the-session-id"
    assert asyncio.run(store.read("the-session-id", lifetime=3600)) == b'{"a": 1}'
    [row] = _rows(engine)
    assert row.id_hash == hashlib.sha256(b"the-session-id").hexdigest() == hash_session_id("the-session-id")
    assert "the-session-id" not in repr(row.__dict__)
    asyncio.run(store.write("the-session-id", b'{"a": 2}', lifetime=3600, ttl=600))
    assert asyncio.run(store.read("the-session-id", lifetime=3600)) == b'{"a": 2}'
    assert len(_rows(engine)) == 1
    asyncio.run(store.remove("the-session-id"))
    assert asyncio.run(store.read("the-session-id", lifetime=3600)) == b""
    assert _rows(engine) == []


def test_unknown_ids_read_as_empty(store: SqlSessionStore) -> None:
    assert asyncio.run(store.read("never-written", lifetime=3600)) == b""


def test_expired_sessions_read_as_empty(store: SqlSessionStore, clock: Clock) -> None:
    asyncio.run(store.write("sid", b"{}", lifetime=3600, ttl=60))
    clock.now += timedelta(seconds=59)
    assert asyncio.run(store.read("sid", lifetime=3600)) == b"{}"
    clock.now += timedelta(seconds=1)
    assert asyncio.run(store.read("sid", lifetime=3600)) == b""


def test_session_only_cookies_are_kept_a_day(store: SqlSessionStore, engine: Engine, clock: Clock) -> None:
    asyncio.run(store.write("sid", b"{}", lifetime=0, ttl=0))
    [row] = _rows(engine)
    assert abs((row.expires_at.replace(tzinfo=None) - clock.now.replace(tzinfo=None)) - timedelta(days=1)) < timedelta(
        seconds=1
    )


def test_expired_rows_are_swept_on_write_at_most_once_per_interval(engine: Engine, clock: Clock) -> None:
    store = SqlSessionStore(lambda: engine, cleanup_interval_s=3600, clock=clock)
    asyncio.run(store.write("old", b"{}", lifetime=3600, ttl=10))  # the first write sweeps (nothing yet)
    clock.now += timedelta(seconds=20)
    asyncio.run(store.write("new", b"{}", lifetime=3600, ttl=10))  # within the interval: no sweep
    assert len(_rows(engine)) == 2
    assert store.cleanup() == 1
    assert [row.id_hash for row in _rows(engine)] == [hash_session_id("new")]


def test_sweeping_on_every_write(engine: Engine, clock: Clock) -> None:
    store = SqlSessionStore(lambda: engine, cleanup_interval_s=0, clock=clock)
    asyncio.run(store.write("old", b"{}", lifetime=3600, ttl=10))
    clock.now += timedelta(seconds=20)
    asyncio.run(store.write("new", b"{}", lifetime=3600, ttl=10))
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(ConsoleSession)) == 1


def test_cookie_names() -> None:
    assert cookie_name(False) == COOKIE_NAME == "keepwell_console"
    assert cookie_name(True) == SECURE_COOKIE_NAME == "__Host-keepwell_console"


def test_redis_keys_hold_the_hash_under_the_prefix() -> None:
    key = redis_key_factory("acme")("the-session-id")
    assert key == f"acme:console-session:{hashlib.sha256(b'the-session-id').hexdigest()}"


def test_the_store_follows_the_settings(engine: Engine, redis_store: tuple[str, str]) -> None:
    assert isinstance(make_store(None, "keepwell", lambda: engine), SqlSessionStore)
    url, prefix = redis_store
    store = make_store(url, prefix, lambda: engine)

    async def round_trip() -> tuple[bytes, bytes]:
        await store.write("sid", b'{"x": 1}', lifetime=3600, ttl=60)
        stored = await store.read("sid", lifetime=3600)
        await store.remove("sid")
        gone = await store.read("sid", lifetime=3600)
        await store.aclose()
        return stored, gone

    assert asyncio.run(round_trip()) == (b'{"x": 1}', b"")
