"""Console accounts (CSMs and admins): creation, Argon2id sign-in, passwords, roles, deactivation, revocation.

Every function takes the caller's SQLAlchemy session and leaves committing to the caller; results are frozen
`StaffView`s, never ORM objects. Deactivating an account, changing its password and "sign out everywhere" move
`sessions_valid_after` to now: the console refuses every session signed in before that moment.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keepwell.models import CSMUser, utcnow

Role = Literal["admin", "csm"]
ROLES: tuple[Role, ...] = ("admin", "csm")
ROLE_LABELS = {"admin": "Admin", "csm": "CSM"}
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200
MAX_EMAIL_LENGTH = 100
MAX_NAME_LENGTH = 100
# Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is the mail system's business.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$")

# argon2-cffi's defaults are Argon2id with the RFC 9106 low-memory profile; a hash made under other parameters is
# replaced at the next successful sign-in.
_hasher = PasswordHasher()

SignInFailure = Literal["unknown_user", "wrong_password", "inactive"]


class StaffError(ValueError):
    """A request the accounts cannot honour; the message is fit to show to the person who asked."""


class UnknownStaff(StaffError):
    pass


@dataclass(frozen=True)
class StaffView:
    id: int
    username: str  # the sign-in email
    display_name: str
    role: Role
    active: bool
    created_at: datetime
    last_login_at: datetime | None
    sessions_valid_after: datetime | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def label(self) -> str:
        """How the console names this person: the display name, else the email."""
        return self.display_name or self.username

    def session_is_valid(self, signed_in_at: datetime) -> bool:
        """Whether a session signed in at `signed_in_at` may still act for this account."""
        if not self.active:
            return False
        return self.sessions_valid_after is None or signed_in_at > self.sessions_valid_after


@dataclass(frozen=True)
class SignIn:
    """The outcome of checking credentials: the account when they are right, else why not (for the audit log)."""

    staff: StaffView | None
    failure: SignInFailure | None
    user_id: int | None = None  # the account the attempt was aimed at, when it exists

    @property
    def ok(self) -> bool:
        return self.staff is not None


def normalize_email(raw: str) -> str:
    """The canonical sign-in name: trimmed and lower-cased. Raises StaffError when it is not an email address."""
    email = raw.strip().lower()
    if not email or len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise StaffError(f"Enter a valid email address (at most {MAX_EMAIL_LENGTH} characters).")
    return email


def check_password(password: str) -> None:
    """Raise StaffError when a new password is too short or too long."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise StaffError(f"The password must have at most {MAX_PASSWORD_LENGTH} characters.")


def generate_password() -> str:
    """A random initial password (about 128 bits) to hand over once."""
    return secrets.token_urlsafe(16)


def create(session: Session, email: str, password: str, role: str = "csm", display_name: str = "") -> StaffView:
    """Create an active account. Raises StaffError for a bad email, role or password, or a taken email."""
    username = normalize_email(email)
    _check_role(role)
    check_password(password)
    name = _clean_name(display_name)
    if _by_username(session, username) is not None:
        raise StaffError(f"There is already an account for {username}.")
    user = CSMUser(username=username, password_hash=_hasher.hash(password), display_name=name, role=role, active=True)
    session.add(user)
    session.flush()
    return _view(user)


def authenticate(session: Session, email: str, password: str) -> SignIn:
    """Check credentials with the same Argon2 work whether or not the account exists (no timing hint).

    A deactivated account is refused even with the right password. A hash made under older parameters is
    replaced by one under the current ones.
    """
    try:
        username = normalize_email(email)
    except StaffError:
        username = None
    user = _by_username(session, username) if username else None
    if user is None:
        _verifies(_dummy_hash(), password)
        return SignIn(None, "unknown_user")
    if not _verifies(user.password_hash, password):
        return SignIn(None, "wrong_password", user.id)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    if not user.active:
        return SignIn(None, "inactive", user.id)
    return SignIn(_view(user), None, user.id)


