"""API keys: what lets a company's own systems call Keepwell's API (the ingest endpoint), created and revoked by
admins. Only a hash of each key is stored; the key itself is shown once, when it is created."""

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from keepwell.models.base import Base, utcnow


class ApiKey(Base):
    """One key: its name and the prefix admins recognise it by, the SHA-256 of the whole key, its scopes, who made
    it and when, when it was last used, and who revoked it and when (a revoked key is kept for the record)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters of the key, shown in lists
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the whole key, hex
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)  # e.g. ["ingest"]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("csm_users.id", ondelete="SET NULL"), nullable=True)
    created_by: Mapped[str] = mapped_column(String(100))  # the creator's email at the time, or "cli"
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
