"""The people who use the console (CSMs and admins), their server-side sessions, and the audit trail of what
they did."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from keepwell.models.base import Base, utcnow


class CSMUser(Base):
    """A console account: a customer-success manager (`csm`) or an administrator (`admin`)."""

    __tablename__ = "csm_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)  # the sign-in email
    password_hash: Mapped[str] = mapped_column(String(200))  # Argon2id
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(16), default="csm")  # admin | csm
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Sessions signed in before this moment are refused (set on deactivation, password change, "sign out everywhere").
    sessions_valid_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ConsoleSession(Base):
    """A server-side console session. The cookie holds a random id; only its SHA-256 is stored."""

    __tablename__ = "console_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEvent(Base):
    """Who did what, when: sign-ins, releases and every console action that changes something."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("csm_users.id", ondelete="SET NULL"), nullable=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)  # username at the time, or "cli" / "system"
    action: Mapped[str] = mapped_column(String(64), index=True)  # e.g. auth.sign_in, handoff.release, user.create
    target_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    target_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