def record_sign_in(session: Session, user_id: int, at: datetime) -> StaffView:
    """Remember when the account last signed in."""
    user = _get(session, user_id)
    user.last_login_at = at
    session.flush()
    return _view(user)


def set_password(session: Session, user_id: int, password: str) -> StaffView:
    """Replace the password and end every session of the account."""
    check_password(password)
    user = _get(session, user_id)
    user.password_hash = _hasher.hash(password)
    user.sessions_valid_after = utcnow()
    session.flush()
    return _view(user)


def set_role(session: Session, user_id: int, role: str) -> StaffView:
    """Make the account an admin or a CSM; the last active admin cannot be demoted."""
    _check_role(role)
    user = _get(session, user_id)
    if user.role == "admin" and role != "admin" and user.active:
        _keep_an_admin(session, user)
    user.role = role
    session.flush()
    return _view(user)


def deactivate(session: Session, user_id: int) -> StaffView:
    """Refuse the account's sign-ins and end its sessions at once; the last active admin cannot be deactivated."""
    user = _get(session, user_id)
    if user.active and user.role == "admin":
        _keep_an_admin(session, user)
    user.active = False
    user.sessions_valid_after = utcnow()
    session.flush()
    return _view(user)


def reactivate(session: Session, user_id: int) -> StaffView:
    """Let the account sign in again (sessions ended by the deactivation stay ended)."""
    user = _get(session, user_id)
    user.active = True
    session.flush()
    return _view(user)


def revoke_sessions(session: Session, user_id: int) -> StaffView:
    """Sign the account out everywhere: every session signed in before now is refused."""
    user = _get(session, user_id)
    user.sessions_valid_after = utcnow()
    session.flush()
    return _view(user)


def get(session: Session, user_id: int) -> StaffView | None:
    user = session.get(CSMUser, user_id)
    return _view(user) if user is not None else None


def get_by_email(session: Session, email: str) -> StaffView | None:
    try:
        username = normalize_email(email)
    except StaffError:
        return None
    user = _by_username(session, username)
    return _view(user) if user is not None else None


def list_staff(session: Session) -> list[StaffView]:
    """Every account: admins first, then by email."""
    query = select(CSMUser).order_by(CSMUser.role, CSMUser.username)
    return [_view(user) for user in session.scalars(query)]


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes for timezone-aware columns; they were written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _view(user: CSMUser) -> StaffView:
    return StaffView(
        id=user.id,
        username=user.username,
        display_name=user.display_name or "",
        role=user.role if user.role in ROLES else "csm",  # type: ignore[arg-type]
        active=bool(user.active),
        created_at=as_utc(user.created_at),
        last_login_at=as_utc(user.last_login_at) if user.last_login_at else None,
        sessions_valid_after=as_utc(user.sessions_valid_after) if user.sessions_valid_after else None,
    )


def _get(session: Session, user_id: int) -> CSMUser:
    user = session.get(CSMUser, user_id)
    if user is None:
        raise UnknownStaff("There is no such account.")
    return user


def _by_username(session: Session, username: str) -> CSMUser | None:
    return session.scalars(select(CSMUser).where(CSMUser.username == username)).first()


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise StaffError(f"The role must be one of: {', '.join(ROLES)}.")


def _clean_name(display_name: str) -> str:
    name = " ".join(display_name.split())
    if len(name) > MAX_NAME_LENGTH:
        raise StaffError(f"The name must have at most {MAX_NAME_LENGTH} characters.")
    return name


def _keep_an_admin(session: Session, leaving: CSMUser) -> None:
    others = session.scalar(
        select(func.count())
        .select_from(CSMUser)
        .where(CSMUser.role == "admin", CSMUser.active.is_(True), CSMUser.id != leaving.id)
    )
    if not others:
        raise StaffError("This is the last active admin; make another account an admin first.")


def _verifies(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _dummy_hash() -> str:
    """A hash under the current parameters that no password matches, verified for unknown accounts."""
    return _dummy_hash_for(_hasher)


@cache
def _dummy_hash_for(hasher: PasswordHasher) -> str:
    return hasher.hash(secrets.token_urlsafe(32))
