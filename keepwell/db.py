"""The app database: engines and sessions (SQLite by default, PostgreSQL when a URL is set), and bringing its schema
to the migrations' head (`upgrade`) or refusing to run on an outdated one (`check_current`)."""

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool
from tenacity import retry, retry_if_exception, stop_after_delay, wait_exponential_jitter

from keepwell import migrations


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL and a busy timeout so the gateway and action server can share it."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 5})
        _on_connect_pragmas(engine, foreign_keys=True)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _locked(error: BaseException) -> bool:
    return isinstance(error, sqlite3.OperationalError) and "locked" in str(error)


# Switching a new database file to WAL needs it alone for a moment, and SQLite does not wait for that (its busy timeout
# does not apply): two processes opening a fresh file at once can see "database is locked". Retried, briefly.
@retry(
    retry=retry_if_exception(_locked),
    stop=stop_after_delay(10),
    wait=wait_exponential_jitter(multiplier=0.01, max=0.5),
    reraise=True,
)
def _use_wal(cursor: sqlite3.Cursor) -> None:
    cursor.execute("PRAGMA journal_mode=WAL")


def _on_connect_pragmas(engine: Engine, *, foreign_keys: bool) -> None:
    """WAL (readers never wait for the writer) and foreign keys on or off, on every new SQLite connection."""

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        _use_wal(cursor)
        # NORMAL is SQLite's advice for WAL: a commit survives any crash of a process (a killed gateway loses
        # nothing); only a power cut or OS crash may roll back the last few. It saves an fsync per commit.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.close()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the app schema to `revision` (the latest by default): a new database, a v0.1 one (tables but no
    migration history: stamped at the baseline first) or one already there (nothing happens).

    One upgrader at a time: on PostgreSQL a transaction-level advisory lock, on SQLite the write lock of
    `BEGIN IMMEDIATE`; the whole upgrade is one transaction, so a failure leaves the database as it was.
    """
    with _migration_transaction(engine) as connection:
        cfg = migrations.config(connection)
        if migrations.current(connection) is None:
            already = migrations.unversioned_revision(connection)
            if already is not None:
                command.stamp(cfg, already)
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the app database is at (None: never migrated)."""
    with engine.connect() as connection:
        return migrations.current(connection)


def check_current(engine: Engine) -> None:
    """Refuse to run on an app database the code's migrations have not brought to their head.

    Raises:
        SchemaOutdated: the database is behind (or ahead of) the code.
    """
    current, needed = current_revision(engine), migrations.head()
    if current == needed:
        return
    if current is not None and not migrations.known(current):
        advice = "a newer Keepwell migrated it: run that version, or restore a backup"
    else:
        advice = "run `python -m keepwell db upgrade`"
    raise SchemaOutdated(
        f"the app database is at revision {current or 'none (never migrated)'}, the code needs {needed}: {advice}"
    )


class SchemaOutdated(RuntimeError):
    """The app database is not at the revision the code needs."""


# Any constant works; every Keepwell process must use the same one ("keepwell" in ASCII).
_MIGRATION_LOCK_KEY = 0x6B65_6570_7765_6C6C


@contextmanager
def _migration_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection inside one transaction that no other upgrader enters until it ends."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            yield connection
        return
    if engine.url.database in (None, "", ":memory:"):
        raise ValueError("migrations need a SQLite file (an in-memory database is a new one on every connection)")
    # A dedicated engine: foreign keys must be off while batch mode copies tables (dropping a parent table with
    # them on would cascade to its children), the pragma only changes outside a transaction, and the pysqlite
    # driver must leave BEGIN to us so the DDL is transactional and the write lock is taken up front.
    dedicated = create_engine(engine.url, poolclass=NullPool, connect_args={"timeout": 60, "isolation_level": None})

    _on_connect_pragmas(dedicated, foreign_keys=False)

    @event.listens_for(dedicated, "begin")
    def _begin(connection):  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        with dedicated.begin() as connection:
            yield connection
    finally:
        dedicated.dispose()


# One engine (and connection pool) per database URL in a process. A process only ever uses one or two, but a test
# run makes hundreds of throwaway databases: the least recently used engine beyond the bound is disposed rather than
# left to the garbage collector with its connections open.
_ENGINES_KEPT = 64
_engines: OrderedDict[str, Engine] = OrderedDict()
_engines_lock = threading.Lock()


def get_engine(url: str) -> Engine:
    """The process's shared engine for `url`."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is not None:
            _engines.move_to_end(url)
            return engine
        engine = _engines[url] = make_engine(url)
        evicted = _engines.popitem(last=False)[1] if len(_engines) > _ENGINES_KEPT else None
    if evicted is not None:
        evicted.dispose()
    return engine


def dispose_engine(url: str) -> None:
    """Close the pooled connections of `url`'s shared engine and forget it (a database about to be dropped)."""
    with _engines_lock:
        engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A transaction: committed when the block succeeds, rolled back (nothing half-written) when it raises."""
    session = session_factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
