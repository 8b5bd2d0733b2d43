"""API keys for a company's own systems (the ingest API): create (the key is returned once), authenticate, revoke, list.

A key is `kwk_` and 43 characters of `secrets.token_urlsafe(32)` (256 random bits). Only its SHA-256 is stored, with
its first 12 characters as a prefix admins recognise it by. A plain hash suffices because the key is random and long:
slow hashes (Argon2) and peppers protect guessable passwords; nobody can search 2^256 keys, and a fast hash keeps
every API call cheap. Every function takes the caller's session and leaves committing to the caller; results are
frozen `ApiKeyView`s, never ORM objects.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwell.models import ApiKey, as_utc, utcnow
from keepwell.staff import StaffView

# The scopes a key can hold, with what they allow (the console shows these words).
SCOPES = {"ingest": "Push usage, survey answers and subscription changes (POST /api/ingest/events)"}
KEY_PREFIX = "kwk_"  # recognisable in logs and by secret scanners
PREFIX_LENGTH = len(KEY_PREFIX) + 8
MAX_NAME_LENGTH = 100
# `last_used_at` is written at most this often per key, so a busy integration does not write on every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_KEY_LENGTH = len(KEY_PREFIX) + 43


class ApiKeyError(ValueError):
    """A request about keys that cannot be honoured; the message is fit to show to the admin who asked."""


class UnknownApiKey(ApiKeyError):
    pass


class InvalidApiKey(Exception):
    """The presented key is malformed, unknown or revoked (the caller answers 401 and says no more)."""


class ScopeDenied(Exception):
    """The key is valid but lacks the scope the call needs (the caller answers 403)."""

    def __init__(self, key: "ApiKeyView", scope: str) -> None:
        super().__init__(f"this API key does not have the {scope!r} scope")
        self.key = key
        self.scope = scope


@dataclass(frozen=True)
class ApiKeyView:
    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class CreatedApiKey:
    """A new key's record and the key itself: hand `key` over now, it cannot be read back later."""

    view: ApiKeyView
    key: str


def create(
    session: Session, name: str, created_by: StaffView | str, scopes: tuple[str, ...] = ("ingest",)
) -> CreatedApiKey:
    """Create an active key. Raises ApiKeyError for an empty or too long name, or no or an unknown scope.

    Args:
        created_by: the admin creating it, or a name such as "cli".
    """
    clean_name = " ".join(name.split())
    if not clean_name or len(clean_name) > MAX_NAME_LENGTH:
        raise ApiKeyError(f"Give the key a name of 1 to {MAX_NAME_LENGTH} characters, e.g. the system that uses it.")
    chosen = tuple(dict.fromkeys(scopes))
    if not chosen:
        raise ApiKeyError("Choose at least one scope.")
    unknown = [scope for scope in chosen if scope not in SCOPES]
    if unknown:
        raise ApiKeyError(f"Unknown scope: {', '.join(unknown)}. Known: {', '.join(SCOPES)}.")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    by_id, by_name = (created_by.id, created_by.username) if isinstance(created_by, StaffView) else (None, created_by)
    row = ApiKey(
        name=clean_name,
        prefix=key[:PREFIX_LENGTH],
        key_hash=_digest(key),
        scopes=list(chosen),
        created_by_id=by_id,
        created_by=by_name[:100],
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return CreatedApiKey(_view(row), key)


def authenticate(session: Session, presented: str, scope: str) -> ApiKeyView:
    """The active key `presented` is, when it holds `scope`; records when it was used (in the caller's transaction).

    The key is found by its SHA-256, never by comparing the secret itself, and the stored and computed digests are
    compared with `hmac.compare_digest`: the time taken tells nothing about how much of a guess was right.

    Raises:
        InvalidApiKey: malformed, unknown or revoked.
        ScopeDenied: valid, but without `scope`.
    """
    if not presented.startswith(KEY_PREFIX) or len(presented) != _KEY_LENGTH:
        raise InvalidApiKey()
    digest = _digest(presented)
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    if row is None or not hmac.compare_digest(row.key_hash, digest) or row.revoked_at is not None:
        raise InvalidApiKey()
    view = _view(row)
    if scope not in view.scopes:
        raise ScopeDenied(view, scope)
    now = utcnow()
    if row.last_used_at is None or now - as_utc(row.last_used_at) >= LAST_USED_RESOLUTION:
        row.last_used_at = now
        session.flush()
        view = _view(row)
    return view


def revoke(session: Session, key_id: int, revoked_by: StaffView | str) -> ApiKeyView:
    """Revoke a key for good (it is kept, marked revoked, for the record). Revoking a revoked key changes nothing.

    Raises:
        UnknownApiKey: no such key.
    """
    row = session.get(ApiKey, key_id)
    if row is None:
        raise UnknownApiKey("There is no such API key.")
    if row.revoked_at is None:
        by_name = revoked_by.username if isinstance(revoked_by, StaffView) else revoked_by
        row.revoked_at = utcnow()
        row.revoked_by = by_name[:100]
        session.flush()
    return _view(row)


def get(session: Session, key_id: int) -> ApiKeyView | None:
    row = session.get(ApiKey, key_id)
    return None if row is None else _view(row)


def list_keys(session: Session) -> list[ApiKeyView]:
    """Every key, active ones first, newest first within each group."""
    rows = session.scalars(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc()))
    return [_view(row) for row in rows]


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _view(row: ApiKey) -> ApiKeyView:
    return ApiKeyView(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=tuple(row.scopes or ()),
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        last_used_at=None if row.last_used_at is None else as_utc(row.last_used_at),
        revoked_at=None if row.revoked_at is None else as_utc(row.revoked_at),
        revoked_by=row.revoked_by,
    )
