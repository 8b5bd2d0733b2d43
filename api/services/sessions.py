"""Server-side console sessions (starsessions): the cookie holds only a random id; the data lives in the app
database (ConsoleSession, keyed by the SHA-256 of the id) or, when KEEPWELL_REDIS_URL is set, in Redis (keyed the
same way). Removing the stored data ends a session at once; `keepwell.staff` ends all of an account's sessions.
"""

import hashlib
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import Engine, delete, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starsessions import SessionStore, get_session_handler, regenerate_session_id
from starsessions.stores.redis import RedisStore

from keepwell.db import session_scope
from keepwell.models import ConsoleSession, utcnow

COOKIE_NAME = "keepwell_console"
# A Secure cookie named `__Host-…` is only accepted by browsers when set over HTTPS, for path "/", without a
# domain: no subdomain or plain-HTTP page can plant or overwrite it.
SECURE_COOKIE_NAME = "__Host-keepwell_console"
REDIS_NAMESPACE = "console-session"
# Only the console has sessions: other paths never read or set the cookie.
CONSOLE_PATHS = re.compile(r"/console(?:/|$)")
# How long session data is kept when starsessions asks for a session-only cookie (lifetime 0).
_FALLBACK_TTL_S = 24 * 3600


def cookie_name(secure: bool) -> str:
    return SECURE_COOKIE_NAME if secure else COOKIE_NAME


def hash_session_id(session_id: str) -> str:
    """What the stores keep instead of the id: a database or Redis dump cannot be replayed as a cookie."""
    return hashlib.sha256(session_id.encode()).hexdigest()


class SqlSessionStore(SessionStore):
    """Session data in the ConsoleSession table; expired rows are ignored, and deleted now and then on write."""

    def __init__(
        self,
        engine: Callable[[], Engine],
        cleanup_interval_s: float = 300.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """
        Args:
            engine: returns the app database engine (known once the app has started).
            cleanup_interval_s: at most one sweep of expired rows per this many seconds (per process).
        """
        self._engine = engine
        self._cleanup_interval_s = cleanup_interval_s
        self._clock = clock
        self._last_cleanup = float("-inf")

    async def read(self, session_id: str, lifetime: int) -> bytes:
        return await run_in_threadpool(self._read, hash_session_id(session_id))

    async def write(self, session_id: str, data: bytes, lifetime: int, ttl: int) -> str:
        ttl = ttl if lifetime > 0 else _FALLBACK_TTL_S
        await run_in_threadpool(self._write, hash_session_id(session_id), data, max(1, ttl))
        return session_id

    async def remove(self, session_id: str) -> None:
        await run_in_threadpool(self.remove_hashed, hash_session_id(session_id))

    def remove_hashed(self, id_hash: str) -> None:
        with session_scope(self._engine()) as session:
            session.execute(delete(ConsoleSession).where(ConsoleSession.id_hash == id_hash))

    def cleanup(self) -> int:
        """Delete expired rows; returns how many."""
        with session_scope(self._engine()) as session:
            result = session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= self._clock()))
        self._last_cleanup = time.monotonic()
        return int(getattr(result, "rowcount", 0) or 0)

    async def aclose(self) -> None:
        """Nothing to release: the app owns the engine."""

    def _read(self, id_hash: str) -> bytes:
        with session_scope(self._engine()) as session:
            data = session.scalar(
                select(ConsoleSession.data).where(
                    ConsoleSession.id_hash == id_hash, ConsoleSession.expires_at > self._clock()
                )
            )
        return data or b""

    def _write(self, id_hash: str, data: bytes, ttl: int) -> None:
        now = self._clock()
        with session_scope(self._engine()) as session:
            row = session.get(ConsoleSession, id_hash)
            if row is None:
                row = ConsoleSession(id_hash=id_hash)
                session.add(row)
            row.data = data
            row.expires_at = now + timedelta(seconds=ttl)
            row.updated_at = now
        if time.monotonic() - self._last_cleanup >= self._cleanup_interval_s:
            self.cleanup()


class RedisSessionStore(RedisStore):
    """starsessions' Redis store, keyed by the hash of the id, with a client the app closes when it stops."""

    def __init__(self, client: Redis, key: Callable[[str], str]) -> None:
        super().__init__(connection=client, prefix=key)  # the client connects lazily, on the first request
        self._client = client

    async def aclose(self) -> None:
        await self._client.aclose()


def make_store(
    redis_url: str | None, redis_key_prefix: str, engine: Callable[[], Engine]
) -> SqlSessionStore | RedisSessionStore:
    """Redis when a URL is configured (shared by every gateway replica), else the app database.

    Args:
        redis_key_prefix: the deployment's namespace in a shared Redis (KEEPWELL_REDIS_KEY_PREFIX).
        engine: returns the app database engine (known once the app has started).
    """
    if redis_url:
        return RedisSessionStore(Redis.from_url(redis_url), redis_key_factory(redis_key_prefix))
    return SqlSessionStore(engine)


def redis_key_factory(redis_key_prefix: str) -> Callable[[str], str]:
    """The Redis key of a session id: the deployment's prefix and the id's SHA-256, never the id itself."""

    def key(session_id: str) -> str:
        return f"{redis_key_prefix}:{REDIS_NAMESPACE}:{hash_session_id(session_id)}"

    return key


async def start_fresh(connection: HTTPConnection) -> None:
    """Begin a new session under a new id (at sign-in): the old id and its data are dropped, so an id planted
    or read before sign-in is worth nothing afterwards (no session fixation)."""
    handler = get_session_handler(connection)
    if handler.session_id:
        await handler.store.remove(handler.session_id)
    connection.session.clear()
    if handler.metadata is not None:  # the absolute lifetime counts from the sign-in
        handler.metadata["created"] = time.time()
    regenerate_session_id(connection)
