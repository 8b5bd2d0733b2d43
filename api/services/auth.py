"""CSM accounts for the console: Argon2 password hashes, seeded from settings."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwell.models import CSMUser

_hasher = PasswordHasher()


def ensure_csm(session: Session, username: str, password: str) -> None:
    """Create the configured CSM, or update the password hash when the configured password changed."""
    user = session.scalars(select(CSMUser).where(CSMUser.username == username)).first()
    if user is None:
        session.add(CSMUser(username=username, password_hash=_hasher.hash(password)))
        return
    if not _verifies(user.password_hash, password):
        user.password_hash = _hasher.hash(password)


def authenticate(session: Session, username: str, password: str) -> str | None:
    """Return the username when the credentials are right, else None."""
    user = session.scalars(select(CSMUser).where(CSMUser.username == username)).first()
    if user is None:
        _hasher.hash(password)  # same work either way: no timing hint about which usernames exist
        return None
    return user.username if _verifies(user.password_hash, password) else None


def _verifies(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False
